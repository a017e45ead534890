#include "analysis/model/outcome.h"

namespace vigil::analysis {
namespace {

// Indexed by the outcome's number.
constexpr std::array<const char*, kOutcomes.size()> kNames = {"ok", "anomaly", "confirmed",
                                                              "failure"};

}  // namespace

const char* OutcomeName(Outcome outcome) {
  const size_t i = static_cast<size_t>(outcome);
  return i < kNames.size() ? kNames[i] : "?";
}

Result<Outcome> ParseOutcome(std::string_view text) {
  for (Outcome o : kOutcomes) {
    if (text == OutcomeName(o)) return o;
  }
  return Error{"unknown outcome '" + std::string(text) + "' (" + OutcomeNames() + ")"};
}

std::string OutcomeNames() {
  std::string out;
  for (Outcome o : kOutcomes) out += (out.empty() ? "" : ", ") + std::string(OutcomeName(o));
  return out;
}

Outcome OutcomeOf(bool anomaly, bool confirmed, bool failure) {
  if (confirmed) return Outcome::kConfirmed;
  if (failure) return Outcome::kFailure;
  if (anomaly) return Outcome::kAnomaly;
  return Outcome::kOk;
}

}  // namespace vigil::analysis
