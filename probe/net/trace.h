// Trace: what one measurement observed, in OONI's shapes. Observers append their
// records (queries, tcp_connect, tls_handshakes, requests, network_events) with
// times relative to the measurement's start. Not synchronised: a measurement runs
// on one io_context thread, as all its coroutines do.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "base/host_port.h"
#include "probe/measurement/measurement.h"

namespace vigil {

class Trace {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Trace(Clock::time_point zero = Clock::now()) : zero_(zero) {}

  /// When the measurement started: a second Trace made from it keeps the same clock.
  Clock::time_point zero() const { return zero_; }

  /// Seconds since the measurement started.
  double Now() const { return std::chrono::duration<double>(Clock::now() - zero_).count(); }

  /// A fresh id for one logical exchange (a DNS round trip, a connect + handshake + fetch).
  int64_t NextTransactionId() { return ++last_transaction_id_; }

  /// Timing for a record that began at `t0` and ends now.
  Timing Span(double t0, int64_t transaction_id) const {
    Timing timing;
    timing.t0 = t0;
    timing.t = Now();
    timing.transaction_id = transaction_id;
    return timing;
  }

  /// Appends a network event that ends now.
  void Event(std::string operation, double t0, int64_t transaction_id,
             std::optional<std::string> address = std::nullopt,
             std::optional<int64_t> num_bytes = std::nullopt, FailureString failure = std::nullopt,
             std::optional<std::string> proto = std::nullopt);

  TestKeys& keys() { return keys_; }
  const TestKeys& keys() const { return keys_; }

 private:
  Clock::time_point zero_;
  int64_t last_transaction_id_ = 0;
  TestKeys keys_;
};

/// nullopt for "", the string otherwise: our failure strings are "" for success.
inline FailureString AsFailure(std::string failure) {
  if (failure.empty()) return std::nullopt;
  return failure;
}

}  // namespace vigil
