// Rule matching: whether a rule applies to a packet — the packets its action can act
// on (DNS queries, TCP segments, server traffic for drop/throttle/delay) and every
// condition of its match block (all must hold; each list inside is an OR) — and what
// matched, for the ground truth. Stateless functions; thread-compatible.
#pragma once

#include <nlohmann/json.hpp>

#include "tests/lab/censor/keyword_set.h"
#include "tests/lab/censor/packet.h"
#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

/// Whether an action acts on server -> client packets too (the others act on what
/// the client sends).
bool ActsOnServerTraffic(ActionKind action);

/// Whether `rule` applies to `p` (a packet in either direction); adds what matched
/// (names, host, path, keywords) to `detail`. `words` is the engine's keyword set.
bool RuleMatches(const Rule& rule, Packet* p, const KeywordSet& words, nlohmann::json* detail);

}  // namespace vigil::lab
