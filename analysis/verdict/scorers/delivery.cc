// ScoreDelivery: the delivery experiment's keywords. A keyword whose test message was
// lost (twice) between two benign controls that got through is blocked; one whose test
// broke the channel until later controls got through again is stateful (residual
// blocking); every keyword delivered is ok. Anything else — the transport never opened,
// messages lost with nothing proven — is no verdict (a broken endpoint looks the same).
#include "analysis/verdict/scorers/scorers.h"
#include "analysis/verdict/scoring.h"

namespace vigil::analysis {

void ScoreDelivery(Scoring& c) {
  auto status = c.summary.Str("delivery_status");
  if (!status) {
    c.Fail("delivery.no_status");
    return;
  }
  if (*status == "transport_failure") {
    c.Fail("delivery.transport_failure");
    return;
  }
  bool blocked = false, stateful = false;
  if (auto keywords = c.summary.Get("keywords"); keywords && keywords->is_array()) {
    // Bound first: the array of a temporary result would not outlive the loop's start.
    const simdjson::dom::array list = keywords->get_array().value_unsafe();
    for (auto k : list) {
      auto verdict = Summary::StrOf(Summary::Field(k, "verdict"));
      blocked = blocked || (verdict && *verdict == "blocked");
      stateful = stateful || (verdict && *verdict == "stateful");
    }
  }
  if (blocked) {
    c.Fire(Rule::kDeliveryKeywordBlocked);
  } else if (stateful) {
    c.Fire(Rule::kDeliveryStateful);
  } else if (*status == "ok") {
    c.Fire(Rule::kDeliveryOk);
  } else {
    c.Fail("delivery.inconclusive");
  }
}

}  // namespace vigil::analysis
