// Hand-made DNS exchanges (for DoT and DoH): the query's exact bytes, and responses
// turned into queries[] fields — answers, rcode failures, and replies that answer
// another id or question, or do not parse at all.
#include "probe/dns/dns_exchange.h"

#include <gtest/gtest.h>

#include "base/base64.h"

namespace vigil {
namespace {

std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

const std::string kQuestion = Bytes(
    {3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1});

// A response to "www.example.test A" with `id`, `rcode` and one A answer when asked.
std::string Response(uint16_t id, int rcode, bool with_answer) {
  std::string r =
      Bytes({id >> 8, id & 0xff, 0x81, 0x80 | rcode, 0, 1, 0, with_answer ? 1 : 0, 0, 0, 0, 0});
  r += kQuestion;
  if (with_answer) r += Bytes({0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 127, 0, 0, 1});
  return r;
}

DnsQuery Asked() {
  DnsQuery q;
  q.hostname = "www.example.test";
  q.query_type = "A";
  return q;
}

TEST(DnsExchange, EncodesAStandardQuery) {
  auto q = EncodeDnsQuery("www.example.test.", 1, 0xabcd);
  ASSERT_TRUE(q.ok()) << q.error();
  EXPECT_EQ(*q, Bytes({0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}) + kQuestion);
  EXPECT_FALSE(EncodeDnsQuery("", 1, 0).ok());
  EXPECT_FALSE(EncodeDnsQuery("a..b", 1, 0).ok());
  EXPECT_FALSE(EncodeDnsQuery(std::string(64, 'a') + ".test", 1, 0).ok());
  EXPECT_FALSE(EncodeDnsQuery(std::string(300, 'a'), 1, 0).ok());
}

TEST(DnsExchange, RecordsAnswersAndRawResponse) {
  DnsQuery q = Asked();
  const std::string r = Response(7, 0, true);
  RecordDnsResponse(q, r, 7);
  EXPECT_FALSE(q.failure) << *q.failure;
  EXPECT_EQ(q.rcode, 0);
  ASSERT_EQ(q.answers.size(), 1u);
  EXPECT_EQ(q.answers[0].ipv4, "127.0.0.1");
  EXPECT_EQ(q.answers[0].ttl, 300);
  EXPECT_EQ(q.raw_response, Base64Encode(r));
}

TEST(DnsExchange, RcodesAndBadRepliesBecomeFailures) {
  DnsQuery q = Asked();
  RecordDnsResponse(q, Response(7, 3, false), 7);
  EXPECT_EQ(q.failure, "dns_nxdomain_error");
  q = Asked();
  RecordDnsResponse(q, Response(7, 0, false), 7);
  EXPECT_EQ(q.failure, "dns_no_answer");
  q = Asked();
  RecordDnsResponse(q, Response(8, 0, true), 7);
  EXPECT_EQ(q.failure, "dns_reply_with_wrong_query_id");
  q = Asked();
  q.hostname = "other.example.test";
  RecordDnsResponse(q, Response(7, 0, true), 7);
  EXPECT_EQ(q.failure, "dns_server_misbehaving");
  q = Asked();
  RecordDnsResponse(q, "<html>blocked</html>", 7);
  EXPECT_EQ(q.failure, "dns_server_misbehaving");
  EXPECT_TRUE(q.extra.contains("x_parse_error"));
  EXPECT_TRUE(q.answers.empty());
}

}  // namespace
}  // namespace vigil
