// residual_blocking: how long a censor keeps blocking the (client, server, port)
// 3-tuple after a ClientHello with a target SNI drew its interference, whatever the
// content that follows (the GFW's "residual censorship", 90-180 s). Steps, all TLS
// handshakes to one address: a control handshake (the control SNI) that must work
// first, or nothing is judged (a server that is down is never called blocked); the
// trigger (the target SNI); when the trigger failed with connection_reset,
// generic_timeout_error or eof_error, re-tests with the control SNI only (innocuous
// content) every InjectionOptions::residual_interval until one works or
// residual_bound has passed.
// What a duration means: the time from the trigger's failure to the start of the first
// re-test that worked, to within one interval (an upper bound on the block's length).
// The lab's censor (tests/lab/censor/residual_table) starts the block when the trigger
// fires and does not extend it for the re-tests it blocks, so there the duration is the
// block's own. A censor that restarts its timer on every blocked connection would hold
// the 3-tuple for as long as re-tests come faster than its timer: the sweep then reaches
// the bound, which reads as "at least the bound". Test keys: docs/evidence.md.
// Input as sni_blocking's (common/sni_endpoint_input.h). Stateless; Run on the
// executor's thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "probe/experiments/experiment.h"

namespace vigil {

inline constexpr const char* kResidualBlockingName = "residual_blocking";
inline constexpr const char* kResidualBlockingVersion = "0.1.0";

/// The handshakes of one measurement, as the judgement needs them. A failure of
/// nullopt is a handshake that worked (ssl_invalid_hostname counts as working: the
/// server answered for a name it does not serve).
struct ResidualSteps {
  bool before_ran = false;  // false: the address was not even reached (lookup failed)
  std::optional<std::string> before_failure;
  bool trigger_ran = false;
  double trigger_t = 0;  // seconds since the start, when the trigger's handshake ended
  std::optional<std::string> trigger_failure;
  struct Retest {
    double t = 0;  // seconds since the start, when the re-test began
    std::optional<std::string> failure;
  };
  std::vector<Retest> retests;
  bool bound_reached = false;  // the re-tests stopped at residual_bound, none working
};

struct ResidualJudgement {
  std::string verdict;  // residual | no_residual | not_triggered | inconclusive
  std::optional<double> residual_seconds;
  std::string reason;  // one line for the summary
};

/// Whether a trigger's failure is the interference whose aftermath is measured:
/// connection_reset, generic_timeout_error or eof_error.
bool IsTriggerFailure(const std::optional<std::string>& failure);

/// The verdict from the steps: inconclusive when the control before the trigger failed
/// (never residual then), not_triggered when the trigger was not interfered with,
/// no_residual when the first re-test worked, residual with residual_seconds (first
/// working re-test's t - trigger_t) when a later one did, residual without seconds when
/// the bound was reached, inconclusive when there was no re-test at all.
ResidualJudgement JudgeResidual(const ResidualSteps& steps);

class ResidualBlockingExperiment : public Experiment {
 public:
  std::string_view name() const override { return kResidualBlockingName; }
  std::string_view version() const override { return kResidualBlockingVersion; }
  InputPolicy input_policy() const override { return InputPolicy::kRequired; }
  asio::awaitable<Result<Measurement>> Run(const ExperimentContext& context,
                                           const Json& input) const override;
  RunSummary Summarize(const Measurement& measurement) const override;
};

}  // namespace vigil
