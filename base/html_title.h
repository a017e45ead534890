// ExtractTitle: the <title> of an HTML page, normalised so that block pages can be
// compared and fingerprinted by it. A pure function over bounded input; thread-safe.
// It is a scanner, not an HTML parser: the first <title>...</title> wins.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

/// Longest title returned, in bytes; longer ones are cut on a UTF-8 boundary.
inline constexpr size_t kMaxTitleBytes = 512;

/// The text between the first <title ...> (any case, attributes allowed) and the
/// following </title>, with runs of whitespace collapsed to one space and the ends
/// trimmed; entities are left as written. nullopt when there is no complete title
/// element or it is blank.
std::optional<std::string> ExtractTitle(std::string_view body);

}  // namespace vigil
