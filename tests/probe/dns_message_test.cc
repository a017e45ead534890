// DNS response parsing on well-formed and hostile messages.
#include "probe/dns/dns_message.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace vigil {
namespace {

// Builds a response for www.example.test with the given answers (already encoded).
std::string Response(uint16_t flags, const std::string& answers, int ancount) {
  std::string m;
  auto put16 = [&](unsigned v) {
    m += static_cast<char>(v >> 8);
    m += static_cast<char>(v & 0xff);
  };
  put16(0x1234);
  put16(flags);
  put16(1);
  put16(static_cast<unsigned>(ancount));
  put16(0);
  put16(0);
  m += std::string(
      "\x03www\x07"
      "example\x04test\x00",
      18);
  put16(1);
  put16(1);
  return m + answers;
}

std::string ARecord(uint32_t ttl, std::string ip4bytes) {
  std::string r("\xc0\x0c\x00\x01\x00\x01", 6);
  r += static_cast<char>(ttl >> 24);
  r += static_cast<char>(ttl >> 16);
  r += static_cast<char>(ttl >> 8);
  r += static_cast<char>(ttl);
  r += std::string("\x00\x04", 2) + ip4bytes;
  return r;
}

TEST(DnsMessageTest, ParsesHeaderQuestionAndAnswers) {
  const std::string cname =
      std::string("\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x02\xc0\x10", 14);
  auto r = ParseDnsResponse(
      Response(0x8180, cname + ARecord(300, std::string("\x7f\x00\x00\x01", 4)), 2));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->id, 0x1234);
  EXPECT_EQ(r->rcode, 0);
  EXPECT_EQ(r->question_name, "www.example.test");
  EXPECT_EQ(r->question_type, 1);
  ASSERT_EQ(r->answers.size(), 2u);
  EXPECT_EQ(r->answers[0].answer_type, "CNAME");
  EXPECT_EQ(r->answers[0].hostname, "example.test");
  EXPECT_EQ(r->answers[0].ttl, 60);
  EXPECT_EQ(r->answers[1].answer_type, "A");
  EXPECT_EQ(r->answers[1].ipv4, "127.0.0.1");
  EXPECT_EQ(r->answers[1].ttl, 300);
}

TEST(DnsMessageTest, RcodeComesFromTheHeader) {
  auto r = ParseDnsResponse(Response(0x8183, "", 0));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rcode, 3);
  EXPECT_TRUE(r->answers.empty());
}

TEST(DnsMessageTest, RejectsQueriesAndTruncation) {
  EXPECT_FALSE(ParseDnsResponse("").ok());
  EXPECT_FALSE(ParseDnsResponse(std::string(11, '\0')).ok());
  EXPECT_FALSE(ParseDnsResponse(Response(0x0100, "", 0)).ok());  // QR clear: a query
  const std::string full = Response(0x8180, ARecord(1, std::string("\x01\x02\x03\x04", 4)), 1);
  for (size_t cut = 12; cut < full.size(); ++cut) {
    EXPECT_FALSE(ParseDnsResponse(full.substr(0, cut)).ok()) << cut;
  }
  // An A record whose rdata is not four bytes is malformed, not silently skipped.
  std::string bad = ARecord(1, std::string("\x01\x02\x03\x04", 4));
  bad[11] = 5;
  bad += 'x';
  auto r = ParseDnsResponse(Response(0x8180, bad, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("answer 0"), std::string::npos) << r.error();
}

TEST(DnsMessageTest, CompressionLoopIsAnErrorNotAHang) {
  // The answer's owner name points at itself.
  std::string answer("\xc0\x22\x00\x01\x00\x01\x00\x00\x00\x01\x00\x04\x01\x02\x03\x04", 16);
  auto r = ParseDnsResponse(Response(0x8180, answer, 1));
  EXPECT_FALSE(r.ok());
}

TEST(DnsMessageTest, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  const std::string seed = Response(0x8180, ARecord(300, std::string("\x7f\x00\x00\x01", 4)), 1);
  for (int i = 0; i < 20000; ++i) {
    std::string m = seed;
    const int flips = 1 + static_cast<int>(rng() % 6);
    for (int f = 0; f < flips; ++f) m[rng() % m.size()] = static_cast<char>(rng());
    if (rng() % 4 == 0) m.resize(rng() % (m.size() + 1));
    auto r = ParseDnsResponse(m);
    if (r.ok()) {
      EXPECT_LE(r->answers.size(), 65535u);
    }
  }
}

TEST(DnsMessageTest, TypeNames) {
  EXPECT_EQ(DnsTypeName(1), "A");
  EXPECT_EQ(DnsTypeName(28), "AAAA");
  EXPECT_EQ(DnsTypeName(99), "TYPE99");
  EXPECT_EQ(DnsTypeFromName("aaaa"), 28);
  EXPECT_EQ(DnsTypeFromName("bogus"), 0);
}

}  // namespace
}  // namespace vigil
