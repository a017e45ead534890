// Endpoints as users write them: "host:port", "1.2.3.4:443", "[2001:db8::1]:443".
// Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "probe/base/result.h"

namespace vigil {

struct HostPort {
  std::string host;  // a name or an IP literal, without brackets
  uint16_t port = 0;
};

/// Splits "host:port"; IPv6 literals must be bracketed. The error says what is wrong.
Result<HostPort> ParseHostPort(std::string_view text);

/// True for an IPv4 or IPv6 literal (no brackets).
bool IsIpLiteral(std::string_view text);

}  // namespace vigil
