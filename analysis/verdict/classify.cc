#include "analysis/verdict/classify.h"

#include <algorithm>

#include "analysis/verdict/rule_ids.h"

namespace vigil::analysis {
namespace {

// Whether the probe's network check ran and found no way out (see the probe's
// x_network: every canary failed).
bool NetworkUnusable(const Summary& summary) {
  auto usable = Summary::Field(summary.Get("x_network"), "usable");
  return usable && usable->is_bool() && !usable->get_bool().value_unsafe();
}

bool Partial(const Summary& summary, const VerdictRow& row) {
  if (auto p = summary.Bool("x_partial_blocking"); p && *p) return true;
  const LayerVerdict& worst = row.layers[static_cast<size_t>(row.worst_layer)];
  return worst.rule_id == InfoOf(Rule::kTcpSomeFailed).id;
}

// The largest down weight of a layer no blocked layer masked.
double Down(const VerdictRow& row) {
  double down = 0;
  for (const LayerVerdict& l : row.layers) {
    if (l.measured && !l.masked) down = std::max(down, l.down);
  }
  return down;
}

}  // namespace

VerdictClass ClassOf(const RuleConfig& config, const Summary& summary, const VerdictRow& row) {
  // An envelope OONI's aggregation cannot use (no country, no network number, no report
  // id, a start in the future) fails the measurement there, but says nothing about the
  // path it measured: the layers still judge that.
  const bool envelope_only = row.failure && row.failure_reason.starts_with("envelope.");
  const bool failure = row.failure && !envelope_only;
  const bool flagged =
      envelope_only ? row.score > config.anomaly_threshold : row.anomaly || row.confirmed;
  const bool down = Down(row) > config.anomaly_threshold;
  if (!flagged && !failure && !down) return VerdictClass::kOk;
  // Without a network every step fails, the control's request and geolocation too:
  // none of that says anything about censorship.
  if (NetworkUnusable(summary)) return VerdictClass::kNoNetwork;
  // A measurement OONI's aggregation fails may still show the target failing for the
  // control the same way: that much is a judgement (down), the rest is no verdict.
  if (failure) return down ? VerdictClass::kDown : VerdictClass::kError;
  if (flagged) return Partial(summary, row) ? VerdictClass::kAnomaly : VerdictClass::kBlocked;
  return VerdictClass::kDown;
}

}  // namespace vigil::analysis
