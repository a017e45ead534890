// ScoreSniBlocking: the test's own result ("success.got_server_hello",
// "interference.*", "anomaly.*") read as a TLS verdict.
#include "analysis/verdict/scorers/scorers.h"
#include "analysis/verdict/scoring.h"

namespace vigil::analysis {

void ScoreSniBlocking(Scoring& c) {
  auto result = c.summary.Str("x_result");
  if (!result) result = c.summary.Str("result");
  if (!result) {
    ScoreObservations(c);
    return;
  }
  if (result->starts_with("anomaly.control.")) {
    c.Fail("sni_blocking.control_failed");
  } else if (*result == "success.got_server_hello") {
    c.Fire(Rule::kTlsOk);
  } else if (result->starts_with("interference.")) {
    c.Fire(Rule::kTlsSniInterference);
  } else if (*result == "anomaly.timeout") {
    c.Fire(Rule::kTlsSniTimeout);
  } else {
    c.Fire(Rule::kTlsSniUnreachable);
  }
}

}  // namespace vigil::analysis
