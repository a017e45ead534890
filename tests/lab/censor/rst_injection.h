// RST injection: the TCP resets a censor sends when a rule (or a residual block)
// kills a connection, with the header fingerprint of the chosen RST type (count,
// flags, TTL, IP ID, DF, payload). Stateless functions; the caller owns the
// InjectionRng and the output list, so not thread-safe on shared ones.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "tests/lab/censor/frame.h"
#include "tests/lab/censor/injection_rng.h"
#include "tests/lab/censor/outgoing.h"
#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

/// Appends to `out` the RSTs `rst` describes in answer to the TCP segment `trigger`
/// (sent by the client when `from_client`, else by the server, whose segment is
/// dropped): to the client as if from the server, to the server as if from the
/// client, or both. The server's RST follows the trigger when `rst.pass_trigger` (the caller
/// forwards the trigger first), else takes its place. A `residual` block drops what
/// it answers and does not reset the server on a SYN: the connection never reached
/// it. Returns the ground truth's detail: type, count, direction, TTL, IP IDs, and
/// whether the trigger passed. `server_next_seq`, when known, is the sequence number
/// after the server's last segment: a RST to the client carries it when it is ahead of
/// what the trigger acknowledged.
nlohmann::json InjectRsts(const RstParams& rst, const Frame& trigger, bool from_client,
                          bool residual, InjectionRng* rng, std::vector<Outgoing>* out,
                          std::optional<uint32_t> server_next_seq = std::nullopt);

/// The RST a residual block sends the client after a block page: type gfw1's
/// packets, to the client only, TTL 64.
RstParams ResidualRstAfterBlockpage();

}  // namespace vigil::lab
