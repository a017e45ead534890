// ScoreResidualBlocking: the residual_blocking experiment (docs/evidence.md). A residual
// block — a handshake with an innocuous name (the control) worked on the 3-tuple before
// the trigger, and after the trigger failed the same 3-tuple failed with innocuous
// content too — is tcp.residual_block, resting on that control. The probe's verdict is
// checked against its own record: a "residual" whose control before failed or whose
// retests all worked proves nothing (residual_blocking.unproven). No residual block, or
// a trigger that was not blocked, is tcp.ok; anything else is no verdict.
#include "analysis/verdict/scorers/scorers.h"
#include "analysis/verdict/scoring.h"

namespace vigil::analysis {
namespace {

// Whether the step object `v` recorded a failure; nullopt when it is no such object.
std::optional<bool> Failed(std::optional<simdjson::dom::element> v) {
  auto failure = Summary::Field(v, "failure");
  if (!failure) return std::nullopt;
  if (failure->is_null()) return false;
  if (failure->is_string()) return true;
  return std::nullopt;
}

// Whether the record bears a residual block out: the control before worked, the trigger
// and at least one retest failed.
bool ResidualShown(const Summary& summary) {
  if (Failed(summary.Get("before")) != std::optional<bool>(false)) return false;
  if (Failed(summary.Get("trigger")) != std::optional<bool>(true)) return false;
  auto retests = summary.Get("retests");
  if (!retests || !retests->is_array()) return false;
  const simdjson::dom::array list = retests->get_array().value_unsafe();
  for (auto retest : list) {
    if (Failed(retest) == std::optional<bool>(true)) return true;
  }
  return false;
}

}  // namespace

void ScoreResidualBlocking(Scoring& c) {
  auto verdict = c.summary.Str("verdict");
  if (IsStr(verdict, "residual")) {
    if (ResidualShown(c.summary)) {
      c.Fire(Rule::kTcpResidualBlock);
    } else {
      c.Fail("residual_blocking.unproven");
    }
  } else if (IsStr(verdict, "no_residual") || IsStr(verdict, "not_triggered")) {
    c.Fire(Rule::kTcpOk);
  } else if (IsStr(verdict, "inconclusive")) {
    c.Fail("residual_blocking.inconclusive");
  } else {
    c.Fail("residual_blocking.no_verdict");
  }
}

}  // namespace vigil::analysis
