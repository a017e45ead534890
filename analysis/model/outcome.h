// Outcome: a measurement's verdict as OONI's aggregation counts it, exactly one of ok,
// anomaly, confirmed and failure, and its one name table: the words the stores' queries
// print, `vigil query --outcome` accepts and reports show are spelt there and nowhere
// else. The verdicts table's `outcome` column holds the number. Constant tables; safe
// from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace vigil::analysis {

/// The four outcomes, which do not overlap.
enum class Outcome : uint8_t { kOk = 0, kAnomaly = 1, kConfirmed = 2, kFailure = 3 };

/// Every outcome, in the order of their numbers.
inline constexpr std::array<Outcome, 4> kOutcomes = {Outcome::kOk, Outcome::kAnomaly,
                                                     Outcome::kConfirmed, Outcome::kFailure};

/// The outcome's name: "ok", "anomaly", "confirmed" or "failure".
const char* OutcomeName(Outcome outcome);

/// The outcome named `text` (OutcomeName's inverse); an unknown name is refused with the
/// names there are.
Result<Outcome> ParseOutcome(std::string_view text);

/// Every name, comma-separated in the order of kOutcomes, for help texts and messages.
std::string OutcomeNames();

/// confirmed, else failure, else anomaly, else ok (OONI's own flags may overlap; ours
/// never do).
Outcome OutcomeOf(bool anomaly, bool confirmed, bool failure);

}  // namespace vigil::analysis
