// Frame: a bounds-checked, zero-copy view of one captured Ethernet frame down to its
// TCP or UDP payload (IPv4 and IPv6, one optional VLAN tag). Every offset is checked
// against the captured length, so hostile frames parse as "not IP" rather than crash.
// A Frame points into bytes it does not own; thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tests/lab/censor/ip_prefix.h"

namespace vigil::lab {

constexpr uint8_t kIpProtoTcp = 6;
constexpr uint8_t kIpProtoUdp = 17;

constexpr uint8_t kTcpFin = 0x01;
constexpr uint8_t kTcpSyn = 0x02;
constexpr uint8_t kTcpRst = 0x04;
constexpr uint8_t kTcpPsh = 0x08;
constexpr uint8_t kTcpAck = 0x10;

struct Frame {
  std::span<const uint8_t> bytes;
  bool ip = false;  // IPv4 or IPv6 header parsed
  bool v6 = false;
  size_t l3_offset = 0;
  IpAddress src, dst;
  uint8_t ttl = 0;
  uint16_t ip_id = 0;
  bool df = false;
  /// Upper-layer protocol (after IPv6 extension headers).
  uint8_t proto = 0;
  /// Any IP fragment: ports and payload are unknown.
  bool fragment = false;
  /// End of the IP packet within `bytes` (Ethernet padding excluded).
  size_t ip_end = 0;
  size_t l4_offset = 0;

  bool tcp = false;
  bool udp = false;
  uint16_t sport = 0, dport = 0;
  uint32_t seq = 0, ack = 0;
  uint8_t tcp_flags = 0;
  uint16_t window = 0;
  size_t payload_offset = 0;
  size_t payload_len = 0;

  std::span<const uint8_t> eth_dst() const { return bytes.subspan(0, 6); }
  std::span<const uint8_t> eth_src() const { return bytes.subspan(6, 6); }
  std::span<const uint8_t> payload() const { return bytes.subspan(payload_offset, payload_len); }
  /// Sequence space a TCP segment occupies: payload plus one for SYN and for FIN.
  uint32_t SeqLength() const {
    return static_cast<uint32_t>(payload_len) + ((tcp_flags & kTcpSyn) ? 1 : 0) +
           ((tcp_flags & kTcpFin) ? 1 : 0);
  }
};

/// Parses `bytes`; returns false only when the frame is shorter than an Ethernet
/// header. Non-IP frames return true with ip == false.
bool ParseFrame(std::span<const uint8_t> bytes, Frame* out);

}  // namespace vigil::lab
