// Fuzz target for HttpResponseParser, ExtractTitle and SerializeRequest: the code
// that reads a (possibly hostile) HTTP response. Besides crashes and sanitizer
// reports, it traps when feeding the bytes in pieces changes the outcome, when a
// limit is not honoured, or when a parsed header could inject a request header.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/html_title.h"
#include "probe/http/http_parser.h"

namespace vigil {
namespace {

using State = HttpResponseParser::State;

struct Outcome {
  State state;
  std::string error;
  int status_code;
  std::string reason;
  std::string http_version;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool truncated;
  bool headers_complete;

  bool operator==(const Outcome&) const = default;
};

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

Outcome Parse(std::string_view wire, size_t piece, const HttpLimits& limits, bool head) {
  HttpResponseParser parser(limits, head);
  for (size_t i = 0; i < wire.size(); i += piece) {
    Check(parser.Feed(wire.substr(i, piece)) == parser.state());
  }
  Check(parser.FeedEof() == parser.state());
  return {parser.state(),
          parser.error(),
          parser.status_code(),
          parser.reason(),
          parser.http_version(),
          parser.headers_list(),
          parser.body(),
          parser.body_is_truncated(),
          parser.headers_complete()};
}

// RFC 9110 token characters, the only ones SerializeRequest keeps in a name.
bool IsTchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Serialises `headers` into a request, as a client echoing response values into
// its next request would, and checks that each header stayed on its own line.
void CheckNoInjection(const std::vector<std::pair<std::string, std::string>>& headers) {
  const std::string request = SerializeRequest("GET", "/", headers, "");
  size_t lines = 0;
  for (size_t i = 0; i < request.size(); ++i) {
    if (request[i] == '\r') {
      Check(i + 1 < request.size() && request[i + 1] == '\n');
      ++lines;
      ++i;
    } else {
      Check(request[i] != '\n' && request[i] != '\0');
    }
  }
  size_t kept = 0;
  for (const auto& header : headers) {
    for (char c : header.first) {
      if (IsTchar(c)) {
        ++kept;
        break;
      }
    }
  }
  Check(lines == 2 + kept);  // request line, one per kept header, blank line
}

}  // namespace
}  // namespace vigil

// Byte 0 chooses the configuration (bit 0: small limits; bit 1: HEAD; bits 2-7: the
// piece size for the split run); the rest is the stream.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using vigil::Check;
  if (size < 1) return 0;
  const uint8_t config = data[0];
  std::string_view wire(reinterpret_cast<const char*>(data + 1), size - 1);

  vigil::HttpLimits limits;
  if (config & 1) {
    limits.max_line = 40;
    limits.max_header_bytes = 200;
    limits.max_headers = 6;
    limits.body_cap = 50;
  }
  const bool head = (config & 2) != 0;
  const size_t piece = 1 + (config >> 2);

  vigil::Outcome whole = vigil::Parse(wire, wire.size() + 1, limits, head);
  vigil::Outcome split = vigil::Parse(wire, piece, limits, head);
  Check(whole == split);
  Check(whole.state != vigil::HttpResponseParser::State::kNeedMore);
  Check(whole.body.size() <= limits.body_cap);
  Check(whole.headers.size() <= limits.max_headers);
  Check(!whole.truncated || whole.state == vigil::HttpResponseParser::State::kDone);
  if (whole.state == vigil::HttpResponseParser::State::kError) {
    Check(!whole.error.empty() && whole.error.find('\n') == std::string::npos);
  } else {
    Check(whole.error.empty() && whole.headers_complete);
  }

  if (std::optional<std::string> title = vigil::ExtractTitle(whole.body)) {
    Check(!title->empty() && title->size() <= vigil::kMaxTitleBytes);
    Check(title->front() != ' ' && title->back() != ' ');
  }
  vigil::ExtractTitle(wire);
  vigil::CheckNoInjection(whole.headers);
  // Raw bytes as a header too: the parser never yields CR or LF, a caller might.
  vigil::CheckNoInjection(
      {{std::string(wire.substr(0, wire.size() / 2)), std::string(wire.substr(wire.size() / 2))}});
  return 0;
}
