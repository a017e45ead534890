// The head of an HTTP/1.x request as a server reads it: request line and header
// fields, parsed strictly (RFC 9112: token methods, no obsolete line folding, no
// whitespace before a field's colon) so that a malformed request is refused with
// a reason instead of being guessed at. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace vigil {

struct RequestHead {
  std::string method;
  std::string target;     // as sent: origin-form "/path?q" (or absolute-form)
  int version_minor = 1;  // HTTP/1.<minor>
  std::vector<std::pair<std::string, std::string>> fields;  // in order, values trimmed

  /// The first value of a field (names compare case-insensitively), or nullopt.
  std::optional<std::string_view> Field(std::string_view name) const;
  /// Whether the connection may carry another request after this one.
  bool KeepAlive() const;
};

/// Where a request head ends in `bytes`: the offset just past its blank line, or
/// nullopt while it is incomplete. A bare LF ends lines as well as CRLF.
std::optional<size_t> FindHeadEnd(std::string_view bytes);

/// Parses a complete head (everything before the body, blank line included).
Result<RequestHead> ParseRequestHead(std::string_view head);

/// The body's length from Content-Length: 0 when absent; an error for a
/// malformed or contradictory value, or when Transfer-Encoding is present (a
/// server answering small JSON requests has no use for chunked uploads).
Result<size_t> RequestBodyLength(const RequestHead& head);

}  // namespace vigil
