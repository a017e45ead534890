// Residual blocking: a GFW-style censor resets a TLS handshake, then blocks the
// (client, server, port) 3-tuple for a while whatever the content, so a later
// connect there in the same run is refused or reset. A measurement whose only
// failures are such connects reads as TCP/IP blocking; this rule says instead that
// it was the residual block of an earlier TLS reset (blocking type tls). It is a
// fact about a run's measurements taken together, not about one of them.
// Pure functions; thread-safe.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "probe/experiments/experiment.h"
#include "probe/measurement/measurement.h"

namespace vigil {

/// What the rule needs from one measurement: address:port pairs.
struct ConnectionResets {
  std::set<std::string> tls_resets;        // where a TLS handshake was reset
  std::set<std::string> refused_connects;  // where a TCP connect was refused or reset
};

/// The resets and refused connects of `measurement`.
ConnectionResets CollectConnectionResets(const Measurement& measurement);

/// Rewrites each summary whose blocking is tcp_ip and whose refused connects all
/// went to an address:port where some measurement of the run (any index) saw a TLS
/// handshake reset: its blocking becomes tls and its evidence says why.
/// `summaries[i]` belongs with `resets[i]`; the two have the same size.
void AttributeResidualBlocking(std::vector<RunSummary>& summaries,
                               const std::vector<ConnectionResets>& resets);

}  // namespace vigil
