// Relay secrets: session ids and the send and receive tokens, hex of bytes from
// OpenSSL's CSPRNG (RAND_bytes), and their comparison in constant time, so how long a
// refusal takes says nothing about how much of a guessed token was right.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::relay {

/// Lowercase hex of `bytes` random bytes; nullopt when the generator fails.
std::optional<std::string> RandomHex(size_t bytes);

/// Whether `given` equals `expected`, in time that depends on their lengths only.
bool SameToken(std::string_view given, std::string_view expected);

}  // namespace vigil::relay
