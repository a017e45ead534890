// DNS injection: the forged answers a censor races the real resolver with (one or
// more copies, each with its injector's fingerprint, at once or after a delay;
// addresses from the rule's pools or GFW-like AAAA forgeries) and the
// NXDOMAIN it answers with instead. Stateless functions; the caller owns the
// InjectionRng and the output list, so not thread-safe on shared ones.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "tests/lab/censor/dns_wire.h"
#include "tests/lab/censor/frame.h"
#include "tests/lab/censor/injection_rng.h"
#include "tests/lab/censor/outgoing.h"
#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

/// Appends to `out` the forged responses `d` describes to the query `q` carried by
/// `trigger` (seen at `now_ns`), each copy with its own fingerprint and leaving after
/// its delay, and adds to `detail` the question, the answers, their IP IDs, each
/// copy's fingerprint and delay (`copies`), and the IP TTL and DNS flags when all
/// copies share them. Without `d.random` the answer depends on the name only, so a
/// name always gets the same forged address.
void InjectDnsAnswers(const DnsInjectParams& d, const Frame& trigger, const DnsQuestion& q,
                      int64_t now_ns, InjectionRng* rng, std::vector<Outgoing>* out,
                      nlohmann::json* detail);

/// Appends to `out` an NXDOMAIN response to the query `q` carried by `trigger`, and
/// adds the question to `detail`.
void InjectNxdomain(const Frame& trigger, const DnsQuestion& q, InjectionRng* rng,
                    std::vector<Outgoing>* out, nlohmann::json* detail);

}  // namespace vigil::lab
