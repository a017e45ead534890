// The outcome names: the words `vigil query` prints and `--outcome` accepts, read back
// into the outcome they name.
#include "analysis/model/outcome.h"

#include <gtest/gtest.h>

#include <set>

#include "analysis/model/rows.h"

namespace vigil::analysis {
namespace {

TEST(OutcomeTest, EveryNameReadsBackAsItsOutcome) {
  std::set<std::string> names;
  for (Outcome o : kOutcomes) {
    names.insert(OutcomeName(o));
    auto parsed = ParseOutcome(OutcomeName(o));
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    EXPECT_EQ(*parsed, o);
  }
  EXPECT_EQ(names, (std::set<std::string>{"ok", "anomaly", "confirmed", "failure"}));
  EXPECT_EQ(OutcomeNames(), "ok, anomaly, confirmed, failure");
}

TEST(OutcomeTest, AnUnknownNameIsRefusedWithTheNamesThereAre) {
  auto parsed = ParseOutcome("blocked");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error(), "unknown outcome 'blocked' (ok, anomaly, confirmed, failure)");
  EXPECT_FALSE(ParseOutcome("Anomaly").ok());
  EXPECT_FALSE(ParseOutcome("").ok());
}

TEST(OutcomeTest, ExactlyOneOutcomeWhateverTheFlags) {
  EXPECT_EQ(OutcomeOf(false, false, false), Outcome::kOk);
  EXPECT_EQ(OutcomeOf(true, false, false), Outcome::kAnomaly);
  EXPECT_EQ(OutcomeOf(true, false, true), Outcome::kFailure);
  EXPECT_EQ(OutcomeOf(true, true, true), Outcome::kConfirmed);
  VerdictRow row;
  row.failure = true;
  EXPECT_EQ(OutcomeOf(row), Outcome::kFailure);
}

}  // namespace
}  // namespace vigil::analysis
