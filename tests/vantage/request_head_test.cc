// The HTTP request-head parser the control helper serves with: well-formed heads in
// their variants, and each kind of malformed head refused with its reason.
#include "vantage/http/request_head.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(RequestHead, FindsTheEndOfAHead) {
  EXPECT_FALSE(FindHeadEnd("POST / HTTP/1.1\r\nHost: x\r\n"));
  EXPECT_EQ(FindHeadEnd("POST / HTTP/1.1\r\nHost: x\r\n\r\nbody"), 28u);
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.0\n\nrest"), 16u);
  EXPECT_FALSE(FindHeadEnd(""));
}

TEST(RequestHead, ParsesRequestLineAndFields) {
  const std::string text =
      "\r\nPOST /?x=1 HTTP/1.1\r\nHost: helper\r\nContent-Type:  application/json \r\n"
      "content-length: 12\r\nX-Twice: a\r\nX-Twice: b\r\n\r\n";
  auto head = ParseRequestHead(text);
  ASSERT_TRUE(head.ok()) << head.error();
  EXPECT_EQ(head->method, "POST");
  EXPECT_EQ(head->target, "/?x=1");
  EXPECT_EQ(head->version_minor, 1);
  EXPECT_EQ(head->Field("content-type"), "application/json");
  EXPECT_EQ(head->Field("X-TWICE"), "a");
  EXPECT_FALSE(head->Field("Expect"));
  EXPECT_TRUE(head->KeepAlive());
  auto length = RequestBodyLength(*head);
  ASSERT_TRUE(length.ok()) << length.error();
  EXPECT_EQ(*length, 12u);
}

TEST(RequestHead, KeepAliveFollowsVersionAndConnection) {
  auto parse = [](const std::string& text) { return *ParseRequestHead(text); };
  EXPECT_FALSE(parse("GET / HTTP/1.1\r\nConnection: Keep-Alive, close\r\n\r\n").KeepAlive());
  EXPECT_FALSE(parse("GET / HTTP/1.0\r\n\r\n").KeepAlive());
  EXPECT_TRUE(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").KeepAlive());
  EXPECT_EQ(RequestBodyLength(parse("GET / HTTP/1.1\r\n\r\n")).value(), 0u);
}

TEST(RequestHead, MalformedHeadsAreRefusedWithAReason) {
  const std::pair<const char*, const char*> cases[] = {
      {"THIS IS NOT HTTP\r\n\r\n", "METHOD TARGET HTTP/1.x"},
      {"POST /\r\n\r\n", "METHOD TARGET HTTP/1.x"},
      {"POST  HTTP/1.1\r\n\r\n", "request target is empty"},
      {"PO(ST / HTTP/1.1\r\n\r\n", "method is not a token"},
      {"POST /\x01 HTTP/1.1\r\n\r\n", "control or non-ASCII"},
      {"POST / HTTP/2.0\r\n\r\n", "HTTP/1.0 or HTTP/1.1"},
      {"POST / HTTP/1.1\r\nHost x\r\n\r\n", "without a colon"},
      {"POST / HTTP/1.1\r\nHost : x\r\n\r\n", "not a token"},
      {"POST / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", "folded"},
      {"POST / HTTP/1.1\r\nA: b\rc\r\n\r\n", "stray CR"},
      {"POST / HTTP/1.1\r\nA: b\r\n", "blank line"},
      {"", "empty request"},
  };
  for (const auto& [text, reason] : cases) {
    auto head = ParseRequestHead(text);
    ASSERT_FALSE(head.ok()) << text;
    EXPECT_NE(head.error().find(reason), std::string::npos) << text << " -> " << head.error();
  }
}

TEST(RequestHead, BodyLengthProblemsAreErrors) {
  auto length = [](const std::string& fields) {
    return RequestBodyLength(*ParseRequestHead("POST / HTTP/1.1\r\n" + fields + "\r\n"));
  };
  EXPECT_FALSE(length("Content-Length: ten\r\n").ok());
  EXPECT_FALSE(length("Content-Length: -1\r\n").ok());
  EXPECT_FALSE(length("Content-Length: 99999999999999999999999\r\n").ok());
  EXPECT_FALSE(length("Content-Length: 3\r\nContent-Length: 4\r\n").ok());
  EXPECT_TRUE(length("Content-Length: 3\r\nContent-Length: 3\r\n").ok());
  auto chunked = length("Transfer-Encoding: chunked\r\n");
  ASSERT_FALSE(chunked.ok());
  EXPECT_NE(chunked.error().find("Content-Length"), std::string::npos);
}

}  // namespace
}  // namespace vigil
