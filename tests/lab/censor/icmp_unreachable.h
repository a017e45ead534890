// ICMP unreachables: the destination-unreachable error a censor answers a matched
// packet with instead of forwarding it (network, host or port unreachable, or
// administratively prohibited), over ICMP for IPv4 and ICMPv6 for IPv6, quoting the
// packet so the client's stack ties the error to its socket. Stateless functions;
// the caller owns the InjectionRng and the output list, so not thread-safe on shared ones.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "tests/lab/censor/frame.h"
#include "tests/lab/censor/injection_rng.h"
#include "tests/lab/censor/outgoing.h"
#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

/// Appends to `out` the error `icmp` describes in answer to the client's packet
/// `trigger`. Returns the ground truth's detail: the error's name, ICMP type and code,
/// and its source address.
nlohmann::json InjectUnreachable(const IcmpParams& icmp, const Frame& trigger, InjectionRng* rng,
                                 std::vector<Outgoing>* out);

}  // namespace vigil::lab
