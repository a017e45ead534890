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

/// Fills `measurement`'s probe_* and resolver_* fields from `where` and scrubs
/// `where.probe_ips` from its non-UTF-8 response bytes.
void StampNetwork(const GeoInfo& where, Measurement& measurement);

}  // namespace vigil
