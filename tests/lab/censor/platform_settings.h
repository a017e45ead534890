// Platform settings: a scenario's `platform` section — the public-account posts the lab's
// stand-in platform (tests/lab/platform/) serves at https://mp.weixin.qq.com/s/<id>, and
// its own phases, which delete posts, remove them for violations or block their
// accounts. The scenario parser reads it from the file's root and validates it whole
// (errors FILE:LINE: key: reason); the platform reads the same parse. Stateless
// functions; not thread-safe on a shared FieldReader.
#pragma once

#include <yaml-cpp/yaml.h>

#include "tests/lab/censor/field_reader.h"
#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

/// Reads the root key `platform` (key node `kn`, value `v`) into `out`, reporting errors
/// to `r`: `posts` (required, a non-empty list of {id, account, title, body}, ids unique)
/// and `phases` (optional, starts increasing; each a `start` and at least one of
/// deleted_by_author, removed_for_violation, account_blocked, each a post id or a list of
/// them, no post twice in a phase). A blocked account's every post must be
/// account_blocked from that phase on.
void ParsePlatform(FieldReader* r, const YAML::Node& kn, const YAML::Node& v, Platform* out);

}  // namespace vigil::lab
