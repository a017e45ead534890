#include "tests/lab/censor/phase_schedule.h"

#include <climits>

namespace vigil::lab {
namespace {

constexpr int64_t kNsPerMs = 1'000'000;

}  // namespace

bool PhaseSchedule::EnterNextIfDue(int64_t now_ns) {
  if (current_ + 1 >= static_cast<int>(phases_->size())) return false;
  if (now_ns - start_ns_ < (*phases_)[current_ + 1].start_ms * kNsPerMs) return false;
  ++current_;
  return true;
}

int64_t PhaseSchedule::NextStartNs() const {
  if (current_ + 1 < static_cast<int>(phases_->size())) {
    return start_ns_ + (*phases_)[current_ + 1].start_ms * kNsPerMs;
  }
  return INT64_MAX;
}

const std::vector<Rule>* PhaseSchedule::rules() const {
  return current_ < 0 ? nullptr : &(*phases_)[current_].rules;
}

}  // namespace vigil::lab
