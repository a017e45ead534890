// stunreachability (OONI ts-025): does a STUN server answer a Binding Request from
// here? Input: stun://HOST[:PORT] (default port 3478). Resolves the host through the
// context's resolver, then exchanges one Binding Request with the first address that
// takes a datagram, retransmitting on RFC 5389's schedule within the step deadline.
// test_keys are OONI's — `endpoint`, `failure`, `queries`, `network_events` — plus
// `x_mapped_address_present` (true/false), `x_requests_sent`, `x_discarded`
// (why ignored datagrams were ignored) and `x_failures`. The mapped address itself is
// the probe's public IP and is never recorded. Stateless; Run on the executor's thread.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "probe/experiments/experiment.h"

namespace vigil {

inline constexpr const char* kStunReachabilityName = "stunreachability";
inline constexpr const char* kStunReachabilityVersion = "0.1.0";
inline constexpr uint16_t kStunDefaultPort = 3478;

struct StunUrl {
  std::string host;  // a name or an IP literal (no brackets)
  uint16_t port = kStunDefaultPort;
};

/// Parses "stun://host[:port]" ("[v6]" bracketed); "host:port" alone is accepted too.
Result<StunUrl> ParseStunUrl(const std::string& text);

/// "ok" when a Binding response arrived, "blocked" otherwise.
RunVerdict StunReachabilityVerdict(const Json& test_keys);

class StunReachabilityExperiment : public Experiment {
 public:
  std::string_view name() const override { return kStunReachabilityName; }
  std::string_view version() const override { return kStunReachabilityVersion; }
  InputPolicy input_policy() const override { return InputPolicy::kRequired; }
  asio::awaitable<Result<Measurement>> Run(const ExperimentContext& context,
                                           const Json& input) const override;
  RunSummary Summarize(const Measurement& measurement) const override;
};

}  // namespace vigil
