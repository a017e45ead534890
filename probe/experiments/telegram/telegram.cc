#include "probe/experiments/telegram/telegram.h"

#include <algorithm>
#include <asio/this_coro.hpp>
#include <memory>

#include "probe/dns/dns_observer.h"
#include "probe/experiments/common/dns_consistency.h"
#include "probe/experiments/common/endpoint_sweep.h"
#include "probe/experiments/common/fetch.h"
#include "probe/experiments/common/mapped_addresses.h"
#include "probe/experiments/common/messaging_control.h"
#include "probe/experiments/common/service_verdict.h"
#include "probe/experiments/common/test_keys.h"
#include "probe/measurement/envelope.h"
#include "probe/net/concurrency.h"
#include "probe/net/failure.h"
#include "probe/net/trace.h"

namespace vigil {

namespace {

// OONI POSTs plain HTTP on both ports: the DCs answer HTTP there, not TLS.
const std::vector<uint16_t> kHttpPorts = {80, 443};
// Telegram's clients also reach the DCs on 5222, which speaks MTProto only.
constexpr uint16_t kClientPort = 5222;

bool IsOoniDc(const std::string& dc) {
  const auto& dcs = TelegramOoniDcs();
  return std::find(dcs.begin(), dcs.end(), dc) != dcs.end();
}

bool IsIpv6(const std::string& ip) { return ip.find(':') != std::string::npos; }

std::string DcUrl(const std::string& dc, uint16_t port) {
  const std::string host = IsIpv6(dc) ? "[" + dc + "]" : dc;
  return "http://" + host + (port == 80 ? "" : ":" + std::to_string(port)) + "/";
}

}  // namespace

const std::vector<std::string>& TelegramOoniDcs() {
  static const std::vector<std::string> kDcs = {"149.154.175.50",  "149.154.167.51",
                                                "149.154.175.100", "149.154.167.91",
                                                "149.154.171.5",   "95.161.76.100"};
  return kDcs;
}

const std::vector<std::string>& TelegramIpv6Dcs() {
  static const std::vector<std::string> kDcs = {"2001:b28:f23d:f001::a", "2001:67c:4e8:f002::a",
                                                "2001:b28:f23d:f003::a", "2001:67c:4e8:f004::a",
                                                "2001:b28:f23f:f005::a"};
  return kDcs;
}

Json TelegramTestKeys(const TelegramObservations& o) {
  bool tcp_blocking = true, http_blocking = true, ipv6_usable = false;
  for (const auto& a : o.attempts) {
    const bool connected = a.failure.empty() || a.failed_operation != "connect";
    if (IsIpv6(a.dc) && !IsNoRouteFailure(a.failure)) ipv6_usable = true;
    if (!a.http || !IsOoniDc(a.dc) ||
        std::find(kHttpPorts.begin(), kHttpPorts.end(), a.port) == kHttpPorts.end()) {
      continue;
    }
    if (connected) tcp_blocking = false;
    if (a.failure.empty()) http_blocking = false;
  }

  Json status = Json::object(), dc_failures = Json::object(), failures = Json::array();
  EndpointTally tally(o.dns_inconsistent);
  for (const auto& a : o.attempts) {
    const std::string port = std::to_string(a.port);
    const bool no_ipv6 = IsNoIpv6Route(a.dc, a.failure);
    status[a.dc][port] = a.failure.empty() ? "ok" : no_ipv6 ? kNoIpv6Status : "blocked";
    if (!a.failure.empty()) dc_failures[a.dc][port] = a.failure;
    if (no_ipv6) continue;
    tally.Add(a.dc, a.failure.empty());
    if (!a.failure.empty()) {
      failures.push_back(ToJson(StepFailure{a.dc, a.port, a.failed_operation, a.failure}));
    }
  }
  tally.Add(UrlHost(kTelegramWebUrl), !o.web);
  if (o.web) failures.push_back(ToJson(*o.web));

  Json keys = Json::object();
  keys["telegram_tcp_blocking"] = tcp_blocking;
  keys["telegram_http_blocking"] = http_blocking;
  keys["telegram_web_status"] = o.web ? "blocked" : "ok";
  keys["telegram_web_failure"] = o.web ? Json(o.web->failure) : Json();
  keys["x_dc_status"] = status;
  keys["x_dc_failures"] = dc_failures;
  keys["x_ipv6_usable"] = ipv6_usable;
  keys["x_partial_blocking"] = tally.partial();
  keys["x_failures"] = failures;
  return keys;
}

RunVerdict TelegramVerdict(const Json& k) {
  auto is = [&k](const char* key, const Json& value) { return k.contains(key) && k[key] == value; };
  return ServiceVerdict(k, is("telegram_tcp_blocking", true) ||
                               is("telegram_http_blocking", true) ||
                               is("telegram_web_status", "blocked") || HasInconsistentDns(k));
}

asio::awaitable<Result<Measurement>> TelegramExperiment::Run(const ExperimentContext& context,
                                                             const Json& /*input*/) const {
  auto executor = co_await asio::this_coro::executor;
  Measurement m = NewMeasurement(kTelegramName, kTelegramVersion, nullptr);
  Trace trace;
  DnsObserver dns(executor, context.resolver, context.timeout);
  EndpointSweep sweep(trace, dns, context);

  std::vector<std::string> dcs = TelegramOoniDcs();
  dcs.insert(dcs.end(), TelegramIpv6Dcs().begin(), TelegramIpv6Dcs().end());
  std::vector<TelegramAttempt> attempts;
  std::vector<Task> tasks;
  for (const auto& dc : dcs) {
    for (uint16_t port : kHttpPorts) {
      tasks.push_back([&, dc, port]() -> asio::awaitable<void> {
        HttpOptions options = HttpOptionsFor(context);
        options.method = "POST";
        HttpOutcome out = co_await FetchUrl(trace, dns, context, DcUrl(dc, port), options);
        attempts.push_back(TelegramAttempt{dc, port, true, out.failure, out.failed_operation});
      });
    }
    tasks.push_back(sweep.Probe(dc, {kClientPort}));
  }
  HttpOutcome web;
  tasks.push_back([&]() -> asio::awaitable<void> {
    web = co_await FetchUrl(trace, dns, context, kTelegramWebUrl, HttpOptionsFor(context));
  });
  co_await RunBounded(std::move(tasks), context.parallelism);

  for (const auto& [dc, ports] : sweep.Outcomes()) {
    for (const auto& [port, outcome] : ports) {
      attempts.push_back(TelegramAttempt{dc, port, false, outcome.ok ? "" : outcome.failure,
                                         outcome.ok ? "" : outcome.operation});
    }
  }
  const auto dns_check = CheckDnsConsistency(trace.keys().queries, {kTelegramAsn}, context);
  TelegramObservations o{attempts, FetchFailure(kTelegramWebUrl, web),
                         InconsistentNames(dns_check)};
  MarkMappedAddresses(trace.keys(), MappedLiterals(context, dcs));
  Json keys = TelegramTestKeys(o);
  AddDnsConsistency(keys, dns_check);
  FinishMeasurement(m, trace, keys, context);
  co_await AddMessagingControl(context, m);
  co_return m;
}

RunSummary TelegramExperiment::Summarize(const Measurement& measurement) const {
  const Json& k = measurement.test_keys.extra;
  return SummarizeFailures("Telegram", TelegramVerdict(k),
                           StepFailuresFromJson(k.value("x_failures", Json::array())));
}

// How the registry makes one: experiments.def lists it.
std::unique_ptr<Experiment> MakeTelegramExperiment() {
  return std::make_unique<TelegramExperiment>();
}

}  // namespace vigil
