#include "analysis/changepoint/changepoint.h"

#include <algorithm>

#include "analysis/changepoint/segments.h"
#include "analysis/stats/stats.h"

namespace vigil::analysis {

const char* ChangeDirectionName(ChangeDirection direction) {
  switch (direction) {
    case ChangeDirection::kStart:
      return "start";
    case ChangeDirection::kEnd:
      return "end";
  }
  return "?";
}

const char* ChangeMethodName(ChangeMethod method) {
  switch (method) {
    case ChangeMethod::kCusum:
      return "cusum";
    case ChangeMethod::kPelt:
      return "pelt";
  }
  return "?";
}

double ChangePValue(ChangeDirection direction, uint64_t before_blocked, uint64_t before_usable,
                    uint64_t after_blocked, uint64_t after_usable) {
  const stats::Table2x2 table{before_blocked, before_usable - before_blocked, after_blocked,
                              after_usable - after_blocked};
  return stats::FisherExact(table, direction == ChangeDirection::kStart
                                       ? stats::Alternative::kGreater
                                       : stats::Alternative::kLess);
}

SegmentCounts::SegmentCounts(const Series& series)
    : blocked_(series.cells.size() + 1), usable_(series.cells.size() + 1) {
  for (size_t i = 0; i < series.cells.size(); ++i) {
    blocked_[i + 1] = blocked_[i] + series.cells[i].blocked;
    usable_[i + 1] = usable_[i] + series.cells[i].usable;
  }
}

void SegmentCounts::Describe(std::vector<ChangePoint>& changes) const {
  const size_t end = usable_.size() - 1;
  for (size_t k = 0; k < changes.size(); ++k) {
    ChangePoint& c = changes[k];
    const size_t from = k > 0 ? changes[k - 1].cell : 0;
    const size_t to = k + 1 < changes.size() ? changes[k + 1].cell : end;
    c.before_blocked = Blocked(from, c.cell);
    c.before_usable = Usable(from, c.cell);
    c.after_blocked = Blocked(c.cell, to);
    c.after_usable = Usable(c.cell, to);
    auto share = [](uint64_t blocked, uint64_t usable) {
      return usable ? static_cast<double>(blocked) / static_cast<double>(usable) : 0.0;
    };
    c.before_share = share(c.before_blocked, c.before_usable);
    c.after_share = share(c.after_blocked, c.after_usable);
    c.p_value = ChangePValue(c.direction, c.before_blocked, c.before_usable, c.after_blocked,
                             c.after_usable);
    c.confidence = 1 - c.p_value;
  }
}

void SegmentCounts::DropUnsure(std::vector<ChangePoint>& changes, double max_p_value) const {
  while (true) {
    Describe(changes);
    auto worst = std::max_element(
        changes.begin(), changes.end(),
        [](const ChangePoint& x, const ChangePoint& y) { return x.p_value < y.p_value; });
    if (worst == changes.end() || worst->p_value <= max_p_value) return;
    changes.erase(worst);
  }
}

}  // namespace vigil::analysis
