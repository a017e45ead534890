// censor_hop: where on the path a censor sits (tracebox / CenTrace style). For IP TTL
// 1, 2, ... InjectionOptions::max_ttl: a fresh TCP connection at the normal TTL, then
// the socket's TTL lowered to ttl and a TLS ClientHello written raw: first with the
// control SNI, then, on another fresh connection, with the target SNI. Each draws an
// ICMP time exceeded from the router where it expired (read on a raw ICMP socket and
// matched by the quoted ports), a RST, the server's answer, or nothing within ~1 s.
// The control goes first at each TTL because a censor that blocks the 3-tuple after a
// trigger (residual blocking) would fail a control sent after the target; the sweep
// stops at the first TTL where the target drew a RST and the control did not (the
// censor's TTL: the target crossed the censor there, the control expired at the router
// behind it), where the server answered, or where the control could not go on.
// Needs CAP_NET_RAW for the ICMP socket: without it the measurement says so
// ({"available": false, "reason": ...}) and is no failure of the run. IPv4 only: an
// IPv6 address is recorded as unavailable too. Test keys: docs/evidence.md.
// Input as sni_blocking's (common/sni_endpoint_input.h). Stateless; Run on the
// executor's thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "probe/experiments/experiment.h"

namespace vigil {

inline constexpr const char* kCensorHopName = "censor_hop";
inline constexpr const char* kCensorHopVersion = "0.1.0";

/// What one TTL-limited ClientHello drew: "time_exceeded", "rst", "answered" (the
/// server replied), "timeout", "unreachable", or "error: <failure>" (the connection
/// could not be made or written).
struct HopProbe {
  std::string outcome;
  std::string router;          // the ICMP error's source; "" when none came
  std::optional<int> rst_ttl;  // the RST's IP TTL when a capture saw it
};

struct Hop {
  int ttl = 0;
  HopProbe control;
  HopProbe target;
};

struct HopJudgement {
  std::string verdict;  // located | not_triggered | inconclusive
  std::optional<int> censor_ttl;
  std::optional<std::string> last_router_before;
  std::optional<std::string> router_at;
  std::string reason;  // one line for the summary
};

/// Whether the sweep goes on after `hop`: not once the target drew a RST the control
/// did not draw, the server answered the target, the control was answered or reset, or
/// the control met an error.
bool SweepContinues(const Hop& hop);

/// The router a hop names: the control's ICMP source, else the target's; "" for none.
std::string HopRouter(const Hop& hop);

/// The verdict from the hops in TTL order: located at the first TTL where the target
/// drew a RST and the control did not (the router before it and at it, when known);
/// not_triggered when the target was answered by the server and never reset;
/// inconclusive otherwise, with the reason.
HopJudgement LocateCensor(const std::vector<Hop>& hops);

/// The TLS ClientHello OpenSSL sends for `sni` (ALPN h2, http/1.1): the bytes of its
/// first flight, taken from a memory BIO. Empty when OpenSSL fails.
std::string ClientHelloBytes(const std::string& sni);

/// The HTTP/1.1 request with `host` as its Host (GET /); empty for a name with a line
/// break.
std::string HttpRequestBytes(const std::string& host);

class CensorHopExperiment : public Experiment {
 public:
  std::string_view name() const override { return kCensorHopName; }
  std::string_view version() const override { return kCensorHopVersion; }
  InputPolicy input_policy() const override { return InputPolicy::kRequired; }
  asio::awaitable<Result<Measurement>> Run(const ExperimentContext& context,
                                           const Json& input) const override;
  RunSummary Summarize(const Measurement& measurement) const override;
};

}  // namespace vigil
