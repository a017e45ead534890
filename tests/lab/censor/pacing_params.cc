// throttle's and delay's parameter keys: a rate with its burst and queue, or
// milliseconds each way.
#include <string>

#include "tests/lab/censor/action_params.h"
#include "tests/lab/censor/scenario_parser.h"

namespace vigil::lab {

bool ReadThrottleParam(FieldReader* r, const std::string& k, const YAML::Node& kn,
                       const YAML::Node& v, Rule* rule, ParamKeysSeen* seen) {
  ThrottleParams& t = rule->throttle;
  if (k == "rate") {
    seen->rate = true;
    if (!r->Scalar(kn, k, v)) return true;
    auto bps = ParseRate(v.Scalar());
    if (!bps || *bps < 1000) {
      r->Fail(v, k, "bad rate \"" + v.Scalar() + "\" (want e.g. 64kbit, 2mbit; >= 1kbit)");
    } else {
      t.rate_bps = *bps;
    }
  } else if (k == "burst_bytes") {
    r->UintAs(kn, k, v, 1500, 16 << 20, &t.burst_bytes);
  } else if (k == "queue_bytes") {
    r->UintAs(kn, k, v, 1500, 64 << 20, &t.queue_bytes);
  } else {
    return false;
  }
  return true;
}

void CheckThrottle(FieldReader* r, const YAML::Node& rule_node, const ParamKeysSeen& seen, Rule*) {
  if (!seen.rate) r->Fail(rule_node, "rate", "missing");
}

bool ReadDelayParam(FieldReader* r, const std::string& k, const YAML::Node& kn, const YAML::Node& v,
                    Rule* rule, ParamKeysSeen* seen) {
  DelayParams& d = rule->delay;
  if (k == "ms") {
    seen->ms = true;
    uint32_t ms = 0;
    if (r->UintAs(kn, k, v, 0, 60000, &ms)) d.up_ms = d.down_ms = ms;
  } else if (k == "up_ms") {
    seen->up_down = true;
    r->UintAs(kn, k, v, 0, 60000, &d.up_ms);
  } else if (k == "down_ms") {
    seen->up_down = true;
    r->UintAs(kn, k, v, 0, 60000, &d.down_ms);
  } else {
    return false;
  }
  return true;
}

void CheckDelay(FieldReader* r, const YAML::Node& rule_node, const ParamKeysSeen& seen, Rule*) {
  if (seen.ms && seen.up_down) r->Fail(rule_node, "ms", "give ms or up_ms/down_ms, not both");
  if (!seen.ms && !seen.up_down) r->Fail(rule_node, "ms", "missing (ms, or up_ms and/or down_ms)");
}

}  // namespace vigil::lab
