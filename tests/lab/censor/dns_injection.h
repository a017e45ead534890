// DNS injection: the forged answers a censor races the real resolver with (one or
// more copies, addresses from the rule's pools or GFW-like AAAA forgeries) and the
// NXDOMAIN it answers with instead. Stateless functions; the caller owns the
// InjectionRng and the output list, so not thread-safe on shared ones.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "tests/lab/censor/dns_wire.h"
#include "tests/lab/censor/frame.h"
#include "tests/lab/censor/injection_rng.h"
#include "tests/lab/censor/outgoing.h"
#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

/// Appends to `out` the forged responses `d` describes to the query `q` carried by
/// `trigger`, and adds to `detail` the question, the answers, their IP TTL, IP IDs
/// and DNS flags. Without `d.random` the answer depends on the name only, so a
/// name always gets the same forged address.
void InjectDnsAnswers(const DnsInjectParams& d, const Frame& trigger, const DnsQuestion& q,
                      InjectionRng* rng, std::vector<Outgoing>* out, nlohmann::json* detail);

/// Appends to `out` an NXDOMAIN response to the query `q` carried by `trigger`, and
/// adds the question to `detail`.
void InjectNxdomain(const Frame& trigger, const DnsQuestion& q, InjectionRng* rng,
                    std::vector<Outgoing>* out, nlohmann::json* detail);

}  // namespace vigil::lab
