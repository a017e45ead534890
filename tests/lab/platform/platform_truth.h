// The stand-in platform's ground truth: one JSON line per post whenever what it shows
// changes (and for every post at the start), written to STATE/platform-truth.jsonl
// through the censor's truth sink (tests/lab/censor/truth_log.h), so a lab test can tell
// what a measured post showed at any moment. Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "tests/lab/platform/post_board.h"

namespace vigil::lab {

/// {"t": wall, "post": id, "account": ..., "status": "deleted_by_author", "phase": n}:
/// from wall-clock time `wall` (seconds since the epoch) on, `change.post` shows
/// `change.status`; phase -1 is the start.
nlohmann::json PostStatusRecord(double wall, const PostChange& change, const PlatformPost& post);

}  // namespace vigil::lab
