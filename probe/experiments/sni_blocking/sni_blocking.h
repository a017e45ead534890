// sni_blocking (OONI ts-024): is a TLS ClientHello blocked for its SNI? Two TLS
// handshakes to one endpoint, first with a control SNI, then with the target SNI;
// when only the target's fails, the name is what was filtered. The control goes
// first on purpose: a censor that blocks the 3-tuple for minutes after a trigger
// (residual blocking) would otherwise fail the control too and hide the cause.
// Input: the target SNI (a domain, an IP, or a URL whose host is taken). Options
// (input object): "control_sni" (default example.com) and "endpoint" (HOST:PORT or
// IP:PORT; default the target's own address on 443).
// test_keys: `control` and `target` (OONI's Subresult: sni, th_address, failure,
// failed_operation, queries, tcp_connect, tls_handshakes, network_events), `queries`
// (the endpoint's lookup), `result` (OONI's classes, below), `x_result` (the same,
// except "anomaly.control.<failure>" when the control failed, which OONI's classes
// do not tell apart, or "interference.residual_block"), `x_residual_block` (the earlier
// blocked handshake a failed control is explained by, from the run's SniTriggerLog)
// and `x_failures`. Stateless (the run's SniTriggerLog aside); Run on the executor's
// thread.
#pragma once

#include <optional>
#include <string>

#include "probe/experiments/experiment.h"

namespace vigil {

inline constexpr const char* kSniBlockingName = "sni_blocking";
inline constexpr const char* kSniBlockingVersion = "0.1.0";
inline constexpr const char* kSniBlockingDefaultControl = "example.com";

/// OONI's classification of the target's failure (nullopt: success), exactly:
/// success.got_server_hello (no failure, or ssl_invalid_hostname: the server answered
/// for a name it does not serve), interference.reset (connection_reset),
/// interference.closed (eof_error), interference.invalid_certificate,
/// interference.unknown_authority, anomaly.timeout (generic_timeout_error while the
/// control worked), anomaly.test_helper_unreachable (connection_refused, NXDOMAIN, or
/// a timeout while the control failed too), anomaly.unexpected_failure (the rest).
std::string SniBlockingResult(const std::optional<std::string>& target_failure,
                              const std::optional<std::string>& control_failure);

/// SniBlockingResult, except "anomaly.control.<failure>" when the control failed
/// (other than by ssl_invalid_hostname), since the target's result then says nothing
/// about its SNI.
std::string SniBlockingExtendedResult(const std::optional<std::string>& target_failure,
                                      const std::optional<std::string>& control_failure);

/// x_result when the control failed at an address:port where, earlier in the run and
/// within kResidualBlockWindow, a handshake with the same target SNI was blocked (its
/// control working): the control met the censor's residual block of the target's SNI.
inline constexpr const char* kResidualBlockResult = "interference.residual_block";

/// "ok" for success; "blocked" for interference.* (the residual block included) and
/// anomaly.timeout; "error" when the control failed otherwise (without a control the
/// target's outcome says nothing about its SNI); "anomaly" for helper-unreachable and
/// unexpected failures.
RunVerdict SniBlockingVerdict(const Json& test_keys);

class SniBlockingExperiment : public Experiment {
 public:
  std::string_view name() const override { return kSniBlockingName; }
  std::string_view version() const override { return kSniBlockingVersion; }
  InputPolicy input_policy() const override { return InputPolicy::kRequired; }
  asio::awaitable<Result<Measurement>> Run(const ExperimentContext& context,
                                           const Json& input) const override;
  RunSummary Summarize(const Measurement& measurement) const override;
};

}  // namespace vigil
