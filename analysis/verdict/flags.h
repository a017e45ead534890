// The flags of a scored measurement, as OONI's aggregation reads them: exactly one of
// ok / anomaly / confirmed / failure, a failure reason for a bad envelope, and the
// blocking type named after the worst layer. A pure function of its arguments.
#pragma once

#include "analysis/model/rows.h"
#include "analysis/verdict/rule_config.h"

namespace vigil::analysis {

/// Sets `row`'s anomaly, confirmed, failure, failure_reason and blocking_type from its
/// layers, its score, the rules and the envelope `env`; `worst` is MaskLayers' result.
void SetFlags(const RuleConfig& config, const EnvelopeRow& env, int worst, VerdictRow& row);

}  // namespace vigil::analysis
