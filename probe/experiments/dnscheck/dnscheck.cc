#include "probe/experiments/dnscheck/dnscheck.h"

#include <algorithm>
#include <asio/this_coro.hpp>
#include <cctype>
#include <charconv>
#include <memory>
#include <vector>

#include "base/host_port.h"
#include "probe/dns/dns_exchange.h"
#include "probe/dns/dns_observer.h"
#include "probe/dns/encrypted_dns.h"
#include "probe/experiments/common/dns_consistency.h"
#include "probe/experiments/common/experiment_input.h"
#include "probe/experiments/common/step_failure.h"
#include "probe/measurement/envelope.h"
#include "probe/measurement/measurement_json.h"
#include "probe/net/concurrency.h"
#include "probe/net/failure.h"
#include "probe/net/trace.h"

namespace vigil {

namespace {

uint16_t DefaultPort(const std::string& scheme) {
  if (scheme == "dot") return 853;
  if (scheme == "https") return 443;
  return 53;
}

// Failures that mean the resolver was reached and answered, just without addresses.
bool ResolverAnswered(const std::string& failure) {
  return failure == "dns_nxdomain_error" || failure == "dns_no_answer" ||
         failure == "dns_refused_error" || failure == "dns_servfail_error" ||
         failure == "dns_non_recoverable_failure";
}

// One address's lookup: its own record, as OONI keeps one urlgetter result per address.
struct AddressLookup {
  std::string key;        // the resolver URL with this address
  std::string real_ip;    // as the input or the bootstrap gave it
  std::string contacted;  // after ExperimentContext::MapAddress
  std::unique_ptr<Trace> trace;
  std::vector<std::string> addresses;
  std::string failure;
  std::string failed_operation;
};

}  // namespace

std::string ResolverUrl::WithAddress(const std::string& ip) const {
  if (scheme == "https") {
    return "https://" + (port_explicit ? JoinHostPort(ip, port) : BracketedHost(ip)) + http.target;
  }
  return FormatEndpointUrl(scheme, ip, port);
}

Result<ResolverUrl> ParseResolverUrl(const std::string& text) {
  const std::string quoted = "resolver '" + text + "'";
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string::npos) {
    return Error{quoted + ": expected udp://, tcp://, dot:// or https://"};
  }
  ResolverUrl url;
  url.scheme = text.substr(0, scheme_end);
  std::transform(url.scheme.begin(), url.scheme.end(), url.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (url.scheme == "https") {
    auto http = ParseUrl(text);
    if (!http.ok()) return Error{quoted + ": " + http.error()};
    url.http = *http;
    url.host = http->host;
    url.port = http->port;
    url.port_explicit = http->port_explicit;
    return url;
  }
  if (url.scheme != "udp" && url.scheme != "tcp" && url.scheme != "dot") {
    return Error{quoted + ": unsupported scheme '" + url.scheme + "'"};
  }
  auto endpoint = ParseEndpointUrl(text, DefaultPort(url.scheme));
  if (!endpoint.ok()) return Error{"resolver " + endpoint.error()};
  url.host = endpoint->endpoint.host;
  url.port = endpoint->endpoint.port;
  url.port_explicit = endpoint->endpoint.port_explicit;
  return url;
}

Json DnscheckLookupStatus(const std::vector<std::string>& addresses, const std::string& failure,
                          const std::string& contacted, const ExperimentContext& context) {
  if (!failure.empty()) {
    return IsNoIpv6Route(contacted, failure) ? kNoIpv6Status : "failed";
  }
  Json forged = Json::object();
  for (const auto& ip : addresses) {
    if (auto why = ForgedAnswer(ip, context)) forged[ip] = *why;
  }
  if (forged.empty()) return "ok";
  return Json{{"status", "forged"}, {"addresses", forged}};
}

RunVerdict DnscheckVerdict(const Json& k) {
  if (k.contains("bootstrap_failure") && k["bootstrap_failure"].is_string())
    return RunVerdict::kBlocked;
  if (!k.contains("lookups") || !k["lookups"].is_object() || k["lookups"].empty()) {
    return RunVerdict::kBlocked;
  }
  const Json status = k.value("x_lookup_status", Json::object());
  bool measured = false, honest = false, forged = false, all_answered = true;
  for (const auto& [key, lookup] : k["lookups"].items()) {
    if (!lookup.is_object()) continue;
    const Json mine = status.is_object() ? status.value(key, Json()) : Json();
    if (mine == kNoIpv6Status) continue;  // this machine has no IPv6: not a measurement
    measured = true;
    const Json failure = lookup.value("failure", Json());
    if (!failure.is_string()) {
      if (mine.is_object() && mine.value("status", "") == "forged") {
        forged = true;
      } else {
        honest = true;
      }
      continue;
    }
    if (!ResolverAnswered(failure.get<std::string>())) all_answered = false;
  }
  if (!measured) return RunVerdict::kError;
  // Forged answers beside honest ones: the resolver works, but not always (as a service
  // that works through some of its endpoints is not blocked).
  if (forged) return honest ? RunVerdict::kAnomaly : RunVerdict::kBlocked;
  if (honest) return RunVerdict::kOk;
  return all_answered ? RunVerdict::kAnomaly : RunVerdict::kBlocked;
}

asio::awaitable<Result<Measurement>> DnscheckExperiment::Run(const ExperimentContext& context,
                                                             const Json& input) const {
  auto executor = co_await asio::this_coro::executor;
  auto parsed_input = ParseExperimentInput(input);
  if (!parsed_input.ok()) co_return Error{"dnscheck: " + parsed_input.error()};
  auto url = ParseResolverUrl(parsed_input->target);
  if (!url.ok()) co_return Error{"dnscheck: " + url.error()};
  auto domain = StringOption(*parsed_input, "domain", kDnscheckDefaultDomain);
  if (!domain.ok()) co_return Error{"dnscheck: " + domain.error()};
  if (auto wire = EncodeDnsQuery(*domain, 1, 0); !wire.ok()) {
    co_return Error{"dnscheck: domain '" + *domain + "': " + wire.error()};
  }

  Measurement m = NewMeasurement(kDnscheckName, kDnscheckVersion, parsed_input->target);
  const auto zero = Trace::Clock::now();
  Json keys = Json::object();
  keys["domain"] = *domain;
  std::vector<StepFailure> failures;

  // Bootstrap: which addresses to try.
  std::vector<AddressLookup> lookups;
  auto add_address = [&](const std::string& real_ip, const std::string& contacted) {
    for (const auto& l : lookups) {
      if (l.real_ip == real_ip) return;
    }
    AddressLookup l;
    l.key = url->WithAddress(real_ip);
    l.real_ip = real_ip;
    l.contacted = contacted;
    l.trace = std::make_unique<Trace>(zero);
    lookups.push_back(std::move(l));
  };
  if (IsIpLiteral(url->host)) {
    keys["bootstrap"] = nullptr;
    keys["bootstrap_failure"] = nullptr;
    add_address(url->host, context.MapAddress(url->host));
  } else {
    Trace bootstrap(zero);
    DnsObserver dns(executor, context.resolver, context.timeout);
    LookupResult found = co_await dns.Lookup(bootstrap, url->host);
    TestKeys& b = bootstrap.keys();
    b.failure = AsFailure(found.failure);
    if (!found.failure.empty()) {
      b.failed_operation = "resolve";
      failures.push_back({url->host, url->port, "resolve", found.failure});
    }
    b.extra["agent"] = "redirect";
    keys["bootstrap"] = ToJson(b);
    keys["bootstrap_failure"] = found.failure.empty() ? Json() : Json(found.failure);
    for (const auto& ip : found.addresses) add_address(ip, ip);
  }

  EncryptedDnsOptions options;
  options.ca_file = context.ca_file;
  options.timeout = context.timeout;
  std::vector<Task> tasks;
  for (auto& lookup : lookups) {
    tasks.push_back([&, l = &lookup]() -> asio::awaitable<void> {
      Trace& trace = *l->trace;
      if (url->scheme == "udp" || url->scheme == "tcp") {
        ResolverSpec spec;
        spec.engine = url->scheme;
        spec.ip = l->contacted;
        spec.port = url->port;
        DnsObserver resolver(executor, spec, context.timeout);
        LookupResult r = co_await resolver.Lookup(trace, *domain);
        l->addresses = std::move(r.addresses);
        l->failure = std::move(r.failure);
        l->failed_operation = "resolve";
      } else {
        // Two statements, not a conditional expression: GCC 12 miscompiles co_await
        // inside `?:`.
        EncryptedLookupResult r;
        if (url->scheme == "dot") {
          r = co_await DotLookup(trace, l->contacted, url->port, url->host, *domain, options);
        } else {
          r = co_await DohLookup(trace, url->http, l->contacted, *domain, options);
        }
        l->addresses = std::move(r.addresses);
        l->failure = std::move(r.failure);
        l->failed_operation = std::move(r.failed_operation);
      }
    });
  }
  co_await RunBounded(std::move(tasks), context.parallelism);

  Json results = Json::object(), status = Json::object();
  for (auto& l : lookups) {
    TestKeys& k = l.trace->keys();
    k.failure = AsFailure(l.failure);
    const Json& mine = status[l.key] =
        DnscheckLookupStatus(l.addresses, l.failure, l.contacted, context);
    if (mine.is_object()) {
      // Answers no honest resolver gives: the lookup failed at DNS, whatever OONI's
      // record says.
      bool bogon = false;
      for (const auto& [ip, why] : mine["addresses"].items()) bogon = bogon || why == "bogon";
      failures.push_back(
          {l.real_ip, url->port, "resolve", bogon ? "dns_bogon_error" : "dns_inconsistent"});
    }
    if (!l.failure.empty()) {
      k.failed_operation = l.failed_operation;
      if (mine != kNoIpv6Status) {
        failures.push_back({l.real_ip, url->port, l.failed_operation, l.failure});
      }
    }
    k.extra["agent"] = "redirect";
    if (l.contacted != l.real_ip) k.extra["x_mapped_from"] = l.real_ip;
    results[l.key] = ToJson(k);
  }
  keys["lookups"] = std::move(results);
  keys["x_lookup_status"] = std::move(status);
  Json failure_list = Json::array();
  for (const auto& f : failures) failure_list.push_back(ToJson(f));
  keys["x_failures"] = std::move(failure_list);
  if (!context.resolver.ToString().empty()) keys["x_resolver"] = context.resolver.ToString();

  m.test_runtime = std::chrono::duration<double>(Trace::Clock::now() - zero).count();
  m.test_keys.extra = std::move(keys);
  co_return m;
}

RunSummary DnscheckExperiment::Summarize(const Measurement& measurement) const {
  const Json& k = measurement.test_keys.extra;
  const std::string service =
      measurement.input.is_string() ? measurement.input.get<std::string>() : kDnscheckName;
  RunSummary s = SummarizeFailures(service, DnscheckVerdict(k),
                                   StepFailuresFromJson(k.value("x_failures", Json::array())));
  if (s.verdict == RunVerdict::kError && s.evidence.empty()) {
    s.evidence = "not measured: no IPv6 route from this machine to the resolver";
  }
  return s;
}

// How the registry makes one: experiments.def lists it.
std::unique_ptr<Experiment> MakeDnscheckExperiment() {
  return std::make_unique<DnscheckExperiment>();
}

}  // namespace vigil
