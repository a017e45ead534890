#include "analysis/verdict/bogons.h"

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>

namespace vigil::analysis {

bool IsBogon(const std::string& ip) {
  unsigned char a[16];
  if (inet_pton(AF_INET, ip.c_str(), a) == 1) {
    const uint32_t v =
        (uint32_t{a[0]} << 24) | (uint32_t{a[1]} << 16) | (uint32_t{a[2]} << 8) | uint32_t{a[3]};
    struct Net {
      uint32_t base;
      int bits;
    };
    static constexpr Net kNets[] = {
        {0x00000000, 8},  {0x0A000000, 8},  {0x64400000, 10}, {0x7F000000, 8},  {0xA9FE0000, 16},
        {0xAC100000, 12}, {0xC0000000, 24}, {0xC0000200, 24}, {0xC0A80000, 16}, {0xC6120000, 15},
        {0xC6336400, 24}, {0xCB007100, 24}, {0xE0000000, 4},  {0xF0000000, 4},
    };
    for (const Net& n : kNets) {
      const uint32_t mask = n.bits == 0 ? 0 : ~uint32_t{0} << (32 - n.bits);
      if ((v & mask) == n.base) return true;
    }
    return false;
  }
  if (inet_pton(AF_INET6, ip.c_str(), a) == 1) {
    static constexpr unsigned char kZero[16] = {};
    if (std::memcmp(a, kZero, 15) == 0 && (a[15] == 0 || a[15] == 1)) return true;  // :: ::1
    if ((a[0] & 0xfe) == 0xfc) return true;                                         // ULA
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return true;                         // link-local
    if (a[0] == 0xff) return true;                                                  // multicast
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) return true;  // doc
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0) return true;        // Teredo
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a, kMapped, 12) == 0) return true;
    return false;
  }
  return false;
}

}  // namespace vigil::analysis
