// FormatUtc: the formats vigil writes times in, always in UTC whatever the local zone.
#include "base/utc_time.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>

namespace vigil {
namespace {

constexpr std::time_t kThirdOfDecember = 1796297553;  // 2026-12-03 11:32:33 UTC

TEST(UtcTimeTest, WritesEachFormat) {
  EXPECT_EQ(FormatUtc(kThirdOfDecember, kUtcIso8601), "2026-12-03T11:32:33Z");
  EXPECT_EQ(FormatUtc(kThirdOfDecember, kUtcOoni), "2026-12-03 11:32:33");
  EXPECT_EQ(FormatUtc(kThirdOfDecember, kUtcCompact), "20261203T113233Z");
  EXPECT_EQ(FormatUtc(kThirdOfDecember, "%Y%m%d"), "20261203");
  EXPECT_EQ(FormatUtc(std::time_t{0}, kUtcIso8601), "1970-01-01T00:00:00Z");
}

TEST(UtcTimeTest, ATimePointIsWrittenToTheSecondItIsIn) {
  const auto t =
      std::chrono::system_clock::from_time_t(kThirdOfDecember) + std::chrono::milliseconds(999);
  EXPECT_EQ(FormatUtc(t, kUtcOoni), "2026-12-03 11:32:33");
  EXPECT_EQ(FormatUtcTime(t), "2026-12-03T11:32:33Z");
}

TEST(UtcTimeTest, TheLocalTimeZoneDoesNotMatter) {
  ::setenv("TZ", "Asia/Tehran", 1);
  ::tzset();
  EXPECT_EQ(FormatUtc(kThirdOfDecember, kUtcIso8601), "2026-12-03T11:32:33Z");
  ::unsetenv("TZ");
  ::tzset();
}

TEST(UtcTimeTest, NowIsNow) {
  const std::time_t before = std::time(nullptr);
  const std::string now = FormatUtcNow(kUtcIso8601);
  const std::time_t after = std::time(nullptr);
  EXPECT_TRUE(now == FormatUtc(before, kUtcIso8601) || now == FormatUtc(after, kUtcIso8601)) << now;
}

}  // namespace
}  // namespace vigil
