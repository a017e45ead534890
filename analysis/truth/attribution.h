// Attribution: which of the censor's acts concern a measurement. A measurement records
// no source ports (and its probe address is scrubbed), so an act is matched by what
// the measurement touched and when: an act within the measurement's time window whose
// DNS query name is one it looked up, whose TLS server name or HTTP Host is one it used
// (at the flow's server address, when its step recorded one), or, for acts on addresses
// (drops, throttling, residual blocks), whose server address and port it connected to.
// Two measurements running at once that touch the same name or endpoint both take the
// act: the censor treats every flow of a rule alike. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "analysis/model/rows.h"
#include "analysis/truth/censor_truth.h"

namespace vigil::analysis {

/// Seconds of a measurement's window past its runtime (its start has whole seconds, the
/// truth's times fractions), and the runtime assumed when a measurement gives none.
inline constexpr double kWindowSlackSeconds = 2;
inline constexpr double kRuntimeWhenUnknown = 60;

/// The indices into truth.acts of the acts that concern `m`, in time order.
std::vector<size_t> ActsOn(const CensorTruth& truth, const ExtractedMeasurement& m);

}  // namespace vigil::analysis
