// Residual blocking: a GFW-style censor resets a TLS handshake, then blocks the
// (client, server, port) 3-tuple for a while whatever the content, so a later
// connect there in the same run is refused or reset. A measurement whose only
// failures are such connects reads as TCP/IP blocking; this rule says instead that
// it was the residual block of an earlier TLS reset (blocking type tls). It is a
// fact about a run's measurements taken together, not about one of them.
// SniTriggerLog keeps what sni_blocking needs of it while the run goes on: where and
// when a test SNI was blocked, so that a later control handshake failing there is read
// as the residual block it met. Pure functions are thread-safe; so is SniTriggerLog.
#pragma once

#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "probe/experiments/experiment.h"
#include "probe/measurement/measurement.h"

namespace vigil {

/// How long a residual block is taken to last after its trigger: the longest the GFW's
/// injectors have been seen to hold one (90-180 s).
inline constexpr std::chrono::seconds kResidualBlockWindow{180};

/// The test-SNI handshakes of a run that sni_blocking judged blocked (its control to the
/// same address:port had just worked), where and when. One per run, shared by its
/// measurements through ExperimentContext::sni_triggers.
class SniTriggerLog {
 public:
  using Clock = std::chrono::steady_clock;

  struct Trigger {
    std::string sni;
    std::string address;  // "ip:port" (or "[ip]:port") as contacted
    std::string failure;  // the handshake's
    Clock::time_point at;
  };

  void Record(Trigger trigger);

  /// The triggers at `address` from at most kResidualBlockWindow before `at` up to
  /// `at`, newest first.
  std::vector<Trigger> Before(const std::string& address, Clock::time_point at) const;

 private:
  mutable std::mutex mu_;
  std::vector<Trigger> triggers_;
};

/// What the rule needs from one measurement: address:port pairs.
struct ConnectionResets {
  std::set<std::string> tls_resets;        // where a TLS handshake was reset
  std::set<std::string> refused_connects;  // where a TCP connect was refused or reset
};

/// The resets (in tls_handshakes and x_tls_handshakes) and refused connects of
/// `measurement`.
ConnectionResets CollectConnectionResets(const Measurement& measurement);

/// Rewrites each summary whose blocking is tcp_ip and whose refused connects all
/// went to an address:port where some measurement of the run (any index) saw a TLS
/// handshake reset: its blocking becomes tls and its evidence says why.
/// `summaries[i]` belongs with `resets[i]`; the two have the same size.
void AttributeResidualBlocking(std::vector<RunSummary>& summaries,
                               const std::vector<ConnectionResets>& resets);

}  // namespace vigil
