// ConnectionLog: a delivery transport's record of its connections, the measurement's
// x_transport_events (transport.h's Events()): when, which end, which step, which
// server address, and the failure in OONI's vocabulary. Thread-safe: transports whose
// client library runs on threads of its own record from those threads.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probe/experiments/delivery/transport.h"
#include "probe/measurement/measurement.h"

namespace vigil {

class ConnectionLog {
 public:
  /// `zero` is the measurement's start, the origin of every t.
  explicit ConnectionLog(DeliveryClock::time_point zero) : zero_(zero) {}

  /// Seconds since `zero`.
  double Now() const;

  /// Appends one event that ends now. `end` is "send" or "receive"; `address` the
  /// server's "IP:PORT".
  void Record(std::string_view end, std::string_view operation, std::string_view address,
              const std::optional<std::string>& failure);

  /// Every event so far, in the order recorded.
  Json ToJson() const;

 private:
  DeliveryClock::time_point zero_;
  mutable std::mutex mutex_;
  std::vector<Json> events_;
};

}  // namespace vigil
