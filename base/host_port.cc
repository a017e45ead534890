#include "base/host_port.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace vigil {
namespace {

std::string Quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

// Bytes that cannot be part of a host as users write one: they belong to a URL's other
// parts (user, path, query, fragment) or are not text at all.
bool BadHostByte(char c) {
  return static_cast<unsigned char>(c) <= ' ' || c == '/' || c == '@' || c == '?' || c == '#';
}

Result<uint16_t> ParsePort(const std::string& quoted, std::string_view port) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return Error{quoted + ": port must be a number from 1 to 65535"};
  }
  return static_cast<uint16_t>(value);
}

// Host and port of "host", "host:port", "[v6]" or "[v6]:port"; `port_required` says
// whether the forms without a port are errors. Errors quote `whole`, the text the user
// wrote (a URL, when `text` is its authority).
Result<HostPort> Split(std::string_view text, bool port_required, uint16_t default_port,
                       std::string_view whole) {
  const std::string quoted = Quoted(whole);
  HostPort hp;
  hp.port = default_port;
  std::string_view port;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return Error{quoted + ": missing ']'"};
    hp.host = std::string(text.substr(1, close - 1));
    if (close + 1 < text.size() || port_required) {
      if (close + 1 >= text.size() || text[close + 1] != ':') {
        return Error{quoted + ": expected ':PORT' after ']'"};
      }
      port = text.substr(close + 2);
      has_port = true;
    }
    if (!IsIpLiteral(hp.host)) return Error{quoted + ": not an IPv6 address in brackets"};
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      if (port_required) return Error{quoted + ": expected HOST:PORT"};
      hp.host = std::string(text);
    } else {
      if (text.find(':') != colon) return Error{quoted + ": put an IPv6 address in brackets"};
      hp.host = std::string(text.substr(0, colon));
      port = text.substr(colon + 1);
      has_port = true;
    }
  }
  if (hp.host.empty()) return Error{quoted + ": empty host"};
  if (std::any_of(hp.host.begin(), hp.host.end(), BadHostByte)) {
    return Error{quoted + ": invalid character in host"};
  }
  if (has_port) {
    auto value = ParsePort(quoted, port);
    if (!value.ok()) return Error{value.error()};
    hp.port = *value;
    hp.port_explicit = true;
  }
  return hp;
}

}  // namespace

bool IsIpLiteral(std::string_view text) {
  const std::string s(text);
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

Result<HostPort> ParseHostPort(std::string_view text) { return Split(text, true, 0, text); }

Result<HostPort> ParseHostOptionalPort(std::string_view text, uint16_t default_port) {
  return Split(text, false, default_port, text);
}

std::string BracketedHost(std::string_view host) {
  if (host.find(':') == std::string_view::npos) return std::string(host);
  return "[" + std::string(host) + "]";
}

std::string JoinHostPort(std::string_view host, uint16_t port) {
  return BracketedHost(host) + ":" + std::to_string(port);
}

Result<EndpointUrl> ParseEndpointUrl(std::string_view text, uint16_t default_port) {
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) {
    return Error{Quoted(text) + ": expected SCHEME://HOST[:PORT]"};
  }
  EndpointUrl url;
  url.scheme = std::string(text.substr(0, scheme_end));
  std::transform(url.scheme.begin(), url.scheme.end(), url.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view rest = text.substr(scheme_end + 3);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) return Error{Quoted(text) + ": no path is allowed"};
  auto endpoint = Split(rest, false, default_port, text);
  if (!endpoint.ok()) return Error{endpoint.error()};
  url.endpoint = std::move(*endpoint);
  return url;
}

std::string FormatEndpointUrl(std::string_view scheme, std::string_view host, uint16_t port) {
  return std::string(scheme) + "://" + JoinHostPort(host, port);
}

}  // namespace vigil
