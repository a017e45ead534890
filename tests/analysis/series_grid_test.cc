// The series' time grid and names: cell starts at every grain (weeks from Monday, UTC,
// before the epoch too), cell times, and the grain and layer names both ways.
#include <gtest/gtest.h>

#include "analysis/series/series.h"

namespace vigil::analysis {
namespace {

constexpr int64_t kMonday = 1704067200;  // 2024-01-01 00:00 UTC

TEST(SeriesGridTest, CellStartsAlignToTheGrain) {
  const int64_t t = kMonday + 3 * 86400 + 5 * 3600 + 17 * 60 + 42;  // Thursday 05:17:42
  EXPECT_EQ(CellStart(t, SeriesGrain::kMinute), t - 42);
  EXPECT_EQ(CellStart(t, SeriesGrain::kHour), t - 17 * 60 - 42);
  EXPECT_EQ(CellStart(t, SeriesGrain::kDay), kMonday + 3 * 86400);
  EXPECT_EQ(CellStart(t, SeriesGrain::kWeek), kMonday);
  EXPECT_EQ(CellStart(kMonday, SeriesGrain::kWeek), kMonday);
  EXPECT_EQ(CellStart(kMonday - 1, SeriesGrain::kWeek), kMonday - 7 * 86400);
  // Before the epoch: 1969-12-31 23:00 is in the week of Monday 1969-12-29.
  EXPECT_EQ(CellStart(-3600, SeriesGrain::kWeek), -3 * 86400);
  EXPECT_EQ(CellStart(-3600, SeriesGrain::kDay), -86400);
  EXPECT_EQ(CellStart(-1, SeriesGrain::kHour), -3600);
  EXPECT_EQ(GrainSeconds(SeriesGrain::kWeek), 7 * 86400);
}

TEST(SeriesGridTest, CellTimesStepByTheGrain) {
  Series s;
  s.since = kMonday;
  s.grain = SeriesGrain::kHour;
  EXPECT_EQ(s.CellTime(0), kMonday);
  EXPECT_EQ(s.CellTime(25), kMonday + 25 * 3600);
  s.grain = SeriesGrain::kWeek;
  EXPECT_EQ(s.CellTime(2), kMonday + 14 * 86400);
}

TEST(SeriesGridTest, NamesParseBack) {
  for (SeriesGrain g :
       {SeriesGrain::kMinute, SeriesGrain::kHour, SeriesGrain::kDay, SeriesGrain::kWeek}) {
    auto parsed = ParseSeriesGrain(SeriesGrainName(g));
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    EXPECT_EQ(*parsed, g);
  }
  for (size_t i = 0; i < kSeriesLayerCount; ++i) {
    const auto layer = static_cast<SeriesLayer>(i);
    auto parsed = ParseSeriesLayer(SeriesLayerName(layer));
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    EXPECT_EQ(*parsed, layer);
  }
  EXPECT_STREQ(SeriesLayerName(SeriesLayer::kDelivery), "delivery");
  EXPECT_EQ(ParseSeriesGrain("month").error(),
            "unknown grain 'month' (grains: minute, hour, day, week)");
  EXPECT_EQ(ParseSeriesLayer("udp").error(),
            "unknown layer 'udp' (layers: dns, tcp, tls, http, delivery, any)");
}

}  // namespace
}  // namespace vigil::analysis
