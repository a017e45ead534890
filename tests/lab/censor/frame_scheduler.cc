#include "tests/lab/censor/frame_scheduler.h"

#include <climits>

namespace vigil::lab {

bool FrameScheduler::Push(Outgoing frame) {
  if (bytes_ + frame.frame.size() > max_bytes_) return false;
  bytes_ += frame.frame.size();
  int64_t at = frame.at_ns;
  queue_.push(Entry{at, next_order_++, std::move(frame)});
  return true;
}

int64_t FrameScheduler::NextDue() const { return queue_.empty() ? INT64_MAX : queue_.top().at_ns; }

std::vector<Outgoing> FrameScheduler::PopDue(int64_t now_ns) {
  std::vector<Outgoing> due;
  while (!queue_.empty() && queue_.top().at_ns <= now_ns) {
    // priority_queue::top is const; the entry is popped right after, so moving the
    // frame out of it is safe.
    Outgoing& top = const_cast<Outgoing&>(queue_.top().frame);
    bytes_ -= top.frame.size();
    due.push_back(std::move(top));
    queue_.pop();
  }
  return due;
}

}  // namespace vigil::lab
