// Builds the Ethernet frames the censor injects — TCP segments (RSTs, block pages),
// UDP datagrams (forged DNS answers) and ICMP errors (unreachables) — with libtins, which computes
// lengths and checksums. Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tests/lab/censor/frame.h"
#include "tests/lab/censor/ip_prefix.h"

namespace vigil::lab {

struct MacPair {
  std::array<uint8_t, 6> src{};
  std::array<uint8_t, 6> dst{};

  /// The MACs of `f` as seen (same direction), or swapped (the reverse direction).
  static MacPair Of(const Frame& f, bool reverse);
};

/// The IP header fields that make up an injector's fingerprint. ip_id and df are
/// IPv4-only and ignored for IPv6.
struct IpFields {
  IpAddress src, dst;
  uint8_t ttl = 64;
  uint16_t ip_id = 0;
  bool df = false;
};

struct TcpFields {
  uint16_t sport = 0, dport = 0;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0;
};

std::vector<uint8_t> ForgeTcpFrame(const MacPair& mac, const IpFields& ip, const TcpFields& tcp,
                                   const std::string& payload);

std::vector<uint8_t> ForgeUdpFrame(const MacPair& mac, const IpFields& ip, uint16_t sport,
                                   uint16_t dport, const std::vector<uint8_t>& payload);

/// An ICMP (IPv4) or ICMPv6 error of `type` and `code` quoting `quoted` (the start of
/// the offending IP packet, cut to what the error may carry: 576 or 1280 bytes in all).
std::vector<uint8_t> ForgeIcmpErrorFrame(const MacPair& mac, const IpFields& ip, uint8_t type,
                                         uint8_t code, std::span<const uint8_t> quoted);

}  // namespace vigil::lab
