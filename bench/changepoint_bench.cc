// vigil_changepoint_bench: the change-point detectors (analysis/changepoint/) beside
// OONI's detector as it runs today, on synthetic hourly series with known onsets: sharp,
// ramped, partial and short episodes, droughts, sparse noisy cells, outages that are not
// censorship, and quiet series. Prints, per scenario and method, the share of true
// changes found within 2 cells of their onset, the share found at all, the onset error,
// and false alarms per series-week; then each method's speed. Seeds are fixed: the same
// build prints the same figures.
//
//   vigil_changepoint_bench [--seeds 200] [--weeks 4]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "analysis/changepoint/changepoint.h"

namespace {

using vigil::analysis::ChangeDirection;
using vigil::analysis::ChangePoint;
using vigil::analysis::Series;
using vigil::analysis::SeriesCell;
using vigil::analysis::SeriesGrain;

constexpr int64_t kMonday = 1704067200;  // 2024-01-01 00:00 UTC
constexpr size_t kWeek = 7 * 24;
// A detection matches a true change of its direction when its onset is within this many
// cells before or after it; "found within 2 cells" is the target.
constexpr long kMatchBefore = 12, kMatchAfter = 48, kTarget = 2;

// Draws that are the same on every platform (mt19937's raw output is specified).
class Draws {
 public:
  explicit Draws(uint32_t seed) : rng_(seed) {}
  double Uniform() { return static_cast<double>(rng_()) / 4294967296.0; }
  bool Chance(double p) { return Uniform() < p; }
  size_t Between(size_t lo, size_t hi) { return lo + rng_() % (hi - lo + 1); }

 private:
  std::mt19937 rng_;
};

struct TrueChange {
  size_t cell;
  ChangeDirection direction;
};

// What a scenario lays on the grid, cell by cell.
struct Plan {
  std::vector<double> share;  // blocked share of usable measurements; NaN: drought
  std::vector<double> down;   // share of measurements down for everyone (outage)
  size_t min_measurements = 1, max_measurements = 8;
  double empty_chance = 0.05;  // an hour nobody measured, outside droughts
  std::vector<TrueChange> truth;
};

Series Lay(const Plan& plan, Draws& draws) {
  Series s;
  s.key = {"IR", 197207, "web.whatsapp.com", vigil::analysis::SeriesLayer::kAny};
  s.grain = SeriesGrain::kHour;
  s.since = kMonday;
  s.cells.resize(plan.share.size());
  for (size_t i = 0; i < s.cells.size(); ++i) {
    if (std::isnan(plan.share[i]) || draws.Chance(plan.empty_chance)) continue;
    SeriesCell& c = s.cells[i];
    c.measurements = c.probes =
        static_cast<uint32_t>(draws.Between(plan.min_measurements, plan.max_measurements));
    for (uint32_t k = 0; k < c.measurements; ++k) {
      if (draws.Chance(plan.down[i])) {
        ++c.down;
      } else {
        ++c.usable;
        if (draws.Chance(plan.share[i])) ++c.blocked;
      }
    }
  }
  return s;
}

constexpr double kNoise = 0.02;

Plan Quiet(size_t cells) {
  Plan p;
  p.share.assign(cells, kNoise);
  p.down.assign(cells, 0);
  return p;
}

// An episode of blocking at `share` over [from, to), with its start and end as truth
// (an end at the window's end is none).
void Block(Plan& p, size_t from, size_t to, double share) {
  for (size_t i = from; i < to && i < p.share.size(); ++i) p.share[i] = share;
  p.truth.push_back({from, ChangeDirection::kStart});
  if (to < p.share.size()) p.truth.push_back({to, ChangeDirection::kEnd});
}

// 1-3 droughts of 12-96 hours, none within 6 cells of a true change.
void Droughts(Plan& p, Draws& d) {
  const size_t n = d.Between(1, 3);
  for (size_t k = 0; k < n; ++k) {
    const size_t length = d.Between(12, 96);
    const size_t from = d.Between(0, p.share.size() - length);
    bool clear = true;
    for (const TrueChange& t : p.truth) clear &= from > t.cell + 6 || from + length + 6 < t.cell;
    if (!clear) continue;
    for (size_t i = from; i < from + length; ++i) p.share[i] = std::nan("");
  }
}

// The target down for everyone for 6-48 hours (70-100 % of measurements), the blocked
// share of the rest unchanged: not censorship.
void Outage(Plan& p, Draws& d) {
  const size_t length = d.Between(6, 48);
  const size_t from = d.Between(kWeek, p.share.size() - kWeek);
  const double down = 0.7 + 0.3 * d.Uniform();
  for (size_t i = from; i < from + length; ++i) p.down[i] = down;
}

struct Scenario {
  const char* name;
  bool quiet;  // no true change: every detection is a false alarm
  std::function<Plan(size_t cells, Draws&)> plan;
};

size_t Onset(size_t cells, Draws& d) { return d.Between(kWeek, cells - kWeek); }

const std::vector<Scenario>& Scenarios() {
  static const std::vector<Scenario> scenarios = {
      {"quiet (2 % noise)", true, [](size_t n, Draws&) { return Quiet(n); }},
      {"quiet, droughts", true,
       [](size_t n, Draws& d) {
         Plan p = Quiet(n);
         Droughts(p, d);
         return p;
       }},
      {"quiet, global outage", true,
       [](size_t n, Draws& d) {
         Plan p = Quiet(n);
         Outage(p, d);
         return p;
       }},
      {"blocked all along, outage", true,
       [](size_t n, Draws& d) {
         Plan p = Quiet(n);
         p.share.assign(n, 0.9);
         Outage(p, d);
         return p;
       }},
      {"sharp onset", false,
       [](size_t n, Draws& d) {
         Plan p = Quiet(n);
         Block(p, Onset(n, d), n, 0.9 + 0.1 * d.Uniform());
         return p;
       }},
      {"sharp, ends after 12-120 h", false,
       [](size_t n, Draws& d) {
         Plan p = Quiet(n);
         const size_t from = Onset(n, d);
         Block(p, from, from + d.Between(12, 120), 0.9 + 0.1 * d.Uniform());
         return p;
       }},
      {"second event", false,
       [](size_t n, Draws& d) {
         Plan p = Quiet(n);
         const size_t first = d.Between(24, n / 2 - 96);
         const size_t first_end = first + d.Between(12, 72);
         const size_t second = first_end + d.Between(48, n / 2 - 96);
         Block(p, first, first_end, 0.95);
         Block(p, second, second + d.Between(12, 72), 0.95);
         return p;
       }},
      {"ramp over 12 h", false,
       [](size_t n, Draws& d) {
         Plan p = Quiet(n);
         const size_t from = Onset(n, d);
         Block(p, from, n, 0.95);
         for (size_t i = 0; i < 12; ++i) p.share[from + i] = kNoise + (0.95 - kNoise) * i / 12.0;
         return p;
       }},
      {"partial (40-60 %)", false,
       [](size_t n, Draws& d) {
         Plan p = Quiet(n);
         const size_t from = Onset(n, d);
         Block(p, from, n, 0.5);
         for (size_t i = from; i < n; ++i) p.share[i] = 0.4 + 0.2 * d.Uniform();
         return p;
       }},
      {"sharp, droughts", false,
       [](size_t n, Draws& d) {
         Plan p = Quiet(n);
         const size_t from = Onset(n, d);
         Block(p, from, from + d.Between(24, 120), 0.95);
         Droughts(p, d);
         return p;
       }},
      {"sharp, sparse noisy cells", false,
       [](size_t n, Draws& d) {
         Plan p = Quiet(n);
         p.share.assign(n, 0.05);
         p.min_measurements = 1;
         p.max_measurements = 3;
         p.empty_chance = 0.3;
         Block(p, Onset(n, d), n, 0.85);
         return p;
       }},
  };
  return scenarios;
}

struct Method {
  const char* name;
  std::vector<ChangePoint> (*detect)(const Series&);
};
const Method kMethods[] = {
    {"cusum", [](const Series& s) { return vigil::analysis::DetectCusum(s); }},
    {"pelt", [](const Series& s) { return vigil::analysis::DetectPelt(s); }},
    {"ooni", [](const Series& s) { return vigil::analysis::DetectCusumOoniBaseline(s); }},
};
constexpr size_t kMethodCount = std::size(kMethods);

struct Tally {
  size_t truths = 0, found = 0, within_target = 0, false_alarms = 0;
  size_t blind_misses = 0;  // not within target, and no data within target of the onset
  double error_sum = 0;
  long error_max = 0;
  double seconds = 0;
  size_t cells = 0, series = 0;
};

// Matches each true change, oldest first, with the nearest unmatched detection of its
// direction in its window; detections left over are false alarms.
void Score(const Series& series, const std::vector<TrueChange>& truth,
           const std::vector<ChangePoint>& found, Tally& tally) {
  std::vector<bool> used(found.size(), false);
  for (const TrueChange& t : truth) {
    ++tally.truths;
    bool blind = true;  // no usable measurement in the cells that would count as on time
    for (size_t i = t.cell; i <= t.cell + kTarget && i < series.cells.size(); ++i) {
      blind &= series.cells[i].empty();
    }
    long best_error = 0;
    size_t best = found.size();
    for (size_t k = 0; k < found.size(); ++k) {
      if (used[k] || found[k].direction != t.direction) continue;
      const long error = static_cast<long>(found[k].cell) - static_cast<long>(t.cell);
      if (error < -kMatchBefore || error > kMatchAfter) continue;
      if (best == found.size() || std::labs(error) < std::labs(best_error)) {
        best = k;
        best_error = error;
      }
    }
    if (best == found.size() || std::labs(best_error) > kTarget) tally.blind_misses += blind;
    if (best == found.size()) continue;
    used[best] = true;
    ++tally.found;
    if (std::labs(best_error) <= kTarget) ++tally.within_target;
    tally.error_sum += static_cast<double>(std::labs(best_error));
    tally.error_max = std::max(tally.error_max, std::labs(best_error));
  }
  for (bool u : used) tally.false_alarms += u ? 0 : 1;
}

std::string Percent(size_t part, size_t whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", whole ? 100.0 * part / whole : 0.0);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t seeds = 200;
  size_t weeks = 4;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seeds" && i + 1 < argc) {
      seeds = static_cast<uint32_t>(std::max(1, std::atoi(argv[++i])));
    } else if (a == "--weeks" && i + 1 < argc) {
      weeks = static_cast<size_t>(std::max(3, std::atoi(argv[++i])));
    } else {
      std::fprintf(stderr, "usage: vigil_changepoint_bench [--seeds N] [--weeks N (>= 3)]\n");
      return 2;
    }
  }
  const size_t cells = weeks * kWeek;
  std::printf(
      "change-point benchmark: %u series per scenario, %zu weeks at hour grain (%zu cells)\n\n",
      seeds, weeks, cells);
  std::printf(
      "| scenario | true changes | found within %ld cells: cusum | pelt | ooni | found at all: "
      "cusum | pelt | ooni | onset error mean / max: cusum | pelt | ooni | false alarms per "
      "series-week: cusum | pelt | ooni |\n",
      kTarget);
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  Tally totals[kMethodCount];
  std::string notes;
  for (const Scenario& scenario : Scenarios()) {
    Tally tallies[kMethodCount];
    for (uint32_t seed = 1; seed <= seeds; ++seed) {
      Draws draws(seed);
      const Plan plan = scenario.plan(cells, draws);
      const Series series = Lay(plan, draws);
      for (size_t m = 0; m < kMethodCount; ++m) {
        const auto start = std::chrono::steady_clock::now();
        const std::vector<ChangePoint> found = kMethods[m].detect(series);
        tallies[m].seconds +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        tallies[m].cells += cells;
        ++tallies[m].series;
        Score(series, plan.truth, found, tallies[m]);
      }
    }
    std::string row = std::string("| ") + scenario.name + " | " +
                      (scenario.quiet ? "none" : std::to_string(tallies[0].truths));
    for (size_t m = 0; m < kMethodCount; ++m) {
      row += " | " + (scenario.quiet ? "-" : Percent(tallies[m].within_target, tallies[m].truths));
    }
    for (size_t m = 0; m < kMethodCount; ++m) {
      row += " | " + (scenario.quiet ? "-" : Percent(tallies[m].found, tallies[m].truths));
    }
    for (size_t m = 0; m < kMethodCount; ++m) {
      char buf[64] = "-";
      if (tallies[m].found) {
        std::snprintf(buf, sizeof buf, "%.1f / %ld", tallies[m].error_sum / tallies[m].found,
                      tallies[m].error_max);
      }
      row += std::string(" | ") + buf;
    }
    for (size_t m = 0; m < kMethodCount; ++m) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.3f",
                    static_cast<double>(tallies[m].false_alarms) / (seeds * weeks));
      row += std::string(" | ") + buf;
    }
    std::printf("%s |\n", row.c_str());
    std::string missed;
    for (size_t m = 0; m < kMethodCount && !scenario.quiet; ++m) {
      const Tally& t = tallies[m];
      if (t.within_target == t.truths || m + 1 == kMethodCount) continue;
      missed += std::string(missed.empty() ? "" : "; ") + kMethods[m].name + " " +
                std::to_string(t.truths - t.within_target) + " (" + std::to_string(t.blind_misses) +
                " with no usable measurement in cells 0-" + std::to_string(kTarget) +
                " of the episode)";
    }
    if (!missed.empty()) notes += std::string("- ") + scenario.name + ": " + missed + "\n";
    for (size_t m = 0; m < kMethodCount; ++m) {
      Tally& t = totals[m];
      t.seconds += tallies[m].seconds;
      t.cells += tallies[m].cells;
      t.series += tallies[m].series;
      if (scenario.quiet) t.false_alarms += tallies[m].false_alarms;
    }
  }
  std::printf("\nNot within %ld cells:\n%s", kTarget, notes.c_str());
  std::printf("\n| method | series | cells | seconds | cells/s | µs per series |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (size_t m = 0; m < kMethodCount; ++m) {
    const Tally& t = totals[m];
    std::printf("| %s | %zu | %zu | %.3f | %.3g | %.0f |\n", kMethods[m].name, t.series, t.cells,
                t.seconds, t.cells / t.seconds, 1e6 * t.seconds / t.series);
  }
  return 0;
}
