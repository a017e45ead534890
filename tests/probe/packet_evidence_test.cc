// A measurement's packet evidence from the packets its flows and queries drew: the
// server's SYN-ACK and resets per flow with who sent them, every reply to a DNS query
// with the flags that prove forgery, x_injection only for what is proven, and never the
// probe's own address.
#include "probe/capture/packet_evidence.h"

#include <gtest/gtest.h>

#include <string>

namespace vigil {
namespace {

constexpr int64_t kZero = 1'700'000'000'000'000'000;
constexpr const char* kProbe = "198.18.1.10";
constexpr const char* kServer = "198.18.70.1";

int64_t At(double seconds) { return kZero + static_cast<int64_t>(seconds * 1e9); }

CapturedPacket Tcp(double t, uint8_t flags, uint8_t ttl, uint16_t ip_id, bool df,
                   uint16_t local_port = 40000) {
  CapturedPacket p;
  p.time_ns = At(t);
  p.src_ip = kServer;
  p.dst_ip = kProbe;
  p.proto = PacketProto::kTcp;
  p.src_port = 443;
  p.dst_port = local_port;
  p.tcp_flags = flags;
  p.ip_ttl = ttl;
  p.ip_id = ip_id;
  p.df = df;
  return p;
}

// A measurement that connected to kServer:443 from port 40000 and whose TLS handshake
// (transaction 1) failed as `failure` says.
Measurement TlsMeasurement(const char* failure) {
  Measurement m;
  m.test_keys.flows.push_back({1, kServer, 443, 40000, 0.0});
  TcpConnect c;
  c.ip = kServer;
  c.port = 443;
  c.status.success = true;
  c.timing.transaction_id = 1;
  m.test_keys.tcp_connect.push_back(c);
  TlsHandshake h;
  h.address = std::string(kServer) + ":443";
  h.server_name = "web.whatsapp.com";
  if (failure) h.failure = failure;
  h.timing.transaction_id = 1;
  m.test_keys.tls_handshakes.push_back(h);
  return m;
}

PacketEvidenceOptions Options() {
  PacketEvidenceOptions o;
  o.zero_ns = kZero;
  o.dns_listen_ns = 2'000'000'000;
  o.filter = "test";
  o.is_forged = [](const std::string& ip) { return ip.rfind("198.18.240.", 0) == 0; };
  return o;
}

TEST(PacketEvidence, InjectorResetsProveInjectionAtTheStepTheyStruck) {
  Measurement m = TlsMeasurement("connection_reset");
  std::vector<CapturedPacket> packets = {
      Tcp(0.010, 0x12, 61, 0, true), Tcp(0.050, 0x14, 45, 1234, true),
      Tcp(0.050, 0x14, 45, 4321, true), Tcp(0.051, 0x14, 45, 999, true)};
  AttachPacketEvidence(m, packets, Options());
  const Json& x = m.test_keys.extra["x_packets"];
  ASSERT_TRUE(x["available"].get<bool>());
  ASSERT_EQ(x["tcp_flows"].size(), 1u);
  const Json& flow = x["tcp_flows"][0];
  EXPECT_EQ(flow["address"], "198.18.70.1:443");
  EXPECT_EQ(flow["syn_ack"]["ip_ttl"], 61);
  EXPECT_EQ(flow["resets"].size(), 3u);
  EXPECT_EQ(flow["resets"][0]["flags"], "RA");
  EXPECT_EQ(flow["reset_source"], "gfw_type2");
  const Json& inj = m.test_keys.extra["x_injection"];
  ASSERT_EQ(inj.size(), 1u);
  EXPECT_EQ(inj[0]["layer"], "tls");
  EXPECT_EQ(inj[0]["technique"], "rst_injection");
  EXPECT_EQ(inj[0]["injector"], "gfw_type2");
  EXPECT_EQ(inj[0]["hostname"], "web.whatsapp.com");
  EXPECT_EQ(InjectionLines(m).front(),
            "rst_injection gfw_type2 for web.whatsapp.com at 198.18.70.1:443");
  EXPECT_EQ(x.dump().find(kProbe), std::string::npos) << "the probe's address leaked";
}

TEST(PacketEvidence, HandshakesKeptApartInXTlsHandshakesAreTheStepStruck) {
  // facebook_messenger: OONI's connect, then our handshake on its socket, recorded in
  // x_tls_handshakes under the connect's transaction.
  Measurement m;
  m.test_keys.flows.push_back({2, kServer, 443, 40000, 0.0});
  TcpConnect c;
  c.ip = kServer;
  c.port = 443;
  c.status.success = true;
  c.timing.transaction_id = 2;
  m.test_keys.tcp_connect.push_back(c);
  m.test_keys.extra["x_tls_handshakes"] = Json::array({{{"address", "198.18.70.1:443"},
                                                        {"server_name", "b-api.facebook.com"},
                                                        {"failure", "connection_reset"},
                                                        {"transaction_id", 2}}});
  AttachPacketEvidence(m, {Tcp(0.010, 0x12, 61, 0, true), Tcp(0.050, 0x14, 250, 0x9920, false)},
                       Options());
  const Json& inj = m.test_keys.extra["x_injection"][0];
  EXPECT_EQ(inj["layer"], "tls");
  EXPECT_EQ(inj["injector"], "gfw_type3");
  EXPECT_EQ(inj["hostname"], "b-api.facebook.com");
}

TEST(PacketEvidence, AServersOwnResetIsNoInjection) {
  Measurement m = TlsMeasurement("connection_reset");
  std::vector<CapturedPacket> packets = {Tcp(0.010, 0x12, 61, 0, true),
                                         Tcp(0.050, 0x14, 61, 0, true)};
  AttachPacketEvidence(m, packets, Options());
  EXPECT_EQ(m.test_keys.extra["x_packets"]["tcp_flows"][0]["reset_source"], "server");
  EXPECT_FALSE(m.test_keys.extra.contains("x_injection"));
  EXPECT_TRUE(InjectionLines(m).empty());
}

TEST(PacketEvidence, PacketsOfOtherFlowsAreNotTheFlows) {
  Measurement m = TlsMeasurement("connection_reset");
  CapturedPacket other_port = Tcp(0.050, 0x14, 45, 0, false, 40001);
  CapturedPacket other_server = Tcp(0.050, 0x04, 60, 0, false);
  other_server.src_ip = "198.18.70.2";
  CapturedPacket before = Tcp(-1.0, 0x04, 60, 0, false);  // before the flow began
  AttachPacketEvidence(m, {other_port, other_server, before}, Options());
  const Json& flow = m.test_keys.extra["x_packets"]["tcp_flows"][0];
  EXPECT_TRUE(flow["syn_ack"].is_null());
  EXPECT_TRUE(flow["resets"].empty());
  EXPECT_EQ(flow["reset_source"], "none");
}

TEST(PacketEvidence, AResetOnTheSynStrikesTheConnect) {
  Measurement m;
  m.test_keys.flows.push_back({3, kServer, 443, 40000, 0.0});
  TcpConnect c;
  c.ip = kServer;
  c.port = 443;
  c.status.failure = "connection_refused";
  c.timing.transaction_id = 3;
  m.test_keys.tcp_connect.push_back(c);
  // GFW type I: one RST, no ACK, DF 0, IP ID 0 (a residual block's answer to the SYN).
  AttachPacketEvidence(m, {Tcp(0.01, 0x04, 99, 0, false)}, Options());
  ASSERT_TRUE(m.test_keys.extra.contains("x_injection"));
  EXPECT_EQ(m.test_keys.extra["x_injection"][0]["layer"], "tcp");
  EXPECT_EQ(m.test_keys.extra["x_injection"][0]["injector"], "gfw_type1");
}

CapturedPacket Dns(double t, bool response, uint16_t id, uint16_t our_port, const char* resolver,
                   std::vector<std::string> answers = {}, uint16_t ip_id = 0) {
  CapturedPacket p;
  p.time_ns = At(t);
  p.proto = PacketProto::kUdp;
  p.src_ip = response ? resolver : kProbe;
  p.dst_ip = response ? kProbe : resolver;
  p.src_port = response ? 53 : our_port;
  p.dst_port = response ? our_port : 53;
  p.ip_id = ip_id;
  p.ip_ttl = 60;
  DnsFacts d;
  d.id = id;
  d.flags = response ? 0x8180 : 0x0100;
  d.qname = "web.whatsapp.com";
  d.qtype = 1;
  for (const auto& a : answers) d.answers.push_back({1, 60, a});
  p.dns = d;
  p.payload_size = 40 + answers.size() * 16;
  p.payload = {static_cast<uint8_t>(ip_id), static_cast<uint8_t>(answers.size())};
  return p;
}

Measurement DnsMeasurement() {
  Measurement m;
  DnsQuery q;
  q.hostname = "web.whatsapp.com";
  q.query_type = "A";
  q.engine = "udp";
  q.resolver_address = "198.18.20.53:53";
  q.timing.t0 = 0.001;
  q.timing.t = 0.004;
  q.timing.transaction_id = 1;
  m.test_keys.queries.push_back(q);
  return m;
}

TEST(PacketEvidence, MoreRepliesThanQueriesAreInjected) {
  Measurement m = DnsMeasurement();
  const char* r = "198.18.20.53";
  AttachPacketEvidence(
      m,
      {Dns(0.002, false, 7, 5000, r), Dns(0.003, true, 7, 5000, r, {"198.18.240.3"}, 1),
       Dns(0.004, true, 7, 5000, r, {"198.18.240.5"}, 2),
       Dns(0.300, true, 7, 5000, r, {"198.18.70.1"}, 3)},
      Options());
  const Json& d = m.test_keys.extra["x_packets"]["dns_replies"][0];
  EXPECT_EQ(d["queries_sent"], 1);
  EXPECT_EQ(d["replies"].size(), 3u);
  EXPECT_TRUE(d["replies"][0]["accepted"].get<bool>());
  EXPECT_FALSE(d["replies"][2]["accepted"].get<bool>());
  const Json& inj = m.test_keys.extra["x_injection"][0];
  EXPECT_EQ(inj["layer"], "dns");
  EXPECT_EQ(inj["flags"], Json({"known_forged_ip", "multiple_answers"}));
  EXPECT_EQ(inj["forged_addresses"], Json({"198.18.240.3", "198.18.240.5"}));
}

TEST(PacketEvidence, ForgedRepliesThatLostTheRaceSaySo) {
  Measurement m = DnsMeasurement();
  const char* r = "198.18.20.53";
  AttachPacketEvidence(
      m,
      {Dns(0.002, false, 7, 5000, r), Dns(0.003, true, 7, 5000, r, {"198.18.70.1"}, 1),
       Dns(0.300, true, 7, 5000, r, {"198.18.240.2"}, 2)},
      Options());
  const Json& inj = m.test_keys.extra["x_injection"][0];
  EXPECT_EQ(inj["accepted_forged"], false);
  Measurement early = DnsMeasurement();
  AttachPacketEvidence(
      early,
      {Dns(0.002, false, 7, 5000, r), Dns(0.003, true, 7, 5000, r, {"198.18.240.2"}, 1),
       Dns(0.300, true, 7, 5000, r, {"198.18.70.1"}, 2)},
      Options());
  EXPECT_EQ(early.test_keys.extra["x_injection"][0]["accepted_forged"], true);
}

TEST(PacketEvidence, OneGenuineReplyAndRetransmissionsAreClean) {
  const char* r = "198.18.20.53";
  Measurement m = DnsMeasurement();
  // Sent twice (a retransmission), answered twice; plus a duplicated copy of a reply.
  CapturedPacket reply = Dns(0.003, true, 7, 5000, r, {"198.18.70.1"}, 1);
  AttachPacketEvidence(m,
                       {Dns(0.002, false, 7, 5000, r), Dns(0.0025, false, 7, 5000, r), reply, reply,
                        Dns(0.0035, true, 7, 5000, r, {"198.18.70.1"}, 2)},
                       Options());
  const Json& d = m.test_keys.extra["x_packets"]["dns_replies"][0];
  EXPECT_EQ(d["queries_sent"], 2);
  EXPECT_EQ(d["replies"].size(), 2u);
  EXPECT_TRUE(d["flags"].empty());
  EXPECT_FALSE(m.test_keys.extra.contains("x_injection"));
}

TEST(PacketEvidence, RepliesAfterTheListeningWindowAreNotCounted) {
  const char* r = "198.18.20.53";
  Measurement m = DnsMeasurement();
  AttachPacketEvidence(
      m,
      {Dns(0.002, false, 7, 5000, r), Dns(0.003, true, 7, 5000, r, {"198.18.70.1"}, 1),
       Dns(2.5, true, 7, 5000, r, {"198.18.70.9"}, 2)},
      Options());
  EXPECT_EQ(m.test_keys.extra["x_packets"]["dns_replies"][0]["replies"].size(), 1u);
  EXPECT_FALSE(m.test_keys.extra.contains("x_injection"));
}

TEST(PacketEvidence, UnavailableCaptureSaysWhy) {
  Measurement m;
  AttachCaptureUnavailable(m, "capture needs CAP_NET_RAW");
  EXPECT_EQ(m.test_keys.extra["x_packets"],
            Json({{"available", false}, {"reason", "capture needs CAP_NET_RAW"}}));
}

TEST(PacketEvidence, FlagLetters) {
  EXPECT_EQ(TcpFlagLetters(0x14), "RA");
  EXPECT_EQ(TcpFlagLetters(0x04), "R");
  EXPECT_EQ(TcpFlagLetters(0x12), "SA");
  EXPECT_EQ(TcpFlagLetters(0x11), "FA");
}

}  // namespace
}  // namespace vigil
