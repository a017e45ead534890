// FrameScheduler: the timer queue of frames the censor holds back (delay, throttle),
// released in time order and, for equal times, in the order they were queued.
// Bounded in bytes. Not thread-safe: one owner.
#pragma once

#include <cstdint>
#include <queue>
#include <vector>

#include "tests/lab/censor/censor.h"

namespace vigil::lab {

class FrameScheduler {
 public:
  explicit FrameScheduler(size_t max_bytes) : max_bytes_(max_bytes) {}

  /// Queues `frame`; false (and the frame is dropped) when the queue is full.
  bool Push(Outgoing frame);
  /// Monotonic time of the earliest queued frame, or INT64_MAX.
  int64_t NextDue() const;
  /// Removes and returns the frames due at `now_ns`, in order.
  std::vector<Outgoing> PopDue(int64_t now_ns);
  size_t bytes() const { return bytes_; }

 private:
  struct Entry {
    int64_t at_ns;
    uint64_t order;
    Outgoing frame;
    bool operator>(const Entry& o) const {
      return at_ns != o.at_ns ? at_ns > o.at_ns : order > o.order;
    }
  };
  size_t max_bytes_;
  size_t bytes_ = 0;
  uint64_t next_order_ = 0;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue_;
};

}  // namespace vigil::lab
