// IpAddress and IpPrefix: IPv4 and IPv6 addresses as 16 raw bytes plus a family,
// parsed from text ("198.18.70.0/24", "fd00:64::/64", "198.18.70.1") and matched
// against addresses taken from packets. Plain value types; thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace vigil::lab {

struct IpAddress {
  bool v6 = false;
  /// IPv4 uses the first 4 bytes; the rest stay zero so addresses compare bytewise.
  std::array<uint8_t, 16> bytes{};

  static IpAddress V4(std::span<const uint8_t, 4> b);
  static IpAddress V6(std::span<const uint8_t, 16> b);
  /// The address `text` spells, or nullopt.
  static std::optional<IpAddress> Parse(std::string_view text);

  std::string ToString() const;
  size_t size() const { return v6 ? 16 : 4; }
  auto operator<=>(const IpAddress&) const = default;
};

struct IpPrefix {
  IpAddress base;
  int length = 0;

  /// "a.b.c.d/n", "x::/n", or a bare address (a host prefix); nullopt when malformed,
  /// when n is out of range or when host bits are set below the prefix.
  static std::optional<IpPrefix> Parse(std::string_view text);
  bool Contains(const IpAddress& a) const;
  std::string ToString() const;
};

}  // namespace vigil::lab
