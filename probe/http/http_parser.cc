#include "probe/http/http_parser.h"

#include <algorithm>
#include <limits>
#include <optional>

namespace vigil {
namespace {

using State = HttpResponseParser::State;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsOws(char c) { return c == ' ' || c == '\t'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 9110 §5.6.2 token characters: what a field name may be made of.
bool IsTchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    return lower(x) == lower(y);
  });
}

// Calls `fn` with each non-empty, trimmed element of a comma-separated field value.
template <typename Fn>
void ForEachListElement(std::string_view value, Fn fn) {
  while (true) {
    size_t comma = value.find(',');
    std::string_view element = TrimOws(value.substr(0, comma));
    fn(element);
    if (comma == std::string_view::npos) return;
    value.remove_prefix(comma + 1);
  }
}

// Whether `partial`, the start of the first line (before its LF), can still turn out
// to be a blank line or begin with "HTTP/". Checking this on every byte received
// makes a non-HTTP peer fail at once instead of after max_line bytes.
bool MayStartStatusLine(std::string_view partial) {
  constexpr std::string_view kPrefix = "HTTP/";
  if (partial == "\r") return true;
  size_t n = std::min(partial.size(), kPrefix.size());
  return partial.substr(0, n) == kPrefix.substr(0, n);
}

}  // namespace

HttpResponseParser::HttpResponseParser(HttpLimits limits, bool response_to_head)
    : limits_(limits), response_to_head_(response_to_head) {}

HttpResponseParser::State HttpResponseParser::Feed(std::string_view bytes) {
  while (state_ == State::kNeedMore && !bytes.empty()) {
    switch (phase_) {
      case Phase::kLengthBody:
      case Phase::kChunkData:
      case Phase::kCloseBody:
        ConsumeBody(&bytes);
        break;
      default: {
        std::string_view line;
        size_t raw_size = 0;
        if (TakeLine(&bytes, &line, &raw_size)) {
          OnLine(line, raw_size);
          line_.clear();
        }
        break;
      }
    }
  }
  if (state_ == State::kDone) trailing_bytes_ += bytes.size();
  return state_;
}

HttpResponseParser::State HttpResponseParser::FeedEof() {
  if (state_ != State::kNeedMore) return state_;
  if (phase_ == Phase::kCloseBody) {
    ended_at_close_ = true;
    Finish();
  } else if (!headers_complete_) {
    Fail("eof before end of headers");
  } else {
    Fail("eof before end of body");
  }
  return state_;
}

// Every line goes through line_, whether it arrives whole or a byte at a time, so
// the checks below see the same bytes and reach the same verdict for any split.
bool HttpResponseParser::TakeLine(std::string_view* bytes, std::string_view* line,
                                  size_t* raw_size) {
  const size_t cap = limits_.max_line + 1;  // the line and its CR
  size_t newline = bytes->find('\n');
  std::string_view piece = bytes->substr(0, newline);
  // One byte beyond cap is enough to know the line is too long; taking no more
  // keeps line_ bounded whatever the peer sends.
  size_t take = std::min(piece.size(), cap + 1 - line_.size());
  line_.append(piece.substr(0, take));
  bytes->remove_prefix(take);

  const char* what = nullptr;
  switch (phase_) {
    case Phase::kStatusLine:
      if (!MayStartStatusLine(line_)) {
        Fail("response does not start with \"HTTP/\"");
        return false;
      }
      what = "status line";
      break;
    case Phase::kHeaders:
      what = "header line";
      break;
    case Phase::kChunkSize:
      what = "chunk size line";
      break;
    case Phase::kTrailers:
      what = "trailer line";
      break;
    default:
      what = nullptr;  // kChunkDataEnd: an over-long line is a missing CRLF
      break;
  }
  auto too_long = [&]() {
    if (what == nullptr) {
      Fail("missing CRLF after chunk data");
    } else {
      Fail(std::string(what) + " exceeds " + std::to_string(limits_.max_line) + " bytes");
    }
  };
  if (line_.size() > cap) {
    too_long();
    return false;
  }
  if (newline == std::string_view::npos) return false;
  bytes->remove_prefix(1);  // the LF
  *raw_size = line_.size() + 1;
  std::string_view content = line_;
  if (content.ends_with('\r')) content.remove_suffix(1);
  if (content.size() > limits_.max_line) {
    too_long();
    return false;
  }
  *line = content;
  return true;
}

void HttpResponseParser::OnLine(std::string_view line, size_t raw_size) {
  if (phase_ == Phase::kChunkDataEnd) {
    if (!line.empty()) {
      Fail("missing CRLF after chunk data");
    } else {
      phase_ = Phase::kChunkSize;
    }
    return;
  }
  const char* what = "line";
  switch (phase_) {
    case Phase::kStatusLine:
    case Phase::kHeaders:
      what = phase_ == Phase::kStatusLine ? "status line" : "header line";
      head_bytes_ += raw_size;
      if (head_bytes_ > limits_.max_header_bytes) {
        Fail("header section exceeds " + std::to_string(limits_.max_header_bytes) + " bytes");
        return;
      }
      break;
    case Phase::kTrailers:
      what = "trailer line";
      trailer_bytes_ += raw_size;
      if (trailer_bytes_ > limits_.max_header_bytes) {
        Fail("trailer section exceeds " + std::to_string(limits_.max_header_bytes) + " bytes");
        return;
      }
      break;
    case Phase::kChunkSize:
      what = "chunk size line";
      break;
    default:
      break;
  }
  // RFC 9112 §2.2 lets a recipient reject these; a field value holding them would
  // otherwise carry them into every later consumer of the measurement.
  if (line.find('\0') != std::string_view::npos) {
    Fail(std::string("NUL byte in ") + what);
    return;
  }
  if (line.find('\r') != std::string_view::npos) {
    Fail(std::string("bare CR in ") + what);
    return;
  }
  switch (phase_) {
    case Phase::kStatusLine:
      OnStatusLine(line);
      break;
    case Phase::kHeaders:
      OnHeaderLine(line);
      break;
    case Phase::kChunkSize:
      OnChunkSizeLine(line);
      break;
    case Phase::kTrailers:
      OnTrailerLine(line);
      break;
    default:
      break;
  }
}

void HttpResponseParser::OnStatusLine(std::string_view line) {
  // RFC 9112 §2.2: blank lines before the status line are tolerated (they show up
  // after interim responses). The header-section budget still bounds them.
  if (line.empty()) return;
  if (!line.starts_with("HTTP/")) {
    Fail("response does not start with \"HTTP/\"");
    return;
  }
  if (line.size() >= 6 && IsDigit(line[5]) && line[5] != '1') {
    Fail("unsupported HTTP version");
    return;
  }
  // HTTP/1.x SP 3DIGIT [ SP reason ]; the reason may be missing altogether.
  if (line.size() < 12 || line[6] != '.' || !IsDigit(line[7]) || line[8] != ' ') {
    Fail("invalid status line");
    return;
  }
  std::string_view code = line.substr(9, 3);
  std::string_view rest = line.substr(12);
  if (code[0] < '1' || !IsDigit(code[0]) || !IsDigit(code[1]) || !IsDigit(code[2]) ||
      (!rest.empty() && !IsOws(rest[0]))) {
    Fail("invalid status code");
    return;
  }
  http_version_ = std::string(line.substr(0, 8));
  status_code_ = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  reason_ = std::string(TrimOws(rest));
  phase_ = Phase::kHeaders;
}

void HttpResponseParser::OnHeaderLine(std::string_view line) {
  if (line.empty()) {
    OnHeadersEnd();
    return;
  }
  if (IsOws(line[0])) {
    // obs-fold (RFC 9112 §5.2): joined to the previous value with a space.
    if (headers_.empty()) {
      Fail("obs-fold line before the first header field");
      return;
    }
    std::string_view more = TrimOws(line);
    std::string& value = headers_.back().second;
    if (!more.empty() && !value.empty()) value += ' ';
    value += more;
    return;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    Fail("header line without a colon");
    return;
  }
  std::string_view name = line.substr(0, colon);
  if (name.empty()) {
    Fail("empty header name");
    return;
  }
  for (char c : name) {
    if (!IsTchar(c)) {
      // RFC 9112 §5.1: whitespace before the colon is a smuggling vector; reject.
      Fail(IsOws(c) ? "whitespace in header name" : "invalid character in header name");
      return;
    }
  }
  if (headers_.size() >= limits_.max_headers) {
    Fail("more than " + std::to_string(limits_.max_headers) + " header fields");
    return;
  }
  headers_.emplace_back(std::string(name), std::string(TrimOws(line.substr(colon + 1))));
}

void HttpResponseParser::OnHeadersEnd() {
  if (status_code_ / 100 == 1 && status_code_ != 101) {
    // An interim response: forget it and read the next status line. head_bytes_
    // keeps counting so an endless stream of 1xx responses still hits the limit.
    status_code_ = 0;
    reason_.clear();
    http_version_.clear();
    headers_.clear();
    phase_ = Phase::kStatusLine;
    return;
  }
  headers_complete_ = true;
  // RFC 9112 §6.3, in its order: responses that never have a body first.
  if (response_to_head_ || status_code_ == 101 || status_code_ == 204 || status_code_ == 304) {
    Finish();
    return;
  }
  bool has_transfer_encoding = false;
  std::string_view last_coding;
  for (const auto& [name, value] : headers_) {
    if (!EqualsIgnoreCase(name, "transfer-encoding")) continue;
    has_transfer_encoding = true;
    ForEachListElement(value, [&](std::string_view coding) {
      if (!coding.empty()) last_coding = coding;
    });
  }
  if (has_transfer_encoding) {
    // Transfer-Encoding overrides Content-Length. Without chunked last, only the
    // close of the connection ends the body.
    if (last_coding.empty()) {
      Fail("empty Transfer-Encoding");
    } else {
      phase_ = EqualsIgnoreCase(last_coding, "chunked") ? Phase::kChunkSize : Phase::kCloseBody;
    }
    return;
  }
  std::optional<uint64_t> length;
  for (const auto& [name, value] : headers_) {
    if (!EqualsIgnoreCase(name, "content-length")) continue;
    std::string problem;
    ForEachListElement(value, [&](std::string_view element) {
      if (!problem.empty()) return;
      if (element.empty()) {
        problem = "invalid Content-Length";
        return;
      }
      uint64_t n = 0;
      for (char c : element) {
        if (!IsDigit(c)) {
          problem = "invalid Content-Length";
          return;
        }
        auto digit = static_cast<uint64_t>(c - '0');
        if (n > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
          problem = "Content-Length too large";
          return;
        }
        n = n * 10 + digit;
      }
      // Identical repeats ("42, 42") are allowed by RFC 9110 §8.6; differing ones
      // are how responses get smuggled.
      if (length && *length != n) {
        problem = "conflicting Content-Length values";
        return;
      }
      length = n;
    });
    if (!problem.empty()) {
      Fail(problem);
      return;
    }
  }
  if (!length) {
    phase_ = Phase::kCloseBody;
  } else if (*length == 0) {
    Finish();
  } else {
    remaining_ = *length;
    phase_ = Phase::kLengthBody;
    KeepBody({}, remaining_);
  }
}

void HttpResponseParser::OnChunkSizeLine(std::string_view line) {
  uint64_t size = 0;
  size_t i = 0;
  for (; i < line.size(); ++i) {
    int digit = HexValue(line[i]);
    if (digit < 0) break;
    if (size > (std::numeric_limits<uint64_t>::max() >> 4)) {
      Fail("chunk size overflows 64 bits");
      return;
    }
    size = size * 16 + static_cast<uint64_t>(digit);
  }
  std::string_view rest = line.substr(i);
  while (!rest.empty() && IsOws(rest.front())) rest.remove_prefix(1);
  // Chunk extensions (";name=value") carry nothing we use; max_line bounds them.
  if (i == 0 || (!rest.empty() && rest.front() != ';')) {
    Fail("invalid chunk size");
    return;
  }
  if (size == 0) {
    phase_ = Phase::kTrailers;
    return;
  }
  remaining_ = size;
  phase_ = Phase::kChunkData;
  KeepBody({}, remaining_);
}

void HttpResponseParser::OnTrailerLine(std::string_view line) {
  if (line.empty()) {
    Finish();
    return;
  }
  // Trailers are checked for shape and bounded, then dropped: nothing reads them.
  if (!IsOws(line[0]) && line.find(':') == std::string_view::npos) {
    Fail("trailer line without a colon");
    return;
  }
  if (++trailer_count_ > limits_.max_headers) {
    Fail("more than " + std::to_string(limits_.max_headers) + " trailer lines");
  }
}

// Appends body bytes up to body_cap. `still_expected` is how many more bytes the
// framing has announced after `data`: with the cap reached and more announced, the
// body is known to be truncated now, so the caller can stop reading. Returns false
// when the response just finished that way.
bool HttpResponseParser::KeepBody(std::string_view data, uint64_t still_expected) {
  size_t room = limits_.body_cap - body_.size();
  if (data.size() > room || (data.size() == room && still_expected > 0)) {
    body_.append(data.substr(0, room));
    body_truncated_ = true;
    Finish();
    return false;
  }
  body_.append(data);
  return true;
}

void HttpResponseParser::ConsumeBody(std::string_view* bytes) {
  if (phase_ == Phase::kCloseBody) {
    KeepBody(*bytes, 0);
    *bytes = {};
    return;
  }
  size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, bytes->size()));
  std::string_view data = bytes->substr(0, n);
  bytes->remove_prefix(n);
  remaining_ -= n;
  if (!KeepBody(data, remaining_)) return;
  if (remaining_ == 0) {
    if (phase_ == Phase::kLengthBody) {
      Finish();
    } else {
      phase_ = Phase::kChunkDataEnd;
    }
  }
}

bool HttpResponseParser::ConnectionReusable() const {
  if (state_ != State::kDone || ended_at_close_ || body_truncated_ || trailing_bytes_ > 0 ||
      status_code_ == 101) {
    return false;
  }
  bool close = false, keep_alive = false;
  for (const auto& [name, value] : headers_) {
    if (!EqualsIgnoreCase(name, "connection")) continue;
    ForEachListElement(value, [&](std::string_view option) {
      if (EqualsIgnoreCase(option, "close")) close = true;
      if (EqualsIgnoreCase(option, "keep-alive")) keep_alive = true;
    });
  }
  if (close) return false;
  if (http_version_ == "HTTP/1.1") return true;
  return http_version_ == "HTTP/1.0" && keep_alive;
}

void HttpResponseParser::Finish() {
  state_ = State::kDone;
  phase_ = Phase::kFinished;
}

void HttpResponseParser::Fail(std::string message) {
  state_ = State::kError;
  phase_ = Phase::kFinished;
  error_ = std::move(message);
}

std::string SerializeRequest(std::string_view method, std::string_view target,
                             const std::vector<std::pair<std::string, std::string>>& headers,
                             std::string_view body) {
  auto breaks_line = [](char c) { return c == '\r' || c == '\n' || c == '\0'; };
  auto breaks_request_line = [&](char c) { return breaks_line(c) || IsOws(c); };
  std::string out;
  for (char c : method) {
    if (!breaks_request_line(c)) out += c;
  }
  out += ' ';
  size_t target_start = out.size();
  for (char c : target) {
    if (!breaks_request_line(c)) out += c;
  }
  if (out.size() == target_start) out += '/';
  out += " HTTP/1.1\r\n";

  bool has_length = false;
  for (const auto& [raw_name, raw_value] : headers) {
    std::string name;
    for (char c : raw_name) {
      if (IsTchar(c)) name += c;
    }
    if (name.empty()) continue;
    if (EqualsIgnoreCase(name, "content-length")) has_length = true;
    out += name;
    out += ": ";
    for (char c : raw_value) {
      if (!breaks_line(c)) out += c;
    }
    out += "\r\n";
  }
  if (!body.empty() && !has_length) {
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += "\r\n";
  out += body;
  return out;
}

}  // namespace vigil
