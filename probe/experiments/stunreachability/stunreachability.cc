#include "probe/experiments/stunreachability/stunreachability.h"

#include <algorithm>
#include <asio/this_coro.hpp>
#include <memory>
#include <vector>

#include "base/host_port.h"
#include "probe/dns/dns_observer.h"
#include "probe/experiments/common/experiment_input.h"
#include "probe/experiments/common/step_failure.h"
#include "probe/measurement/envelope.h"
#include "probe/measurement/measurement_json.h"
#include "probe/net/trace.h"
#include "probe/stun/stun_observer.h"

namespace vigil {

namespace {

constexpr char kRoundTrip[] = "stun_round_trip";

}  // namespace

Result<StunUrl> ParseStunUrl(const std::string& text) {
  HostPort endpoint;
  if (text.find("://") == std::string::npos) {
    auto parsed = ParseHostOptionalPort(text, kStunDefaultPort);
    if (!parsed.ok()) return Error{parsed.error()};
    endpoint = std::move(*parsed);
  } else {
    auto parsed = ParseEndpointUrl(text, kStunDefaultPort);
    if (!parsed.ok()) return Error{parsed.error()};
    if (parsed->scheme != "stun") return Error{"'" + text + "': expected stun://HOST[:PORT]"};
    endpoint = std::move(parsed->endpoint);
  }
  return StunUrl{endpoint.host, endpoint.port};
}

RunVerdict StunReachabilityVerdict(const Json& k) {
  if (k.contains("failure") && k["failure"].is_null()) return RunVerdict::kOk;
  // A Binding Error Response still proves that STUN traffic gets through.
  if (k.value("x_response_received", false)) return RunVerdict::kOk;
  return RunVerdict::kBlocked;
}

asio::awaitable<Result<Measurement>> StunReachabilityExperiment::Run(
    const ExperimentContext& context, const Json& input) const {
  auto executor = co_await asio::this_coro::executor;
  auto parsed_input = ParseExperimentInput(input);
  if (!parsed_input.ok()) co_return Error{"stunreachability: " + parsed_input.error()};
  auto url = ParseStunUrl(parsed_input->target);
  if (!url.ok()) co_return Error{"stunreachability: " + url.error()};

  Measurement m =
      NewMeasurement(kStunReachabilityName, kStunReachabilityVersion, parsed_input->target);
  Trace trace;
  const auto started = Trace::Clock::now();
  std::string failure;
  std::string operation;
  StunBindingOutcome outcome;

  std::vector<std::string> ips;
  if (IsIpLiteral(url->host)) {
    ips.push_back(context.MapAddress(url->host));
  } else {
    DnsObserver dns(executor, context.resolver, context.timeout);
    LookupResult found = co_await dns.Lookup(trace, url->host);
    ips = std::move(found.addresses);
    failure = found.failure;
    operation = "resolve";
  }
  for (const auto& ip : ips) {
    // The step's deadline covers every address tried.
    const auto spent =
        std::chrono::duration_cast<std::chrono::milliseconds>(Trace::Clock::now() - started);
    const auto left = context.timeout - std::min(spent, context.timeout);
    outcome = co_await ObserveStunBinding(trace, ip, url->port, trace.NextTransactionId(), left);
    failure = outcome.failure;
    operation = kRoundTrip;
    // An address that took no datagram at all (no route, say): try the next one.
    if (outcome.requests_sent > 0 || left.count() == 0) break;
  }

  TestKeys& k = trace.keys();
  k.failure = AsFailure(failure);
  Json& x = k.extra;
  const std::string endpoint = JoinHostPort(url->host, url->port);
  x["endpoint"] = endpoint;
  x["x_response_received"] = outcome.response;
  x["x_mapped_address_present"] = outcome.mapped_address_present;
  x["x_requests_sent"] = outcome.requests_sent;
  if (outcome.error_code) x["x_error_code"] = *outcome.error_code;
  x["x_discarded"] = outcome.discarded;
  x["x_discarded_count"] = outcome.discarded_count;
  Json failures = Json::array();
  if (!failure.empty()) {
    failures.push_back(ToJson(StepFailure{url->host, url->port, operation, failure}));
  }
  x["x_failures"] = std::move(failures);
  if (!context.resolver.ToString().empty()) x["x_resolver"] = context.resolver.ToString();

  m.extensions = {{"dnst", 0}, {"netevents", 0}};
  m.test_runtime = trace.Now();
  m.test_keys = std::move(k);
  co_return m;
}

RunSummary StunReachabilityExperiment::Summarize(const Measurement& measurement) const {
  // The whole of test_keys: `failure` is a key of the model, not of `extra`.
  const Json k = ToJson(measurement.test_keys);
  const std::string service =
      measurement.input.is_string() ? measurement.input.get<std::string>() : kStunReachabilityName;
  auto failures = StepFailuresFromJson(k.value("x_failures", Json::array()));
  RunSummary s = SummarizeFailures(service, StunReachabilityVerdict(k), failures);
  // No layer above UDP was involved: a lost exchange is transport-level blocking.
  if (s.verdict != RunVerdict::kOk && !failures.empty() &&
      failures.front().operation == kRoundTrip) {
    s.blocking = "tcp_ip";
  }
  return s;
}

// How the registry makes one: experiments.def lists it.
std::unique_ptr<Experiment> MakeStunReachabilityExperiment() {
  return std::make_unique<StunReachabilityExperiment>();
}

}  // namespace vigil
