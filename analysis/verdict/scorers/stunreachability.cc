// ScoreStunReachability: a STUN binding request answered or not.
#include "analysis/verdict/scorers/scorers.h"
#include "analysis/verdict/scoring.h"

namespace vigil::analysis {

void ScoreStunReachability(Scoring& c) {
  if (IsTrue(c.summary.Bool("x_response_received"))) {
    c.Fire(Rule::kTcpOk);
    return;
  }
  if (c.summary.Has("failure")) {
    auto failure = c.summary.Str("failure");
    if (!failure) {
      c.Fire(Rule::kTcpOk);
    } else if (failure->starts_with("dns_")) {
      c.Fire(Rule::kDnsFailure);
    } else {
      c.Fire(Rule::kTcpStunNoResponse);
    }
    return;
  }
  ScoreObservations(c);
}

}  // namespace vigil::analysis
