// JSON nesting depth, measured before parsing: a recursive parser or serialiser uses one
// stack frame per level, so a tiny hostile body nested a million deep would exhaust the
// stack. Every reader of JSON from the network or from users asks this first. A scanner
// over bytes, not a parser (it does not validate); a pure function, thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace vigil {

/// Offset of the first '[' or '{' (outside strings) nested deeper than `max_depth`, or
/// nullopt when there is none. A stray closing bracket never lowers the depth below zero,
/// so it cannot buy room for deeper nesting later.
std::optional<size_t> JsonNestedDeeperThan(std::string_view text, size_t max_depth);

}  // namespace vigil
