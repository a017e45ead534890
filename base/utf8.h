// UTF-8 validation, which decides how OONI writes bytes into JSON: valid UTF-8 as a
// string, anything else as base64. JSON itself can only carry valid UTF-8. Also the
// length of text in characters, which is what a person editing a list counts.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vigil {

/// True when `bytes` is well-formed UTF-8 (RFC 3629: no overlong forms, no
/// surrogates, nothing above U+10FFFF), as Go's utf8.ValidString decides.
bool IsValidUtf8(std::string_view bytes);

/// `bytes` with every ill-formed sequence replaced by U+FFFD, for text that must
/// go into JSON where base64 is not an option (object keys).
std::string ToValidUtf8(std::string_view bytes);

/// The number of code points in `bytes`, each ill-formed byte counting as one (the
/// length of ToValidUtf8(bytes) in code points).
size_t Utf8Length(std::string_view bytes);

}  // namespace vigil
