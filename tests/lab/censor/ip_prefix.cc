#include "tests/lab/censor/ip_prefix.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace vigil::lab {

IpAddress IpAddress::V4(std::span<const uint8_t, 4> b) {
  IpAddress a;
  std::memcpy(a.bytes.data(), b.data(), 4);
  return a;
}

IpAddress IpAddress::V6(std::span<const uint8_t, 16> b) {
  IpAddress a;
  a.v6 = true;
  std::memcpy(a.bytes.data(), b.data(), 16);
  return a;
}

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.v6 = true;
    return a;
  }
  return std::nullopt;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<IpPrefix> IpPrefix::Parse(std::string_view text) {
  size_t slash = text.find('/');
  auto addr = IpAddress::Parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  int max = addr->v6 ? 128 : 32;
  int length = max;
  if (slash != std::string_view::npos) {
    std::string_view n = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), length);
    if (n.empty() || ec != std::errc() || end != n.data() + n.size() || length < 0 ||
        length > max) {
      return std::nullopt;
    }
  }
  IpPrefix p{*addr, length};
  // A prefix with host bits set ("10.0.0.1/8") is almost always a typo for another
  // network; rejecting it beats silently matching something else.
  for (int bit = length; bit < max; ++bit) {
    if (addr->bytes[bit / 8] & (0x80 >> (bit % 8))) return std::nullopt;
  }
  return p;
}

bool IpPrefix::Contains(const IpAddress& a) const {
  if (a.v6 != base.v6) return false;
  int full = length / 8;
  if (std::memcmp(a.bytes.data(), base.bytes.data(), full) != 0) return false;
  int rest = length % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a.bytes[full] & mask) == (base.bytes[full] & mask);
}

std::string IpPrefix::ToString() const { return base.ToString() + "/" + std::to_string(length); }

}  // namespace vigil::lab
