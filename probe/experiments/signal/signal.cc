#include "probe/experiments/signal/signal.h"

#include <asio/this_coro.hpp>
#include <filesystem>
#include <memory>

#include "probe/dns/dns_observer.h"
#include "probe/experiments/common/dns_consistency.h"
#include "probe/experiments/common/fetch.h"
#include "probe/experiments/common/messaging_control.h"
#include "probe/experiments/common/service_verdict.h"
#include "probe/experiments/common/test_keys.h"
#include "probe/measurement/envelope.h"
#include "probe/net/concurrency.h"
#include "probe/net/trace.h"
#include "probe/tls/tls_observer.h"

namespace vigil {

namespace {

constexpr const char* kUptimeHost = "uptime.signal.org";
constexpr const char* kPinnedCaFile = "ca/signal-ca.pem";

// Some backend answered with a certificate the system store cannot verify.
bool AnyUnverifiable(const Json& k) {
  auto it = k.find("x_backend_status");
  if (it == k.end() || !it->is_object()) return false;
  for (const auto& [host, status] : it->items()) {
    if (status == "unverifiable") return true;
  }
  return false;
}

}  // namespace

const std::vector<std::string>& SignalBackendUrls() {
  static const std::vector<std::string> kUrls = {
      "https://cdsi.signal.org/", "https://chat.signal.org/", "https://sfu.voip.signal.org/",
      "https://storage.signal.org/"};
  return kUrls;
}

Json SignalTestKeys(const SignalObservations& o) {
  Json keys = Json::object();
  Json backend_status = Json::object(), failures = Json::array();
  const StepFailure* first = nullptr;
  EndpointTally tally(o.dns_inconsistent);
  for (const auto& [url, failure] : o.backends) {
    std::string status = "ok";
    if (failure) {
      if (!first) first = &*failure;
      const bool unverifiable =
          o.ca_source == "system" && failure->failure == "ssl_unknown_authority";
      status = unverifiable ? "unverifiable" : "blocked";
      failures.push_back(ToJson(*failure));
    }
    if (status != "unverifiable") tally.Add(UrlHost(url), status == "ok");
    backend_status[UrlHost(url)] = status;
  }
  keys["signal_backend_status"] = first ? "blocked" : "ok";
  keys["signal_backend_failure"] = first ? Json(first->failure) : Json();
  keys["x_backend_status"] = backend_status;
  keys["x_ca_source"] = o.ca_source;
  keys["x_uptime_failure"] = o.uptime_failure.empty() ? Json() : Json(o.uptime_failure);
  keys["x_partial_blocking"] = tally.partial();
  keys["x_failures"] = failures;
  return keys;
}

const std::vector<uint32_t>& SignalAsns() {
  static const std::vector<uint32_t> kAsns = {16509, 14618, 15169, 396982, 54113};
  return kAsns;
}

RunVerdict SignalVerdict(const Json& k) {
  if (auto it = k.find("x_backend_status"); it != k.end() && it->is_object()) {
    bool blocked = HasInconsistentDns(k);
    for (const auto& [host, status] : it->items()) blocked = blocked || status == "blocked";
    const RunVerdict verdict = ServiceVerdict(k, blocked);
    return verdict == RunVerdict::kOk && AnyUnverifiable(k) ? RunVerdict::kAnomaly : verdict;
  }
  if (HasInconsistentDns(k)) return RunVerdict::kBlocked;
  // A measurement without our keys (OONI's own): OONI's key is all there is.
  return k.contains("signal_backend_status") && k["signal_backend_status"] == "blocked"
             ? RunVerdict::kBlocked
             : RunVerdict::kOk;
}

asio::awaitable<Result<Measurement>> SignalExperiment::Run(const ExperimentContext& context,
                                                           const Json& /*input*/) const {
  auto executor = co_await asio::this_coro::executor;
  HttpOptions options = HttpOptionsFor(context);
  std::string ca_source = "context";
  if (context.ca_file.empty()) {
    const std::string pinned =
        (std::filesystem::path(context.data_dir.empty() ? "testlists" : context.data_dir) /
         kPinnedCaFile)
            .string();
    std::error_code ec;
    if (std::filesystem::exists(pinned, ec)) {
      if (auto ok = CheckCaFile(pinned); !ok.ok()) co_return Error{"signal: " + ok.error()};
      options.ca_file = pinned;
      ca_source = "pinned";
    } else {
      ca_source = "system";
    }
  }

  Measurement m = NewMeasurement(kSignalName, kSignalVersion, nullptr);
  Trace trace;
  DnsObserver dns(executor, context.resolver, context.timeout);
  std::vector<HttpOutcome> outcomes(SignalBackendUrls().size());
  std::vector<Task> tasks;
  for (size_t i = 0; i < SignalBackendUrls().size(); ++i) {
    tasks.push_back([&, i]() -> asio::awaitable<void> {
      outcomes[i] = co_await FetchUrl(trace, dns, context, SignalBackendUrls()[i], options);
    });
  }
  LookupResult uptime;
  tasks.push_back(
      [&]() -> asio::awaitable<void> { uptime = co_await dns.Lookup(trace, kUptimeHost); });
  co_await RunBounded(std::move(tasks), context.parallelism);

  const auto dns_check = CheckDnsConsistency(trace.keys().queries, SignalAsns(), context);
  SignalObservations o;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    o.backends.emplace_back(SignalBackendUrls()[i],
                            FetchFailure(SignalBackendUrls()[i], outcomes[i]));
  }
  o.uptime_failure = uptime.failure;
  o.ca_source = ca_source;
  o.dns_inconsistent = InconsistentNames(dns_check);
  Json keys = SignalTestKeys(o);
  AddDnsConsistency(keys, dns_check);
  FinishMeasurement(m, trace, keys, context);
  co_await AddMessagingControl(context, m);
  co_return m;
}

RunSummary SignalExperiment::Summarize(const Measurement& measurement) const {
  const Json& k = measurement.test_keys.extra;
  RunSummary s = SummarizeFailures("Signal", SignalVerdict(k),
                                   StepFailuresFromJson(k.value("x_failures", Json::array())));
  if (s.verdict == RunVerdict::kAnomaly && AnyUnverifiable(k)) {
    s.evidence += " (verified with the system store, which lacks Signal's CA)";
  }
  return s;
}

// How the registry makes one: experiments.def lists it.
std::unique_ptr<Experiment> MakeSignalExperiment() { return std::make_unique<SignalExperiment>(); }

}  // namespace vigil
