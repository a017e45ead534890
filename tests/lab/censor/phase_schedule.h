// PhaseSchedule: which of a scenario's phases is in force — phases start at offsets
// from the censor's start, in order, and a phase that is due is entered even when no
// frame arrives (the bridge wakes up for the next start). Not thread-safe: one owner.
#pragma once

#include <cstdint>
#include <vector>

#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

class PhaseSchedule {
 public:
  /// `phases` must outlive the schedule.
  explicit PhaseSchedule(const std::vector<Phase>* phases) : phases_(phases) {}

  /// Marks the start: phase offsets count from `now_ns`.
  void Start(int64_t now_ns) { start_ns_ = now_ns; }
  /// Enters the next phase if its start has come; false when none is due. Call until
  /// false to catch up on several.
  bool EnterNextIfDue(int64_t now_ns);
  /// Monotonic time the next phase starts, or INT64_MAX after the last one.
  int64_t NextStartNs() const;

  /// The index of the phase in force, -1 before the first.
  int current() const { return current_; }
  /// The rules in force, none before the first phase.
  const std::vector<Rule>* rules() const;

 private:
  const std::vector<Phase>* phases_;
  int64_t start_ns_ = 0;
  int current_ = -1;
};

}  // namespace vigil::lab
