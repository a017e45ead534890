#include "probe/capture/packet.h"

#include <arpa/inet.h>
#include <tins/exceptions.h>
#include <tins/icmp.h>
#include <tins/icmpv6.h>
#include <tins/ip.h>
#include <tins/ipv6.h>
#include <tins/tcp.h>
#include <tins/udp.h>

#include <algorithm>
#include <cstdio>
#include <exception>

namespace vigil {

namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint16_t kEtherQinQ = 0x88a8;
constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIcmpv6 = 58;

uint16_t Read16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t Read32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

std::string Hex16(uint16_t v) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%04x", v);
  return text;
}

std::string AddressText(int family, const uint8_t* p) {
  char text[INET6_ADDRSTRLEN];
  return inet_ntop(family, p, text, sizeof text) ? text : "";
}

PacketProto ProtoOf(uint8_t ip_proto) {
  switch (ip_proto) {
    case kProtoTcp:
      return PacketProto::kTcp;
    case kProtoUdp:
      return PacketProto::kUdp;
    case kProtoIcmp:
    case kProtoIcmpv6:
      return PacketProto::kIcmp;
    default:
      return PacketProto::kOther;
  }
}

/// The IP packet inside a link-layer frame.
struct Network {
  uint16_t ethertype = 0;
  const uint8_t* data = nullptr;
  size_t size = 0;
};

Result<Network> StripLinkHeader(int link_type, const uint8_t* frame, size_t size) {
  switch (link_type) {
    case kLinkTypeEthernet: {
      if (size < 14) return Error{"truncated Ethernet header (" + std::to_string(size) + " bytes)"};
      uint16_t type = Read16(frame + 12);
      size_t offset = 14;
      if (type == kEtherVlan || type == kEtherQinQ) {
        if (size < 18) return Error{"truncated VLAN tag"};
        type = Read16(frame + 16);
        offset = 18;
      }
      return Network{type, frame + offset, size - offset};
    }
    case kLinkTypeRaw: {
      if (size == 0) return Error{"empty frame"};
      const int version = frame[0] >> 4;
      if (version == 4) return Network{kEtherIpv4, frame, size};
      if (version == 6) return Network{kEtherIpv6, frame, size};
      return Error{"not IP: version " + std::to_string(version)};
    }
    case kLinkTypeLinuxSll:
      // Packet type, ARPHRD type, address length, 8 address bytes, protocol.
      if (size < 16)
        return Error{"truncated Linux cooked header (" + std::to_string(size) + " bytes)"};
      return Network{Read16(frame + 14), frame + 16, size - 16};
    case kLinkTypeLinuxSll2:
      // Protocol first, then reserved, interface index, ARPHRD type, packet type,
      // address length, 8 address bytes.
      if (size < 20) {
        return Error{"truncated Linux cooked v2 header (" + std::to_string(size) + " bytes)"};
      }
      return Network{Read16(frame), frame + 20, size - 20};
    default:
      return Error{"unsupported link type " + std::to_string(link_type)};
  }
}

// DNS by hand rather than Tins::DNS: every name is walked with explicit bounds and a
// cap on compression pointers, and a message cut short by the snap length still gives
// its header and question.
bool ReadDnsName(const uint8_t* msg, size_t size, size_t& pos, std::string& out) {
  out.clear();
  size_t at = pos;
  bool jumped = false;
  int jumps = 0;
  for (;;) {
    if (at >= size) return false;
    const uint8_t len = msg[at];
    if ((len & 0xc0) == 0xc0) {
      if (at + 1 >= size || ++jumps > 32) return false;
      if (!jumped) pos = at + 2;
      jumped = true;
      at = ((len & 0x3f) << 8) | msg[at + 1];
      continue;
    }
    if ((len & 0xc0) != 0) return false;  // the 0x40 and 0x80 label types are obsolete
    if (len == 0) {
      if (!jumped) pos = at + 1;
      return true;
    }
    if (at + 1 + len > size || out.size() + len + 1 > 255) return false;
    if (!out.empty()) out += '.';
    for (size_t i = 0; i < len; ++i) {
      const char c = static_cast<char>(msg[at + 1 + i]);
      out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    at += 1 + len;
  }
}

std::optional<DnsFacts> ReadDns(const uint8_t* msg, size_t size) {
  if (size < 12) return std::nullopt;
  DnsFacts dns;
  dns.id = Read16(msg);
  dns.flags = Read16(msg + 2);
  const uint16_t qdcount = Read16(msg + 4);
  const uint16_t ancount = Read16(msg + 6);
  size_t pos = 12;
  std::string name;
  for (uint16_t i = 0; i < qdcount; ++i) {
    if (!ReadDnsName(msg, size, pos, name) || pos + 4 > size) return std::nullopt;
    if (i == 0) {
      dns.qname = name;
      dns.qtype = Read16(msg + pos);
    }
    pos += 4;
  }
  for (uint16_t i = 0; i < ancount; ++i) {
    if (!ReadDnsName(msg, size, pos, name) || pos + 10 > size) return std::nullopt;
    DnsAnswerFacts answer;
    answer.type = Read16(msg + pos);
    answer.ttl = Read32(msg + pos + 4);
    const uint16_t rdlength = Read16(msg + pos + 8);
    pos += 10;
    if (pos + rdlength > size) return std::nullopt;
    if (answer.type == 1 && rdlength == 4) {
      answer.data = AddressText(AF_INET, msg + pos);
    } else if (answer.type == 28 && rdlength == 16) {
      answer.data = AddressText(AF_INET6, msg + pos);
    } else if (answer.type == 5) {
      size_t target = pos;
      if (!ReadDnsName(msg, pos + rdlength, target, answer.data)) return std::nullopt;
    }
    pos += rdlength;
    dns.answers.push_back(std::move(answer));
  }
  return dns;
}

// The packet an ICMP error quotes: its IP header and at least 8 bytes past it (RFC
// 792; RFC 4443 quotes as much as fits). Read by hand: the quote is usually cut
// short, which libtins refuses as a malformed TCP header.
std::optional<IcmpQuote> ReadQuote(const uint8_t* q, size_t size) {
  if (size < 1) return std::nullopt;
  IcmpQuote quote;
  size_t l4 = 0;
  uint8_t proto = 0;
  const int version = q[0] >> 4;
  if (version == 4) {
    const size_t ihl = (q[0] & 0x0f) * 4u;
    if (size < 20 || ihl < 20 || ihl > size) return std::nullopt;
    quote.ip_ttl = q[8];
    proto = q[9];
    quote.src_ip = AddressText(AF_INET, q + 12);
    quote.dst_ip = AddressText(AF_INET, q + 16);
    l4 = ihl;
    // A later fragment carries no ports.
    if ((Read16(q + 6) & 0x1fff) != 0) l4 = size;
  } else if (version == 6) {
    if (size < 40) return std::nullopt;
    quote.ip_ttl = q[7];
    proto = q[6];
    quote.src_ip = AddressText(AF_INET6, q + 8);
    quote.dst_ip = AddressText(AF_INET6, q + 24);
    l4 = 40;
    // Hop-by-hop, routing, destination options and fragment headers.
    for (int i = 0; i < 8 && (proto == 0 || proto == 43 || proto == 60 || proto == 44); ++i) {
      if (l4 + 8 > size) {
        l4 = size;
        break;
      }
      const uint8_t next = q[l4];
      if (proto == 44 && (Read16(q + l4 + 2) & 0xfff8) != 0) l4 = size;  // a later fragment
      l4 += proto == 44 ? 8 : (q[l4 + 1] + 1u) * 8;
      proto = next;
    }
  } else {
    return std::nullopt;
  }
  quote.proto = ProtoOf(proto);
  if ((proto == kProtoTcp || proto == kProtoUdp) && l4 + 4 <= size) {
    quote.src_port = Read16(q + l4);
    quote.dst_port = Read16(q + l4 + 2);
  }
  return quote;
}

/// The transport layer of `pkt`: `l4` holds the `captured` bytes past the IP headers,
/// of which the packet carried `carried` (more when the snap length cut it short).
Result<bool> FillTransport(const Tins::PDU& ip, const uint8_t* l4, size_t captured, size_t carried,
                           bool icmp_v6, CapturedPacket& pkt) {
  auto keep_payload = [&](size_t header) {
    const size_t have = captured > header ? captured - header : 0;
    pkt.payload_size = carried > header ? carried - header : 0;
    pkt.payload.assign(l4 + header, l4 + header + std::min(have, kPayloadKept));
    return have;
  };
  if (const auto* tcp = ip.find_pdu<Tins::TCP>()) {
    pkt.proto = PacketProto::kTcp;
    pkt.src_port = tcp->sport();
    pkt.dst_port = tcp->dport();
    pkt.tcp_flags = static_cast<uint8_t>(tcp->flags());
    pkt.seq = tcp->seq();
    pkt.ack = tcp->ack_seq();
    const size_t header = tcp->data_offset() * 4u;
    if (header < 20 || header > captured) return Error{"truncated TCP header"};
    keep_payload(header);
  } else if (const auto* udp = ip.find_pdu<Tins::UDP>()) {
    pkt.proto = PacketProto::kUdp;
    pkt.src_port = udp->sport();
    pkt.dst_port = udp->dport();
    if (captured < 8) return Error{"truncated UDP header"};
    const size_t have = keep_payload(8);
    if (pkt.src_port == 53 || pkt.dst_port == 53) pkt.dns = ReadDns(l4 + 8, have);
  } else if (const auto* icmp = ip.find_pdu<Tins::ICMP>(); icmp && !icmp_v6) {
    pkt.proto = PacketProto::kIcmp;
    pkt.icmp_type = static_cast<uint8_t>(icmp->type());
    pkt.icmp_code = icmp->code();
    if ((pkt.icmp_type == 3 || pkt.icmp_type == 11) && captured > 8) {
      pkt.icmp_quote = ReadQuote(l4 + 8, captured - 8);
    }
  } else if (const auto* icmp6 = ip.find_pdu<Tins::ICMPv6>(); icmp6 && icmp_v6) {
    pkt.proto = PacketProto::kIcmp;
    pkt.icmp_type = static_cast<uint8_t>(icmp6->type());
    pkt.icmp_code = icmp6->code();
    if ((pkt.icmp_type == 1 || pkt.icmp_type == 3) && captured > 8) {
      pkt.icmp_quote = ReadQuote(l4 + 8, captured - 8);
    }
  }
  return true;
}

Result<bool> ParseIpv4(const uint8_t* p, size_t size, CapturedPacket& pkt) {
  if (size < 20) return Error{"truncated IPv4 header (" + std::to_string(size) + " bytes)"};
  if ((p[0] >> 4) != 4) return Error{"IPv4 ethertype but IP version " + std::to_string(p[0] >> 4)};
  const size_t ihl = (p[0] & 0x0f) * 4u;
  if (ihl < 20) return Error{"IPv4 header length " + std::to_string(ihl) + " below 20"};
  if (ihl > size)
    return Error{"truncated IPv4 header (" + std::to_string(size) + " of " + std::to_string(ihl) +
                 " bytes)"};
  const uint8_t proto = p[9];
  const bool later_fragment = (Read16(p + 6) & 0x1fff) != 0;
  const size_t l4_captured = size - ihl;
  if (!later_fragment) {
    if (proto == kProtoTcp && (l4_captured < 20 || (p[ihl + 12] >> 4) * 4u > l4_captured)) {
      return Error{"truncated TCP header"};
    }
    if (proto == kProtoUdp && l4_captured < 8) return Error{"truncated UDP header"};
    if (proto == kProtoIcmp && l4_captured < 8) return Error{"truncated ICMP header"};
  }
  const Tins::IP ip(p, static_cast<uint32_t>(size));
  pkt.ip_version = 4;
  pkt.src_ip = ip.src_addr().to_string();
  pkt.dst_ip = ip.dst_addr().to_string();
  pkt.ip_ttl = ip.ttl();
  pkt.ip_id = ip.id();
  pkt.df = (ip.flags() & Tins::IP::DONT_FRAGMENT) != 0;
  pkt.proto = ProtoOf(proto);
  // A fragment's transport header is incomplete or absent: only its IP facts count.
  if (ip.is_fragmented()) {
    pkt.proto = PacketProto::kOther;
    return true;
  }
  // Ethernet pads short frames: the total length says where the packet ends. Zero
  // means the sender's NIC segments it (TSO): what was captured is all there is.
  const size_t total = ip.tot_len();
  const size_t end = total >= ihl ? std::min(total, size) : size;
  const size_t carried = total >= ihl ? total - ihl : size - ihl;
  return FillTransport(ip, p + ihl, end - ihl, carried, false, pkt);
}

Result<bool> ParseIpv6(const uint8_t* p, size_t size, CapturedPacket& pkt) {
  if (size < 40) return Error{"truncated IPv6 header (" + std::to_string(size) + " bytes)"};
  if ((p[0] >> 4) != 6) return Error{"IPv6 ethertype but IP version " + std::to_string(p[0] >> 4)};
  const Tins::IPv6 ip(p, static_cast<uint32_t>(size));
  pkt.ip_version = 6;
  pkt.src_ip = ip.src_addr().to_string();
  pkt.dst_ip = ip.dst_addr().to_string();
  pkt.ip_ttl = ip.hop_limit();
  pkt.ip_id = 0;
  pkt.df = false;
  const size_t headers = ip.header_size();  // with its extension headers
  if (headers > size) return Error{"truncated IPv6 extension header"};
  const size_t payload_length = ip.payload_length();
  const size_t end = payload_length != 0 ? std::min(size, 40 + payload_length) : size;
  if (headers > end) return Error{"IPv6 extension headers longer than the payload"};
  const size_t carried = payload_length != 0 && 40 + payload_length >= headers
                             ? 40 + payload_length - headers
                             : end - headers;
  const Tins::PDU* inner = ip.inner_pdu();
  if (inner == nullptr) return true;
  switch (inner->pdu_type()) {
    case Tins::PDU::TCP:
      pkt.proto = PacketProto::kTcp;
      break;
    case Tins::PDU::UDP:
      pkt.proto = PacketProto::kUdp;
      break;
    case Tins::PDU::ICMPv6:
      pkt.proto = PacketProto::kIcmp;
      break;
    default:
      return true;  // a fragment, or a protocol evidence does not read
  }
  return FillTransport(ip, p + headers, end - headers, carried, true, pkt);
}

}  // namespace

Result<CapturedPacket> ParseFrame(int link_type, const uint8_t* frame, size_t size,
                                  int64_t time_ns) {
  if (frame == nullptr && size != 0) return Error{"no frame"};
  auto network = StripLinkHeader(link_type, frame, size);
  if (!network.ok()) return Error{network.error()};
  CapturedPacket pkt;
  pkt.time_ns = time_ns;
  const char* what = "IPv4";
  try {
    Result<bool> filled = true;
    if (network->ethertype == kEtherIpv4) {
      filled = ParseIpv4(network->data, network->size, pkt);
    } else if (network->ethertype == kEtherIpv6) {
      what = "IPv6";
      filled = ParseIpv6(network->data, network->size, pkt);
    } else {
      return Error{"not IP: ethertype " + Hex16(network->ethertype)};
    }
    if (!filled.ok()) return Error{filled.error()};
  } catch (const Tins::malformed_packet&) {
    return Error{std::string("malformed ") + what + " packet"};
  } catch (const std::exception& e) {
    return Error{std::string("malformed ") + what + " packet: " + e.what()};
  } catch (...) {
    return Error{std::string("malformed ") + what + " packet"};
  }
  return pkt;
}

}  // namespace vigil
