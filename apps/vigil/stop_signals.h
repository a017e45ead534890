// StopSignals: how the long-running subcommands (helper, collector) serve until
// SIGINT or SIGTERM. The signals are blocked in every thread and waited for by one,
// which stops the server; so no server thread is interrupted mid-request and the
// server ends the way it ends on its own (its last batch stored).
// Construct on the main thread before any other thread starts (threads inherit the
// blocked mask); ServeUntilSignal from that thread.
#pragma once

#include <signal.h>

#include <functional>

namespace vigil::cli {

class StopSignals {
 public:
  /// Blocks SIGINT and SIGTERM in this thread and in the threads it starts from now on.
  StopSignals();

  /// Runs `serve` on this thread until it returns; a SIGINT or SIGTERM meanwhile calls
  /// `stop` (from another thread), which must make `serve` return.
  void ServeUntilSignal(const std::function<void()>& serve,
                        const std::function<void()>& stop) const;

 private:
  sigset_t signals_;
};

}  // namespace vigil::cli
