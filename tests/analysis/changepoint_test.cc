// Change points on synthetic hourly series: onsets and ends found where blocking starts
// and stops, partial blocking, no alarm on noise or a measurement drought, and the
// defects of OONI's detector (onset at the alarm, masked and unusable measurements read
// as unblocking) visible beside the detectors that fix them. Seeds are fixed.
#include "analysis/changepoint/changepoint.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <utility>

namespace vigil::analysis {
namespace {

constexpr int64_t kMonday = 1704067200;  // 2024-01-01 00:00 UTC
constexpr size_t kFourWeeks = 4 * 7 * 24;

// Draws that are the same on every platform (mt19937's raw output is specified; the
// standard distributions are not).
class Draws {
 public:
  explicit Draws(uint32_t seed) : rng_(seed) {}
  bool Chance(double p) { return static_cast<double>(rng_()) < p * 4294967296.0; }
  uint32_t Between(uint32_t lo, uint32_t hi) { return lo + rng_() % (hi - lo + 1); }

 private:
  std::mt19937 rng_;
};

Series Empty(size_t cells) {
  Series s;
  s.key = {"IR", 197207, "web.whatsapp.com", SeriesLayer::kAny};
  s.grain = SeriesGrain::kHour;
  s.since = kMonday;
  s.cells.resize(cells);
  return s;
}

// An hourly series whose cell i has 4 to 8 measurements, each blocked with probability
// share(i); a NaN share leaves the cell empty.
template <typename Share>
Series Hourly(size_t cells, uint32_t seed, Share share) {
  Series s = Empty(cells);
  Draws draws(seed);
  for (size_t i = 0; i < cells; ++i) {
    const double p = share(i);
    if (std::isnan(p)) continue;
    SeriesCell& c = s.cells[i];
    c.measurements = c.usable = c.probes = draws.Between(4, 8);
    for (uint32_t k = 0; k < c.usable; ++k) c.blocked += draws.Chance(p) ? 1 : 0;
  }
  return s;
}

// Blocking from `onset` on, noise of 2 % before.
Series Sharp(uint32_t seed, size_t onset, double share = 0.95) {
  return Hourly(kFourWeeks, seed, [&](size_t i) { return i < onset ? 0.02 : share; });
}

bool Near(size_t cell, size_t expected, size_t cells) {
  return (cell > expected ? cell - expected : expected - cell) <= cells;
}

std::string Describe(const std::vector<ChangePoint>& changes) {
  std::string out;
  for (const ChangePoint& c : changes) {
    out += std::string(ChangeDirectionName(c.direction)) + "@" + std::to_string(c.cell) +
           " (alarm " + std::to_string(c.alarm_cell) + ", " + std::to_string(c.before_share) +
           " -> " + std::to_string(c.after_share) + ", p " + std::to_string(c.p_value) + ") ";
  }
  return out;
}

using Detector = std::vector<ChangePoint> (*)(const Series&);
std::vector<ChangePoint> Cusum(const Series& s) { return DetectCusum(s); }
std::vector<ChangePoint> Pelt(const Series& s) { return DetectPelt(s); }
std::vector<ChangePoint> Baseline(const Series& s) { return DetectCusumOoniBaseline(s); }
const std::pair<const char*, Detector> kDetectors[] = {{"cusum", Cusum}, {"pelt", Pelt}};

TEST(ChangePointTest, SharpOnsetIsFoundWithinTwoCellsByBoth) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    const Series s = Sharp(seed, 300);
    for (const auto& [name, detect] : kDetectors) {
      const std::vector<ChangePoint> changes = detect(s);
      ASSERT_EQ(changes.size(), 1u) << name << " seed " << seed << ": " << Describe(changes);
      const ChangePoint& c = changes[0];
      EXPECT_EQ(c.direction, ChangeDirection::kStart) << name;
      EXPECT_TRUE(Near(c.cell, 300, 2)) << name << " seed " << seed << ": " << Describe(changes);
      EXPECT_EQ(c.onset, kMonday + static_cast<int64_t>(c.cell) * 3600);
      EXPECT_LT(c.p_value, 1e-6) << name;
      EXPECT_DOUBLE_EQ(c.confidence, 1 - c.p_value);
      EXPECT_LT(c.before_share, 0.05) << name;
      EXPECT_GT(c.after_share, 0.9) << name;
      EXPECT_EQ(c.before_usable + c.after_usable, [&] {
        uint64_t usable = 0;
        for (const SeriesCell& cell : s.cells) usable += cell.usable;
        return usable;
      }());
    }
    // CUSUM becomes sure a few cells later than the onset it reports.
    const ChangePoint c = DetectCusum(s)[0];
    EXPECT_EQ(c.method, ChangeMethod::kCusum);
    EXPECT_GT(c.alarm_cell, c.cell);
    EXPECT_LE(c.alarm_cell, c.cell + 6);
    EXPECT_EQ(DetectPelt(s)[0].method, ChangeMethod::kPelt);
  }
}

TEST(ChangePointTest, EndOfBlockingIsFound) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    const Series s =
        Hourly(kFourWeeks, seed, [](size_t i) { return i >= 200 && i < 400 ? 0.95 : 0.02; });
    for (const auto& [name, detect] : kDetectors) {
      const std::vector<ChangePoint> changes = detect(s);
      ASSERT_EQ(changes.size(), 2u) << name << " seed " << seed << ": " << Describe(changes);
      EXPECT_EQ(changes[0].direction, ChangeDirection::kStart);
      EXPECT_TRUE(Near(changes[0].cell, 200, 2)) << name << ": " << Describe(changes);
      EXPECT_EQ(changes[1].direction, ChangeDirection::kEnd);
      EXPECT_TRUE(Near(changes[1].cell, 400, 2)) << name << ": " << Describe(changes);
      EXPECT_LT(changes[1].p_value, 1e-6);
      // Segments run to the neighbouring change.
      EXPECT_EQ(changes[0].after_usable, changes[1].before_usable);
    }
  }
}

TEST(ChangePointTest, ShortEpisodeGetsItsStartAndItsEnd) {
  // Ten blocked hours: CUSUM's alarm for the start comes half-way through, and its
  // watch for the end must read the cells since the onset, not since the alarm.
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    const Series s =
        Hourly(kFourWeeks, seed, [](size_t i) { return i >= 200 && i < 210 ? 0.95 : 0.02; });
    for (const auto& [name, detect] : kDetectors) {
      const std::vector<ChangePoint> changes = detect(s);
      ASSERT_EQ(changes.size(), 2u) << name << " seed " << seed << ": " << Describe(changes);
      EXPECT_TRUE(Near(changes[0].cell, 200, 2)) << name << ": " << Describe(changes);
      EXPECT_EQ(changes[1].direction, ChangeDirection::kEnd);
      EXPECT_TRUE(Near(changes[1].cell, 210, 2)) << name << ": " << Describe(changes);
    }
  }
}

TEST(ChangePointTest, PartialBlockingIsDetected) {
  // Half the measurements blocked: 0.5 - 0.35 > 0, so CUSUM's sum still climbs, slowly.
  // Its onset is where the sum last left zero, and with 4-8 measurements an hour a cell
  // below 0.35 early in the episode (a third of them) takes it back to zero: the onset
  // it reports can be a few cells late. PELT places the change by likelihood.
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    const Series s = Sharp(seed, 300, 0.5);
    for (const auto& [name, detect] : kDetectors) {
      const std::vector<ChangePoint> changes = detect(s);
      ASSERT_EQ(changes.size(), 1u) << name << " seed " << seed << ": " << Describe(changes);
      EXPECT_EQ(changes[0].direction, ChangeDirection::kStart);
      EXPECT_NEAR(changes[0].after_share, 0.5, 0.05);
    }
    const ChangePoint cusum = DetectCusum(s)[0];
    EXPECT_GE(cusum.cell, 300u) << seed;
    EXPECT_LE(cusum.cell, 308u) << seed;
    EXPECT_TRUE(Near(DetectPelt(s)[0].cell, 300, 2)) << seed << ": " << Describe(DetectPelt(s));
  }
}

TEST(ChangePointTest, NoiseGivesNoChange) {
  for (uint32_t seed = 1; seed <= 50; ++seed) {
    const Series s = Hourly(kFourWeeks, seed, [](size_t) { return 0.02; });
    for (const auto& [name, detect] : kDetectors) {
      EXPECT_TRUE(detect(s).empty()) << name << " seed " << seed << ": " << Describe(detect(s));
    }
    EXPECT_TRUE(Baseline(s).empty()) << seed;
  }
}

TEST(ChangePointTest, DroughtInAQuietSeriesGivesNoChange) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    const Series s = Hourly(kFourWeeks, seed,
                            [](size_t i) { return i >= 200 && i < 320 ? std::nan("") : 0.02; });
    for (const auto& [name, detect] : kDetectors) {
      EXPECT_TRUE(detect(s).empty()) << name << " seed " << seed << ": " << Describe(detect(s));
    }
  }
}

TEST(ChangePointTest, BlockingAfterADroughtStartsAtTheFirstCellWithData) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    const Series s = Hourly(kFourWeeks, seed, [](size_t i) {
      return i < 200 ? 0.02 : i < 260 ? std::nan("") : 0.95;
    });
    for (const auto& [name, detect] : kDetectors) {
      const std::vector<ChangePoint> changes = detect(s);
      ASSERT_EQ(changes.size(), 1u) << name << " seed " << seed << ": " << Describe(changes);
      EXPECT_EQ(changes[0].direction, ChangeDirection::kStart);
      EXPECT_TRUE(Near(changes[0].cell, 260, 2)) << name << ": " << Describe(changes);
    }
  }
}

TEST(ChangePointTest, GapOverADayDecaysTheEvidence) {
  // Five fully blocked hours (CUSUM's sum 5 x 0.65 = 3.25), a gap, one more blocked hour:
  // after 20 empty hours the sum crosses 3.5; after 30 it has decayed (0.5^(31/48)) and
  // does not.
  auto series = [](size_t gap) {
    Series s = Empty(kFourWeeks);
    for (size_t i = 0; i < s.cells.size(); ++i) {
      const bool blocked = (i >= 100 && i < 105) || i == 105 + gap;
      if (i >= 105 && i < 105 + gap) continue;
      s.cells[i].measurements = s.cells[i].usable = 5;
      s.cells[i].blocked = blocked ? 5 : 0;
    }
    return s;
  };
  CusumParams params;
  params.max_p_value = 1;  // the crossing itself is what is tested
  const std::vector<ChangePoint> short_gap = DetectCusum(series(20), params);
  ASSERT_FALSE(short_gap.empty());
  EXPECT_EQ(short_gap[0].direction, ChangeDirection::kStart);
  EXPECT_EQ(short_gap[0].cell, 100u);
  EXPECT_EQ(short_gap[0].alarm_cell, 125u);
  EXPECT_TRUE(DetectCusum(series(30), params).empty()) << Describe(DetectCusum(series(30), params));
}

TEST(ChangePointTest, AnswerDependsOnTheCountsOnly) {
  // No state survives a call: the same counts, laid out measurement by measurement in
  // reverse time order, give the same answer, and so does a second call after another
  // series.
  const Series s = Hourly(kFourWeeks, 7, [](size_t i) { return i >= 200 && i < 400 ? 0.8 : 0.02; });
  Series rebuilt = Empty(kFourWeeks);
  for (size_t i = s.cells.size(); i-- > 0;) {
    for (uint32_t k = 0; k < s.cells[i].usable; ++k) {
      SeriesCell& c = rebuilt.cells[i];
      ++c.measurements;
      ++c.usable;
      ++c.probes;
      if (k < s.cells[i].blocked) ++c.blocked;
    }
  }
  ASSERT_EQ(rebuilt.cells, s.cells);
  const Series other = Sharp(99, 100);
  for (Detector detect : {Cusum, Pelt, Baseline}) {
    const std::vector<ChangePoint> first = detect(s);
    ASSERT_FALSE(first.empty());
    detect(other);
    for (const std::vector<ChangePoint>& again : {detect(rebuilt), detect(s)}) {
      ASSERT_EQ(again.size(), first.size());
      for (size_t k = 0; k < first.size(); ++k) {
        EXPECT_EQ(again[k].cell, first[k].cell);
        EXPECT_EQ(again[k].alarm_cell, first[k].alarm_cell);
        EXPECT_EQ(again[k].direction, first[k].direction);
        EXPECT_EQ(again[k].after_blocked, first[k].after_blocked);
        EXPECT_EQ(again[k].p_value, first[k].p_value);
      }
    }
  }
}

TEST(ChangePointTest, MaskedCellsDoNotEndBlocking) {
  // A TCP-layer series: connections reset from hour 200; from hour 400 the censor blocks
  // DNS instead, so TCP is masked (measured, but after a blocked DNS step). That says
  // nothing about TCP: no end. OONI's detector reads the masked rows as unblocked.
  for (uint32_t seed = 1; seed <= 10; ++seed) {
    Series s = Sharp(seed, 200);
    s.key.layer = SeriesLayer::kTcp;
    for (size_t i = 400; i < s.cells.size(); ++i) {
      SeriesCell& c = s.cells[i];
      c.masked = c.measurements;
      c.usable = c.blocked = 0;
    }
    for (const auto& [name, detect] : kDetectors) {
      const std::vector<ChangePoint> changes = detect(s);
      ASSERT_EQ(changes.size(), 1u) << name << ": " << Describe(changes);
      EXPECT_EQ(changes[0].direction, ChangeDirection::kStart);
    }
    const std::vector<ChangePoint> baseline = Baseline(s);
    ASSERT_EQ(baseline.size(), 2u) << Describe(baseline);
    EXPECT_EQ(baseline[1].direction, ChangeDirection::kEnd);
    EXPECT_TRUE(Near(baseline[1].cell, 410, 2)) << Describe(baseline);
  }
}

TEST(ChangePointTest, OoniBaselineReportsTheAlarmAsTheOnset) {
  for (uint32_t seed = 1; seed <= 10; ++seed) {
    const Series s = Sharp(seed, 300);
    const std::vector<ChangePoint> cusum = DetectCusum(s);
    const std::vector<ChangePoint> baseline = Baseline(s);
    ASSERT_EQ(cusum.size(), 1u);
    ASSERT_EQ(baseline.size(), 1u) << Describe(baseline);
    EXPECT_EQ(baseline[0].cell, baseline[0].alarm_cell);
    EXPECT_GE(baseline[0].cell, 305u) << Describe(baseline);
    EXPECT_TRUE(Near(cusum[0].cell, 300, 2));
  }
}

TEST(ChangePointTest, OoniBaselineReadsAnOutageAsUnblocking) {
  // Blocked from hour 200; hours 400-429 the probes' own network fails (no_network) and
  // then the target is down for everyone (down), with the blocked share of what could
  // still be measured unchanged. Neither is the censor's doing: the detectors see gaps
  // and fewer measurements; OONI's reads a run of zeros, an end and a new start.
  for (uint32_t seed = 1; seed <= 10; ++seed) {
    Series s = Sharp(seed, 200);
    for (size_t i = 400; i < 430; ++i) {
      SeriesCell& c = s.cells[i];
      c.no_network = c.measurements;
      c.usable = c.blocked = 0;
    }
    for (size_t i = 500; i < 530; ++i) {
      SeriesCell& c = s.cells[i];
      c.down = c.measurements - 1;  // one measurement left, blocked like the rest
      c.usable = 1;
      c.blocked = 1;
    }
    for (const auto& [name, detect] : kDetectors) {
      const std::vector<ChangePoint> changes = detect(s);
      ASSERT_EQ(changes.size(), 1u) << name << ": " << Describe(changes);
    }
    const std::vector<ChangePoint> baseline = Baseline(s);
    ASSERT_EQ(baseline.size(), 5u) << Describe(baseline);
    EXPECT_EQ(baseline[1].direction, ChangeDirection::kEnd);
    EXPECT_EQ(baseline[3].direction, ChangeDirection::kEnd);
  }
}

TEST(ChangePointTest, NamesAreStable) {
  EXPECT_STREQ(ChangeDirectionName(ChangeDirection::kStart), "start");
  EXPECT_STREQ(ChangeDirectionName(ChangeDirection::kEnd), "end");
  EXPECT_STREQ(ChangeMethodName(ChangeMethod::kCusum), "cusum");
  EXPECT_STREQ(ChangeMethodName(ChangeMethod::kPelt), "pelt");
}

TEST(ChangePointTest, SeriesTooShortOrEmptyGivesNothing) {
  for (const auto& [name, detect] : kDetectors) {
    EXPECT_TRUE(detect(Empty(0)).empty()) << name;
    EXPECT_TRUE(detect(Empty(100)).empty()) << name;
    EXPECT_TRUE(detect(Hourly(3, 1, [](size_t i) { return i < 2 ? 0.0 : 1.0; })).empty()) << name;
  }
  // Blocked from the first cell: no change inside the window.
  const Series blocked = Hourly(kFourWeeks, 3, [](size_t) { return 0.95; });
  for (const auto& [name, detect] : kDetectors) {
    EXPECT_TRUE(detect(blocked).empty()) << name << ": " << Describe(detect(blocked));
  }
}

}  // namespace
}  // namespace vigil::analysis
