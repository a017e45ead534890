// Content hashes the experiments record (a message's or a page's SHA-256), so that what
// arrived can be compared with what was sent without storing it twice. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace vigil {

/// SHA-256 of `bytes`, 64 lowercase hex digits.
std::string Sha256Hex(std::string_view bytes);

/// `bytes` random bytes from OpenSSL's CSPRNG as lowercase hex (2 digits a byte).
std::string RandomHex(size_t bytes);

}  // namespace vigil
