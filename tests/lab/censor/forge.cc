#include "tests/lab/censor/forge.h"

#include <tins/ethernetII.h>
#include <tins/ip.h>
#include <tins/ipv6.h>
#include <tins/rawpdu.h>
#include <tins/tcp.h>
#include <tins/udp.h>

#include <algorithm>

#include "tests/lab/censor/offload_repair.h"

namespace vigil::lab {
namespace {

Tins::EthernetII Ethernet(const MacPair& mac) {
  return Tins::EthernetII(Tins::HWAddress<6>(mac.dst.data()), Tins::HWAddress<6>(mac.src.data()));
}

std::vector<uint8_t> Wrap(const MacPair& mac, const IpFields& ip, const Tins::PDU& l4) {
  Tins::EthernetII eth = Ethernet(mac);
  if (ip.src.v6) {
    Tins::IPv6 v6(Tins::IPv6Address(ip.dst.bytes.data()), Tins::IPv6Address(ip.src.bytes.data()));
    v6.hop_limit(ip.ttl);
    eth /= v6 / l4;
  } else {
    Tins::IP v4(Tins::IPv4Address(ip.dst.ToString()), Tins::IPv4Address(ip.src.ToString()));
    v4.ttl(ip.ttl);
    v4.id(ip.ip_id);
    v4.flags(ip.df ? Tins::IP::DONT_FRAGMENT : static_cast<Tins::IP::Flags>(0));
    eth /= v4 / l4;
  }
  return eth.serialize();
}

}  // namespace

MacPair MacPair::Of(const Frame& f, bool reverse) {
  MacPair m;
  std::copy_n(f.eth_src().begin(), 6, (reverse ? m.dst : m.src).begin());
  std::copy_n(f.eth_dst().begin(), 6, (reverse ? m.src : m.dst).begin());
  return m;
}

std::vector<uint8_t> ForgeTcpFrame(const MacPair& mac, const IpFields& ip, const TcpFields& t,
                                   const std::string& payload) {
  Tins::TCP tcp(t.dport, t.sport);
  tcp.seq(t.seq);
  tcp.ack_seq(t.ack);
  tcp.flags(t.flags);
  tcp.window(t.window);
  if (!payload.empty()) {
    tcp /= Tins::RawPDU(reinterpret_cast<const uint8_t*>(payload.data()),
                        static_cast<uint32_t>(payload.size()));
  }
  return Wrap(mac, ip, tcp);
}

std::vector<uint8_t> ForgeIcmpErrorFrame(const MacPair& mac, const IpFields& ip, uint8_t type,
                                         uint8_t code, std::span<const uint8_t> quoted) {
  // RFC 792/1812 and RFC 4443: the error and the quote fit the minimum MTU.
  const size_t room = ip.src.v6 ? 1280 - 40 - 8 : 576 - 20 - 8;
  std::vector<uint8_t> icmp = {type, code, 0, 0, 0, 0, 0, 0};
  icmp.insert(icmp.end(), quoted.begin(), quoted.begin() + std::min(room, quoted.size()));
  uint32_t pseudo = 0;
  if (ip.src.v6) {
    // ICMPv6 sums a pseudo-header: both addresses, the length and next header 58.
    std::vector<uint8_t> header(ip.src.bytes.begin(), ip.src.bytes.end());
    header.insert(header.end(), ip.dst.bytes.begin(), ip.dst.bytes.end());
    const uint32_t len = static_cast<uint32_t>(icmp.size());
    for (int shift : {24, 16, 8, 0}) header.push_back(static_cast<uint8_t>(len >> shift));
    header.insert(header.end(), {0, 0, 0, 58});
    pseudo = static_cast<uint16_t>(~InternetChecksum(header));
  }
  const uint16_t sum = InternetChecksum(icmp, pseudo);
  icmp[2] = static_cast<uint8_t>(sum >> 8);
  icmp[3] = static_cast<uint8_t>(sum);
  Tins::EthernetII eth = Ethernet(mac);
  if (ip.src.v6) {
    Tins::IPv6 v6(Tins::IPv6Address(ip.dst.bytes.data()), Tins::IPv6Address(ip.src.bytes.data()));
    v6.hop_limit(ip.ttl);
    v6.next_header(58);
    eth /= v6 / Tins::RawPDU(icmp.data(), static_cast<uint32_t>(icmp.size()));
  } else {
    Tins::IP v4(Tins::IPv4Address(ip.dst.ToString()), Tins::IPv4Address(ip.src.ToString()));
    v4.ttl(ip.ttl);
    v4.id(ip.ip_id);
    v4.flags(ip.df ? Tins::IP::DONT_FRAGMENT : static_cast<Tins::IP::Flags>(0));
    v4.protocol(1);
    eth /= v4 / Tins::RawPDU(icmp.data(), static_cast<uint32_t>(icmp.size()));
  }
  return eth.serialize();
}

std::vector<uint8_t> ForgeUdpFrame(const MacPair& mac, const IpFields& ip, uint16_t sport,
                                   uint16_t dport, const std::vector<uint8_t>& payload) {
  Tins::UDP udp(dport, sport);
  udp /= Tins::RawPDU(payload.data(), static_cast<uint32_t>(payload.size()));
  return Wrap(mac, ip, udp);
}

}  // namespace vigil::lab
