// HttpResponseParser: an incremental, sans-I/O HTTP/1.1 response parser with hard
// limits, for bytes that may come from a censor's middlebox; and SerializeRequest.
// A parser is not synchronised: one thread feeds it. SerializeRequest is pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil {

/// Bounds on what a response may make the parser hold. Exceeding max_line,
/// max_header_bytes or max_headers is an error; a body over body_cap is cut.
struct HttpLimits {
  size_t max_line = 8192;  ///< status, header, chunk-size or trailer line, without CRLF
  size_t max_header_bytes =
      64 * 1024;              ///< all header sections incl. 1xx ones; trailers alike, apart
  size_t max_headers = 128;   ///< header fields in one response; also trailer lines
  size_t body_cap = 1 << 20;  ///< body bytes kept
};

class HttpResponseParser {
 public:
  enum class State { kNeedMore, kDone, kError };

  /// `response_to_head`: the request was HEAD, so the response has no body whatever
  /// its headers say.
  explicit HttpResponseParser(HttpLimits limits = {}, bool response_to_head = false);

  /// Consumes the next bytes of the stream, split anywhere. Returns kDone once the
  /// response is complete (or its body reached body_cap); later bytes are ignored.
  State Feed(std::string_view bytes);
  /// The peer closed the stream. Completes a close-delimited body; anything else
  /// still pending ("eof before end of headers", "eof before end of body") is an error.
  State FeedEof();

  State state() const { return state_; }
  /// One line saying what was wrong; empty unless state() is kError.
  const std::string& error() const { return error_; }

  /// Of the final response (1xx interim responses other than 101 are skipped); 0 until known.
  int status_code() const { return status_code_; }
  const std::string& reason() const { return reason_; }
  /// "HTTP/1.1", "HTTP/1.0", as received.
  const std::string& http_version() const { return http_version_; }
  /// Header fields in wire order; names as received, values trimmed, obs-folds joined by a space.
  const std::vector<std::pair<std::string, std::string>>& headers_list() const { return headers_; }
  /// The body after de-chunking (content codings are not undone), at most body_cap bytes.
  const std::string& body() const { return body_; }
  /// The body was longer than body_cap; body() holds its first body_cap bytes.
  bool body_is_truncated() const { return body_truncated_; }
  bool headers_complete() const { return headers_complete_; }

  /// Whether the connection may carry another request: the response is complete and
  /// ended where its own framing said (Content-Length, chunked, or no body), not at
  /// the close of the stream nor cut at body_cap; no byte followed it in what was fed;
  /// and it did not ask to close (HTTP/1.1 without `Connection: close`, HTTP/1.0 only
  /// with `Connection: keep-alive`). 101 (the stream changed protocol) is never reusable.
  bool ConnectionReusable() const;

 private:
  enum class Phase {
    kStatusLine,
    kHeaders,
    kLengthBody,
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailers,
    kCloseBody,
    kFinished,
  };

  bool TakeLine(std::string_view* bytes, std::string_view* line, size_t* raw_size);
  void OnLine(std::string_view line, size_t raw_size);
  void OnStatusLine(std::string_view line);
  void OnHeaderLine(std::string_view line);
  void OnHeadersEnd();
  void OnChunkSizeLine(std::string_view line);
  void OnTrailerLine(std::string_view line);
  bool KeepBody(std::string_view data, uint64_t still_expected);
  void ConsumeBody(std::string_view* bytes);
  void Finish();
  void Fail(std::string message);

  HttpLimits limits_;
  bool response_to_head_;
  State state_ = State::kNeedMore;
  Phase phase_ = Phase::kStatusLine;
  std::string error_;

  int status_code_ = 0;
  std::string reason_;
  std::string http_version_;
  std::vector<std::pair<std::string, std::string>> headers_;
  bool headers_complete_ = false;

  std::string body_;
  bool body_truncated_ = false;
  bool ended_at_close_ = false;  // the body was delimited by the end of the stream
  size_t trailing_bytes_ = 0;    // fed after the response was complete

  std::string line_;       // the line being assembled, at most max_line + 2 bytes
  size_t head_bytes_ = 0;  // status and header lines so far, 1xx responses included
  size_t trailer_bytes_ = 0;
  size_t trailer_count_ = 0;
  uint64_t remaining_ = 0;  // of the Content-Length body or of the current chunk
};

/// Serialises an HTTP/1.1 request: request line, headers in order, a Content-Length
/// when `body` is non-empty and none was given, then the body. Never fails: bytes
/// that could end a line or a field (CR, LF, NUL; also SP/HTAB in method and target,
/// and non-token bytes in names) are dropped, so values copied from a hostile
/// response cannot inject headers. A header whose name ends up empty is skipped.
std::string SerializeRequest(std::string_view method, std::string_view target,
                             const std::vector<std::pair<std::string, std::string>>& headers,
                             std::string_view body);

}  // namespace vigil
