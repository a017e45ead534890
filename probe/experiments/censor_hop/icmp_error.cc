#include "probe/experiments/censor_hop/icmp_error.h"

#include <arpa/inet.h>

namespace vigil {

namespace {

constexpr uint8_t kIpProtoIcmp = 1;
constexpr uint8_t kIpProtoTcp = 6;

std::string Ipv4Text(const uint8_t* bytes) {
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, bytes, text, sizeof text);
  return text;
}

uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

}  // namespace

std::optional<IcmpError> ParseIcmpError(const uint8_t* packet, size_t size) {
  if (size < 20 || (packet[0] >> 4) != 4) return std::nullopt;
  const size_t ihl = static_cast<size_t>(packet[0] & 0x0f) * 4;
  if (ihl < 20 || packet[9] != kIpProtoIcmp || size < ihl + 8) return std::nullopt;
  const uint8_t* icmp = packet + ihl;
  IcmpError e;
  e.type = icmp[0];
  e.code = icmp[1];
  if (!e.time_exceeded() && !e.unreachable()) return std::nullopt;
  // The quote: the original IPv4 header and at least the first 8 bytes of its payload.
  const uint8_t* quote = icmp + 8;
  const size_t quote_size = size - ihl - 8;
  if (quote_size < 20 || (quote[0] >> 4) != 4) return std::nullopt;
  const size_t quote_ihl = static_cast<size_t>(quote[0] & 0x0f) * 4;
  if (quote_ihl < 20 || quote[9] != kIpProtoTcp || quote_size < quote_ihl + 4) return std::nullopt;
  e.router = Ipv4Text(packet + 12);
  e.quoted_dst = Ipv4Text(quote + 16);
  e.quoted_src_port = Be16(quote + quote_ihl);
  e.quoted_dst_port = Be16(quote + quote_ihl + 2);
  return e;
}

}  // namespace vigil
