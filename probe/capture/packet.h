// CapturedPacket: the facts evidence needs from one IPv4/IPv6 packet that the capture
// saw (addresses, ports, the IP header fields injectors leave their marks in, TCP flags
// and the first payload bytes, a DNS message's header and answers, an ICMP error's
// quoted flow), and ParseFrame, which reads them from a link-layer frame as libpcap
// hands it over. Bytes from the network: a frame that does not parse is reported, never
// trusted. Parsing is done with libtins past the link header (which libtins does not
// know for Linux's "any" device). Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace vigil {

enum class PacketProto : uint8_t { kTcp, kUdp, kIcmp, kOther };

/// One DNS resource record of an answer section (A, AAAA, CNAME; others by type only).
struct DnsAnswerFacts {
  uint16_t type = 0;  // 1 A, 28 AAAA, 5 CNAME, ...
  uint32_t ttl = 0;
  std::string data;  // the address for A/AAAA, the name for CNAME, "" otherwise
};

/// A DNS message carried by a UDP packet (port 53 either side).
struct DnsFacts {
  uint16_t id = 0;
  uint16_t flags = 0;  // the header's second 16-bit word (QR, opcode, AA, TC, RD, RA, rcode)
  std::string qname;   // the first question's name, lower-case, no trailing dot
  uint16_t qtype = 0;
  std::vector<DnsAnswerFacts> answers;
  bool is_response() const { return (flags & 0x8000) != 0; }
  int rcode() const { return flags & 0x000f; }
};

/// The packet an ICMP/ICMPv6 error quotes: which of our flows it is about.
struct IcmpQuote {
  PacketProto proto = PacketProto::kOther;
  std::string src_ip, dst_ip;
  uint16_t src_port = 0, dst_port = 0;
  uint8_t ip_ttl = 0;  // the quoted header's TTL as the router received it
};

struct CapturedPacket {
  int64_t time_ns = 0;  // wall clock (UNIX epoch), nanoseconds, as libpcap stamped it
  int ip_version = 4;   // 4 or 6
  std::string src_ip, dst_ip;
  uint8_t ip_ttl = 0;  // IPv4 TTL or IPv6 hop limit
  uint16_t ip_id = 0;  // IPv4 identification (0 for IPv6)
  bool df = false;     // IPv4 don't-fragment
  PacketProto proto = PacketProto::kOther;
  uint16_t src_port = 0, dst_port = 0;  // TCP/UDP
  // TCP
  uint8_t tcp_flags = 0;  // FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10
  uint32_t seq = 0, ack = 0;
  size_t payload_size = 0;       // TCP/UDP payload length as carried
  std::vector<uint8_t> payload;  // its first bytes (at most kPayloadKept)
  // UDP port 53
  std::optional<DnsFacts> dns;
  // ICMP/ICMPv6 errors (time exceeded, destination unreachable)
  uint8_t icmp_type = 0, icmp_code = 0;
  std::optional<IcmpQuote> icmp_quote;
};

inline constexpr size_t kPayloadKept = 64;

/// libpcap's link types that ParseFrame reads.
inline constexpr int kLinkTypeEthernet = 1;     // DLT_EN10MB
inline constexpr int kLinkTypeRaw = 101;        // LINKTYPE_RAW (an IP packet)
inline constexpr int kLinkTypeLinuxSll = 113;   // DLT_LINUX_SLL ("any", cooked v1)
inline constexpr int kLinkTypeLinuxSll2 = 276;  // DLT_LINUX_SLL2 ("any", cooked v2)

/// Reads the packet in `frame` (captured length `size`, link type `link_type`). An error
/// says what did not parse ("truncated IPv4 header", "not IP: ethertype 0x0806", ...).
/// A DNS payload that does not parse leaves `dns` empty and is no error.
Result<CapturedPacket> ParseFrame(int link_type, const uint8_t* frame, size_t size,
                                  int64_t time_ns);

}  // namespace vigil
