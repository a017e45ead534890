#include "apps/vigil/stop_signals.h"

#include <pthread.h>

#include <thread>

namespace vigil::cli {

StopSignals::StopSignals() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
}

void StopSignals::ServeUntilSignal(const std::function<void()>& serve,
                                   const std::function<void()>& stop) const {
  std::thread waiter([this, &stop] {
    int received = 0;
    sigwait(&signals_, &received);
    stop();
  });
  serve();
  // Serve returned on its own (not through a signal): wake the waiter.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
}

}  // namespace vigil::cli
