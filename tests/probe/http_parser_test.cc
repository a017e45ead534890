#include "probe/http/http_parser.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace vigil {
namespace {

using State = HttpResponseParser::State;
using Headers = std::vector<std::pair<std::string, std::string>>;

const char* Name(State state) {
  switch (state) {
    case State::kNeedMore:
      return "kNeedMore";
    case State::kDone:
      return "kDone";
    case State::kError:
      return "kError";
  }
  return "?";
}

}  // namespace

// Found by gtest through argument-dependent lookup, hence outside the anonymous namespace.
void PrintTo(HttpResponseParser::State state, std::ostream* os) { *os << Name(state); }

namespace {

// Everything a caller can observe once the parser has stopped.
struct Outcome {
  State state = State::kNeedMore;
  std::string error;
  int status_code = 0;
  std::string reason;
  std::string http_version;
  Headers headers;
  std::string body;
  bool truncated = false;
  bool headers_complete = false;

  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << "{state=" << Name(o.state) << " error=\"" << o.error << "\" status=" << o.status_code
     << " reason=\"" << o.reason << "\" version=\"" << o.http_version
     << "\" headers=" << o.headers.size() << " body_size=" << o.body.size()
     << " truncated=" << o.truncated << " headers_complete=" << o.headers_complete << "}";
  return os;
}

Outcome Snapshot(const HttpResponseParser& parser) {
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

// Feeds `wire` in pieces of `piece` bytes (0: in one call), then signals EOF if `eof`.
Outcome Parse(std::string_view wire, size_t piece, const HttpLimits& limits = {}, bool head = false,
              bool eof = true) {
  HttpResponseParser parser(limits, head);
  if (piece == 0) {
    State returned = parser.Feed(wire);
    EXPECT_EQ(returned, parser.state());
  } else {
    for (size_t i = 0; i < wire.size(); i += piece) {
      State returned = parser.Feed(wire.substr(i, piece));
      EXPECT_EQ(returned, parser.state());
    }
  }
  if (eof) {
    State returned = parser.FeedEof();
    EXPECT_EQ(returned, parser.state());
  }
  return Snapshot(parser);
}

// Runs `wire` whole, a byte at a time and in 7-byte pieces; all three must agree.
Outcome RunAllSplits(std::string_view wire, const HttpLimits& limits = {}, bool head = false,
                     bool eof = true) {
  Outcome whole = Parse(wire, 0, limits, head, eof);
  EXPECT_EQ(Parse(wire, 1, limits, head, eof), whole) << "fed a byte at a time";
  EXPECT_EQ(Parse(wire, 7, limits, head, eof), whole) << "fed in 7-byte pieces";
  return whole;
}

struct Case {
  std::string name;
  std::string wire;
  bool eof;  // FeedEof after the bytes
  State state;
  std::string error;  // exact message; empty when the parse succeeds
  int status;
  std::string body;
  bool head = false;
};

const std::string kOk = "HTTP/1.1 200 OK\r\n";

TEST(HttpResponseParserTest, ParsesWellFormedResponses) {
  const Case cases[] = {
      {"content_length", kOk + "Content-Length: 5\r\n\r\nhello", false, State::kDone, "", 200,
       "hello"},
      {"bytes_after_end_ignored", kOk + "Content-Length: 2\r\n\r\nhiHTTP/1.1 500 X\r\n\r\n", false,
       State::kDone, "", 200, "hi"},
      {"content_length_zero", kOk + "Content-Length: 0\r\n\r\n", false, State::kDone, "", 200, ""},
      {"close_delimited_needs_eof", "HTTP/1.0 200 OK\r\n\r\nabc", false, State::kNeedMore, "", 200,
       "abc"},
      {"close_delimited", "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nabc", true, State::kDone, "", 200,
       "abc"},
      {"close_delimited_empty", "HTTP/1.1 403 Forbidden\r\n\r\n", true, State::kDone, "", 403, ""},
      {"missing_reason", "HTTP/1.1 204\r\n\r\n", false, State::kDone, "", 204, ""},
      {"missing_reason_with_space", "HTTP/1.1 302 \r\nLocation: /x\r\nContent-Length: 0\r\n\r\n",
       false, State::kDone, "", 302, ""},
      {"bare_lf", "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi", false, State::kDone, "", 200, "hi"},
      {"mixed_line_endings", "HTTP/1.1 200 OK\r\nA: 1\nContent-Length: 2\r\n\nhi", false,
       State::kDone, "", 200, "hi"},
      {"leading_blank_lines", "\r\n\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", false,
       State::kDone, "", 200, "x"},
      {"interim_100", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
       false, State::kDone, "", 200, "x"},
      {"interim_103_with_headers",
       "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n" + kOk + "Content-Length: 0\r\n\r\n",
       false, State::kDone, "", 200, ""},
      {"switching_protocols", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: ws\r\n\r\n\x81\x05",
       false, State::kDone, "", 101, ""},
      {"head_ignores_length", kOk + "Content-Length: 100\r\n\r\n", false, State::kDone, "", 200, "",
       true},
      {"head_ignores_chunked", kOk + "Transfer-Encoding: chunked\r\n\r\n", false, State::kDone, "",
       200, "", true},
      {"no_content", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello", false,
       State::kDone, "", 204, ""},
      {"not_modified", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", false,
       State::kDone, "", 304, ""},
      {"chunked",
       kOk + "Transfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n6 ; x\r\n world\r\n0\r\n"
             "X-Trailer: t\r\n\r\n",
       false, State::kDone, "", 200, "hello world"},
      {"chunked_hex_and_leading_zeros",
       kOk + "Transfer-Encoding: chunked\r\n\r\n00A\r\n0123456789\r\n0000\r\n\r\n", false,
       State::kDone, "", 200, "0123456789"},
      {"chunked_bare_lf", kOk + "Transfer-Encoding: chunked\n\n3\nabc\n0\n\n", false, State::kDone,
       "", 200, "abc"},
      {"chunked_beats_content_length",
       kOk + "Content-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", false,
       State::kDone, "", 200, "x"},
      {"chunked_last_of_codings",
       kOk + "Transfer-Encoding: gzip\r\nTransfer-Encoding: Chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
       false, State::kDone, "", 200, "x"},
      {"codings_without_chunked_read_to_close",
       kOk + "Transfer-Encoding: chunked, gzip\r\nContent-Length: 1\r\n\r\nabc", true, State::kDone,
       "", 200, "abc"},
      {"repeated_equal_lengths", kOk + "Content-Length: 3, 3\r\ncontent-length: 003\r\n\r\nabc",
       false, State::kDone, "", 200, "abc"},
      {"http10_keeps_length", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nxy", false, State::kDone,
       "", 200, "x"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Outcome o = RunAllSplits(c.wire, {}, c.head, c.eof);
    EXPECT_EQ(o.state, c.state);
    EXPECT_EQ(o.error, c.error);
    EXPECT_EQ(o.status_code, c.status);
    EXPECT_EQ(o.body, c.body);
    EXPECT_FALSE(o.truncated);
  }
}

TEST(HttpResponseParserTest, ExposesStatusLineAndHeadersAsReceived) {
  Outcome o = RunAllSplits(
      "HTTP/1.0 404 Not  Found \r\n"
      "Content-Type:text/html\r\n"
      "X-Spaces: \t padded value \t\r\n"
      "X-Empty:\r\n"
      "X-Folded: one\r\n"
      "  two\r\n"
      "\tthree\r\n"
      "set-COOKIE: a=1\r\n"
      "Set-Cookie: b=2\r\n"
      "\r\n"
      "<html>",
      {}, false, true);
  EXPECT_EQ(o.state, State::kDone);
  EXPECT_EQ(o.http_version, "HTTP/1.0");
  EXPECT_EQ(o.status_code, 404);
  EXPECT_EQ(o.reason, "Not  Found");
  const Headers expected = {
      {"Content-Type", "text/html"}, {"X-Spaces", "padded value"}, {"X-Empty", ""},
      {"X-Folded", "one two three"}, {"set-COOKIE", "a=1"},        {"Set-Cookie", "b=2"}};
  EXPECT_EQ(o.headers, expected);
  EXPECT_TRUE(o.headers_complete);
  EXPECT_EQ(o.body, "<html>");
}

TEST(HttpResponseParserTest, InterimResponsesLeaveNoTrace) {
  Outcome o = RunAllSplits(
      "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
      "HTTP/1.1 102 Processing\r\n\r\n"
      "HTTP/1.0 301 Moved\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(o.state, State::kDone);
  EXPECT_EQ(o.status_code, 301);
  EXPECT_EQ(o.http_version, "HTTP/1.0");
  EXPECT_EQ(o.headers, (Headers{{"Location", "/x"}, {"Content-Length", "0"}}));

  // Cut off after the interim response: nothing final was seen.
  o = RunAllSplits("HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n");
  EXPECT_EQ(o.error, "eof before end of headers");
  EXPECT_EQ(o.status_code, 0);
  EXPECT_TRUE(o.headers.empty());
}

TEST(HttpResponseParserTest, RejectsMalformedResponsesNamingTheProblem) {
  const std::string chunked = kOk + "Transfer-Encoding: chunked\r\n\r\n";
  const Case cases[] = {
      {"empty_stream", "", true, State::kError, "eof before end of headers", 0, ""},
      {"eof_in_status_line", "HTTP/1.1 200", true, State::kError, "eof before end of headers", 0,
       ""},
      {"eof_in_headers", kOk + "Server: x\r\n", true, State::kError, "eof before end of headers",
       200, ""},
      {"eof_in_length_body", kOk + "Content-Length: 10\r\n\r\nabc", true, State::kError,
       "eof before end of body", 200, "abc"},
      {"eof_in_chunk", chunked + "a\r\nabc", true, State::kError, "eof before end of body", 200,
       "abc"},
      {"eof_before_last_chunk", chunked + "3\r\nabc\r\n", true, State::kError,
       "eof before end of body", 200, "abc"},
      {"eof_in_trailers", chunked + "0\r\nX: y\r\n", true, State::kError, "eof before end of body",
       200, ""},
      {"not_http", "SSH-2.0-OpenSSH_9.0\r\n", false, State::kError,
       "response does not start with \"HTTP/\"", 0, ""},
      {"lowercase_http", "http/1.1 200 OK\r\n\r\n", false, State::kError,
       "response does not start with \"HTTP/\"", 0, ""},
      {"short_prefix_line", "HTTP\r\n", false, State::kError,
       "response does not start with \"HTTP/\"", 0, ""},
      {"http09_body", "<html>blocked</html>", false, State::kError,
       "response does not start with \"HTTP/\"", 0, ""},
      {"http2", "HTTP/2 200\r\n\r\n", false, State::kError, "unsupported HTTP version", 0, ""},
      {"http20", "HTTP/2.0 200 OK\r\n\r\n", false, State::kError, "unsupported HTTP version", 0,
       ""},
      {"no_status_code", "HTTP/1.1\r\n\r\n", false, State::kError, "invalid status line", 0, ""},
      {"bad_version", "HTTP/1.x 200 OK\r\n\r\n", false, State::kError, "invalid status line", 0,
       ""},
      {"two_digit_code", "HTTP/1.1 20 OK\r\n\r\n", false, State::kError, "invalid status code", 0,
       ""},
      {"four_digit_code", "HTTP/1.1 2000 OK\r\n\r\n", false, State::kError, "invalid status code",
       0, ""},
      {"code_below_100", "HTTP/1.1 099 Low\r\n\r\n", false, State::kError, "invalid status code", 0,
       ""},
      {"code_glued_to_reason", "HTTP/1.1 200OK\r\n\r\n", false, State::kError,
       "invalid status code", 0, ""},
      {"double_space", "HTTP/1.1  200 OK\r\n\r\n", false, State::kError, "invalid status code", 0,
       ""},
      {"nul_in_status", std::string("HTTP/1.1 200 O\0K\r\n\r\n", 20), false, State::kError,
       "NUL byte in status line", 0, ""},
      {"nul_in_header", kOk + std::string("X: a\0b\r\n\r\n", 10), false, State::kError,
       "NUL byte in header line", 200, ""},
      {"bare_cr_in_header", kOk + "X: a\rInjected: 1\r\n\r\n", false, State::kError,
       "bare CR in header line", 200, ""},
      {"header_without_colon", kOk + "NoColonHere\r\n\r\n", false, State::kError,
       "header line without a colon", 200, ""},
      {"empty_header_name", kOk + ": value\r\n\r\n", false, State::kError, "empty header name", 200,
       ""},
      {"space_before_colon", kOk + "Content-Length : 5\r\n\r\nhello", false, State::kError,
       "whitespace in header name", 200, ""},
      {"space_in_name", kOk + "Bad Name: 1\r\n\r\n", false, State::kError,
       "whitespace in header name", 200, ""},
      {"control_in_name", kOk + "X\x01Y: 1\r\n\r\n", false, State::kError,
       "invalid character in header name", 200, ""},
      {"fold_before_first_header", kOk + " folded: 1\r\n\r\n", false, State::kError,
       "obs-fold line before the first header field", 200, ""},
      {"conflicting_lengths", kOk + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello", false,
       State::kError, "conflicting Content-Length values", 200, ""},
      {"conflicting_list", kOk + "Content-Length: 5, 6\r\n\r\nhello", false, State::kError,
       "conflicting Content-Length values", 200, ""},
      {"negative_length", kOk + "Content-Length: -1\r\n\r\n", false, State::kError,
       "invalid Content-Length", 200, ""},
      {"plus_length", kOk + "Content-Length: +5\r\n\r\nhello", false, State::kError,
       "invalid Content-Length", 200, ""},
      {"hex_length", kOk + "Content-Length: 0x10\r\n\r\n", false, State::kError,
       "invalid Content-Length", 200, ""},
      {"empty_length", kOk + "Content-Length:\r\n\r\n", false, State::kError,
       "invalid Content-Length", 200, ""},
      {"empty_list_element", kOk + "Content-Length: 5,\r\n\r\nhello", false, State::kError,
       "invalid Content-Length", 200, ""},
      {"spaced_digits", kOk + "Content-Length: 1 2\r\n\r\n", false, State::kError,
       "invalid Content-Length", 200, ""},
      {"overflowing_length", kOk + "Content-Length: 18446744073709551616\r\n\r\n", false,
       State::kError, "Content-Length too large", 200, ""},
      {"huge_overflowing_length", kOk + "Content-Length: " + std::string(5000, '9') + "\r\n\r\n",
       false, State::kError, "Content-Length too large", 200, ""},
      {"max_length_then_eof", kOk + "Content-Length: 18446744073709551615\r\n\r\nab", true,
       State::kError, "eof before end of body", 200, "ab"},
      {"empty_transfer_encoding", kOk + "Transfer-Encoding: , \r\n\r\n", false, State::kError,
       "empty Transfer-Encoding", 200, ""},
      {"chunk_size_overflow", chunked + "10000000000000000\r\n", false, State::kError,
       "chunk size overflows 64 bits", 200, ""},
      {"chunk_size_overflow_long", chunked + std::string(4000, 'f') + "\r\n", false, State::kError,
       "chunk size overflows 64 bits", 200, ""},
      {"chunk_size_max_then_eof", chunked + "ffffffffffffffff\r\nabc", true, State::kError,
       "eof before end of body", 200, "abc"},
      {"chunk_size_not_hex", chunked + "zz\r\n", false, State::kError, "invalid chunk size", 200,
       ""},
      {"chunk_size_negative", chunked + "-1\r\n", false, State::kError, "invalid chunk size", 200,
       ""},
      {"chunk_size_empty", chunked + "\r\n", false, State::kError, "invalid chunk size", 200, ""},
      {"chunk_size_0x", chunked + "0x5\r\nhello\r\n", false, State::kError, "invalid chunk size",
       200, ""},
      {"chunk_size_junk_after", chunked + "5 5\r\nhello\r\n", false, State::kError,
       "invalid chunk size", 200, ""},
      {"chunk_size_nul", chunked + std::string("5\0\r\n", 4), false, State::kError,
       "NUL byte in chunk size line", 200, ""},
      {"chunk_without_crlf", chunked + "5\r\nhelloX\r\n0\r\n\r\n", false, State::kError,
       "missing CRLF after chunk data", 200, "hello"},
      {"chunk_longer_than_size", chunked + "2\r\nhello\r\n", false, State::kError,
       "missing CRLF after chunk data", 200, "he"},
      {"trailer_without_colon", chunked + "0\r\nnot a trailer\r\n\r\n", false, State::kError,
       "trailer line without a colon", 200, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Outcome o = RunAllSplits(c.wire, {}, c.head, c.eof);
    EXPECT_EQ(o.state, c.state);
    EXPECT_EQ(o.error, c.error);
    EXPECT_EQ(o.status_code, c.status);
    EXPECT_EQ(o.body, c.body);
    EXPECT_EQ(o.error.find('\n'), std::string::npos);
  }
}

TEST(HttpResponseParserTest, FeedAfterTheEndChangesNothing) {
  HttpResponseParser parser;
  ASSERT_EQ(parser.Feed(kOk + "Content-Length: 1\r\n\r\nx"), State::kDone);
  EXPECT_EQ(parser.Feed("garbage"), State::kDone);
  EXPECT_EQ(parser.FeedEof(), State::kDone);
  EXPECT_EQ(parser.body(), "x");

  HttpResponseParser failed;
  ASSERT_EQ(failed.Feed("nope\r\n"), State::kError);
  EXPECT_EQ(failed.Feed(kOk + "\r\n"), State::kError);
  EXPECT_EQ(failed.FeedEof(), State::kError);
  EXPECT_EQ(failed.error(), "response does not start with \"HTTP/\"");
}

TEST(HttpResponseParserTest, ConnectionIsReusableOnlyAfterASelfDelimitedResponse) {
  struct ReuseCase {
    const char* name;
    std::string wire;
    bool eof;  // the stream closed after the bytes
    bool head;
    size_t body_cap;
    bool reusable;
  };
  const std::string chunked = "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  const std::vector<ReuseCase> cases = {
      {"content-length", kOk + "Content-Length: 2\r\n\r\nok", false, false, 1024, true},
      {"chunked", kOk + chunked, false, false, 1024, true},
      {"no body (204)", "HTTP/1.1 204 No Content\r\n\r\n", false, false, 1024, true},
      {"answer to HEAD", kOk + "Content-Length: 99\r\n\r\n", false, true, 1024, true},
      {"connection: close", kOk + "Connection: close\r\nContent-Length: 2\r\n\r\nok", false, false,
       1024, false},
      {"close among options", kOk + "Connection: Upgrade, CLOSE\r\nContent-Length: 0\r\n\r\n",
       false, false, 1024, false},
      {"ended by the close", kOk + "\r\nuntil eof", true, false, 1024, false},
      {"incomplete", kOk + "Content-Length: 5\r\n\r\nok", false, false, 1024, false},
      {"bytes after the response", kOk + "Content-Length: 2\r\n\r\nokHTTP/1.1", false, false, 1024,
       false},
      {"cut at the body cap", kOk + "Content-Length: 10\r\n\r\n0123456789", false, false, 4, false},
      {"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false, false, 1024, false},
      {"HTTP/1.0 keep-alive",
       "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", false, false,
       1024, true},
      {"switching protocols", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", false,
       false, 1024, false},
      {"malformed", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", false, false, 1024, false},
  };
  for (const ReuseCase& c : cases) {
    SCOPED_TRACE(c.name);
    // Whole, and a byte at a time: the answer must not depend on how the bytes came.
    for (bool bytewise : {false, true}) {
      HttpLimits limits;
      limits.body_cap = c.body_cap;
      HttpResponseParser parser(limits, c.head);
      if (bytewise) {
        for (char ch : c.wire) parser.Feed(std::string_view(&ch, 1));
      } else {
        parser.Feed(c.wire);
      }
      if (c.eof) parser.FeedEof();
      EXPECT_EQ(parser.ConnectionReusable(), c.reusable) << (bytewise ? "byte a time" : "whole");
    }
  }
}

TEST(HttpResponseParserTest, NonHttpPeerFailsOnItsFirstBytes) {
  HttpResponseParser parser;
  EXPECT_EQ(parser.Feed("HT"), State::kNeedMore);
  EXPECT_EQ(parser.Feed("X"), State::kError);
}

std::string Header(std::string_view name, size_t value_size) {
  return std::string(name) + ": " + std::string(value_size, 'v') + "\r\n";
}

TEST(HttpResponseParserLimitsTest, LineLength) {
  // "X: " + value is exactly max_line bytes: accepted, with either line ending.
  const size_t fits = 8192 - 3;
  for (const char* ending : {"\r\n", "\n"}) {
    std::string line = "X: " + std::string(fits, 'v') + ending;
    Outcome o = RunAllSplits(kOk + line + "Content-Length: 0\r\n\r\n");
    EXPECT_EQ(o.state, State::kDone) << o.error;
    o = RunAllSplits(kOk + "X: v" + line + "\r\n");
    EXPECT_EQ(o.error, "header line exceeds 8192 bytes");
  }
  EXPECT_EQ(RunAllSplits("HTTP/1.1 200 " + std::string(8200, 'r') + "\r\n\r\n").error,
            "status line exceeds 8192 bytes");
  const std::string chunked = kOk + "Transfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(RunAllSplits(chunked + "1;" + std::string(8190, 'e') + "\r\nx\r\n0\r\n\r\n").state,
            State::kDone);
  EXPECT_EQ(RunAllSplits(chunked + "1;" + std::string(8191, 'e') + "\r\nx\r\n0\r\n\r\n").error,
            "chunk size line exceeds 8192 bytes");
  EXPECT_EQ(RunAllSplits(chunked + "0\r\n" + Header("T", 8190) + "\r\n").error,
            "trailer line exceeds 8192 bytes");
  EXPECT_EQ(RunAllSplits(chunked + "1\r\nx" + std::string(9000, 'y')).error,
            "missing CRLF after chunk data");

  HttpLimits small;
  small.max_line = 16;
  EXPECT_EQ(RunAllSplits("HTTP/1.1 200 Okay!!\r\n\r\n", small).error,
            "status line exceeds 16 bytes");
  EXPECT_EQ(RunAllSplits("HTTP/1.1 200 OKK\r\nA: 123456789abcd\r\n\r\n", small).state,
            State::kDone);
  EXPECT_EQ(RunAllSplits("HTTP/1.1 200 OKK\r\nA: 123456789abcde\r\n\r\n", small).error,
            "header line exceeds 16 bytes");
}

TEST(HttpResponseParserLimitsTest, EndlessLineFailsWithoutWaitingForItsEnd) {
  // Ten megabytes without a newline, in one call: rejected once max_line is passed.
  HttpResponseParser parser;
  EXPECT_EQ(parser.Feed(kOk + "X: " + std::string(10 << 20, 'a')), State::kError);
  EXPECT_EQ(parser.error(), "header line exceeds 8192 bytes");

  HttpResponseParser drip;
  const std::string piece(1000, 'a');
  ASSERT_EQ(drip.Feed(kOk + "X: "), State::kNeedMore);
  int fed = 0;
  while (drip.Feed(piece) == State::kNeedMore) ++fed;
  EXPECT_EQ(fed, 8);
  EXPECT_EQ(drip.error(), "header line exceeds 8192 bytes");
}

TEST(HttpResponseParserLimitsTest, HeaderSectionSize) {
  HttpLimits limits;
  limits.max_header_bytes = 100;
  // Status line (17) + header + blank line (2) totalling exactly 100 bytes.
  const std::string exact = kOk + Header("X", 100 - 17 - 2 - 5) + "\r\n";
  ASSERT_EQ(exact.size(), 100u);
  EXPECT_EQ(RunAllSplits(exact, limits).state, State::kDone);
  EXPECT_EQ(RunAllSplits(kOk + Header("X", 100 - 17 - 2 - 4) + "\r\n", limits).error,
            "header section exceeds 100 bytes");

  // Default limit: 70 headers of about 1000 bytes stay under the count limit.
  std::string bomb = kOk;
  for (int i = 0; i < 70; ++i) bomb += Header("X-Bomb", 1000);
  EXPECT_EQ(RunAllSplits(bomb + "\r\n").error, "header section exceeds 65536 bytes");

  // Interim responses share the budget, so an endless 100-Continue stream stops.
  std::string interims;
  for (int i = 0; i < 3000; ++i) interims += "HTTP/1.1 100 Continue\r\n\r\n";
  EXPECT_EQ(RunAllSplits(interims).error, "header section exceeds 65536 bytes");

  // So do blank lines before the status line.
  EXPECT_EQ(RunAllSplits(std::string(70000, '\n')).error, "header section exceeds 65536 bytes");
}

TEST(HttpResponseParserLimitsTest, HeaderCount) {
  std::string at_limit = kOk + "Content-Length: 0\r\n";
  for (int i = 0; i < 127; ++i) at_limit += "X: 1\r\n";
  Outcome o = RunAllSplits(at_limit + "\r\n");
  EXPECT_EQ(o.state, State::kDone);
  EXPECT_EQ(o.headers.size(), 128u);
  EXPECT_EQ(RunAllSplits(at_limit + "X: 1\r\n\r\n").error, "more than 128 header fields");

  // Folded continuation lines add to a field rather than making new ones.
  EXPECT_EQ(RunAllSplits(at_limit + " more\r\n\r\n").state, State::kDone);

  HttpLimits none;
  none.max_headers = 0;
  EXPECT_EQ(RunAllSplits(kOk + "\r\n", none).state, State::kDone);
  EXPECT_EQ(RunAllSplits(kOk + "A: b\r\n\r\n", none).error, "more than 0 header fields");
}

TEST(HttpResponseParserLimitsTest, TrailerSection) {
  const std::string chunked = kOk + "Transfer-Encoding: chunked\r\n\r\n0\r\n";
  std::string trailers;
  for (int i = 0; i < 128; ++i) trailers += "T: 1\r\n";
  EXPECT_EQ(RunAllSplits(chunked + trailers + "\r\n").state, State::kDone);
  EXPECT_EQ(RunAllSplits(chunked + trailers + "T: 1\r\n\r\n").error, "more than 128 trailer lines");
  std::string big;
  for (int i = 0; i < 70; ++i) big += Header("T", 1000);
  EXPECT_EQ(RunAllSplits(chunked + big + "\r\n").error, "trailer section exceeds 65536 bytes");
}

TEST(HttpResponseParserLimitsTest, BodyCapStopsReadingAsSoonAsItIsReached) {
  HttpLimits limits;
  limits.body_cap = 10;
  const std::string ten(10, 'b');

  // Content-Length beyond the cap: done once the cap is reached, without more bytes.
  HttpResponseParser parser(limits);
  EXPECT_EQ(parser.Feed(kOk + "Content-Length: 1000000\r\n\r\n" + ten), State::kDone);
  EXPECT_TRUE(parser.body_is_truncated());
  EXPECT_EQ(parser.body(), ten);

  // Exactly the cap is not truncation.
  Outcome o = RunAllSplits(kOk + "Content-Length: 10\r\n\r\n" + ten, limits, false, false);
  EXPECT_EQ(o.state, State::kDone);
  EXPECT_FALSE(o.truncated);

  // Close-delimited: the cap itself may be the end, so one byte more decides.
  o = RunAllSplits(kOk + "\r\n" + ten, limits, false, false);
  EXPECT_EQ(o.state, State::kNeedMore);
  o = RunAllSplits(kOk + "\r\n" + ten, limits);
  EXPECT_EQ(o.state, State::kDone);
  EXPECT_FALSE(o.truncated);
  o = RunAllSplits(kOk + "\r\n" + ten + "x", limits, false, false);
  EXPECT_EQ(o.state, State::kDone);
  EXPECT_TRUE(o.truncated);
  EXPECT_EQ(o.body, ten);

  // Chunked: truncated as soon as a chunk announces bytes past the cap.
  const std::string chunked = kOk + "Transfer-Encoding: chunked\r\n\r\n";
  o = RunAllSplits(chunked + "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", limits);
  EXPECT_EQ(o.state, State::kDone);
  EXPECT_FALSE(o.truncated);
  EXPECT_EQ(o.body, "helloworld");
  o = RunAllSplits(chunked + "5\r\nhello\r\n5\r\nworld\r\n1\r\n", limits, false, false);
  EXPECT_EQ(o.state, State::kDone);
  EXPECT_TRUE(o.truncated);
  EXPECT_EQ(o.body, "helloworld");
  o = RunAllSplits(chunked + "ffffffffffffffff\r\n" + ten, limits, false, false);
  EXPECT_EQ(o.state, State::kDone);
  EXPECT_TRUE(o.truncated);

  // A zero cap keeps nothing but still reports the truncation.
  limits.body_cap = 0;
  o = RunAllSplits(kOk + "Content-Length: 5\r\n\r\n", limits, false, false);
  EXPECT_EQ(o.state, State::kDone);
  EXPECT_TRUE(o.truncated);
  EXPECT_EQ(o.body, "");
}

TEST(HttpResponseParserLimitsTest, DefaultBodyCapIsOneMebibyte) {
  Outcome o = RunAllSplits(kOk + "\r\n" + std::string((1 << 20) + 1, 'x'));
  EXPECT_EQ(o.state, State::kDone);
  EXPECT_TRUE(o.truncated);
  EXPECT_EQ(o.body.size(), size_t{1} << 20);
}

// Valid responses of every framing, for the mutation loop below.
const std::vector<std::string>& Seeds() {
  static const std::vector<std::string> seeds = {
      kOk + "Content-Type: text/html\r\nContent-Length: 24\r\n\r\n<title>Blocked</title>\n\n",
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 302 Found\r\nLocation: http://x/\r\n"
      "Content-Length: 0\r\n\r\n",
      kOk + "Transfer-Encoding: chunked\r\n\r\n4;a=b\r\nwiki\r\n5\r\npedia\r\n0\r\nT: x\r\n\r\n",
      "HTTP/1.0 403 Forbidden\r\nServer: censor\r\n X-Fold: y\r\n\r\nAccess denied",
      "HTTP/1.1 204\nA: b\n\n",
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
      kOk + "Content-Length: 3, 3\r\nTransfer-Encoding: gzip\r\n\r\nabcdef",
  };
  return seeds;
}

// Applies 1-4 random edits: byte flips, inserts, deletions, duplications, cuts and
// splices of tokens that matter to the grammar.
std::string Mutate(std::string wire, std::mt19937_64& rng) {
  static const std::vector<std::string> tokens = {
      "\r\n",
      "\n",
      "\r",
      ":",
      " ",
      "\t",
      std::string(1, '\0'),
      "0\r\n\r\n",
      "chunked",
      "Transfer-Encoding: chunked\r\n",
      "Content-Length: ",
      "-1",
      "18446744073709551616",
      "ffffffffffffffffff",
      ";ext=\"v\"",
      "HTTP/1.1 100 Continue\r\n\r\n",
      "\xff\xfe",
      std::string(300, 'A'),
  };
  auto pick = [&rng](size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  size_t edits = 1 + pick(4);
  for (size_t e = 0; e < edits; ++e) {
    size_t pos = pick(wire.size() + 1);
    switch (pick(6)) {
      case 0:
        if (pos < wire.size()) wire[pos] = static_cast<char>(rng());
        break;
      case 1:
        wire.insert(pos, 1, static_cast<char>(rng()));
        break;
      case 2:
        wire.erase(pos, 1 + pick(8));
        break;
      case 3:
        wire.insert(pos, tokens[pick(tokens.size())]);
        break;
      case 4: {
        std::string copy = wire.substr(pick(wire.size() + 1), 1 + pick(40));
        wire.insert(pos, copy);
        break;
      }
      case 5:
        wire.resize(pos);
        break;
    }
  }
  return wire;
}

// Feeds `wire` in random-sized pieces drawn from `rng`, then EOF.
Outcome RunRandomSplits(std::string_view wire, const HttpLimits& limits, bool head,
                        std::mt19937_64& rng) {
  HttpResponseParser parser(limits, head);
  while (!wire.empty()) {
    size_t n = 1 + static_cast<size_t>(rng() % 64);
    n = std::min(n, wire.size());
    parser.Feed(wire.substr(0, n));
    wire.remove_prefix(n);
  }
  parser.FeedEof();
  return Snapshot(parser);
}

TEST(HttpResponseParserFuzzTest, MutatedResponsesAlwaysEndTheSameWayForAnySplit) {
  std::mt19937_64 rng(0x76696769);  // fixed: failures must reproduce
  int done = 0;
  int errors = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string wire = Mutate(Seeds()[rng() % Seeds().size()], rng);
    HttpLimits limits;
    if (rng() % 3 == 0) {
      limits.max_line = 1 + rng() % 64;
      limits.max_header_bytes = rng() % 256;
      limits.max_headers = rng() % 6;
      limits.body_cap = rng() % 32;
    }
    const bool head = rng() % 8 == 0;
    Outcome whole = Parse(wire, 0, limits, head);
    Outcome bytewise = Parse(wire, 1, limits, head);
    Outcome random = RunRandomSplits(wire, limits, head, rng);
    ASSERT_NE(whole.state, State::kNeedMore) << "variant " << i;
    ASSERT_EQ(bytewise, whole) << "variant " << i;
    ASSERT_EQ(random, whole) << "variant " << i;
    ASSERT_LE(whole.body.size(), limits.body_cap);
    ASSERT_LE(whole.headers.size(), limits.max_headers);
    if (whole.state == State::kError) {
      ++errors;
      ASSERT_FALSE(whole.error.empty());
      ASSERT_EQ(whole.error.find('\n'), std::string::npos);
    } else {
      ++done;
      ASSERT_TRUE(whole.headers_complete);
      ASSERT_TRUE(whole.error.empty());
    }
  }
  // Both outcomes must be common, or the mutations are not exercising the parser.
  EXPECT_GT(done, 2000);
  EXPECT_GT(errors, 2000);
}

TEST(SerializeRequestTest, WritesRequestLineHeadersAndBody) {
  EXPECT_EQ(
      SerializeRequest("GET", "/index.html?q=1", {{"Host", "example.com"}, {"Accept", "*/*"}}, ""),
      "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n");
  EXPECT_EQ(SerializeRequest("POST", "/submit", {{"Host", "h"}}, "a=1"),
            "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\na=1");
  EXPECT_EQ(SerializeRequest("POST", "/", {{"content-length", "3"}}, "a=1"),
            "POST / HTTP/1.1\r\ncontent-length: 3\r\n\r\na=1");
  EXPECT_EQ(SerializeRequest("GET", "", {}, ""), "GET / HTTP/1.1\r\n\r\n");
}

TEST(SerializeRequestTest, HostileValuesCannotInjectHeadersOrRequests) {
  const std::string request = SerializeRequest("GET\r\n", "/a b\r\nX-Target: 1",
                                               {{"Host", "example.com\r\nX-Injected: 1"},
                                                {"Host: evil.example\r\nX", "v"},
                                                {"Cookie", std::string("a\0b\nc\rd", 7)},
                                                {"\r\n", "dropped"},
                                                {"User-Agent", "vigil/0.1 (tab\tkept)"}},
                                               "");
  EXPECT_EQ(request,
            "GET /abX-Target:1 HTTP/1.1\r\n"
            "Host: example.comX-Injected: 1\r\n"
            "Hostevil.exampleX: v\r\n"
            "Cookie: abcd\r\n"
            "User-Agent: vigil/0.1 (tab\tkept)\r\n"
            "\r\n");
}

}  // namespace
}  // namespace vigil
