// VerdictClass: the one answer vigil gives a person about a measurement — ok, blocked,
// anomaly, down, no_network or error — and its one name table. OONI's four outcomes
// (outcome.h) stay as OONI's aggregation counts them; this is the word `vigil run`'s
// table, `vigil results`, the stores and `vigil query` show (docs/accuracy.md says what
// each means and how it is decided). Constant tables; safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace vigil::analysis {

enum class VerdictClass : uint8_t {
  kOk = 0,         // reachable; nothing seen
  kBlocked = 1,    // interference seen, and the service does not work through any endpoint
  kAnomaly = 2,    // interference seen on some endpoints, ports, addresses or names only
  kDown = 3,       // the control failed the same way: the target's fault, not the network's
  kNoNetwork = 4,  // the probe's own network was unusable (its canary failed too)
  kError = 5,      // no judgement: the measurement or its control could not be made
};

/// Every class, in the order of their numbers.
inline constexpr std::array<VerdictClass, 6> kVerdictClasses = {
    VerdictClass::kOk,   VerdictClass::kBlocked,   VerdictClass::kAnomaly,
    VerdictClass::kDown, VerdictClass::kNoNetwork, VerdictClass::kError};

/// "ok", "blocked", "anomaly", "down", "no_network" or "error".
std::string_view VerdictClassName(VerdictClass verdict);

/// The class named `text` (VerdictClassName's inverse); any other word is refused with
/// the names there are.
Result<VerdictClass> ParseVerdictClass(std::string_view text);

/// Every name, comma-separated, for help texts and messages.
std::string VerdictClassNames();

}  // namespace vigil::analysis
