// The counts either side of a series' change points, shared by the detectors: segments
// run from one change to the next (or the window's ends), and each change is tested by
// Fisher's exact test of its segment before against its segment after, one-sided in its
// direction. Internal to analysis/changepoint/. Immutable after construction.
#pragma once

#include <cstdint>
#include <vector>

#include "analysis/changepoint/changepoint.h"

namespace vigil::analysis {

class SegmentCounts {
 public:
  explicit SegmentCounts(const Series& series);

  /// Blocked and usable measurements in cells [from, to).
  uint64_t Blocked(size_t from, size_t to) const { return blocked_[to] - blocked_[from]; }
  uint64_t Usable(size_t from, size_t to) const { return usable_[to] - usable_[from]; }

  /// Fills every change's counts, shares, p-value and confidence from its neighbours
  /// (`changes` oldest first).
  void Describe(std::vector<ChangePoint>& changes) const;

  /// Describes, then drops the least sure change while one is less sure than
  /// `max_p_value`: its neighbours' segments widen over it and they are tested again.
  void DropUnsure(std::vector<ChangePoint>& changes, double max_p_value) const;

 private:
  std::vector<uint64_t> blocked_, usable_;  // prefix sums: [i] counts cells [0, i)
};

/// One-sided Fisher p of `after` against `before` in the direction of `direction`.
double ChangePValue(ChangeDirection direction, uint64_t before_blocked, uint64_t before_usable,
                    uint64_t after_blocked, uint64_t after_usable);

}  // namespace vigil::analysis
