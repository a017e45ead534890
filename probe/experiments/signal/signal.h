// Signal (OONI ts-029): HTTPS fetches of Signal's backends, verified against
// Signal's own CA as the app does, and a lookup of uptime.signal.org (recorded,
// never judged), with OONI's test_keys. The CA is data: the context's CA file (the
// lab's), else data_dir/ca/signal-ca.pem, else the system store — recorded in
// x_ca_source. Stateless; Run on the executor's thread.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "probe/experiments/common/step_failure.h"
#include "probe/experiments/experiment.h"

namespace vigil {

inline constexpr const char* kSignalName = "signal";
inline constexpr const char* kSignalVersion = "0.2.5";

/// The backends fetched, as OONI's signal 0.2.5 does.
const std::vector<std::string>& SignalBackendUrls();

/// The clouds Signal's services run on (Amazon AS16509/AS14618, Google
/// AS15169/AS396982, Fastly AS54113): DNS answers elsewhere are inconsistent.
const std::vector<uint32_t>& SignalAsns();

struct SignalObservations {
  /// Backend URL → its failure (nullopt: a response arrived, whatever its status).
  std::vector<std::pair<std::string, std::optional<StepFailure>>> backends;
  std::string uptime_failure;                   // "" when uptime.signal.org resolved
  std::string ca_source;                        // context | pinned | system
  std::set<std::string> dns_inconsistent = {};  // names whose answers were inconsistent
};

/// OONI's keys and ours, from the observations:
///  signal_backend_status   "blocked" when any backend fetch failed, else "ok" (OONI's
///      rule, kept even where it misleads: see x_backend_status)
///  signal_backend_failure  the first failed backend's failure (URL order), else null
///  x_backend_status  {host: "ok" | "blocked" | "unverifiable"}; "unverifiable" is
///      ssl_unknown_authority while verifying with the system store, which lacks
///      Signal's CA: expected from Signal's real servers, so no evidence of blocking
///  x_ca_source       where the trusted CAs came from: context | pinned | system
///  x_uptime_failure  the lookup of uptime.signal.org (OONI ignores it), or null
///  x_partial_blocking  some backends were "ok" and some "blocked" (a backend on a
///      DNS-inconsistent name counts as blocked; "unverifiable" ones count neither way)
///  x_failures        every failed fetch (see step_failure.h)
Json SignalTestKeys(const SignalObservations& o);

/// "anomaly" for partial blocking (whatever else the keys say: some backend works);
/// else "blocked" when a backend is blocked or a name is DNS-inconsistent; else
/// "anomaly" when some backend is unverifiable; else "ok".
RunVerdict SignalVerdict(const Json& test_keys);

class SignalExperiment : public Experiment {
 public:
  std::string_view name() const override { return kSignalName; }
  std::string_view version() const override { return kSignalVersion; }
  InputPolicy input_policy() const override { return InputPolicy::kNone; }
  asio::awaitable<Result<Measurement>> Run(const ExperimentContext& context,
                                           const Json& input) const override;
  RunSummary Summarize(const Measurement& measurement) const override;
};

}  // namespace vigil
