// Base64 (RFC 4648, standard alphabet, with padding) for the binary values OONI
// carries in JSON: HTTP bodies and headers, DNS messages, certificates.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vigil {

/// Padded standard base64 of `bytes`.
std::string Base64Encode(std::string_view bytes);

/// The bytes `text` encodes, or nullopt when it is not base64. Padding may be left
/// out; whitespace and the URL-safe alphabet are rejected.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace vigil
