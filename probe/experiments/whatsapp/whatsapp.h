// WhatsApp (OONI ts-018): TCP connects to e1..e16.whatsapp.net on 443 and 5222, and
// HTTPS fetches of the registration service and WhatsApp Web, with OONI's test_keys.
// Unlike some OONI versions, the web and registration verdicts rest on DNS, TCP,
// TLS and I/O failures only, never on the HTTP status code (web.whatsapp.com answers
// 400/403 to clients that are not browsers). Stateless; Run on the executor's thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "probe/experiments/common/endpoint_sweep.h"
#include "probe/experiments/common/step_failure.h"
#include "probe/experiments/experiment.h"

namespace vigil {

inline constexpr const char* kWhatsappName = "whatsapp";
inline constexpr const char* kWhatsappVersion = "0.11.0";
inline constexpr const char* kWhatsappRegistrationUrl = "https://v.whatsapp.net/v2/register";
inline constexpr const char* kWhatsappWebUrl = "https://web.whatsapp.com/";
/// Facebook's AS, which serves WhatsApp: DNS answers elsewhere are inconsistent.
inline constexpr uint32_t kWhatsappAsn = 32934;

/// What a run saw, reduced to what the verdicts need.
struct WhatsappObservations {
  std::map<std::string, std::map<uint16_t, PortOutcome>> endpoints;  // host → port → outcome
  std::optional<StepFailure> registration;                           // nullopt: a response arrived
  std::optional<StepFailure> web;
  std::set<std::string> dns_inconsistent = {};  // names whose answers were inconsistent
};

/// OONI's keys and ours, from the observations:
///  whatsapp_endpoints_status   "ok" when any endpoint accepted on any port, else "blocked"
///  whatsapp_endpoints_blocked  endpoints where no port accepted (DNS failure included)
///  whatsapp_endpoints_dns_inconsistent  [] (OONI never fills it either)
///  registration_server_status / whatsapp_web_status  "ok" when a response arrived,
///      whatever its status code; "blocked" with *_failure = the failure otherwise
///  x_endpoint_status / x_endpoint_failures  per endpoint, per port ("no_ipv6" for a
///      port whose addresses were all IPv6 without a route here: not measured)
///  x_partial_blocking  some of WhatsApp's endpoints worked (an endpoint port, the
///      registration service, WhatsApp Web) and some failed; one on a DNS-inconsistent
///      name counts as failed
///  x_failures  every failed step (see step_failure.h)
Json WhatsappTestKeys(const WhatsappObservations& o);

/// "anomaly" for partial blocking (whatever else the keys say: some endpoint works);
/// else "blocked" when an OONI key says blocked or a name is DNS-inconsistent; else "ok".
RunVerdict WhatsappVerdict(const Json& test_keys);

class WhatsappExperiment : public Experiment {
 public:
  std::string_view name() const override { return kWhatsappName; }
  std::string_view version() const override { return kWhatsappVersion; }
  InputPolicy input_policy() const override { return InputPolicy::kNone; }
  asio::awaitable<Result<Measurement>> Run(const ExperimentContext& context,
                                           const Json& input) const override;
  RunSummary Summarize(const Measurement& measurement) const override;
};

}  // namespace vigil
