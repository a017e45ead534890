// Extracts the Host header and the request path from the start of a client's TCP byte
// stream holding an HTTP/1.x request. Bounded to the first 8 KiB of headers.
// Pure function; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace vigil::lab {

enum class HttpStatus {
  kNeedMore,  // a request line so far, headers incomplete
  kFound,     // request line and headers complete (host may still be empty)
  kNotHttp,
};

struct HttpRequestInfo {
  HttpStatus status = HttpStatus::kNotHttp;
  std::string method;
  std::string path;
  /// Host header, lower-cased, without a port; empty when absent.
  std::string host;
};

/// Looks for an HTTP request at the start of `stream` (the client's first bytes).
HttpRequestInfo ParseHttpRequest(std::span<const uint8_t> stream);

}  // namespace vigil::lab
