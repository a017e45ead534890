// The flags of a scored measurement, as OONI's aggregation reads them: exactly one of
// ok / anomaly / confirmed / failure, a failure reason for a bad envelope, and the
// blocking type named after the worst layer. A pure function of its arguments.
#pragma once

#include <cstdint>
#include <string_view>

#include "analysis/model/rows.h"
#include "analysis/verdict/rule_config.h"

namespace vigil::analysis {

/// The blocking type of a blocked `layer` whose rule was `rule_id`: dns, tcp_ip, tls,
/// http-failure, http-diff or delivery.
std::string_view BlockingType(Layer layer, std::string_view rule_id);

/// Sets `row`'s anomaly, confirmed, failure, failure_reason and blocking_type from its
/// layers, its score, the rules and the envelope `env`; `worst` is MaskLayers' result and
/// `now` (Unix seconds) the reference for an envelope without an upload time.
void SetFlags(const RuleConfig& config, const EnvelopeRow& env, int64_t now, int worst,
              VerdictRow& row);

}  // namespace vigil::analysis
