// Url: an http or https URL split into what an HTTP client needs (host, port,
// request target), with parsing and RFC 3986 §5 reference resolution for redirects.
// Plain value type and pure functions; safe to use from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace vigil {

/// Longest URL or Location value accepted, in bytes. A URL ends up in a request
/// line, which servers commonly cap at about this size.
inline constexpr size_t kMaxUrlBytes = 8192;

struct Url {
  std::string scheme;  ///< lowercase, "http" or "https"
  std::string host;    ///< lowercase; IPv6 literals without brackets
  uint16_t port = 0;   ///< explicit port, else the scheme default
  bool port_explicit = false;
  std::string target;  ///< path plus "?" query; at least "/"; non-ASCII bytes percent-encoded

  /// scheme://host[:port]target; the port appears when it was explicit. No fragment.
  std::string ToString() const;
  /// The Host header value: host[:port], port omitted when it is the scheme default.
  std::string HostHeader() const;

  friend bool operator==(const Url&, const Url&) = default;
};

/// Parses an absolute http/https URL. Rejects other schemes, userinfo, an empty or
/// malformed host, a bad port and any space or control character (so nothing from
/// a URL can split a request line). The fragment is dropped; the path is kept as
/// written (no dot-segment removal).
Result<Url> ParseUrl(std::string_view text);

/// Resolves `location` (e.g. a Location header) against `base` per RFC 3986 §5.2:
/// absolute URLs, scheme-relative "//host/path", absolute paths, relative paths
/// (with dot segments removed), query-only and empty references. The fragment is
/// dropped. "http:path" with the base's scheme is read as relative (§5.2.2's
/// backward-compatible reading), as browsers do. Same character rules as ParseUrl.
Result<Url> ResolveReference(const Url& base, std::string_view location);

}  // namespace vigil
