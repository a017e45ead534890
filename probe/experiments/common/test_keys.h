// The parts every messaging experiment's test_keys share: the Trace's records,
// OONI's urlgetter keys (agent, socksproxy), per-host per-port status maps
// (x_endpoint_status / x_endpoint_failures), and the run time, assembled into the
// finished Measurement. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "probe/experiments/common/endpoint_sweep.h"
#include "probe/experiments/experiment.h"
#include "probe/measurement/measurement.h"
#include "probe/net/trace.h"

namespace vigil {

/// host → port → outcome, as the x_ maps {"host": {"443": "ok" | "blocked" | "no_ipv6"}}
/// and {"host": {"443": "<failure>"}} (failed ports only, no_ipv6 ones included; a port
/// connected to whose TLS handshake failed is blocked with the handshake's failure);
/// "no_ipv6" is kNoIpv6Status (probe/net/failure.h).
void WritePortStatus(const std::map<std::string, std::map<uint16_t, PortOutcome>>& outcomes,
                     Json* status, Json* failures);

/// Moves the trace's records into `m.test_keys`, then adds `keys` (the experiment's
/// own) and the keys OONI's urlgetter-based experiments always carry.
void FinishMeasurement(Measurement& m, Trace& trace, const Json& keys,
                       const ExperimentContext& context);

}  // namespace vigil
