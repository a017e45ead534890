// censor_hop's pure parts: the ICMP errors it reads (which router, which of our flows),
// the ClientHello it writes, when the sweep stops, and where it places the censor.
#include "probe/experiments/censor_hop/censor_hop.h"

#include <gtest/gtest.h>

#include <vector>

#include "probe/experiments/censor_hop/icmp_error.h"

namespace vigil {
namespace {

// An IPv4 ICMP error from 198.18.1.1 quoting a TCP segment 198.18.1.10:40000 ->
// 198.18.71.3:443.
std::vector<uint8_t> IcmpFrom(uint8_t type, uint8_t quoted_proto = 6) {
  std::vector<uint8_t> p = {0x45, 0, 0, 56, 0, 0, 0, 0, 64, 1, 0, 0, 198, 18, 1, 1, 198, 18, 1, 10,
                            type, 0, 0, 0, 0, 0, 0, 0,
                            // the quoted header
                            0x45, 0, 0, 60, 0, 0, 0x40, 0, 1, quoted_proto, 0, 0, 198, 18, 1, 10,
                            198, 18, 71, 3,
                            // the quoted TCP ports and sequence number
                            0x9c, 0x40, 0x01, 0xbb, 0, 0, 0, 1};
  return p;
}

TEST(ParseIcmpError, NamesTheRouterAndTheQuotedFlow) {
  auto p = IcmpFrom(11);
  auto e = ParseIcmpError(p.data(), p.size());
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->time_exceeded());
  EXPECT_EQ(e->router, "198.18.1.1");
  EXPECT_EQ(e->quoted_dst, "198.18.71.3");
  EXPECT_EQ(e->quoted_src_port, 40000);
  EXPECT_EQ(e->quoted_dst_port, 443);
  p = IcmpFrom(3);
  ASSERT_TRUE(ParseIcmpError(p.data(), p.size()));
  EXPECT_TRUE(ParseIcmpError(p.data(), p.size())->unreachable());
}

TEST(ParseIcmpError, RefusesEchoRepliesUdpQuotesAndRunts) {
  auto echo = IcmpFrom(0);
  EXPECT_FALSE(ParseIcmpError(echo.data(), echo.size()));
  auto udp = IcmpFrom(11, 17);
  EXPECT_FALSE(ParseIcmpError(udp.data(), udp.size()));
  auto p = IcmpFrom(11);
  for (size_t n : {size_t{0}, size_t{19}, size_t{27}, size_t{50}}) {
    EXPECT_FALSE(ParseIcmpError(p.data(), n)) << n;
  }
}

TEST(HttpRequestBytes, IsAGetNamingTheHostAndRefusesLineBreaks) {
  EXPECT_EQ(
      HttpRequestBytes("web.whatsapp.com").rfind("GET / HTTP/1.1\r\nHost: web.whatsapp.com\r\n", 0),
      0u);
  EXPECT_EQ(HttpRequestBytes("a.example\r\nX-Injected: 1"), "");
}

TEST(ClientHelloBytes, IsATlsHandshakeRecordCarryingTheSni) {
  const std::string hello = ClientHelloBytes("web.whatsapp.com");
  ASSERT_GT(hello.size(), 5u);
  EXPECT_EQ(static_cast<uint8_t>(hello[0]), 0x16);  // handshake
  EXPECT_EQ(static_cast<uint8_t>(hello[5]), 0x01);  // ClientHello
  EXPECT_NE(hello.find("web.whatsapp.com"), std::string::npos);
}

Hop H(int ttl, std::string control, std::string target, std::string control_router = "",
      std::string target_router = "") {
  Hop h;
  h.ttl = ttl;
  h.control = {std::move(control), std::move(control_router), std::nullopt};
  h.target = {std::move(target), std::move(target_router), std::nullopt};
  return h;
}

TEST(LocateCensor, TheFirstTtlWhereOnlyTheTargetIsResetIsTheCensors) {
  std::vector<Hop> hops = {
      H(1, "time_exceeded", "time_exceeded", "198.18.1.1", "198.18.1.1"),
      H(2, "time_exceeded", "rst", "198.18.11.2"),
  };
  EXPECT_TRUE(SweepContinues(hops[0]));
  EXPECT_FALSE(SweepContinues(hops[1]));
  auto j = LocateCensor(hops);
  EXPECT_EQ(j.verdict, "located");
  EXPECT_EQ(j.censor_ttl, 2);
  EXPECT_EQ(j.last_router_before, "198.18.1.1");
  EXPECT_EQ(j.router_at, "198.18.11.2");
}

TEST(LocateCensor, ACensorAtTheFirstHopHasNoRouterBefore) {
  auto j = LocateCensor({H(1, "time_exceeded", "rst", "198.18.1.1")});
  EXPECT_EQ(j.censor_ttl, 1);
  EXPECT_FALSE(j.last_router_before);
  EXPECT_EQ(j.router_at, "198.18.1.1");
}

TEST(LocateCensor, TheServerAnsweringTheTargetIsNotTriggered) {
  std::vector<Hop> hops = {H(1, "time_exceeded", "time_exceeded", "198.18.1.1"),
                           H(2, "time_exceeded", "time_exceeded", "198.18.11.2"),
                           H(3, "answered", "answered")};
  EXPECT_FALSE(SweepContinues(hops[2]));
  auto j = LocateCensor(hops);
  EXPECT_EQ(j.verdict, "not_triggered");
  EXPECT_FALSE(j.censor_ttl);
}

TEST(LocateCensor, AResetControlOrAnUnreachableAddressIsInconclusive) {
  // The 3-tuple already blocked (a residual block): both reset, nothing diverges.
  auto both = H(1, "rst", "rst");
  EXPECT_FALSE(SweepContinues(both));
  EXPECT_EQ(LocateCensor({both}).verdict, "inconclusive");
  auto down = H(1, "error: connection_refused", "error: not sent");
  EXPECT_FALSE(SweepContinues(down));
  auto j = LocateCensor({down});
  EXPECT_EQ(j.verdict, "inconclusive");
  EXPECT_NE(j.reason.find("not reachable"), std::string::npos) << j.reason;
  // Silence all the way: no hop answered, no RST.
  EXPECT_EQ(LocateCensor({H(1, "timeout", "timeout"), H(2, "timeout", "timeout")}).verdict,
            "inconclusive");
  // A silent drop: the control reached the server, the target did not.
  auto drop = H(3, "answered", "timeout");
  EXPECT_FALSE(SweepContinues(drop));
  EXPECT_EQ(LocateCensor({drop}).verdict, "inconclusive");
}

}  // namespace
}  // namespace vigil
