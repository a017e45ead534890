// Mapped addresses: when ExperimentContext::address_map sends a real IP literal
// (a Telegram data centre) to a stand-in (the lab's), the records hold the
// address actually contacted and carry `x_mapped_from` with the real one, so a
// reader never mistakes one for the other. Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "probe/experiments/experiment.h"
#include "probe/measurement/measurement.h"

namespace vigil {

/// contacted → real, for those of `real_ips` that the context maps elsewhere.
std::map<std::string, std::string> MappedLiterals(const ExperimentContext& context,
                                                  const std::vector<std::string>& real_ips);

/// Adds `x_mapped_from` to every tcp_connect, tls_handshakes, requests and
/// network_events entry whose address is a contacted one of `contacted_to_real`.
void MarkMappedAddresses(TestKeys& keys,
                         const std::map<std::string, std::string>& contacted_to_real);

}  // namespace vigil
