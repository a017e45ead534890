// Base64 (RFC 4648) for the binary values OONI carries in JSON: HTTP bodies and headers,
// DNS messages, certificates. A strict decoder for what we parse as data, and a lenient,
// capped one for summarising bodies other probes wrote (the analyzer keeps a sample of
// each body, at hundreds of megabytes a second). Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

/// Padded standard base64 of `bytes`.
std::string Base64Encode(std::string_view bytes);

/// The bytes `text` encodes, or nullopt when it is not base64. Padding may be left
/// out; whitespace and the URL-safe alphabet are rejected.
std::optional<std::string> Base64Decode(std::string_view text);

/// Appends to `out` the first `cap` bytes (at most) that `text` encodes and returns how
/// many bytes the whole of `text` encodes, so a caller keeps a sample and the true length
/// without decoding everything. Lenient: both the standard and the URL-safe alphabet are
/// read, and every other byte ('=', whitespace, line breaks, garbage) is skipped.
size_t Base64DecodePrefix(std::string_view text, size_t cap, std::string* out);

}  // namespace vigil
