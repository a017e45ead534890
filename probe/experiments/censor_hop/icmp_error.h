// IcmpError: an ICMPv4 error (time exceeded, destination unreachable) as a raw ICMP
// socket hands it over (the IPv4 header first), with the TCP segment it quotes: which
// router sent it and which of our flows it is about. censor_hop matches the quote
// against the connection whose TTL it limited. Bytes from the network: anything
// malformed is nullopt. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace vigil {

struct IcmpError {
  std::string router;  // the outer IPv4 source: who sent the error
  uint8_t type = 0;    // 11 time exceeded, 3 destination unreachable
  uint8_t code = 0;
  // The quoted TCP segment's addresses and ports (our own packet, as the router saw it).
  std::string quoted_dst;
  uint16_t quoted_src_port = 0, quoted_dst_port = 0;

  bool time_exceeded() const { return type == 11; }
  bool unreachable() const { return type == 3; }
};

/// Reads an IPv4 packet carrying an ICMP time-exceeded or destination-unreachable that
/// quotes a TCP segment; nullopt for anything else (echo replies, UDP quotes, runts).
std::optional<IcmpError> ParseIcmpError(const uint8_t* packet, size_t size);

}  // namespace vigil
