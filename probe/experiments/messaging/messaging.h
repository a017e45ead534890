// Messaging (data-driven; no OONI test exists): measures one messaging service as the
// CSV lists under testlists/messaging/ describe it — per endpoint and port, the steps the
// row names (a DNS lookup, a TCP connect, a TLS handshake, an HTTP(S) GET) — so that a
// new messenger or endpoint is an edit to a list, not to code. The input names the
// service; run without one, `vigil run` measures every service, one measurement each
// (DefaultInputs). Stateless; Run on the executor's thread.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "probe/experiments/common/step_failure.h"
#include "probe/experiments/experiment.h"
#include "probe/testlists/messaging_list.h"

namespace vigil {

inline constexpr const char* kMessagingName = "messaging";
inline constexpr const char* kMessagingVersion = "0.1.0";

/// How one step of one row ended.
struct MessagingStepOutcome {
  MessagingStep step = MessagingStep::kDns;
  /// nullopt: the step succeeded. Otherwise the layer it stopped at (a tcp step whose
  /// lookup failed fails at "resolve") and the failure.
  std::optional<StepFailure> failure;
  /// Not measured: the step failed only for want of an IPv6 route out of this machine
  /// (every address it tried was IPv6; IsNoIpv6Route). Neither ok nor blocked.
  bool no_ipv6 = false;
};

/// How one row (endpoint and port) fared: one outcome per step it lists, in step order.
struct MessagingRowOutcome {
  std::string endpoint;
  uint16_t port = 0;
  std::vector<MessagingStepOutcome> steps;
  std::optional<int> http_status;  // the status code the http step's response carried
};

struct MessagingObservations {
  std::string service;
  std::vector<MessagingRowOutcome> rows;
  std::vector<std::string> list_files;          // the lists read (file names only)
  std::set<std::string> dns_inconsistent = {};  // endpoints whose answers were inconsistent
};

/// The test keys, from the observations:
///  service           the service measured
///  service_status    "ok" when some row completed every step it lists, else "blocked"
///  x_endpoint_status    {endpoint: {port: {step: "ok" | "blocked" | "no_ipv6"}}}
///      ("no_ipv6": not measured, see MessagingStepOutcome)
///  x_endpoint_failures  {endpoint: {port: {step: failure}}} for the failed steps,
///      no_ipv6 ones included
///  x_http_status        {endpoint: {port: status code}} for http steps that got a response
///  x_partial_blocking   some rows completed every step and some did not; a row on a
///      DNS-inconsistent endpoint counts as failed, one with a no_ipv6 step (and no
///      failed one) neither way
///  x_failures   the first failed step of each failed row (see step_failure.h); a failed
///      lookup appears once per endpoint
///  x_list_files  where the rows came from
Json MessagingTestKeys(const MessagingObservations& o);

/// "anomaly" for partial blocking (whatever else the keys say: some row works); else
/// "blocked" when service_status says so or a DNS answer lay outside the row's expected
/// ASes (x_dns_inconsistent); else "ok".
RunVerdict MessagingVerdict(const Json& test_keys);

/// The URL an http step fetches: https://endpoint[:port]/ when the row lists tls too,
/// else http://endpoint[:port]/ (the port left out when it is the scheme's default).
std::string MessagingHttpUrl(const MessagingEndpoint& row);

class MessagingExperiment : public Experiment {
 public:
  std::string_view name() const override { return kMessagingName; }
  std::string_view version() const override { return kMessagingVersion; }
  InputPolicy input_policy() const override { return InputPolicy::kOptional; }
  /// Every service of the lists under data_dir/messaging/, in list order.
  Result<std::vector<std::string>> DefaultInputs(const std::string& data_dir) const override;
  asio::awaitable<Result<Measurement>> Run(const ExperimentContext& context,
                                           const Json& input) const override;
  RunSummary Summarize(const Measurement& measurement) const override;
};

}  // namespace vigil
