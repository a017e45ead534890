#include "probe/experiments/facebook_messenger/facebook_messenger.h"

#include <asio/this_coro.hpp>
#include <filesystem>
#include <memory>

#include "probe/dns/dns_observer.h"
#include "probe/experiments/common/messaging_control.h"
#include "probe/experiments/common/service_verdict.h"
#include "probe/experiments/common/step_failure.h"
#include "probe/experiments/common/test_keys.h"
#include "probe/measurement/envelope.h"
#include "probe/net/concurrency.h"
#include "probe/net/trace.h"

namespace vigil {

namespace {

constexpr const char* kPrefixFile = "asn/AS32934.txt";

}  // namespace

const std::vector<FacebookService>& FacebookServices() {
  static const std::vector<FacebookService> kServices = {
      {"stun", "stun.fbsbx.com", std::nullopt},
      {"b_api", "b-api.facebook.com", 443},
      {"b_graph", "b-graph.facebook.com", 443},
      {"edge", "edge-mqtt.facebook.com", 443},
      {"external_cdn", "external.xx.fbcdn.net", 443},
      {"scontent_cdn", "scontent.xx.fbcdn.net", 443},
      {"star", "star.c10r.facebook.com", 443},
  };
  return kServices;
}

Json FacebookMessengerTestKeys(const FacebookObservations& o, const IpPrefixSet& facebook) {
  Json keys = Json::object();
  bool dns_blocking = false, tcp_blocking = false;
  EndpointTally tally;
  Json dns_status = Json::object(), inconsistent = Json::object(), failures = Json::array();
  for (const auto& service : FacebookServices()) {
    const std::string prefix = "facebook_" + service.key;
    Json& consistent = keys[prefix + "_dns_consistent"];
    Json& reachable = keys[prefix + "_reachable"];
    reachable = nullptr;
    auto lookup = o.lookups.find(service.host);
    if (lookup == o.lookups.end() || !lookup->second.failure.empty()) {
      const std::string failure =
          lookup == o.lookups.end() ? "unknown_failure: not measured" : lookup->second.failure;
      consistent = false;
      dns_blocking = true;
      tally.Add(service.host, false);
      dns_status[service.host] = failure;
      failures.push_back(ToJson(StepFailure{service.host, 0, "resolve", failure}));
      continue;
    }
    Json outside = Json::array();
    for (const auto& ip : lookup->second.addresses) {
      if (!facebook.Contains(ip)) outside.push_back(ip);
    }
    if (!outside.empty()) {
      consistent = false;
      dns_blocking = true;
      tally.Add(service.host, false);
      dns_status[service.host] = "inconsistent";
      inconsistent[service.host] = outside;
      failures.push_back(ToJson(StepFailure{service.host, 0, "resolve", "dns_inconsistent"}));
      continue;
    }
    consistent = true;
    dns_status[service.host] = "consistent";
    if (!service.port) continue;
    auto host = o.endpoints.find(service.host);
    PortOutcome port{false, "connect", "unknown_failure: not measured"};
    if (host != o.endpoints.end()) {
      if (auto it = host->second.find(*service.port); it != host->second.end()) port = it->second;
    }
    // OONI's keys count a connect that found no IPv6 route as a failure; ours do not.
    // They know nothing of TLS: a reachable service whose handshakes fail (x_failures)
    // is still reachable there.
    reachable = port.ok;
    if (!port.ok) tcp_blocking = true;
    if (port.no_ipv6) continue;
    tally.Add(service.host, port.worked());
    if (!port.ok) {
      failures.push_back(ToJson(StepFailure{service.host, *service.port, "connect", port.failure}));
    } else if (!port.worked()) {
      failures.push_back(
          ToJson(StepFailure{service.host, *service.port, "tls_handshake", port.tls_failure}));
    }
  }
  keys["facebook_dns_blocking"] = dns_blocking;
  keys["facebook_tcp_blocking"] = tcp_blocking;
  keys["client_resolver"] = o.client_resolver.empty() ? Json() : Json(o.client_resolver);
  Json status, port_failures;
  WritePortStatus(o.endpoints, &status, &port_failures);
  keys["x_dns_status"] = dns_status;
  keys["x_inconsistent_addresses"] = inconsistent;
  keys["x_endpoint_status"] = status;
  keys["x_endpoint_failures"] = port_failures;
  keys["x_partial_blocking"] = tally.partial();
  keys["x_failures"] = failures;
  return keys;
}

RunVerdict FacebookMessengerVerdict(const Json& k) {
  auto is_true = [&k](const char* key) { return k.contains(key) && k[key] == true; };
  bool tls_failed = false;
  for (const auto& f : StepFailuresFromJson(k.value("x_failures", Json::array()))) {
    tls_failed = tls_failed || f.operation == "tls_handshake";
  }
  return ServiceVerdict(
      k, is_true("facebook_dns_blocking") || is_true("facebook_tcp_blocking") || tls_failed);
}

Result<IpPrefixSet> LoadFacebookPrefixes(const ExperimentContext& context,
                                         std::vector<std::string>* sources) {
  IpPrefixSet set;
  std::vector<std::string> files = {
      (std::filesystem::path(context.data_dir.empty() ? "testlists" : context.data_dir) /
       kPrefixFile)
          .string()};
  files.insert(files.end(), context.extra_asn_files.begin(), context.extra_asn_files.end());
  for (const auto& file : files) {
    if (auto added = set.AddFile(file); !added.ok()) return Error{added.error()};
  }
  // File names only: a full path could name the user running the probe.
  for (const auto& file : files)
    sources->push_back(std::filesystem::path(file).filename().string());
  if (auto it = context.extra_asn_addresses.find("AS32934");
      it != context.extra_asn_addresses.end()) {
    for (const auto& address : it->second) {
      if (auto added = set.Add(address); !added.ok()) return Error{added.error()};
    }
    sources->push_back("endpoints file");
  }
  return set;
}

asio::awaitable<Result<Measurement>> FacebookMessengerExperiment::Run(
    const ExperimentContext& context, const Json& /*input*/) const {
  auto executor = co_await asio::this_coro::executor;
  std::vector<std::string> sources;
  auto facebook = LoadFacebookPrefixes(context, &sources);
  if (!facebook.ok()) co_return Error{"facebook_messenger: " + facebook.error()};

  Measurement m = NewMeasurement(kFacebookMessengerName, kFacebookMessengerVersion, nullptr);
  Trace trace;
  DnsObserver dns(executor, context.resolver, context.timeout);
  EndpointSweep sweep(trace, dns, context);
  std::vector<Task> tasks;
  for (const auto& service : FacebookServices()) {
    std::vector<uint16_t> ports;
    if (service.port) ports.push_back(*service.port);
    // Every service port is HTTPS or MQTT over TLS: handshaken, so SNI filtering shows.
    tasks.push_back(sweep.Probe(service.host, ports, ports));
  }
  co_await RunBounded(std::move(tasks), context.parallelism);

  FacebookObservations o;
  for (const auto& l : sweep.lookups()) o.lookups[l.host] = l;
  o.endpoints = sweep.Outcomes();
  o.client_resolver = context.resolver.ip;
  Json keys = FacebookMessengerTestKeys(o, *facebook);
  keys["x_asn_prefix_files"] = sources;
  keys["x_tls_handshakes"] = sweep.TlsHandshakesJson();
  FinishMeasurement(m, trace, keys, context);
  co_await AddMessagingControl(context, m);
  co_return m;
}

RunSummary FacebookMessengerExperiment::Summarize(const Measurement& measurement) const {
  const Json& k = measurement.test_keys.extra;
  return SummarizeFailures("Facebook Messenger", FacebookMessengerVerdict(k),
                           StepFailuresFromJson(k.value("x_failures", Json::array())));
}

// How the registry makes one: experiments.def lists it.
std::unique_ptr<Experiment> MakeFacebookMessengerExperiment() {
  return std::make_unique<FacebookMessengerExperiment>();
}

}  // namespace vigil
