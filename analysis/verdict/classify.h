// The verdict class of a scored measurement (model/verdict_class.h): what the layers,
// OONI's flags, the measurement's own network check (x_network) and its partial flag
// (x_partial_blocking) add up to. One function, so that `vigil run`'s table, the
// stores and `vigil query` cannot disagree. A pure function of its arguments.
#pragma once

#include "analysis/model/rows.h"
#include "analysis/verdict/rule_config.h"
#include "analysis/verdict/summary.h"

namespace vigil::analysis {

/// In order: a measurement that saw nothing wrong is ok; one whose probe found its own
/// network unusable (x_network.usable false) is no_network, whatever else it saw; one
/// that could not be judged (a failure other than the envelope's: an envelope without a
/// country fails OONI's aggregation, not the judgement of the path) is error, or down
/// when a control failed the same way; blocking seen is
/// anomaly when the service still worked through some endpoint (x_partial_blocking,
/// tcp.some_failed), else blocked; a layer whose control failed the same way (its down weight above
/// the anomaly threshold) is down; anything else is ok.
VerdictClass ClassOf(const RuleConfig& config, const Summary& summary, const VerdictRow& row);

}  // namespace vigil::analysis
