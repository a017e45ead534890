// The verdict of a service measured through several endpoints (ports, data centres,
// fetched URLs), shared by the messaging experiments so that each applies one rule: a
// service that still works through any of its endpoints is never blocked. When some
// endpoints worked and some failed, the measurement says so (x_partial_blocking) and
// the verdict is anomaly whatever else its keys say; blocked needs every endpoint to
// have failed. Either way, a service whose every failed step failed for the control
// helper too is down. An endpoint whose name got inconsistent DNS answers counts as failed
// however its later steps went (a forged address may well answer), and a step that
// could not be measured (no IPv6 route here) counts neither way.
// Plain values; thread-compatible (one tally per measurement).
#pragma once

#include <set>
#include <string>

#include "probe/experiments/run_verdict.h"
#include "probe/measurement/measurement.h"

namespace vigil {

/// What worked and what failed among a service's endpoints.
class EndpointTally {
 public:
  /// `dns_inconsistent`: the names whose answers were judged inconsistent.
  explicit EndpointTally(std::set<std::string> dns_inconsistent = {});

  /// One endpoint, port or fetch of `host` (a name or an IP literal): worked or failed.
  /// One on a DNS-inconsistent name counts as failed even when it worked.
  void Add(const std::string& host, bool worked);

  bool any_worked() const { return any_worked_; }
  bool any_failed() const { return any_failed_; }
  /// Some worked and some failed: the value of x_partial_blocking.
  bool partial() const { return any_worked_ && any_failed_; }

 private:
  std::set<std::string> dns_inconsistent_;
  bool any_worked_ = false;
  bool any_failed_ = false;
};

/// The run verdict of a messaging service: ok unless the keys' x_partial_blocking is
/// true or `blocked` (the experiment's own keys say so: OONI's statuses, inconsistent
/// DNS); then down when the control failed every failed step too
/// (ControlFailedEveryStep), else anomaly when partial (some endpoint still works, so
/// `blocked` cannot win), else blocked.
RunVerdict ServiceVerdict(const Json& test_keys, bool blocked);

}  // namespace vigil
