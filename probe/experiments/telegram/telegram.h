// Telegram (OONI ts-020): plain-HTTP POSTs to the data centres on ports 80 and 443
// and an HTTPS fetch of Telegram Web, with OONI's test_keys. Ours beside them: each
// DC and port on its own (IPv6 DCs and port 5222 too), so that one reachable DC no
// longer hides the blocking of the others. Stateless; Run on the executor's thread.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "probe/experiments/common/step_failure.h"
#include "probe/experiments/experiment.h"

namespace vigil {

inline constexpr const char* kTelegramName = "telegram";
inline constexpr const char* kTelegramVersion = "0.3.0";
inline constexpr const char* kTelegramWebUrl = "https://web.telegram.org/";
/// Telegram's own AS: DNS answers for web.telegram.org elsewhere are inconsistent.
inline constexpr uint32_t kTelegramAsn = 62041;

/// The IPv4 data centres OONI measures; only these decide OONI's keys.
const std::vector<std::string>& TelegramOoniDcs();
/// The IPv6 data centres, measured for the x_ keys only.
const std::vector<std::string>& TelegramIpv6Dcs();

/// One data-centre step: a POST on 80/443, a TCP connect on 5222.
struct TelegramAttempt {
  std::string dc;  // the real address
  uint16_t port = 0;
  bool http = false;             // a POST (80, 443) rather than a bare connect (5222)
  std::string failure;           // "" when the step completed
  std::string failed_operation;  // connect | http_round_trip | ...
};

struct TelegramObservations {
  std::vector<TelegramAttempt> attempts;
  std::optional<StepFailure> web;               // nullopt: a response arrived
  std::set<std::string> dns_inconsistent = {};  // names whose answers were inconsistent
};

/// OONI's keys and ours, from the observations:
///  telegram_tcp_blocking   false iff some OONI-DC POST got past connect
///  telegram_http_blocking  false iff some OONI-DC POST completed (any status code)
///  telegram_web_status / telegram_web_failure  "blocked" + failure when the fetch
///      failed at DNS, TCP, TLS or I/O; "ok" + null otherwise
///  x_dc_status    {dc: {port: "ok" | "blocked" | "no_ipv6"}} for every DC (IPv4 and
///      IPv6) and port; "no_ipv6" is an IPv6 step that failed for want of a route out
///      of this machine (network_unreachable, network_down, address_not_available):
///      not measured, and left out of every verdict
///  x_dc_failures  {dc: {port: failure}} for the failed ones, no_ipv6 ones included
///  x_ipv6_usable  some IPv6 DC step succeeded or failed otherwise than for want of a
///      local route; when false this host has no IPv6
///  x_partial_blocking  some of Telegram's endpoints worked (a DC step, Telegram Web)
///      and some failed; no_ipv6 steps count neither way, and Telegram Web counts as
///      failed when its name is DNS-inconsistent
///  x_failures  the failed steps the verdict counts (see step_failure.h)
Json TelegramTestKeys(const TelegramObservations& o);

/// "anomaly" for partial blocking (whatever else the keys say: some endpoint works);
/// else "blocked" when an OONI key says so or web.telegram.org is DNS-inconsistent;
/// else "ok".
RunVerdict TelegramVerdict(const Json& test_keys);

class TelegramExperiment : public Experiment {
 public:
  std::string_view name() const override { return kTelegramName; }
  std::string_view version() const override { return kTelegramVersion; }
  InputPolicy input_policy() const override { return InputPolicy::kNone; }
  asio::awaitable<Result<Measurement>> Run(const ExperimentContext& context,
                                           const Json& input) const override;
  RunSummary Summarize(const Measurement& measurement) const override;
};

}  // namespace vigil
