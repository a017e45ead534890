// RunVerdict's name table: every verdict has one word, `vigil run` prints and the
// results database keeps exactly those words, and a word read back names its verdict
// again; any other word is refused.
#include "probe/experiments/run_verdict.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <string_view>

namespace vigil {
namespace {

TEST(RunVerdict, EachVerdictHasTheWordVigilRunHasAlwaysPrinted) {
  EXPECT_EQ(RunVerdictName(RunVerdict::kOk), "ok");
  EXPECT_EQ(RunVerdictName(RunVerdict::kBlocked), "blocked");
  EXPECT_EQ(RunVerdictName(RunVerdict::kAnomaly), "anomaly");
  EXPECT_EQ(RunVerdictName(RunVerdict::kDown), "down");
  EXPECT_EQ(RunVerdictName(RunVerdict::kError), "error");
  EXPECT_EQ(RunVerdictName(RunVerdict::kSkipped), "skipped");
}

TEST(RunVerdict, EveryNameReadsBackAsItsVerdictAndNoTwoShareOne) {
  std::set<std::string_view> names;
  for (RunVerdict v : kRunVerdicts) {
    const std::string_view name = RunVerdictName(v);
    EXPECT_TRUE(names.insert(name).second) << name;
    const auto back = ParseRunVerdict(name);
    ASSERT_TRUE(back.has_value()) << name;
    EXPECT_EQ(*back, v) << name;
  }
  EXPECT_EQ(names.size(), 7u);
}

TEST(RunVerdict, AnUnknownWordIsRefused) {
  for (std::string_view word :
       {"", "OK", "Blocked", " ok", "ok ", "failure", "confirmed", "unknown", "?", "skip"}) {
    EXPECT_FALSE(ParseRunVerdict(word).has_value()) << "'" << word << "'";
  }
}

TEST(RunVerdict, StreamsAsItsName) {
  std::ostringstream out;
  out << RunVerdict::kAnomaly << " " << RunVerdict::kSkipped;
  EXPECT_EQ(out.str(), "anomaly skipped");
}

}  // namespace
}  // namespace vigil
