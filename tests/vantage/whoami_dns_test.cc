// The helper's whoami name server on loopback: a name in its zone is answered with the
// asker's address (so behind a recursive resolver, with the resolver's), other names
// are REFUSED, and malformed or hostile bytes get no answer while it keeps serving.
#include "vantage/helper/whoami_dns.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "probe/dns/dns_message.h"

namespace vigil {
namespace {

class RunningWhoami {
 public:
  RunningWhoami() : server_("whoami.vigil.test", "127.0.0.1", 0) {
    auto port = server_.Bind();
    EXPECT_TRUE(port.ok()) << port.error();
    port_ = port.ok() ? *port : 0;
    thread_ = std::thread([this] { server_.Serve(); });
  }
  ~RunningWhoami() {
    server_.Stop();
    thread_.join();
  }
  uint16_t port() const { return port_; }

 private:
  WhoamiDnsServer server_;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST(WhoamiDns, ANameInTheZoneIsAnsweredWithTheAskersAddress) {
  RunningWhoami server;
  auto seen = LookupWhoami("127.0.0.1", server.port(), "probe-1234.whoami.vigil.test", 2000);
  ASSERT_TRUE(seen.ok()) << seen.error();
  EXPECT_EQ(*seen, "127.0.0.1");
  auto apex = LookupWhoami("127.0.0.1", server.port(), "WHOAMI.vigil.test.", 2000);
  ASSERT_TRUE(apex.ok()) << apex.error();
  EXPECT_EQ(*apex, "127.0.0.1");
}

TEST(WhoamiDns, OtherNamesAreRefused) {
  RunningWhoami server;
  auto other = LookupWhoami("127.0.0.1", server.port(), "www.example.org", 2000);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().find("rcode 5"), std::string::npos) << other.error();
  auto lookalike = LookupWhoami("127.0.0.1", server.port(), "evilwhoami.vigil.test", 2000);
  ASSERT_FALSE(lookalike.ok());
  EXPECT_NE(lookalike.error().find("rcode 5"), std::string::npos) << lookalike.error();
}

TEST(WhoamiDns, TheAnswerIsAWellFormedAuthoritativeResponse) {
  const std::string query = WhoamiQuery(0xbeef, "x.whoami.vigil.test");
  const std::string answer = WhoamiAnswer(query, "whoami.vigil.test", "198.18.11.2");
  auto parsed = ParseDnsResponse(answer);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->id, 0xbeef);
  EXPECT_TRUE(parsed->flags & 0x8000) << "QR";
  EXPECT_TRUE(parsed->flags & 0x0400) << "AA";
  EXPECT_EQ(parsed->rcode, 0);
  ASSERT_EQ(parsed->answers.size(), 1u);
  EXPECT_EQ(parsed->answers[0].ipv4.value_or(""), "198.18.11.2");
  EXPECT_EQ(parsed->answers[0].ttl.value_or(-1), 0);
  // An IPv4 asker has no AAAA: NOERROR without data.
  std::string aaaa = query;
  aaaa[aaaa.size() - 3] = 28;
  auto nodata = ParseDnsResponse(WhoamiAnswer(aaaa, "whoami.vigil.test", "198.18.11.2"));
  ASSERT_TRUE(nodata.ok());
  EXPECT_EQ(nodata->rcode, 0);
  EXPECT_TRUE(nodata->answers.empty());
  auto v6 = ParseDnsResponse(WhoamiAnswer(aaaa, "whoami.vigil.test", "fd00:11::2"));
  ASSERT_TRUE(v6.ok());
  ASSERT_EQ(v6->answers.size(), 1u);
  EXPECT_EQ(v6->answers[0].ipv6.value_or(""), "fd00:11::2");
}

TEST(WhoamiDns, AnAnyQueryFromNoReadableAddressGetsNoRecord) {
  std::string any = WhoamiQuery(7, "x.whoami.vigil.test");
  any[any.size() - 3] = static_cast<char>(255);
  auto parsed = ParseDnsResponse(WhoamiAnswer(any, "whoami.vigil.test", "not-an-address"));
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->rcode, 0);
  EXPECT_TRUE(parsed->answers.empty());
  auto v4 = ParseDnsResponse(WhoamiAnswer(any, "whoami.vigil.test", "198.18.11.2"));
  ASSERT_TRUE(v4.ok() && v4->answers.size() == 1u);
  EXPECT_EQ(v4->answers[0].ipv4.value_or(""), "198.18.11.2");
}

TEST(WhoamiDns, MalformedBytesGetNoAnswerAndTheServerGoesOn) {
  const std::string query = WhoamiQuery(7, "x.whoami.vigil.test");
  EXPECT_EQ(WhoamiAnswer("", "whoami.vigil.test", "127.0.0.1"), "");
  EXPECT_EQ(WhoamiAnswer(query.substr(0, 15), "whoami.vigil.test", "127.0.0.1"), "");
  std::string response = query;
  response[2] = static_cast<char>(response[2] | 0x80);
  EXPECT_EQ(WhoamiAnswer(response, "whoami.vigil.test", "127.0.0.1"), "")
      << "responses are not answered";
  std::string two = query;
  two[5] = 2;
  EXPECT_EQ(WhoamiAnswer(two, "whoami.vigil.test", "127.0.0.1"), "");
  std::string pointer = query;
  pointer[12] = static_cast<char>(0xc0);
  EXPECT_EQ(WhoamiAnswer(pointer, "whoami.vigil.test", "127.0.0.1"), "");

  RunningWhoami server;
  // Garbage first, then a real lookup still works.
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(server.port());
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (const std::string& junk :
       {std::string("\xff\xff\xff"), std::string(600, 'x'), query.substr(0, 13)}) {
    sendto(fd, junk.data(), junk.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  close(fd);
  auto seen = LookupWhoami("127.0.0.1", server.port(), "y.whoami.vigil.test", 2000);
  ASSERT_TRUE(seen.ok()) << seen.error();
  EXPECT_EQ(*seen, "127.0.0.1");
}

}  // namespace
}  // namespace vigil
