#include "probe/experiments/run_verdict.h"

#include <ostream>

namespace vigil {
namespace {

// Indexed by the verdict's number.
constexpr std::array<std::string_view, kRunVerdicts.size()> kNames = {
    "ok", "blocked", "anomaly", "down", "error", "skipped", "no_network"};

}  // namespace

std::string_view RunVerdictName(RunVerdict verdict) {
  const size_t i = static_cast<size_t>(verdict);
  return i < kNames.size() ? kNames[i] : "?";
}

std::optional<RunVerdict> ParseRunVerdict(std::string_view text) {
  for (RunVerdict v : kRunVerdicts) {
    if (text == RunVerdictName(v)) return v;
  }
  return std::nullopt;
}

std::ostream& operator<<(std::ostream& os, RunVerdict verdict) {
  return os << RunVerdictName(verdict);
}

}  // namespace vigil
