// The packet capture: frames recorded in the lab (tests/probe/testdata/pcap/README.md)
// read back with the facts each injector and server leaves in them, and labelled by
// ResetLabel as the lab's censor meant them; every link header the capture meets;
// truncated and garbage frames refused by name; and, as root, a live capture on the
// loopback device that sees a DNS query sent to 127.0.0.1 and writes a pcap file that
// reads back.
#include "probe/capture/packet.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "probe/capture/packet_capture.h"
#include "probe/capture/reset_label.h"
#include "probe/dns/dns_exchange.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;
constexpr char kClient[] = "198.18.1.10";

std::vector<CapturedPacket> Fixture(const std::string& name) {
  const std::string path = test_support::SourceDir() + "/tests/probe/testdata/pcap/" + name;
  auto packets = ReadPcapFile(path);
  EXPECT_TRUE(packets.ok()) << packets.error();
  return packets.ok() ? *packets : std::vector<CapturedPacket>{};
}

std::vector<CapturedPacket> ToClient(const std::vector<CapturedPacket>& packets) {
  std::vector<CapturedPacket> out;
  std::copy_if(packets.begin(), packets.end(), std::back_inserter(out),
               [](const auto& p) { return p.dst_ip == kClient; });
  return out;
}

SegmentFacts Facts(const CapturedPacket& p) {
  SegmentFacts s;
  s.ip_ttl = p.ip_ttl;
  s.ip_id = p.ip_id;
  s.df = p.df;
  s.tcp_flags = p.tcp_flags;
  s.payload = p.payload;
  return s;
}

// The flow as the evidence code builds it: the server's SYN-ACK and its resets.
ResetFlow FlowOf(const std::vector<CapturedPacket>& packets) {
  ResetFlow flow;
  for (const auto& p : ToClient(packets)) {
    if (p.proto != PacketProto::kTcp) continue;
    if ((p.tcp_flags & (kSyn | kAck)) == (kSyn | kAck)) flow.syn_ack = Facts(p);
    if (p.tcp_flags & kRst) flow.resets.push_back(Facts(p));
  }
  return flow;
}

std::vector<CapturedPacket> Resets(const std::vector<CapturedPacket>& packets) {
  std::vector<CapturedPacket> out;
  for (const auto& p : ToClient(packets)) {
    if (p.tcp_flags & kRst) out.push_back(p);
  }
  return out;
}

TEST(PacketTest, TheSynAckAndTheClientHelloAreReadWithTheirHeaderFields) {
  const auto packets = Fixture("gfw_type2_rst.pcap");
  ASSERT_EQ(packets.size(), 7u);
  const CapturedPacket& syn = packets[0];
  EXPECT_EQ(syn.ip_version, 4);
  EXPECT_EQ(syn.src_ip, kClient);
  EXPECT_EQ(syn.dst_ip, "198.18.71.3");
  EXPECT_EQ(syn.proto, PacketProto::kTcp);
  EXPECT_EQ(syn.tcp_flags, kSyn);
  EXPECT_EQ(syn.ip_ttl, 64);
  EXPECT_EQ(syn.ip_id, 36801);
  EXPECT_TRUE(syn.df);
  EXPECT_EQ(syn.dst_port, 443);
  EXPECT_EQ(syn.src_port, 34490);
  EXPECT_EQ(syn.seq, 3346548620u);
  const CapturedPacket& syn_ack = packets[1];
  EXPECT_EQ(syn_ack.tcp_flags, kSyn | kAck);
  EXPECT_EQ(syn_ack.ip_ttl, 62);
  EXPECT_EQ(syn_ack.ack, 3346548621u);
  EXPECT_EQ(syn_ack.payload_size, 0u);
  const CapturedPacket& hello = packets[3];
  EXPECT_EQ(hello.payload_size, 322u);
  ASSERT_EQ(hello.payload.size(), kPayloadKept);
  EXPECT_EQ(hello.payload[0], 0x16);  // a TLS handshake record
  // Time stamps in nanoseconds, in order.
  EXPECT_GT(syn.time_ns, int64_t{1'600'000'000} * 1'000'000'000);
  for (size_t i = 1; i < packets.size(); ++i) EXPECT_GE(packets[i].time_ns, packets[i - 1].time_ns);
  EXPECT_NEAR(static_cast<double>(syn_ack.time_ns - syn.time_ns), 146'000, 1'000);
}

TEST(PacketTest, GfwTypeOneSendsOneBareRstWithIpIdZeroAndNoDf) {
  const auto packets = Fixture("gfw_type1_rst.pcap");
  const auto resets = Resets(packets);
  ASSERT_EQ(resets.size(), 1u);
  EXPECT_EQ(resets[0].tcp_flags, kRst);
  EXPECT_EQ(resets[0].ip_ttl, 65);
  EXPECT_EQ(resets[0].ip_id, 0);
  EXPECT_FALSE(resets[0].df);
  const ResetLabel label = LabelResets(FlowOf(packets));
  EXPECT_EQ(label.source, ResetSource::kGfwType1) << label.reason;
}

TEST(PacketTest, GfwTypeTwoSendsThreeRstAcksWithDfAndVaryingIpIds) {
  const auto packets = Fixture("gfw_type2_rst.pcap");
  const auto resets = Resets(packets);
  ASSERT_EQ(resets.size(), 3u);
  std::vector<uint16_t> ids;
  for (const auto& r : resets) {
    EXPECT_EQ(r.tcp_flags, kRst | kAck);
    EXPECT_EQ(r.ip_ttl, 59);
    EXPECT_TRUE(r.df);
    ids.push_back(r.ip_id);
  }
  EXPECT_EQ(ids, (std::vector<uint16_t>{8893, 3866, 12488}));
  const ResetLabel label = LabelResets(FlowOf(packets));
  EXPECT_EQ(label.source, ResetSource::kGfwType2) << label.reason;
}

TEST(PacketTest, GfwTypeThreeSendsARstAckWithItsIpIdRangeAndAHighTtl) {
  const auto packets = Fixture("gfw_type3_rst.pcap");
  const auto resets = Resets(packets);
  ASSERT_EQ(resets.size(), 1u);
  EXPECT_EQ(resets[0].tcp_flags, kRst | kAck);
  EXPECT_EQ(resets[0].ip_ttl, 247);
  EXPECT_EQ(resets[0].ip_id, 0x9919);
  const ResetLabel label = LabelResets(FlowOf(packets));
  EXPECT_EQ(label.source, ResetSource::kGfwType3) << label.reason;
}

TEST(PacketTest, HenansRstAckCarriesItsTenBytePayload) {
  const auto packets = Fixture("henan_rst.pcap");
  const auto resets = Resets(packets);
  ASSERT_EQ(resets.size(), 1u);
  EXPECT_EQ(resets[0].tcp_flags, kRst | kAck);
  EXPECT_EQ(resets[0].ip_id, 1);
  EXPECT_EQ(resets[0].payload_size, 10u);
  EXPECT_EQ(resets[0].payload, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 0}));
  const ResetLabel label = LabelResets(FlowOf(packets));
  EXPECT_EQ(label.source, ResetSource::kHenan) << label.reason;
}

TEST(PacketTest, AServersOwnResetIsTheServers) {
  const auto packets = Fixture("server_rst.pcap");
  const auto resets = Resets(packets);
  ASSERT_EQ(resets.size(), 1u);
  EXPECT_EQ(resets[0].ip_ttl, 62);
  EXPECT_EQ(resets[0].src_ip, "198.18.80.8");
  const ResetLabel label = LabelResets(FlowOf(packets));
  EXPECT_EQ(label.source, ResetSource::kServer) << label.reason;
  EXPECT_FALSE(IsInjected(label.source));

  // A closed port's reset comes without a SYN-ACK: nothing to compare with, no claim.
  const auto closed = Fixture("server_rst_closed_port.pcap");
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_EQ(closed[1].tcp_flags, kRst | kAck);
  EXPECT_EQ(closed[1].ack, closed[0].seq + 1);
  const ResetLabel none = LabelResets(FlowOf(closed));
  EXPECT_EQ(none.source, ResetSource::kUndetermined) << none.reason;
}

TEST(PacketTest, ForgedDnsRepliesRaceAheadOfTheGenuineOne) {
  const auto packets = Fixture("dns_forged.pcap");
  ASSERT_EQ(packets.size(), 4u);
  ASSERT_TRUE(packets[0].dns.has_value());
  const DnsFacts& query = *packets[0].dns;
  EXPECT_FALSE(query.is_response());
  EXPECT_EQ(query.qname, "web.whatsapp.com");
  EXPECT_EQ(query.qtype, 1);
  EXPECT_EQ(packets[0].dst_port, 53);
  std::vector<std::string> answers;
  for (size_t i = 1; i < packets.size(); ++i) {
    ASSERT_TRUE(packets[i].dns.has_value()) << i;
    const DnsFacts& reply = *packets[i].dns;
    EXPECT_TRUE(reply.is_response());
    EXPECT_EQ(reply.id, query.id);
    EXPECT_EQ(reply.qname, "web.whatsapp.com");
    EXPECT_EQ(reply.rcode(), 0);
    ASSERT_EQ(reply.answers.size(), 1u);
    EXPECT_EQ(reply.answers[0].type, 1);
    answers.push_back(reply.answers[0].data);
    if (i < 3) {
      EXPECT_EQ(reply.answers[0].ttl, 173u);
    }
  }
  EXPECT_EQ(answers, (std::vector<std::string>{"198.18.240.1", "198.18.240.2", "198.18.71.3"}));
  EXPECT_EQ(packets[3].ip_ttl, 62);
  EXPECT_EQ(packets[3].dns->flags, 0x8580);
}

TEST(PacketTest, LateForgedRepliesKeepEachInjectorsFingerprintAndDrawPortUnreachables) {
  const auto packets = Fixture("dns_forged_late.pcap");
  ASSERT_EQ(packets.size(), 8u);
  std::vector<CapturedPacket> replies, unreachables;
  for (const auto& p : packets) {
    if (p.dns && p.dns->is_response()) replies.push_back(p);
    if (p.proto == PacketProto::kIcmp) unreachables.push_back(p);
  }
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_EQ(replies[0].dns->answers.at(0).data, "198.18.71.3");  // the genuine one first
  struct Expected {
    uint8_t ip_ttl;
    bool df;
    uint16_t flags;
    uint32_t answer_ttl;
  };
  const Expected forged[] = {
      {56, false, 0x8180, 60}, {230, true, 0x8580, 173}, {62, false, 0x8400, 300}};
  for (size_t i = 0; i < 3; ++i) {
    const CapturedPacket& r = replies[i + 1];
    EXPECT_EQ(r.ip_ttl, forged[i].ip_ttl) << i;
    EXPECT_EQ(r.df, forged[i].df) << i;
    EXPECT_EQ(r.dns->flags, forged[i].flags) << i;
    ASSERT_EQ(r.dns->answers.size(), 1u);
    EXPECT_EQ(r.dns->answers[0].ttl, forged[i].answer_ttl) << i;
    EXPECT_GE(r.time_ns - replies[0].time_ns, 290'000'000) << i;
  }
  EXPECT_EQ(replies[1].ip_id, 0);
  // dig had gone: the client's kernel answered each late copy with port unreachable.
  ASSERT_EQ(unreachables.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const CapturedPacket& u = unreachables[i];
    EXPECT_EQ(u.icmp_type, 3);
    EXPECT_EQ(u.icmp_code, 3);
    ASSERT_TRUE(u.icmp_quote.has_value());
    EXPECT_EQ(u.icmp_quote->proto, PacketProto::kUdp);
    EXPECT_EQ(u.icmp_quote->src_ip, "198.18.20.53");
    EXPECT_EQ(u.icmp_quote->src_port, 53);
    EXPECT_EQ(u.icmp_quote->dst_ip, kClient);
    EXPECT_EQ(u.icmp_quote->dst_port, replies[0].dst_port);
    EXPECT_EQ(u.icmp_quote->ip_ttl, forged[i].ip_ttl);
  }
}

TEST(PacketTest, ATimeExceededQuotesTheProbesPortsAndTtl) {
  const auto packets = Fixture("icmp_time_exceeded.pcap");
  ASSERT_EQ(packets.size(), 2u);
  const CapturedPacket& probe = packets[0];
  const CapturedPacket& icmp = packets[1];
  EXPECT_EQ(probe.ip_ttl, 1);
  EXPECT_EQ(icmp.proto, PacketProto::kIcmp);
  EXPECT_EQ(icmp.src_ip, "198.18.1.1");
  EXPECT_EQ(icmp.icmp_type, 11);
  EXPECT_EQ(icmp.icmp_code, 0);
  ASSERT_TRUE(icmp.icmp_quote.has_value());
  EXPECT_EQ(icmp.icmp_quote->proto, PacketProto::kTcp);
  EXPECT_EQ(icmp.icmp_quote->src_ip, kClient);
  EXPECT_EQ(icmp.icmp_quote->dst_ip, "198.18.71.3");
  EXPECT_EQ(icmp.icmp_quote->src_port, probe.src_port);
  EXPECT_EQ(icmp.icmp_quote->dst_port, 443);
  EXPECT_EQ(icmp.icmp_quote->ip_ttl, 1);
}

// --- Frames built by hand ---

using Bytes = std::vector<uint8_t>;

void Put16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}

// An IPv4 TCP segment from 198.18.71.3:443 to 198.18.1.10:5555 with `payload`.
Bytes Ipv4Tcp(uint8_t flags, const Bytes& payload = {}, uint8_t ttl = 59, uint16_t id = 4711) {
  Bytes b(40, 0);
  b[0] = 0x45;
  Put16(b, 2, static_cast<uint16_t>(40 + payload.size()));
  Put16(b, 4, id);
  Put16(b, 6, 0x4000);  // DF
  b[8] = ttl;
  b[9] = 6;
  const uint8_t src[] = {198, 18, 71, 3}, dst[] = {198, 18, 1, 10};
  std::memcpy(&b[12], src, 4);
  std::memcpy(&b[16], dst, 4);
  Put16(b, 20, 443);
  Put16(b, 22, 5555);
  Put16(b, 24, 0x1234);  // seq 0x12345678
  Put16(b, 26, 0x5678);
  b[32] = 0x50;
  b[33] = flags;
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

// An IPv6 TCP SYN fd00:64::71:3 -> fd00:1::10, after a hop-by-hop header when asked.
Bytes Ipv6Tcp(bool hop_by_hop) {
  Bytes tcp(20, 0);
  Put16(tcp, 0, 443);
  Put16(tcp, 2, 5555);
  tcp[12] = 0x50;
  tcp[13] = kSyn | kAck;
  Bytes ext;
  if (hop_by_hop) ext = {6, 0, 1, 4, 0, 0, 0, 0};  // next TCP, 8 bytes, PadN
  Bytes b(40, 0);
  b[0] = 0x60;
  Put16(b, 4, static_cast<uint16_t>(ext.size() + tcp.size()));
  b[6] = hop_by_hop ? 0 : 6;
  b[7] = 61;
  inet_pton(AF_INET6, "fd00:64::71:3", &b[8]);
  inet_pton(AF_INET6, "fd00:1::10", &b[24]);
  b.insert(b.end(), ext.begin(), ext.end());
  b.insert(b.end(), tcp.begin(), tcp.end());
  return b;
}

Bytes Ethernet(const Bytes& ip, uint16_t ethertype, bool vlan = false) {
  Bytes f(12, 0xaa);
  if (vlan) f.insert(f.end(), {0x81, 0x00, 0x00, 0x07});
  f.push_back(static_cast<uint8_t>(ethertype >> 8));
  f.push_back(static_cast<uint8_t>(ethertype));
  f.insert(f.end(), ip.begin(), ip.end());
  return f;
}

Bytes Sll(const Bytes& ip, uint16_t ethertype) {
  Bytes f(16, 0);
  Put16(f, 2, 772);  // ARPHRD_LOOPBACK
  Put16(f, 14, ethertype);
  f.insert(f.end(), ip.begin(), ip.end());
  return f;
}

Bytes Sll2(const Bytes& ip, uint16_t ethertype) {
  Bytes f(20, 0);
  Put16(f, 0, ethertype);
  Put16(f, 8, 1);  // ARPHRD_ETHER
  f.insert(f.end(), ip.begin(), ip.end());
  return f;
}

Result<CapturedPacket> Parse(int link_type, const Bytes& f) {
  return ParseFrame(link_type, f.data(), f.size(), 42);
}

TEST(PacketTest, EveryLinkHeaderTheCaptureMeetsGivesTheSamePacket) {
  const Bytes ip = Ipv4Tcp(kRst | kAck);
  const std::vector<std::pair<int, Bytes>> frames = {
      {kLinkTypeEthernet, Ethernet(ip, 0x0800)},
      {kLinkTypeEthernet, Ethernet(ip, 0x0800, true)},
      {kLinkTypeRaw, ip},
      {kLinkTypeLinuxSll, Sll(ip, 0x0800)},
      {kLinkTypeLinuxSll2, Sll2(ip, 0x0800)},
  };
  for (const auto& [link_type, frame] : frames) {
    const auto p = Parse(link_type, frame);
    ASSERT_TRUE(p.ok()) << link_type << ": " << p.error();
    EXPECT_EQ(p->time_ns, 42);
    EXPECT_EQ(p->src_ip, "198.18.71.3");
    EXPECT_EQ(p->dst_ip, "198.18.1.10");
    EXPECT_EQ(p->ip_ttl, 59);
    EXPECT_EQ(p->ip_id, 4711);
    EXPECT_TRUE(p->df);
    EXPECT_EQ(p->tcp_flags, kRst | kAck);
    EXPECT_EQ(p->seq, 0x12345678u);
    EXPECT_EQ(p->src_port, 443);
    EXPECT_EQ(p->dst_port, 5555);
  }
}

TEST(PacketTest, IPv6SegmentsAreReadPastExtensionHeaders) {
  for (bool hop_by_hop : {false, true}) {
    const auto p = Parse(kLinkTypeLinuxSll2, Sll2(Ipv6Tcp(hop_by_hop), 0x86dd));
    ASSERT_TRUE(p.ok()) << p.error();
    EXPECT_EQ(p->ip_version, 6);
    EXPECT_EQ(p->src_ip, "fd00:64::71:3");
    EXPECT_EQ(p->dst_ip, "fd00:1::10");
    EXPECT_EQ(p->ip_ttl, 61);
    EXPECT_EQ(p->ip_id, 0);
    EXPECT_EQ(p->proto, PacketProto::kTcp);
    EXPECT_EQ(p->tcp_flags, kSyn | kAck);
    EXPECT_EQ(p->src_port, 443);
    EXPECT_EQ(p->payload_size, 0u);
  }
}

TEST(PacketTest, AnIcmpv6ErrorQuotesTheFlowItIsAbout) {
  // Time exceeded from fd00:1::1 quoting a UDP datagram fd00:1::10:4000 -> fd00:20::53:53.
  Bytes quote(48, 0);
  quote[0] = 0x60;
  Put16(quote, 4, 8);
  quote[6] = 17;
  quote[7] = 1;
  inet_pton(AF_INET6, "fd00:1::10", &quote[8]);
  inet_pton(AF_INET6, "fd00:20::53", &quote[24]);
  Put16(quote, 40, 4000);
  Put16(quote, 42, 53);
  Bytes ip(48, 0);
  ip[0] = 0x60;
  Put16(ip, 4, static_cast<uint16_t>(8 + quote.size()));
  ip[6] = 58;
  ip[7] = 64;
  inet_pton(AF_INET6, "fd00:1::1", &ip[8]);
  inet_pton(AF_INET6, "fd00:1::10", &ip[24]);
  ip[40] = 3;  // time exceeded, code 0
  ip.insert(ip.end(), quote.begin(), quote.end());
  const auto p = Parse(kLinkTypeRaw, ip);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->proto, PacketProto::kIcmp);
  EXPECT_EQ(p->icmp_type, 3);
  ASSERT_TRUE(p->icmp_quote.has_value());
  EXPECT_EQ(p->icmp_quote->proto, PacketProto::kUdp);
  EXPECT_EQ(p->icmp_quote->src_ip, "fd00:1::10");
  EXPECT_EQ(p->icmp_quote->dst_ip, "fd00:20::53");
  EXPECT_EQ(p->icmp_quote->src_port, 4000);
  EXPECT_EQ(p->icmp_quote->dst_port, 53);
  EXPECT_EQ(p->icmp_quote->ip_ttl, 1);
}

TEST(PacketTest, ACaptureCutShortKeepsThePayloadSizeAsCarried) {
  const Bytes ip = Ipv4Tcp(kFin | kAck, Bytes(1400, 'x'));
  const Bytes frame = Ethernet(ip, 0x0800);
  const auto p = ParseFrame(kLinkTypeEthernet, frame.data(), 200, 0);  // snap length 200
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->payload_size, 1400u);
  EXPECT_EQ(p->payload.size(), kPayloadKept);
  // Ethernet pads a short frame: the IP total length says where the packet ends.
  Bytes padded = Ethernet(Ipv4Tcp(kRst), 0x0800);
  padded.resize(padded.size() + 6, 0);
  const auto r = Parse(kLinkTypeEthernet, padded);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->payload_size, 0u);
  EXPECT_TRUE(r->payload.empty());
}

TEST(PacketTest, AMalformedDnsPayloadLeavesDnsEmptyAndIsNoError) {
  Bytes ip(28, 0);
  ip[0] = 0x45;
  Put16(ip, 2, 28 + 5);
  ip[8] = 64;
  ip[9] = 17;
  Put16(ip, 20, 53);
  Put16(ip, 22, 4000);
  Put16(ip, 24, 8 + 5);
  ip.insert(ip.end(), {1, 2, 3, 4, 5});
  const auto p = Parse(kLinkTypeRaw, ip);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->proto, PacketProto::kUdp);
  EXPECT_EQ(p->payload_size, 5u);
  EXPECT_FALSE(p->dns.has_value());
}

TEST(PacketTest, TruncatedAndForeignFramesAreRefusedSayingWhy) {
  auto error_of = [](int link_type, const Bytes& f) {
    const auto p = ParseFrame(link_type, f.data(), f.size(), 0);
    EXPECT_FALSE(p.ok());
    return p.error();
  };
  EXPECT_NE(error_of(kLinkTypeEthernet, Bytes(10, 0)).find("truncated Ethernet header"),
            std::string::npos);
  EXPECT_EQ(error_of(kLinkTypeEthernet, Ethernet(Bytes(28, 0), 0x0806)),
            "not IP: ethertype 0x0806");
  EXPECT_NE(error_of(kLinkTypeRaw, {}).find("empty"), std::string::npos);
  EXPECT_NE(error_of(kLinkTypeRaw, Bytes(30, 0x50)).find("not IP: version 5"), std::string::npos);
  EXPECT_NE(error_of(147, Bytes(60, 0)).find("unsupported link type 147"), std::string::npos);
  EXPECT_NE(error_of(kLinkTypeLinuxSll, Bytes(15, 0)).find("truncated Linux cooked header"),
            std::string::npos);
  EXPECT_NE(error_of(kLinkTypeLinuxSll2, Bytes(19, 0)).find("truncated Linux cooked v2 header"),
            std::string::npos);
  const Bytes ip = Ipv4Tcp(kRst);
  EXPECT_NE(
      error_of(kLinkTypeRaw, Bytes(ip.begin(), ip.begin() + 12)).find("truncated IPv4 header"),
      std::string::npos);
  EXPECT_NE(error_of(kLinkTypeRaw, Bytes(ip.begin(), ip.begin() + 30)).find("truncated TCP header"),
            std::string::npos);
  const Bytes ip6 = Ipv6Tcp(false);
  EXPECT_NE(
      error_of(kLinkTypeRaw, Bytes(ip6.begin(), ip6.begin() + 39)).find("truncated IPv6 header"),
      std::string::npos);
  EXPECT_FALSE(Parse(kLinkTypeRaw, Bytes(ip6.begin(), ip6.begin() + 50)).ok());
  const Bytes ext = Ipv6Tcp(true);
  EXPECT_FALSE(Parse(kLinkTypeRaw, Bytes(ext.begin(), ext.begin() + 44)).ok());
}

TEST(PacketTest, EveryPrefixOfEveryRecordedFrameParsesOrIsRefused) {
  // Frames cut at every length (AddressSanitizer watches the reads).
  for (const Bytes& frame :
       {Ethernet(Ipv4Tcp(kRst | kAck, Bytes(10, 1)), 0x0800), Sll2(Ipv6Tcp(true), 0x86dd)}) {
    for (size_t n = 0; n <= frame.size(); ++n) {
      Bytes cut(frame.begin(), frame.begin() + static_cast<long>(n));
      const auto p = ParseFrame(frame[0] == 0xaa ? kLinkTypeEthernet : kLinkTypeLinuxSll2,
                                cut.data(), cut.size(), 0);
      if (!p.ok()) {
        EXPECT_FALSE(p.error().empty()) << n;
      }
    }
  }
}

// A pcap file written by hand: nanosecond magic, Ethernet frames.
void WritePcap(const std::string& path, const std::vector<Bytes>& frames) {
  std::ofstream out(path, std::ios::binary);
  auto put32 = [&](uint32_t v) { out.write(reinterpret_cast<const char*>(&v), 4); };
  auto put16 = [&](uint16_t v) { out.write(reinterpret_cast<const char*>(&v), 2); };
  put32(0xa1b23c4d);
  put16(2);
  put16(4);
  put32(0);
  put32(0);
  put32(65535);
  put32(kLinkTypeEthernet);
  for (const Bytes& f : frames) {
    put32(1700000000);
    put32(123456789);
    put32(static_cast<uint32_t>(f.size()));
    put32(static_cast<uint32_t>(f.size()));
    out.write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
  }
}

TEST(PacketTest, ReadPcapFileNamesTheFileAndTheFrameThatDidNotParse) {
  test_support::TempDir dir("packet_test");
  ASSERT_TRUE(dir.ok()) << dir.error();
  const std::string good = dir.Join("good.pcap");
  WritePcap(good, {Ethernet(Ipv4Tcp(kRst), 0x0800)});
  const auto read = ReadPcapFile(good);
  ASSERT_TRUE(read.ok()) << read.error();
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0].time_ns, 1700000000123456789);

  const std::string bad = dir.Join("bad.pcap");
  WritePcap(bad, {Ethernet(Ipv4Tcp(kRst), 0x0800), Ethernet(Bytes(28, 0), 0x0806)});
  const auto refused = ReadPcapFile(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find(bad), std::string::npos) << refused.error();
  EXPECT_NE(refused.error().find("frame 2"), std::string::npos) << refused.error();
  EXPECT_NE(refused.error().find("ethertype 0x0806"), std::string::npos) << refused.error();

  const auto missing = ReadPcapFile(dir.Join("missing.pcap"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("missing.pcap"), std::string::npos) << missing.error();
}

// --- Live capture (root only; loopback traffic only) ---

bool SendUdp(int family, const std::string& address, uint16_t port, const std::string& data) {
  const int fd = socket(family, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  sockaddr_storage to{};
  socklen_t len = 0;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&to);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    inet_pton(AF_INET, address.c_str(), &a->sin_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&to);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    inet_pton(AF_INET6, address.c_str(), &a->sin6_addr);
    len = sizeof *a;
  }
  const bool sent = sendto(fd, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&to),
                           len) == static_cast<ssize_t>(data.size());
  close(fd);
  return sent;
}

std::vector<CapturedPacket> DnsFor(const std::vector<CapturedPacket>& packets,
                                   const std::string& qname, int ip_version) {
  std::vector<CapturedPacket> out;
  for (const auto& p : packets) {
    if (p.dns && p.dns->qname == qname && p.ip_version == ip_version && p.dst_port == 53) {
      out.push_back(p);
    }
  }
  return out;
}

TEST(PacketCaptureTest, ALiveCaptureOnLoopbackSeesADnsQueryAndWritesItToAPcapFile) {
  if (geteuid() != 0) GTEST_SKIP() << "a live capture needs root (CAP_NET_RAW)";
  test_support::TempDir dir("packet_capture_test");
  ASSERT_TRUE(dir.ok()) << dir.error();
  CaptureOptions options;
  options.device = "lo";
  options.pcap_file = dir.Join("capture.pcap");
  auto capture = PacketCapture::Open(options);
  ASSERT_TRUE(capture.ok()) << capture.error();
  EXPECT_EQ((*capture)->filter(), EvidenceFilter());

  const auto query = EncodeDnsQuery("Capture-Test.vigil.example.", 1, 0x4242);
  ASSERT_TRUE(query.ok()) << query.error();
  ASSERT_TRUE(SendUdp(AF_INET, "127.0.0.1", 53, *query));
  // Not evidence: the filter keeps it out.
  ASSERT_TRUE(SendUdp(AF_INET, "127.0.0.1", 9, *query));
  const bool v6 = SendUdp(AF_INET6, "::1", 53, *query);
  (*capture)->Flush();

  const auto packets = (*capture)->Packets(0, std::numeric_limits<int64_t>::max());
  const auto seen = DnsFor(packets, "capture-test.vigil.example", 4);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].dns->id, 0x4242);
  EXPECT_EQ(seen[0].dns->qtype, 1);
  EXPECT_FALSE(seen[0].dns->is_response());
  EXPECT_EQ(seen[0].src_ip, "127.0.0.1");
  EXPECT_GT(seen[0].time_ns, int64_t{1'600'000'000} * 1'000'000'000);
  EXPECT_EQ(
      DnsFor((*capture)->Packets(0, seen[0].time_ns - 1), "capture-test.vigil.example", 4).size(),
      0u);
  for (const auto& p : packets) EXPECT_NE(p.dst_port, 9);
  if (v6) {
    EXPECT_EQ(DnsFor(packets, "capture-test.vigil.example", 6).size(), 1u);
  }
  EXPECT_EQ((*capture)->dropped(), 0u);

  (*capture)->Stop();
  (*capture)->Stop();  // idempotent
  const auto written = ReadPcapFile(options.pcap_file);
  ASSERT_TRUE(written.ok()) << written.error();
  const auto in_file = DnsFor(*written, "capture-test.vigil.example", 4);
  ASSERT_EQ(in_file.size(), 1u);
  EXPECT_EQ(in_file[0].time_ns, seen[0].time_ns);
}

// Connects to a loopback port nothing listens on: a SYN, and the kernel's RST+ACK.
// Returns the client's port, 0 when the family is unavailable.
uint16_t ConnectToClosedPort(int family) {
  const int fd = socket(family, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_storage to{};
  socklen_t len = 0;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&to);
    a->sin_family = AF_INET;
    a->sin_port = htons(1);  // tcpmux: nothing listens on loopback
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&to);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(1);
    a->sin6_addr = in6addr_loopback;
    len = sizeof *a;
  }
  const bool refused = connect(fd, reinterpret_cast<sockaddr*>(&to), len) != 0;
  sockaddr_storage local{};
  socklen_t local_len = sizeof local;
  getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len);
  close(fd);
  if (!refused) return 0;
  return ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&local)->sin_port
                                 : reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
}

// Connects to a loopback listener of its own: the listener's SYN-ACK comes back.
// Returns the client's port, 0 when the family is unavailable.
uint16_t ConnectToListener(int family) {
  const int server = socket(family, SOCK_STREAM, 0);
  if (server < 0) return 0;
  sockaddr_storage at{};
  socklen_t len = 0;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&at);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&at);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    len = sizeof *a;
  }
  uint16_t client_port = 0;
  if (bind(server, reinterpret_cast<sockaddr*>(&at), len) == 0 && listen(server, 1) == 0 &&
      getsockname(server, reinterpret_cast<sockaddr*>(&at), &len) == 0) {
    const int fd = socket(family, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&at), len) == 0) {
      sockaddr_storage local{};
      socklen_t local_len = sizeof local;
      getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len);
      client_port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&local)->sin_port
                                            : reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
    }
    if (fd >= 0) close(fd);
  }
  close(server);
  return client_port;
}

// What evidence needs arrives: a server's SYN-ACK and a RST, over IPv4 and IPv6. (The
// filter keeps TCP segments only as they arrive, so our own SYNs are not asked for.)
TEST(PacketCaptureTest, TheFilterKeepsSynAcksAndResetsOverIpv4AndIpv6) {
  if (geteuid() != 0) GTEST_SKIP() << "a live capture needs root (CAP_NET_RAW)";
  CaptureOptions options;
  options.device = "lo";
  auto capture = PacketCapture::Open(options);
  ASSERT_TRUE(capture.ok()) << capture.error();
  for (int family : {AF_INET, AF_INET6}) {
    const uint16_t refused = ConnectToClosedPort(family);
    if (refused == 0 && family == AF_INET6) continue;  // no IPv6 loopback here
    ASSERT_NE(refused, 0);
    const uint16_t accepted = ConnectToListener(family);
    ASSERT_NE(accepted, 0);
    (*capture)->Flush();
    bool syn_ack = false, rst = false;
    for (const auto& p : (*capture)->Packets(0, std::numeric_limits<int64_t>::max())) {
      if (p.ip_version != (family == AF_INET ? 4 : 6) || p.proto != PacketProto::kTcp) continue;
      syn_ack |= p.dst_port == accepted && p.tcp_flags == (kSyn | kAck);
      rst |= p.dst_port == refused && p.src_port == 1 && p.tcp_flags == (kRst | kAck);
    }
    EXPECT_TRUE(syn_ack) << "IPv" << (family == AF_INET ? 4 : 6);
    EXPECT_TRUE(rst) << "IPv" << (family == AF_INET ? 4 : 6);
  }
}

TEST(PacketCaptureTest, TheFilterCompilesForTheAnyDeviceAndABoundedRingCountsWhatItDrops) {
  if (geteuid() != 0) GTEST_SKIP() << "a live capture needs root (CAP_NET_RAW)";
  CaptureOptions options;
  options.max_packets = 1;
  auto capture = PacketCapture::Open(options);  // "any": Linux cooked frames
  ASSERT_TRUE(capture.ok()) << capture.error();
  const auto query = EncodeDnsQuery("ring.vigil.example", 1, 7);
  ASSERT_TRUE(query.ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(SendUdp(AF_INET, "127.0.0.1", 53, *query));
  (*capture)->Flush();
  const auto packets = (*capture)->Packets(0, std::numeric_limits<int64_t>::max());
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_GE((*capture)->dropped(), 2u);
}

TEST(PacketCaptureTest, AnUnknownDeviceIsAnError) {
  if (geteuid() != 0) GTEST_SKIP() << "a live capture needs root (CAP_NET_RAW)";
  CaptureOptions options;
  options.device = "vigil-no-such0";
  const auto capture = PacketCapture::Open(options);
  ASSERT_FALSE(capture.ok());
  EXPECT_NE(capture.error().find("vigil-no-such0"), std::string::npos) << capture.error();
}

}  // namespace
}  // namespace vigil
