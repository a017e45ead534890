#include "probe/experiments/whatsapp/whatsapp.h"

#include <asio/this_coro.hpp>
#include <memory>
#include <vector>

#include "probe/dns/dns_observer.h"
#include "probe/experiments/common/dns_consistency.h"
#include "probe/experiments/common/fetch.h"
#include "probe/experiments/common/messaging_control.h"
#include "probe/experiments/common/service_verdict.h"
#include "probe/experiments/common/test_keys.h"
#include "probe/measurement/envelope.h"
#include "probe/net/concurrency.h"
#include "probe/net/trace.h"

namespace vigil {

namespace {

constexpr int kEndpointCount = 16;
const std::vector<uint16_t> kEndpointPorts = {443, 5222};

std::string StatusOf(const std::optional<StepFailure>& f) { return f ? "blocked" : "ok"; }
Json FailureOf(const std::optional<StepFailure>& f) { return f ? Json(f->failure) : Json(); }

}  // namespace

Json WhatsappTestKeys(const WhatsappObservations& o) {
  Json keys = Json::object();
  bool any_ok = false;
  EndpointTally tally(o.dns_inconsistent);
  Json blocked = Json::array();
  Json failures = Json::array();
  for (const auto& [host, ports] : o.endpoints) {
    bool host_ok = false;
    for (const auto& [port, outcome] : ports) {
      host_ok = host_ok || outcome.ok;
      if (!outcome.no_ipv6) tally.Add(host, outcome.worked());
    }
    any_ok = any_ok || host_ok;
    if (!host_ok) blocked.push_back(host);
  }
  tally.Add(UrlHost(kWhatsappRegistrationUrl), !o.registration);
  tally.Add(UrlHost(kWhatsappWebUrl), !o.web);
  for (const auto& f : FailuresOf(o.endpoints)) failures.push_back(ToJson(f));
  if (o.registration) failures.push_back(ToJson(*o.registration));
  if (o.web) failures.push_back(ToJson(*o.web));

  keys["whatsapp_endpoints_status"] = any_ok ? "ok" : "blocked";
  keys["whatsapp_endpoints_blocked"] = blocked;
  keys["whatsapp_endpoints_dns_inconsistent"] = Json::array();
  keys["registration_server_status"] = StatusOf(o.registration);
  keys["registration_server_failure"] = FailureOf(o.registration);
  keys["whatsapp_web_status"] = StatusOf(o.web);
  keys["whatsapp_web_failure"] = FailureOf(o.web);
  Json status, port_failures;
  WritePortStatus(o.endpoints, &status, &port_failures);
  keys["x_endpoint_status"] = status;
  keys["x_endpoint_failures"] = port_failures;
  keys["x_partial_blocking"] = tally.partial();
  keys["x_failures"] = failures;
  return keys;
}

RunVerdict WhatsappVerdict(const Json& k) {
  auto is = [&k](const char* key, const char* value) {
    return k.contains(key) && k[key].is_string() && k[key] == value;
  };
  return ServiceVerdict(k, is("whatsapp_endpoints_status", "blocked") ||
                               is("registration_server_status", "blocked") ||
                               is("whatsapp_web_status", "blocked") || HasInconsistentDns(k));
}

asio::awaitable<Result<Measurement>> WhatsappExperiment::Run(const ExperimentContext& context,
                                                             const Json& /*input*/) const {
  auto executor = co_await asio::this_coro::executor;
  Measurement m = NewMeasurement(kWhatsappName, kWhatsappVersion, nullptr);
  Trace trace;
  DnsObserver dns(executor, context.resolver, context.timeout);
  EndpointSweep sweep(trace, dns, context);

  std::vector<Task> tasks;
  // No TLS ports: the chat endpoints speak WhatsApp's own protocol on 443 and 5222, and
  // a ClientHello there would fail uncensored too. The fetches below carry the SNI.
  for (int i = 1; i <= kEndpointCount; ++i) {
    tasks.push_back(sweep.Probe("e" + std::to_string(i) + ".whatsapp.net", kEndpointPorts));
  }
  HttpOutcome registration, web;
  tasks.push_back([&]() -> asio::awaitable<void> {
    registration =
        co_await FetchUrl(trace, dns, context, kWhatsappRegistrationUrl, HttpOptionsFor(context));
  });
  tasks.push_back([&]() -> asio::awaitable<void> {
    web = co_await FetchUrl(trace, dns, context, kWhatsappWebUrl, HttpOptionsFor(context));
  });
  co_await RunBounded(std::move(tasks), context.parallelism);

  const auto dns_check = CheckDnsConsistency(trace.keys().queries, {kWhatsappAsn}, context);
  WhatsappObservations o;
  o.endpoints = sweep.Outcomes();
  o.registration = FetchFailure(kWhatsappRegistrationUrl, registration);
  o.web = FetchFailure(kWhatsappWebUrl, web);
  o.dns_inconsistent = InconsistentNames(dns_check);
  Json keys = WhatsappTestKeys(o);
  AddDnsConsistency(keys, dns_check);
  // OONI defined this key and never filled it: the endpoints whose answers lie.
  for (const auto& f : InconsistentHosts(dns_check)) {
    if (o.endpoints.count(f.host)) keys["whatsapp_endpoints_dns_inconsistent"].push_back(f.host);
  }
  FinishMeasurement(m, trace, keys, context);
  co_await AddMessagingControl(context, m);
  co_return m;
}

RunSummary WhatsappExperiment::Summarize(const Measurement& measurement) const {
  const Json& k = measurement.test_keys.extra;
  return SummarizeFailures("WhatsApp", WhatsappVerdict(k),
                           StepFailuresFromJson(k.value("x_failures", Json::array())));
}

// How the registry makes one: experiments.def lists it.
std::unique_ptr<Experiment> MakeWhatsappExperiment() {
  return std::make_unique<WhatsappExperiment>();
}

}  // namespace vigil
