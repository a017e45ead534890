#include "probe/experiments/web_connectivity/web_connectivity.h"

#include <algorithm>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/this_coro.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <set>

#include "base/host_port.h"
#include "probe/dns/dns_observer.h"
#include "probe/experiments/common/fetch.h"
#include "probe/experiments/common/test_keys.h"
#include "probe/experiments/web_connectivity/classification.h"
#include "probe/experiments/web_connectivity/control_client.h"
#include "probe/geo/asn_database.h"
#include "probe/http/http_observer.h"
#include "probe/http/url.h"
#include "probe/measurement/envelope.h"
#include "probe/net/concurrency.h"
#include "probe/net/failure.h"
#include "probe/net/trace.h"
#include "probe/tcp/tcp_observer.h"
#include "probe/tls/tls_observer.h"

namespace vigil {

namespace {

using Clock = std::chrono::steady_clock;

// The helper measures DNS, connects and a whole fetch with redirects before it
// answers, so its round trip may take several of our per-step deadlines.
constexpr int kControlTimeoutFactor = 3;
constexpr size_t kMaxControlResponseBytes = size_t{4} << 20;

int64_t NanosSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
}

}  // namespace

Result<std::shared_ptr<ControlClient>> MakeControlClient(const ExperimentContext& context,
                                                         asio::any_io_executor executor,
                                                         size_t max_idle) {
  ControlClientOptions options;
  options.helper_url = context.helper_url;
  options.resolver = context.resolver;
  options.ca_file = context.ca_file;
  options.timeout = context.timeout * kControlTimeoutFactor;
  options.body_cap = kMaxControlResponseBytes;
  options.max_idle = max_idle;
  return ControlClient::Create(std::move(executor), std::move(options));
}

namespace {

// Without a helper there is no control, and the measurement says why.
asio::awaitable<ControlOutcome> AskControl(const ExperimentContext& context,
                                           const ControlRequest& request) {
  if (context.helper_url.empty()) {
    ControlOutcome out;
    out.failure = UnknownFailure("no control helper configured");
    co_return out;
  }
  co_return co_await AskControlHelper(context, request);
}

// Connects to every address (and handshakes TLS for https), each with its own
// transaction id, recording in the measurement's trace.
asio::awaitable<void> ConnectStep(Trace& trace, const ExperimentContext& context, const Url& url,
                                  const std::string& server_name,
                                  const std::vector<std::string>& addresses,
                                  std::vector<WebConnect>* connects,
                                  std::vector<WebTlsHandshake>* handshakes) {
  std::vector<Task> tasks;
  for (const auto& ip : addresses) {
    tasks.push_back([&, ip]() -> asio::awaitable<void> {
      const int64_t tid = trace.NextTransactionId();
      auto connected = co_await ObserveTcpConnect(trace, ip, url.port, tid, context.timeout);
      connects->push_back({ip, url.port, connected.failure});
      if (!connected.socket || url.scheme != "https") co_return;
      TlsOptions tls;
      tls.sni = server_name;
      tls.alpn = {"h2", "http/1.1"};
      tls.ca_file = context.ca_file;
      tls.timeout = context.timeout;
      const std::string address = JoinHostPort(ip, url.port);
      auto handshake =
          co_await ObserveTlsHandshake(trace, std::move(*connected.socket), address, tls, tid);
      handshakes->push_back({address, server_name, handshake.failure});
    });
  }
  co_await RunBounded(std::move(tasks), context.parallelism);
}

WebFetch FetchObservation(const HttpOutcome& outcome, const TestKeys& keys) {
  WebFetch f;
  f.failure = outcome.failure;
  f.failed_operation = outcome.failed_operation;
  f.final_url = outcome.final_url;
  f.hops = static_cast<int>(keys.requests.size());
  if (keys.requests.empty()) return f;
  const HttpResponse& last = keys.requests.front().response;  // newest first
  f.status_code = last.code;
  f.headers = last.headers_list;
  f.body_length = static_cast<int64_t>(last.body.bytes.size());
  f.body_is_truncated = last.body_is_truncated;
  f.title = last.x_title;
  return f;
}

// OONI's tcp_connect[].status.blocked: set where the control measured the same
// endpoint, true when it connected and we did not.
void MarkBlocked(TestKeys& keys, const ControlResponse& control) {
  for (auto& entry : keys.tcp_connect) {
    auto it = control.tcp_connect.find(JoinHostPort(entry.ip, static_cast<uint16_t>(entry.port)));
    if (it == control.tcp_connect.end()) continue;
    entry.status.blocked = !entry.status.success && it->second.status;
  }
}

// The AS of every address either side saw, where the context knows it: the
// ASN database, the lab's stand-ins, and the helper's own ip_info. Answers in
// `keys.queries` get their asn and as_org_name as OONI's do.
std::map<std::string, uint32_t> KnownAsns(const ExperimentContext& context, TestKeys& keys,
                                          const std::vector<std::string>& probe_addresses,
                                          const std::optional<ControlResponse>& control) {
  std::map<std::string, uint32_t> asns;
  std::vector<std::string> addresses = probe_addresses;
  if (control) {
    addresses.insert(addresses.end(), control->dns.addrs.begin(), control->dns.addrs.end());
    for (const auto& [ip, info] : control->ip_info) {
      if (info.asn > 0) asns[ip] = static_cast<uint32_t>(info.asn);
    }
  }
  for (const auto& [as_name, ips] : context.extra_asn_addresses) {
    uint32_t number = 0;
    if (as_name.size() > 2 && std::sscanf(as_name.c_str() + 2, "%u", &number) == 1) {
      for (const auto& ip : ips) asns[ip] = number;
    }
  }
  if (context.asn_db) {
    for (const auto& ip : addresses) {
      if (auto info = context.asn_db->Lookup(ip); info && info->number != 0)
        asns[ip] = info->number;
    }
    for (auto& q : keys.queries) {
      for (auto& a : q.answers) {
        const auto& ip = a.ipv4 ? a.ipv4 : a.ipv6;
        if (!ip) continue;
        if (auto info = context.asn_db->Lookup(*ip)) {
          a.asn = info->number;
          a.as_org_name = info->organization;
        }
      }
    }
  }
  return asns;
}

std::string JoinList(const std::vector<std::string>& items, size_t max) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < max; ++i) out += (i ? "," : "") + items[i];
  if (items.size() > max) out += ",...";
  return out.empty() ? "none" : out;
}

std::string StringOr(const Json& j, const char* key, const std::string& fallback) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : fallback;
}

}  // namespace

ControlRequest MakeControlRequest(const std::string& url, const std::vector<std::string>& addresses,
                                  uint16_t port) {
  ControlRequest r;
  r.http_request = url;
  for (const auto& [name, value] : DefaultHttpHeaders()) r.http_request_headers[name] = {value};
  for (const auto& ip : addresses) r.tcp_connect.push_back(JoinHostPort(ip, port));
  return r;
}

asio::awaitable<Result<Measurement>> WebConnectivityExperiment::Run(
    const ExperimentContext& context, const Json& input) const {
  if (!input.is_string()) co_return Error{"web_connectivity needs a URL as input"};
  const std::string url_text = input.get<std::string>();
  auto parsed = ParseUrl(url_text);
  if (!parsed.ok()) co_return Error{"web_connectivity: '" + url_text + "': " + parsed.error()};
  const Url url = *parsed;

  auto executor = co_await asio::this_coro::executor;
  Measurement m = NewMeasurement(kWebConnectivityName, kWebConnectivityVersion, input);
  if (auto helper = ParseUrl(context.helper_url); helper.ok()) {
    m.test_helpers = Json{{"backend", {{"address", context.helper_url}, {"type", helper->scheme}}}};
  }
  Trace trace;
  DnsObserver dns(executor, context.resolver, context.timeout);
  WebObservations o;
  o.host = url.host;
  Json runtimes = Json::object();

  // 1. DNS. An IP literal is contacted as the context maps it (the lab's stand-ins).
  auto start = Clock::now();
  if (IsIpLiteral(url.host)) {
    o.addresses = {context.MapAddress(url.host)};
  } else {
    LookupResult lookup = co_await dns.Lookup(trace, url.host);
    o.dns_failure = lookup.failure;
    std::set<std::string> seen;
    for (const auto& ip : lookup.addresses) {
      if (seen.insert(ip).second) o.addresses.push_back(ip);
    }
  }
  runtimes["x_dns_runtime"] = NanosSince(start);

  // 2. Connects, the fetch and the control request, side by side.
  const ControlRequest request = MakeControlRequest(url_text, o.addresses, url.port);
  HttpOutcome fetched;
  ControlOutcome control;
  auto connect_step = [&]() -> asio::awaitable<void> {
    const auto t = Clock::now();
    co_await ConnectStep(trace, context, url, url.host, o.addresses, &o.connects,
                         &o.tls_handshakes);
    runtimes["x_tcptls_runtime"] = NanosSince(t);
  };
  auto fetch_step = [&]() -> asio::awaitable<void> {
    const auto t = Clock::now();
    fetched = co_await FetchUrl(trace, dns, context, url_text, HttpOptionsFor(context));
    runtimes["x_http_runtime"] = NanosSince(t);
  };
  auto control_step = [&]() -> asio::awaitable<void> {
    const auto t = Clock::now();
    control = co_await AskControl(context, request);
    runtimes["x_th_runtime"] = NanosSince(t);
  };
  {
    using namespace asio::experimental::awaitable_operators;
    co_await (connect_step() && fetch_step() && control_step());
  }

  // 3. Compare.
  o.fetch = FetchObservation(fetched, trace.keys());
  o.control = std::move(control.response);
  o.control_failure = control.failure;
  if (o.control) MarkBlocked(trace.keys(), *o.control);
  o.asns = KnownAsns(context, trace.keys(), o.addresses, o.control);
  const WebClassification c = ClassifyWebConnectivity(o);

  Json keys = WebConnectivityKeys(o, c);
  keys["x_control_request"] = ToJson(request);
  for (const auto& [key, value] : runtimes.items()) keys[key] = value;
  // OONI's keys for what we do not do (yet): the resolver's own address as seen by
  // a whoami service, DoH and extra Do53 lookups, retries, connection priorities.
  keys["client_resolver"] = "";
  keys["retries"] = nullptr;
  for (const char* key :
       {"x_dns_whoami", "x_doh", "x_do53", "x_dns_duplicate_responses", "x_conn_priority_log"}) {
    keys[key] = nullptr;
  }
  FinishMeasurement(m, trace, keys, context);
  co_return m;
}

RunSummary WebConnectivityExperiment::Summarize(const Measurement& measurement) const {
  const Json& k = measurement.test_keys.extra;
  RunSummary s;
  s.service = measurement.input.is_string() ? measurement.input.get<std::string>() : "";
  const Json blocking = k.value("blocking", Json());
  const Json accessible = k.value("accessible", Json());
  auto failed_connects = [&measurement]() {
    std::vector<std::string> failed;
    for (const auto& c : measurement.test_keys.tcp_connect) {
      if (c.status.failure) {
        failed.push_back(JoinHostPort(c.ip, static_cast<uint16_t>(c.port)) + " " +
                         *c.status.failure);
      }
    }
    std::sort(failed.begin(), failed.end());
    failed.erase(std::unique(failed.begin(), failed.end()), failed.end());
    return "connect " + JoinList(failed, 3);
  };
  if (blocking.is_boolean() && !blocking.get<bool>()) {
    s.verdict = accessible == true ? RunVerdict::kOk : RunVerdict::kDown;
    if (s.verdict == RunVerdict::kDown && StringOr(k, "x_tcp_verdict", "") == "down") {
      s.evidence = failed_connects() + "; the control could not connect either";
    }
    return s;
  }
  // OONI's http-diff against a control that got a 5xx: nothing to compare with (our
  // rule, x_blocking_rule control_http_5xx), read as no verdict, not as blocking.
  const bool control_5xx = StringOr(k, "x_blocking_rule", "") == "control_http_5xx";
  if (!blocking.is_string() || control_5xx) {
    s.verdict = RunVerdict::kError;
    const Json control = k.value("control", Json());
    if (k.contains("control_failure") && k["control_failure"].is_string()) {
      s.evidence = "no control: " + k["control_failure"].get<std::string>();
    } else if (control.is_object() && control.contains("http_request")) {
      const Json& http = control["http_request"];
      const Json status = http.value("status_code", Json());
      if (!http.value("failure", Json()).is_string() && status.is_number_integer() &&
          status.get<int64_t>() / 100 == 5) {
        s.evidence = "the control got HTTP " + status.dump() + ": nothing to compare with";
      } else {
        s.evidence =
            "the control could not fetch it either: " + StringOr(http, "failure", "unknown");
      }
    }
    return s;
  }
  s.blocking = blocking.get<std::string>();
  s.verdict = RunVerdict::kBlocked;
  if (s.blocking == "dns") {
    std::vector<std::string> ours, theirs;
    for (const auto& q : measurement.test_keys.queries) {
      for (const auto& a : q.answers) {
        if (a.ipv4) ours.push_back(*a.ipv4);
        if (a.ipv6) ours.push_back(*a.ipv6);
      }
    }
    const Json control = k.value("control", Json());
    if (control.is_object() && control.contains("dns") && control["dns"].contains("addrs") &&
        control["dns"]["addrs"].is_array()) {
      for (const auto& a : control["dns"]["addrs"]) {
        if (a.is_string()) theirs.push_back(a.get<std::string>());
      }
    }
    std::sort(ours.begin(), ours.end());
    ours.erase(std::unique(ours.begin(), ours.end()), ours.end());
    const std::string probe =
        k.contains("dns_experiment_failure") && k["dns_experiment_failure"].is_string()
            ? k["dns_experiment_failure"].get<std::string>()
            : JoinList(ours, 4);
    s.evidence = "resolved " + probe + "; control resolved " + JoinList(theirs, 4);
  } else if (s.blocking == "tcp_ip") {
    s.evidence = failed_connects();
    if (StringOr(k, "x_tcp_verdict", "") == "down") {
      s.verdict = RunVerdict::kDown;
      s.evidence += "; the control could not connect either";
    } else if (StringOr(k, "x_tcp_verdict", "") == kNoIpv6Status) {
      // Every address was IPv6 and this machine has no IPv6 route: nothing measured.
      s.verdict = RunVerdict::kError;
      s.blocking.clear();
      s.evidence += "; not measured: no IPv6 route from this machine";
    }
  } else if (s.blocking == "http-failure") {
    s.evidence = "fetch " + StringOr(k, "http_experiment_failure", "failed");
  } else {
    const Json control = k.value("control", Json());
    std::string theirs = "?";
    if (control.is_object() && control.contains("http_request") &&
        control["http_request"].contains("status_code")) {
      theirs = control["http_request"]["status_code"].dump();
    }
    std::string ours = "?";
    if (!measurement.test_keys.requests.empty()) {
      ours = std::to_string(measurement.test_keys.requests.front().response.code);
    }
    char proportion[32];
    std::snprintf(proportion, sizeof proportion, "%.2f", k.value("body_proportion", 0.0));
    s.evidence = "status " + ours + " (control " + theirs + "), body proportion " + proportion +
                 ", title match " + k.value("title_match", Json()).dump();
  }
  return s;
}

// How the registry makes one: experiments.def lists it.
std::unique_ptr<Experiment> MakeWebConnectivityExperiment() {
  return std::make_unique<WebConnectivityExperiment>();
}

asio::awaitable<ControlOutcome> AskControlHelper(const ExperimentContext& context,
                                                 const ControlRequest& request) {
  ControlOutcome out;
  std::shared_ptr<ControlClient> client = context.control_client;
  if (!client) {
    auto made = MakeControlClient(context, co_await asio::this_coro::executor, 0);
    if (!made.ok()) {
      out.failure = UnknownFailure(made.error());
      co_return out;
    }
    client = std::move(*made);
  }
  const ControlExchange http = co_await client->Post(ToJson(request).dump());
  if (!http.failure.empty()) {
    out.failure = http.failure;
    co_return out;
  }
  if (http.status_code != 200) {
    out.failure = "http_request_failed";
    co_return out;
  }
  if (http.body_is_truncated) {
    out.failure = "json_parse_error";
    co_return out;
  }
  auto json = ParseControlJson(http.body);
  if (!json.ok()) {
    out.failure = "json_parse_error";
    co_return out;
  }
  auto parsed = ControlResponseFromJson(*json);
  if (!parsed.ok()) {
    out.failure = "json_parse_error";
    co_return out;
  }
  out.response = std::move(*parsed);
  co_return out;
}

}  // namespace vigil
