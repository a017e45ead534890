// residual_blocking's judgement from the steps of a measurement (never residual when
// the control before the trigger failed; the duration from the first working re-test;
// the bound as a lower bound) and the summary line a user reads.
#include "probe/experiments/residual_blocking/residual_blocking.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

ResidualSteps Triggered(std::vector<std::optional<std::string>> retests, double every = 10) {
  ResidualSteps s;
  s.before_ran = true;
  s.trigger_ran = true;
  s.trigger_t = 1.0;
  s.trigger_failure = "connection_reset";
  double t = s.trigger_t;
  for (auto& f : retests) s.retests.push_back({t += every, f});
  return s;
}

TEST(JudgeResidual, TheFirstWorkingRetestDatesTheEndOfTheBlock) {
  auto j = JudgeResidual(Triggered({"connection_refused", "connection_refused", std::nullopt}));
  EXPECT_EQ(j.verdict, "residual");
  ASSERT_TRUE(j.residual_seconds);
  EXPECT_DOUBLE_EQ(*j.residual_seconds, 30.0);
}

TEST(JudgeResidual, AWorkingFirstRetestIsNoResidualBlock) {
  auto j = JudgeResidual(Triggered({std::nullopt}));
  EXPECT_EQ(j.verdict, "no_residual");
  EXPECT_FALSE(j.residual_seconds);
}

TEST(JudgeResidual, TheBoundReachedIsAResidualBlockOfUnknownLength) {
  auto s = Triggered({"connection_refused", "connection_refused"});
  s.bound_reached = true;
  auto j = JudgeResidual(s);
  EXPECT_EQ(j.verdict, "residual");
  EXPECT_FALSE(j.residual_seconds);
}

TEST(JudgeResidual, NeverResidualWhenTheControlBeforeTheTriggerFailed) {
  auto s = Triggered({"connection_refused", std::nullopt});
  s.before_failure = "connection_refused";
  auto j = JudgeResidual(s);
  EXPECT_EQ(j.verdict, "inconclusive");
  EXPECT_NE(j.reason.find("not reachable"), std::string::npos) << j.reason;
  s.before_failure.reset();
  s.before_ran = false;  // the lookup failed: nothing was reached
  EXPECT_EQ(JudgeResidual(s).verdict, "inconclusive");
}

TEST(JudgeResidual, OnlyAResetATimeoutOrACloseTriggers) {
  auto s = Triggered({});
  for (const char* f : {"connection_reset", "generic_timeout_error", "eof_error"}) {
    EXPECT_TRUE(IsTriggerFailure(std::string(f))) << f;
  }
  s.trigger_failure.reset();
  EXPECT_EQ(JudgeResidual(s).verdict, "not_triggered");
  s.trigger_failure = "ssl_unknown_authority";
  EXPECT_EQ(JudgeResidual(s).verdict, "not_triggered");
  s.trigger_failure = "connection_reset";
  EXPECT_EQ(JudgeResidual(s).verdict, "inconclusive") << "triggered but never re-tested";
}

Measurement WithKeys(Json keys) {
  Measurement m;
  m.input = "web.whatsapp.com";
  m.test_keys.extra = std::move(keys);
  return m;
}

TEST(ResidualBlockingSummary, SaysHowLongAndWithWhatResolution) {
  ResidualBlockingExperiment e;
  Json keys = {
      {"verdict", "residual"},     {"address", "198.18.71.3:443"},
      {"sni", "web.whatsapp.com"}, {"trigger", {{"t", 0.1}, {"failure", "connection_reset"}}},
      {"residual_seconds", 4.5},   {"x_residual_interval", 0.5},
      {"x_residual_bound", 200.0}};
  RunSummary s = e.Summarize(WithKeys(keys));
  EXPECT_EQ(s.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(s.evidence.rfind("residual block of 4.5 s after the trigger", 0), 0u) << s.evidence;
  EXPECT_NE(s.evidence.find("to within 0.5 s"), std::string::npos) << s.evidence;

  keys["residual_seconds"] = nullptr;
  keys["bound_reached"] = true;
  s = e.Summarize(WithKeys(keys));
  EXPECT_EQ(s.evidence.rfind("residual block of at least 200 s", 0), 0u) << s.evidence;

  keys["verdict"] = "inconclusive";
  keys["x_reason"] = "the control handshake before the trigger failed";
  s = e.Summarize(WithKeys(keys));
  EXPECT_EQ(s.verdict, RunVerdict::kError);
  EXPECT_TRUE(s.blocking.empty());
}

}  // namespace
}  // namespace vigil
