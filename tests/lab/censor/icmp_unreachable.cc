#include "tests/lab/censor/icmp_unreachable.h"

#include "tests/lab/censor/forge.h"

namespace vigil::lab {
namespace {

// Destination unreachable: ICMP type 3 (RFC 792, RFC 1812 for code 13), ICMPv6 type 1
// (RFC 4443), and each error's code in both.
constexpr uint8_t kIcmpUnreachable = 3;
constexpr uint8_t kIcmp6Unreachable = 1;

uint8_t Code(Unreachable u, bool v6) {
  switch (u) {
    case Unreachable::kNet:
      return 0;  // net unreachable / no route to destination
    case Unreachable::kHost:
      return v6 ? 3 : 1;  // address / host unreachable
    case Unreachable::kPort:
      return v6 ? 4 : 3;
    case Unreachable::kAdmin:
      return v6 ? 1 : 13;  // administratively prohibited
  }
  return 0;
}

}  // namespace

nlohmann::json InjectUnreachable(const IcmpParams& icmp, const Frame& trigger, InjectionRng* rng,
                                 std::vector<Outgoing>* out) {
  const Frame& f = trigger;
  const std::optional<IpAddress>& given = f.v6 ? icmp.from6 : icmp.from4;
  const IpAddress& from = given ? *given : f.dst;
  const uint8_t type = f.v6 ? kIcmp6Unreachable : kIcmpUnreachable;
  const uint8_t code = Code(icmp.code, f.v6);
  IpFields ip{from, f.src, 64, rng->IpId({}), false};
  out->push_back(
      {Side::kClient, ForgeIcmpErrorFrame(MacPair::Of(f, true), ip, type, code,
                                          f.bytes.subspan(f.l3_offset, f.ip_end - f.l3_offset))});
  return {{"unreachable", UnreachableName(icmp.code)},
          {"icmp_type", type},
          {"icmp_code", code},
          {"from", from.ToString()}};
}

}  // namespace vigil::lab
