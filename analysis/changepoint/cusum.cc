// Two-sided CUSUM over a dense series (changepoint.h), and OONI's detector as it runs
// today for the benchmark. Both watch one sum at a time: in the state "ok" the evidence
// for blocking, S+ = max(0, S+ + x - ok_level - drift); once it crosses the threshold,
// in the state "blocked" the evidence for its end, S- = max(0, S- + blocked_level - x -
// drift). They differ in what x is, where a crossing's onset is, and where the next
// sum starts.
#include <algorithm>
#include <cmath>

#include "analysis/changepoint/changepoint.h"
#include "analysis/changepoint/segments.h"

namespace vigil::analysis {
namespace {

struct Crossing {
  bool found = false;
  size_t onset = 0;  // the first cell with data after the sum last stood at 0
  size_t alarm = 0;  // the cell where it crossed the threshold
};

// Scans cells [from, end) with one sum starting at 0. `value` gives a cell's x, or NaN
// for a gap: time passes but nothing is read, and a gap over decay_after_seconds
// halves the sum every half_life_seconds of it.
template <typename Value>
Crossing Scan(const Series& series, const CusumParams& params, size_t from, bool blocked,
              Value value) {
  double sum = 0;
  size_t onset = from;
  bool seen = false;
  int64_t last = 0;  // start of the last cell with data
  for (size_t i = from; i < series.cells.size(); ++i) {
    const double x = value(series.cells[i]);
    if (std::isnan(x)) continue;
    const int64_t t = series.CellTime(i);
    if (seen && t - last > params.decay_after_seconds) {
      sum *=
          std::exp2(-static_cast<double>(t - last) / static_cast<double>(params.half_life_seconds));
    }
    seen = true;
    last = t;
    const double step =
        blocked ? params.blocked_level - x - params.drift : x - params.ok_level - params.drift;
    if (sum == 0 && step > 0) onset = i;
    sum = std::max(0.0, sum + step);
    if (sum > params.threshold) return {true, onset, i};
  }
  return {};
}

ChangePoint At(const Series& series, ChangeMethod method, bool blocked, size_t cell, size_t alarm) {
  ChangePoint c;
  c.method = method;
  c.direction = blocked ? ChangeDirection::kEnd : ChangeDirection::kStart;
  c.cell = cell;
  c.onset = series.CellTime(cell);
  c.alarm_cell = alarm;
  c.alarm = series.CellTime(alarm);
  return c;
}

}  // namespace

std::vector<ChangePoint> DetectCusum(const Series& series, const CusumParams& params) {
  // x is the share of usable measurements blocked; a cell with none is a gap, so masked,
  // down, unusable and failed measurements never read as "not blocked".
  auto share = [](const SeriesCell& cell) { return cell.share(); };
  std::vector<ChangePoint> changes;
  bool blocked = false;
  size_t from = 0;
  while (true) {
    const Crossing c = Scan(series, params, from, blocked, share);
    if (!c.found) break;
    changes.push_back(At(series, ChangeMethod::kCusum, blocked, c.onset, c.alarm));
    // The new regime began at the onset, not the alarm: the opposite sum reads it from
    // the cell after, so a short episode whose end comes before (or soon after) the
    // alarm still gets its end. Each onset is later than the last: the loop ends.
    blocked = !blocked;
    from = c.onset + 1;
  }
  SegmentCounts(series).DropUnsure(changes, params.max_p_value);
  return changes;
}

std::vector<ChangePoint> DetectCusumOoniBaseline(const Series& series, const CusumParams& params) {
  // One 0/1 value per cell with any measurement: their median, where everything but a
  // blocked measurement (masked, down, unusable, failed) counts 0. Cells without
  // measurements do not exist for it (only the time between rows decays the sum).
  auto median = [](const SeriesCell& cell) {
    if (cell.measurements == 0) return std::nan("");
    return 2 * static_cast<uint64_t>(cell.blocked) > cell.measurements ? 1.0 : 0.0;
  };
  std::vector<ChangePoint> changes;
  bool blocked = false;
  size_t from = 0;
  while (true) {
    const Crossing c = Scan(series, params, from, blocked, median);
    if (!c.found) break;
    // The alarm is the onset, and the state (the other sum at 0) starts after it.
    changes.push_back(At(series, ChangeMethod::kCusum, blocked, c.alarm, c.alarm));
    blocked = !blocked;
    from = c.alarm + 1;
  }
  SegmentCounts(series).Describe(changes);  // reported as they come, however unsure
  return changes;
}

}  // namespace vigil::analysis
