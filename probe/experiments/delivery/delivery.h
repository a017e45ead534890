// delivery (no OONI test exists; Citizen Lab did this by hand with real accounts): do
// messages get through, and which words stop them? Each keyword of the keyword lists
// (testlists/keywords, keyword_list.h) is sent through a transport (transport.h: the
// relay over TCP, HTTP or HTTPS, XMPP, MQTT) framed by its benign control before and
// after, keywords in random order, each message with its own nonce, and received over
// a separate connection. A keyword that was lost is sent again to confirm it; a lost
// combination's components are then sent alone to find what triggers it. When a test
// message breaks the channel, controls are re-sent until one gets through (or the
// stateful wait ends), which tells residual blocking from a dropped keyword and from
// a broken endpoint. The measurement documents every message sent and seen.
// Off unless the volunteer enabled it (DeliveryOptions::enabled): it sends sensitive
// words across their network. Stateless; Run on the executor's thread.
#pragma once

#include <string>
#include <vector>

#include "probe/experiments/delivery/delivery_judge.h"
#include "probe/experiments/experiment.h"

namespace vigil {

inline constexpr const char* kDeliveryName = "delivery";
inline constexpr const char* kDeliveryVersion = "0.1.0";

/// The test keys (docs/experiments.md, "delivery"):
///  transport, transport_failure (Open's failure or null), delivery_wait_ms
///  messages   every message in the order sent: index, nonce, role, subject, entry,
///             round, text, sha256, t0, t, send_failure, failed_on_send, received_t,
///             received_sha256, receive_failure, latency_ms, status
///  keywords   per keyword: id, text, language, theme, components, verdict, technique,
///             reason, residual_seconds (stateful), attempts [{round, verdict,
///             technique, reason, messages [before, test, after], rechecks,
///             recovered_after}], and for combinations components_alone [{component,
///             verdict, technique}], trigger, triggering_components
///  delivery_status  blocked (a keyword blocked or stateful), ok (every keyword
///             delivered), inconclusive, or transport_failure
///  x_transport_events (the transport's connection log), x_unmatched_received (bodies
///             that arrived without a nonce of this run: sha256, bytes, t)
/// These come from DeliveryRun in delivery.cc.

/// "blocked" → blocked; "ok" → ok; anything else (inconclusive, transport_failure) →
/// error: no verdict, as the analyzer's delivery rules say (a broken endpoint and a
/// filter that nothing proves look the same).
RunVerdict DeliveryVerdict(const Json& test_keys);

class DeliveryExperiment : public Experiment {
 public:
  std::string_view name() const override { return kDeliveryName; }
  std::string_view version() const override { return kDeliveryVersion; }
  InputPolicy input_policy() const override { return InputPolicy::kOptional; }
  /// Input: one keyword id to test alone; none: every test row of the lists.
  asio::awaitable<Result<Measurement>> Run(const ExperimentContext& context,
                                           const Json& input) const override;
  /// One line for the run, and one detail line per keyword that was not delivered.
  RunSummary Summarize(const Measurement& measurement) const override;
};

}  // namespace vigil
