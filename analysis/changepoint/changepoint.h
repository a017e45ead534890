// Change points in a series of blocked shares (series/series.h): where blocking starts
// or ends. Two methods, side by side:
// - CUSUM as OONI's pipeline runs it (ok level 0, blocked level 0.7, drift 0.35,
//   threshold 3.5, evidence halving every 48 h across gaps over 24 h), without its
//   defects: it reads the dense grid (an empty cell is a gap, not a skipped row), masked
//   and unusable measurements are not read as unblocking, it is recomputed from the
//   window's first cell every time (no persisted state: the answer does not depend on
//   the order measurements arrived in), every crossing is reported, and the onset is the
//   cell where the sum last left zero, not the alarm;
// - PELT (optimal partitioning with pruning) under a binomial likelihood of the cells'
//   counts, with a penalty per change.
// Both report onset, direction and a confidence: Fisher's exact test of the counts in
// the segment before against the segment after. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "analysis/series/series.h"

namespace vigil::analysis {

enum class ChangeDirection : uint8_t {
  kStart,  // blocking started: the blocked share rose
  kEnd,    // blocking ended: the share fell
};
/// "start", "end".
const char* ChangeDirectionName(ChangeDirection direction);

enum class ChangeMethod : uint8_t { kCusum, kPelt };
/// "cusum", "pelt".
const char* ChangeMethodName(ChangeMethod method);

struct ChangePoint {
  ChangeMethod method = ChangeMethod::kCusum;
  ChangeDirection direction = ChangeDirection::kStart;
  size_t cell = 0;        // index of the first cell of the new regime
  int64_t onset = 0;      // that cell's start time
  size_t alarm_cell = 0;  // where the method became sure (CUSUM's crossing; PELT: = cell)
  int64_t alarm = 0;
  // The counts either side: [segment start, cell) and [cell, segment end), where the
  // segments run to the neighbouring change points (or the window's ends).
  uint64_t before_blocked = 0, before_usable = 0;
  uint64_t after_blocked = 0, after_usable = 0;
  double before_share = 0, after_share = 0;
  double p_value = 1;     // Fisher's exact test (one-sided, in the change's direction)
  double confidence = 0;  // 1 - p_value
};

struct CusumParams {
  double ok_level = 0.0;
  double blocked_level = 0.7;
  double drift = 0.35;
  double threshold = 3.5;
  int64_t decay_after_seconds = 24 * 3600;  // a gap longer than this decays the sums...
  int64_t half_life_seconds = 48 * 3600;    // ...halving them every half-life of the gap
  double max_p_value = 0.01;                // crossings less sure than this are dropped
};

struct PeltParams {
  double penalty = 0;             // per change; 0: 2 * ln(usable measurements)
  size_t min_segment_cells = 2;   // with data
  double min_share_change = 0.2;  // adjacent segments closer than this are merged
  double max_p_value = 0.001;     // changes less sure than this are merged away
};

/// Change points of one series, oldest first.
std::vector<ChangePoint> DetectCusum(const Series& series, const CusumParams& params = {});
std::vector<ChangePoint> DetectPelt(const Series& series, const PeltParams& params = {});

/// OONI's current detector, for comparison in benchmarks only: hourly (per cell) medians
/// of the measurements' 0/1 blocked values, empty cells skipped, masked and unusable
/// measurements read as 0, persisted state, alarm time reported as the onset.
std::vector<ChangePoint> DetectCusumOoniBaseline(const Series& series,
                                                 const CusumParams& params = {});

}  // namespace vigil::analysis
