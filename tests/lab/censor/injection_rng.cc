#include "tests/lab/censor/injection_rng.h"

namespace vigil::lab {

uint8_t InjectionRng::Ttl(const TtlSpec& spec, uint8_t trigger_ttl) {
  switch (spec.kind) {
    case TtlSpec::kCopy:
      return trigger_ttl;
    case TtlSpec::kRandom:
      return static_cast<uint8_t>(std::uniform_int_distribution<int>(spec.lo, spec.hi)(rng_));
    case TtlSpec::kFixed:
      break;
  }
  return spec.lo;
}

uint16_t InjectionRng::IpId(const IpIdSpec& spec) {
  if (!spec.random) return spec.value;
  return static_cast<uint16_t>(std::uniform_int_distribution<int>(spec.lo, spec.hi)(rng_));
}

}  // namespace vigil::lab
