#include "probe/net/endpoint.h"

#include <arpa/inet.h>

#include <charconv>

namespace vigil {

bool IsIpLiteral(std::string_view text) {
  const std::string s(text);
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

Result<HostPort> ParseHostPort(std::string_view text) {
  const std::string quoted = "'" + std::string(text) + "'";
  HostPort hp;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return Error{quoted + ": missing ']'"};
    hp.host = std::string(text.substr(1, close - 1));
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      return Error{quoted + ": expected ':PORT' after ']'"};
    }
    port = text.substr(close + 2);
    if (!IsIpLiteral(hp.host)) return Error{quoted + ": not an IPv6 address in brackets"};
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return Error{quoted + ": expected HOST:PORT"};
    if (text.find(':') != colon) return Error{quoted + ": put an IPv6 address in brackets"};
    hp.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  if (hp.host.empty()) return Error{quoted + ": empty host"};
  for (char c : hp.host) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '/' || c == '@') {
      return Error{quoted + ": invalid character in host"};
    }
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return Error{quoted + ": port must be a number from 1 to 65535"};
  }
  hp.port = static_cast<uint16_t>(value);
  return hp;
}

}  // namespace vigil
