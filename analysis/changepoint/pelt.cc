// PELT (Killick, Fearnhead and Eckley 2012) over a series' cells with data: the
// segmentation minimising the sum of each segment's binomial deviance plus a penalty
// per change, with pruning of split points that can never be optimal again. Empty cells
// carry no likelihood but keep their place in time: a change falls on the first cell
// with data of its segment. Adjacent segments whose shares differ too little, or whose
// difference Fisher's test does not support, are then merged, smallest difference first.
#include <algorithm>
#include <cmath>
#include <limits>

#include "analysis/changepoint/changepoint.h"
#include "analysis/changepoint/segments.h"

namespace vigil::analysis {
namespace {

double XLogX(double x) { return x > 0 ? x * std::log(x) : 0; }

// Counts up to this many measurements get their x log x from a table (8 MB at most).
constexpr uint64_t kTableLimit = uint64_t{1} << 20;

struct Segment {
  size_t first = 0;  // index among the cells with data
  uint64_t blocked = 0, usable = 0;
  double share() const { return static_cast<double>(blocked) / static_cast<double>(usable); }
};

}  // namespace

std::vector<ChangePoint> DetectPelt(const Series& series, const PeltParams& params) {
  std::vector<size_t> cell;                     // the cells with data, in time order
  std::vector<uint64_t> blocked{0}, usable{0};  // prefix sums over them
  for (size_t i = 0; i < series.cells.size(); ++i) {
    if (series.cells[i].empty()) continue;
    cell.push_back(i);
    blocked.push_back(blocked.back() + series.cells[i].blocked);
    usable.push_back(usable.back() + series.cells[i].usable);
  }
  const size_t n = cell.size();
  const size_t m = std::max<size_t>(params.min_segment_cells, 1);
  if (n < 2 * m) return {};
  // Never blocked, or blocked throughout: no segmentation beats one segment, and this is
  // most series (the search below is quadratic on a series without changes).
  if (blocked[n] == 0 || blocked[n] == usable[n]) return {};
  const double penalty =
      params.penalty > 0 ? params.penalty : 2 * std::log(static_cast<double>(usable[n]));
  // -2 log-likelihood of a segment at its own share (the binomial coefficients are the
  // same for every segmentation and left out). In a series without changes pruning
  // keeps every split point, so this runs n^2 / 2 times: x log x comes from a table.
  std::vector<double> table;
  if (usable[n] <= kTableLimit) {
    table.resize(usable[n] + 1);
    for (uint64_t x = 0; x <= usable[n]; ++x) table[x] = XLogX(static_cast<double>(x));
  }
  auto xlogx = [&](uint64_t x) { return table.empty() ? XLogX(static_cast<double>(x)) : table[x]; };
  auto cost = [&](size_t s, size_t t) {
    const uint64_t b = blocked[t] - blocked[s], u = usable[t] - usable[s];
    return -2 * (xlogx(b) + xlogx(u - b) - xlogx(u));
  };

  // best[t]: the least total cost of the first t cells with data; last[t]: where its last
  // segment starts. Split points s are candidates once t - s >= m.
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> best(n + 1, kInf);
  std::vector<size_t> last(n + 1, 0);
  best[0] = -penalty;
  std::vector<size_t> candidates, kept;
  std::vector<double> unpenalised;  // best[s] + cost(s, t) per candidate
  for (size_t t = m; t <= n; ++t) {
    if (best[t - m] < kInf) candidates.push_back(t - m);
    unpenalised.clear();
    for (size_t s : candidates) {
      unpenalised.push_back(best[s] + cost(s, t));
      if (unpenalised.back() + penalty < best[t]) {
        best[t] = unpenalised.back() + penalty;
        last[t] = s;
      }
    }
    // Pruning: a split point already worse than the best without its penalty stays so.
    kept.clear();
    for (size_t k = 0; k < candidates.size(); ++k) {
      if (unpenalised[k] <= best[t]) kept.push_back(candidates[k]);
    }
    candidates.swap(kept);
  }

  std::vector<Segment> segments;
  for (size_t t = n; t > 0; t = last[t]) {
    segments.push_back({last[t], blocked[t] - blocked[last[t]], usable[t] - usable[last[t]]});
  }
  std::reverse(segments.begin(), segments.end());

  // Merge the closest pair of neighbours while one is too close or too unsure.
  while (segments.size() > 1) {
    size_t merge = segments.size();
    double closest = kInf;
    for (size_t k = 0; k + 1 < segments.size(); ++k) {
      const Segment& a = segments[k];
      const Segment& b = segments[k + 1];
      const double change = b.share() - a.share();
      const double p = ChangePValue(change > 0 ? ChangeDirection::kStart : ChangeDirection::kEnd,
                                    a.blocked, a.usable, b.blocked, b.usable);
      const bool weak = std::abs(change) < params.min_share_change || p > params.max_p_value;
      if (weak && std::abs(change) < closest) {
        closest = std::abs(change);
        merge = k;
      }
    }
    if (merge == segments.size()) break;
    segments[merge].blocked += segments[merge + 1].blocked;
    segments[merge].usable += segments[merge + 1].usable;
    segments.erase(segments.begin() + static_cast<std::ptrdiff_t>(merge) + 1);
  }

  std::vector<ChangePoint> changes;
  for (size_t k = 1; k < segments.size(); ++k) {
    ChangePoint c;
    c.method = ChangeMethod::kPelt;
    c.direction = segments[k].share() > segments[k - 1].share() ? ChangeDirection::kStart
                                                                : ChangeDirection::kEnd;
    c.cell = c.alarm_cell = cell[segments[k].first];
    c.onset = c.alarm = series.CellTime(c.cell);
    changes.push_back(c);
  }
  SegmentCounts(series).Describe(changes);
  return changes;
}

}  // namespace vigil::analysis
