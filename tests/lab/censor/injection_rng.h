// InjectionRng: the censor's one source of randomness for the header fields of what
// it injects (TTLs, IP IDs, which forged address to answer with). One seeded
// generator, drawn from in a fixed order, makes a run reproducible from its seed.
// Not thread-safe: the engine's thread owns it.
#pragma once

#include <cstdint>
#include <random>

#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

class InjectionRng {
 public:
  explicit InjectionRng(uint64_t seed) : rng_(seed) {}

  /// The TTL `spec` asks for; `trigger_ttl` is the triggering packet's, for kCopy.
  uint8_t Ttl(const TtlSpec& spec, uint8_t trigger_ttl);
  /// The IP ID `spec` asks for (a default IpIdSpec draws from the whole range).
  uint16_t IpId(const IpIdSpec& spec);
  /// A raw 64-bit draw.
  uint64_t Next() { return rng_(); }

 private:
  std::mt19937_64 rng_;
};

}  // namespace vigil::lab
