// Deadline: a watchdog for one step of a measurement. When the time runs out it
// calls the step's cancel action (typically closing the socket), so the pending
// operation completes at once and the step records generic_timeout_error.
// Use from the thread that runs the executor; cheap enough for every step.
#pragma once

#include <asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>

namespace vigil {

using Millis = std::chrono::milliseconds;

class Deadline {
 public:
  /// Arms the watchdog; `on_expiry` runs on the executor if `timeout` elapses first.
  Deadline(const asio::any_io_executor& executor, Millis timeout, std::function<void()> on_expiry);
  ~Deadline();  // disarms

  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  /// True once the deadline fired; the step's outcome is then a timeout, whatever
  /// error the cancelled operation reported.
  bool expired() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace vigil
