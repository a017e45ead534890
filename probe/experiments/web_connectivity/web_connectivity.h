// web_connectivity (OONI ts-017): is a website reachable from here, and if not, at
// which layer does it fail? The probe resolves the URL's host, connects to every
// address on the URL's port (with a TLS handshake for https), fetches the URL
// following redirects, and meanwhile asks the control helper (`vigil helper`, or
// OONI's) to do the same from its vantage point; classification.h compares the two.
// Stateless; Run on the executor's thread.
#pragma once

#include "probe/experiments/experiment.h"
#include "probe/experiments/web_connectivity/control_client.h"
#include "probe/experiments/web_connectivity/control_protocol.h"

namespace vigil {

inline constexpr const char* kWebConnectivityName = "web_connectivity";
inline constexpr const char* kWebConnectivityVersion = "0.4.9";

/// The control request for `url` whose host resolved to `addresses` (each is
/// joined with `port`), with the headers the probe's own fetch sends.
ControlRequest MakeControlRequest(const std::string& url, const std::vector<std::string>& addresses,
                                  uint16_t port);

/// A client of context.helper_url on `executor` with web_connectivity's deadlines and
/// limits, keeping up to `max_idle` connections open between requests: a run sets it
/// as context.control_client, so its measurements share connections to the helper.
Result<std::shared_ptr<ControlClient>> MakeControlClient(const ExperimentContext& context,
                                                         asio::any_io_executor executor,
                                                         size_t max_idle);

/// What the helper answered, or why there is no answer (OONI's failure strings:
/// http_request_failed for a status other than 200, json_parse_error for an answer that
/// is not a control response, the connection's failure otherwise).
struct ControlOutcome {
  std::optional<ControlResponse> response;
  std::string failure;
};

/// POSTs `request` to context.helper_url (which must be set), on the run's kept
/// connections when there are some (context.control_client). Like OONI, a measurement
/// records the target, not the helper. web_connectivity's control and the messaging
/// experiments' (common/messaging_control) both ask through it.
asio::awaitable<ControlOutcome> AskControlHelper(const ExperimentContext& context,
                                                 const ControlRequest& request);

class WebConnectivityExperiment : public Experiment {
 public:
  std::string_view name() const override { return kWebConnectivityName; }
  std::string_view version() const override { return kWebConnectivityVersion; }
  InputPolicy input_policy() const override { return InputPolicy::kRequired; }
  /// `input` must be an http or https URL; anything else is an Error (nothing was
  /// measured). Without context.helper_url the probe's side is still measured and
  /// control_failure says why there is no comparison.
  asio::awaitable<Result<Measurement>> Run(const ExperimentContext& context,
                                           const Json& input) const override;
  /// verdict: ok (accessible), blocked (blocking names the layer), down (every
  /// connect failed for the control too, or OONI's "website down"), error (no
  /// usable control: blocking null).
  RunSummary Summarize(const Measurement& measurement) const override;
};

}  // namespace vigil
