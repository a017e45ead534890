#include "analysis/model/verdict_class.h"

namespace vigil::analysis {
namespace {

// Indexed by the class's number.
constexpr std::array<std::string_view, kVerdictClasses.size()> kNames = {
    "ok", "blocked", "anomaly", "down", "no_network", "error"};

}  // namespace

std::string_view VerdictClassName(VerdictClass verdict) {
  const size_t i = static_cast<size_t>(verdict);
  return i < kNames.size() ? kNames[i] : "?";
}

Result<VerdictClass> ParseVerdictClass(std::string_view text) {
  for (VerdictClass v : kVerdictClasses) {
    if (text == VerdictClassName(v)) return v;
  }
  return Error{"unknown verdict '" + std::string(text) + "' (" + VerdictClassNames() + ")"};
}

std::string VerdictClassNames() {
  std::string out;
  for (VerdictClass v : kVerdictClasses) {
    if (!out.empty()) out += ", ";
    out += VerdictClassName(v);
  }
  return out;
}

}  // namespace vigil::analysis
