// Stamping: a finished measurement gets the network the run measured from (probe
// and resolver AS, country, network names) and loses the probe's own address from
// every byte string that is written base64-encoded (bodies and header values that
// are not UTF-8), where scrubbing the rendered JSON cannot see it. The rendered
// line is scrubbed afterwards (ScrubProbeIp) as a whole.
// Pure function; thread-safe.
#pragma once

#include "probe/measurement/measurement.h"
#include "vantage/geo/geolocate.h"

namespace vigil {

class AsnDatabase;

/// Fills `measurement`'s probe_* and resolver_* fields from `where` and scrubs
/// `where.probe_ips` from its non-UTF-8 response bytes.
void StampNetwork(const GeoInfo& where, Measurement& measurement);

/// Gives every DNS answer address of `measurement` without an AS the AS `db` places it
/// in (asn, as_org_name), as OONI's probes record every answer: the analyzer reads an
/// answer no database places in a reserved range as a bogon, so an address the run's
/// own database knows (an interference lab's) must say so. Answers `db` does not
/// place are left as they are.
void PlaceDnsAnswers(const AsnDatabase& db, Measurement& measurement);

}  // namespace vigil
