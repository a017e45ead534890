// Endpoints as users and OONI write them: "host:port", "1.2.3.4:443", "[2001:db8::1]:443",
// and endpoint URLs "scheme://host[:port]" ("udp://[::1]:53", "stun://stun.l.google.com").
// The one parser and printer of both, so every flag, list and measurement brackets IPv6
// literals the same way and reports the same precise errors. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace vigil {

struct HostPort {
  std::string host;  ///< a name or an IP literal, without brackets
  uint16_t port = 0;
  /// The text named the port (always true for ParseHostPort).
  bool port_explicit = false;
};

/// Splits "host:port"; IPv6 literals must be bracketed. The error quotes the text and says
/// what is wrong ("'h:x': port must be a number from 1 to 65535").
Result<HostPort> ParseHostPort(std::string_view text);

/// As ParseHostPort, but the port may be left out ("host", "[::1]"): then it is
/// `default_port` and port_explicit is false.
Result<HostPort> ParseHostOptionalPort(std::string_view text, uint16_t default_port);

/// True for an IPv4 or IPv6 literal (no brackets).
bool IsIpLiteral(std::string_view text);

/// `host`, in brackets when it is an IPv6 literal ("::1" -> "[::1]").
std::string BracketedHost(std::string_view host);

/// "1.2.3.4:443", "example.org:443" or "[::1]:443".
std::string JoinHostPort(std::string_view host, uint16_t port);

/// An endpoint URL: a scheme and an authority, no user, path, query or fragment.
struct EndpointUrl {
  std::string scheme;  ///< lowercase
  HostPort endpoint;
};

/// Parses "scheme://host[:port]" (one trailing '/' allowed); the port defaults to
/// `default_port`. The error quotes the text and says what is wrong.
Result<EndpointUrl> ParseEndpointUrl(std::string_view text, uint16_t default_port);

/// "scheme://host:port", the host bracketed when it is an IPv6 literal.
std::string FormatEndpointUrl(std::string_view scheme, std::string_view host, uint16_t port);

}  // namespace vigil
