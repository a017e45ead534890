// Series on the grid: every cell present, masked and unusable measurements kept apart
// from the blocked share, data-quality flags, probes, limits.
#include "analysis/series/series.h"

#include <gtest/gtest.h>

#include "analysis/model/verdict_class.h"

namespace vigil::analysis {
namespace {

constexpr int64_t kT0 = 1704067200;  // 2024-01-01T00:00:00Z, a Monday

SeriesRow Row(int64_t t, VerdictClass verdict, uint8_t measured = 0b0011, uint8_t blocked = 0,
              uint8_t masked = 0, std::string_view report = "r1") {
  SeriesRow r;
  r.start_time = t;
  r.probe_cc = "CN";
  r.probe_asn = 4134;
  r.target = "telegram";
  r.report_id = report;
  r.software_name = "vigil";
  r.verdict = static_cast<uint8_t>(verdict);
  r.measured_layers = measured;
  r.blocked_layers = blocked;
  r.masked_layers = masked;
  return r;
}

SeriesQuery HourQuery(int64_t hours) {
  SeriesQuery q;
  q.grain = SeriesGrain::kHour;
  q.since = kT0;
  q.until = kT0 + hours * 3600;
  return q;
}

const Series* Find(const SeriesSet& set, SeriesLayer layer) {
  for (const Series& s : set.series) {
    if (s.key.layer == layer) return &s;
  }
  return nullptr;
}

TEST(Series, EveryCellOfTheWindowExistsAndADroughtIsEmpty) {
  SeriesBuilder b(HourQuery(10));
  b.Add(Row(kT0 + 10, VerdictClass::kOk));
  b.Add(Row(kT0 + 9 * 3600 + 10, VerdictClass::kBlocked, 0b0011, 0b0010));
  auto set = b.Finish();
  ASSERT_TRUE(set.ok()) << set.error();
  const Series* any = Find(*set, SeriesLayer::kAny);
  ASSERT_NE(any, nullptr);
  ASSERT_EQ(any->cells.size(), 10u);
  EXPECT_EQ(any->cells[0].usable, 1u);
  for (size_t i = 1; i < 9; ++i) {
    EXPECT_TRUE(any->cells[i].empty()) << i;
    EXPECT_TRUE(std::isnan(any->cells[i].share())) << i;
  }
  EXPECT_EQ(any->cells[9].blocked, 1u);
  EXPECT_EQ(any->CellTime(9), kT0 + 9 * 3600);
  const Series* tcp = Find(*set, SeriesLayer::kTcp);
  ASSERT_NE(tcp, nullptr);
  EXPECT_EQ(tcp->cells[9].blocked, 1u);
  EXPECT_EQ(Find(*set, SeriesLayer::kDns)->cells[9].blocked, 0u);
  EXPECT_EQ(Find(*set, SeriesLayer::kTls), nullptr) << "never measured: no series";
}

TEST(Series, MaskedAndUnusableMeasurementsAreNotReadAsUnblocking) {
  SeriesBuilder b(HourQuery(1));
  // DNS blocked, TCP masked behind it.
  b.Add(Row(kT0 + 1, VerdictClass::kBlocked, 0b0011, 0b0001, 0b0010));
  b.Add(Row(kT0 + 2, VerdictClass::kDown));
  b.Add(Row(kT0 + 3, VerdictClass::kNoNetwork));
  b.Add(Row(kT0 + 4, VerdictClass::kError));
  auto set = b.Finish();
  ASSERT_TRUE(set.ok()) << set.error();
  const SeriesCell& tcp = Find(*set, SeriesLayer::kTcp)->cells[0];
  EXPECT_EQ(tcp.usable, 0u);
  EXPECT_EQ(tcp.masked, 1u);
  EXPECT_EQ(tcp.measurements, 4u);
  EXPECT_EQ(tcp.down, 1u);
  EXPECT_EQ(tcp.no_network, 1u);
  EXPECT_EQ(tcp.error, 1u);
  const SeriesCell& any = Find(*set, SeriesLayer::kAny)->cells[0];
  EXPECT_EQ(any.usable, 1u);
  EXPECT_EQ(any.blocked, 1u);
  EXPECT_DOUBLE_EQ(any.share(), 1.0);
}

TEST(Series, BurstsAndClockSkewAreFlagged) {
  SeriesBuilder b(HourQuery(3));
  for (int i = 0; i < 200; ++i) b.Add(Row(kT0 + 3600 + 5, VerdictClass::kOk));  // one minute
  for (int i = 0; i < 199; ++i) b.Add(Row(kT0 + 10, VerdictClass::kOk));        // below the bar
  SeriesRow skewed = Row(kT0 + 2 * 3600, VerdictClass::kOk);
  skewed.upload_time = kT0 + 2 * 3600 - 3601;  // started an hour after it was uploaded
  b.Add(skewed);
  auto set = b.Finish();
  ASSERT_TRUE(set.ok()) << set.error();
  for (const Series& s : set->series) {
    EXPECT_EQ(s.cells[0].flags, 0) << SeriesLayerName(s.key.layer);
    EXPECT_EQ(s.cells[1].flags, kCellBurst) << SeriesLayerName(s.key.layer);
    EXPECT_EQ(s.cells[2].flags, kCellClockSkew) << SeriesLayerName(s.key.layer);
  }
}

TEST(Series, ProbesCountDistinctReports) {
  SeriesBuilder b(HourQuery(2));
  for (int i = 0; i < 10; ++i) b.Add(Row(kT0 + i, VerdictClass::kOk, 0b1, 0, 0, "same"));
  const std::string names[] = {"a", "b", "c", "d", "e", "f"};
  for (const auto& n : names) b.Add(Row(kT0 + 3600, VerdictClass::kOk, 0b1, 0, 0, n));
  auto set = b.Finish();
  ASSERT_TRUE(set.ok()) << set.error();
  const Series* any = Find(*set, SeriesLayer::kAny);
  EXPECT_EQ(any->cells[0].probes, 1u);
  EXPECT_GE(any->cells[1].probes, 5u);
  EXPECT_LE(any->cells[1].probes, 6u);
}

TEST(Series, RowsOutsideTheWindowOrFiltersAreLeftOut) {
  SeriesQuery q = HourQuery(1);
  q.probe_asns = {4134};
  q.layers = {SeriesLayer::kTcp};
  SeriesBuilder b(q);
  b.Add(Row(kT0 - 1, VerdictClass::kBlocked));
  b.Add(Row(kT0 + 3600, VerdictClass::kBlocked));
  SeriesRow other = Row(kT0, VerdictClass::kBlocked);
  other.probe_asn = 4837;
  b.Add(other);
  b.Add(Row(kT0 + 7, VerdictClass::kOk));
  auto set = b.Finish();
  ASSERT_TRUE(set.ok()) << set.error();
  EXPECT_EQ(set->rows_read, 1u);
  ASSERT_EQ(set->series.size(), 2u);  // tcp, and any
  EXPECT_EQ(set->series[0].key.layer, SeriesLayer::kTcp);
  EXPECT_EQ(set->series[0].cells[0].usable, 1u);
}

TEST(Series, TooManyCellsAreRefusedNamingTheLimit) {
  SeriesQuery q = HourQuery(100);
  q.max_cells = 150;
  SeriesBuilder b(q);
  b.Add(Row(kT0, VerdictClass::kOk));
  SeriesRow other = Row(kT0, VerdictClass::kOk);
  other.target = "whatsapp";
  b.Add(other);
  auto set = b.Finish();
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.error().find("more than 150 cells"), std::string::npos) << set.error();
}

}  // namespace
}  // namespace vigil::analysis
