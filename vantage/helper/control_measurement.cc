#include "vantage/helper/control_measurement.h"

#include <strings.h>

#include <algorithm>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <set>
#include <variant>

#include "base/host_port.h"
#include "probe/experiments/common/dns_consistency.h"
#include "probe/experiments/web_connectivity/classification.h"
#include "probe/geo/asn_database.h"
#include "probe/http/http_observer.h"
#include "probe/http/url.h"
#include "probe/net/concurrency.h"
#include "probe/net/failure.h"
#include "probe/net/trace.h"
#include "probe/tcp/tcp_observer.h"
#include "probe/tls/tls_observer.h"

namespace vigil {

namespace {

struct Endpoint {
  std::string ip;
  uint16_t port = 0;
  bool tls = false;
  std::string key;  // "ip:port"
};

// The request headers a helper passes on (OONI's helper forwards these three).
std::vector<std::pair<std::string, std::string>> ForwardedHeaders(const ControlRequest& request) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, values] : request.http_request_headers) {
    if (values.empty()) continue;
    for (const char* allowed : {"User-Agent", "Accept", "Accept-Language"}) {
      if (strcasecmp(name.c_str(), allowed) == 0) out.emplace_back(allowed, values.front());
    }
  }
  return out;
}

std::vector<uint16_t> PortsFor(const Url& url) {
  if (url.port_explicit) return {url.port};
  if (url.scheme == "https") return {443};
  return {80, 443};
}

bool IsDnsFailure(const std::string& failure) {
  return failure == "dns_nxdomain_error" || failure == "dns_no_answer" ||
         failure == "dns_non_recoverable_failure" || failure == "dns_refused_error" ||
         failure == "dns_server_misbehaving" || failure == "dns_temporary_failure" ||
         failure == "dns_servfail_error";
}

asio::awaitable<void> MeasureEndpoint(Trace& trace, const Endpoint& e, const std::string& host,
                                      const ControlMeasurementOptions& options,
                                      ControlResponse* response) {
  const int64_t tid = trace.NextTransactionId();
  auto connected = co_await ObserveTcpConnect(trace, e.ip, e.port, tid, options.timeout);
  response->tcp_connect[e.key] = {connected.failure.empty(), HelperTcpFailure(connected.failure)};
  if (!connected.socket || !e.tls) co_return;
  TlsOptions tls;
  tls.sni = host;
  tls.alpn = {"h2", "http/1.1"};
  tls.ca_file = options.ca_file;
  tls.timeout = options.timeout;
  auto handshake =
      co_await ObserveTlsHandshake(trace, std::move(*connected.socket), e.key, tls, tid);
  response->tls_handshake[e.key] = {host, handshake.failure.empty(), AsFailure(handshake.failure)};
  if (handshake.failure.empty()) response->ip_info[e.ip].flags |= kIpInfoValidForDomain;
}

// Fetches the URL with an overall deadline; `trace` receives the hops.
asio::awaitable<HttpOutcome> Fetch(Trace& trace, DnsObserver& dns, const Url& url,
                                   const HttpOptions& http_options,
                                   std::chrono::milliseconds overall) {
  using namespace asio::experimental::awaitable_operators;
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor, overall);
  auto result = co_await (ObserveHttp(trace, dns, url, http_options) ||
                          timer.async_wait(asio::use_awaitable));
  if (result.index() == 0) co_return std::get<0>(std::move(result));
  HttpOutcome late;
  late.failure = std::string(kGenericTimeoutError);
  late.failed_operation = "http_round_trip";
  co_return late;
}

void FillHttp(const HttpOutcome& outcome, const TestKeys& keys, const Url& url,
              ControlHttpRequest* out) {
  *out = ControlHttpRequest{};
  if (!outcome.failure.empty() || keys.requests.empty()) {
    out->failure = HelperHttpFailure(outcome.failure.empty() ? "unknown_failure" : outcome.failure,
                                     outcome.failed_operation);
    return;
  }
  const HttpResponse& last = keys.requests.front().response;  // newest first
  out->body_length = static_cast<int64_t>(last.body.bytes.size());
  out->status_code = last.code;
  out->title = last.x_title.value_or("");
  for (const auto& [name, value] : last.headers_list) {
    out->headers.emplace(CanonicalHeaderName(name), value);  // the first value wins
  }
  const HttpResponse& first = keys.requests.back().response;
  for (const auto& [name, value] : first.headers_list) {
    if (strcasecmp(name.c_str(), "Alt-Svc") == 0) {
      out->discovered_h3_endpoint = H3EndpointFromAltSvc(value, url.host);
      break;
    }
  }
}

}  // namespace

FailureString HelperDnsFailure(const std::string& failure) {
  if (failure.empty() || failure == "dns_no_answer") return std::nullopt;
  if (failure == "dns_nxdomain_error") return std::string(kControlNxdomain);
  if (IsDnsFailure(failure)) return std::string("dns_server_failure");
  return std::string("unknown_error");
}

FailureString HelperTcpFailure(const std::string& failure) {
  if (failure.empty()) return std::nullopt;
  if (failure == kGenericTimeoutError) return failure;
  if (failure == "connection_refused") return std::string("connection_refused_error");
  return std::string("connect_error");
}

FailureString HelperHttpFailure(const std::string& failure, const std::string& failed_operation) {
  if (failure.empty()) return std::nullopt;
  if (IsDnsFailure(failure)) return std::string("dns_lookup_error");
  if (failure == kGenericTimeoutError) {
    return std::string(failed_operation == "resolve" ? "dns_lookup_error" : kGenericTimeoutError);
  }
  if (failure == "connection_refused") return std::string("connection_refused_error");
  return std::string("unknown_error");
}

std::string H3EndpointFromAltSvc(std::string_view alt_svc, const std::string& host) {
  size_t start = 0;
  while (start < alt_svc.size()) {
    size_t end = alt_svc.find(',', start);
    if (end == std::string_view::npos) end = alt_svc.size();
    std::string_view entry = alt_svc.substr(start, end - start);
    entry = entry.substr(0, entry.find(';'));
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    if (entry.rfind("h3=", 0) == 0) {
      std::string_view authority = entry.substr(3);
      while (!authority.empty() && authority.back() == ' ') authority.remove_suffix(1);
      if (authority.size() >= 2 && authority.front() == '"' && authority.back() == '"') {
        authority = authority.substr(1, authority.size() - 2);
      }
      const size_t colon = authority.rfind(':');
      if (colon == std::string_view::npos) return "";
      std::string name(authority.substr(0, colon));
      if (name.empty()) name = BracketedHost(host);
      return name + std::string(authority.substr(colon));
    }
    start = end + 1;
  }
  return "";
}

asio::awaitable<ControlResponse> MeasureControl(const ControlRequest& request,
                                                const ControlMeasurementOptions& options) {
  auto executor = co_await asio::this_coro::executor;
  ControlResponse response;
  auto parsed = ParseUrl(request.http_request);
  if (!parsed.ok()) {
    response.http_request.failure = "unknown_error";
    co_return response;
  }
  const Url url = *parsed;
  // Observers want a trace; the helper answers with summaries, so these are not sent.
  Trace trace;
  Trace fetch_trace;
  DnsObserver dns(executor, options.resolver, options.timeout);

  // 1. Our own view of the name (an IP literal has none, as with OONI's helper).
  if (!IsIpLiteral(url.host)) {
    LookupResult lookup = co_await dns.Lookup(trace, url.host);
    response.dns.failure = HelperDnsFailure(lookup.failure);
    std::set<std::string> seen;
    for (const auto& ip : lookup.addresses) {
      if (seen.insert(ip).second) response.dns.addrs.push_back(ip);
    }
  }

  // 2. Which addresses came from whom, and which to measure.
  for (const auto& endpoint : request.tcp_connect) {
    auto hp = ParseHostPort(endpoint);
    if (hp.ok()) response.ip_info[hp->host].flags |= kIpInfoResolvedByProbe;
  }
  for (const auto& ip : response.dns.addrs) response.ip_info[ip].flags |= kIpInfoResolvedByHelper;
  std::vector<Endpoint> endpoints;
  for (auto& [ip, info] : response.ip_info) {
    if (IsBogon(ip)) info.flags |= kIpInfoBogon;
    if (options.asn_db) {
      if (auto as = options.asn_db->Lookup(ip)) info.asn = as->number;
    }
    if ((info.flags & kIpInfoBogon) && !options.allow_bogons) continue;
    for (uint16_t port : PortsFor(url)) {
      const bool tls = port == 443 || (url.scheme == "https" && port == url.port);
      endpoints.push_back({ip, port, tls, JoinHostPort(ip, port)});
    }
  }
  std::sort(endpoints.begin(), endpoints.end(),
            [](const Endpoint& a, const Endpoint& b) { return a.key < b.key; });
  if (endpoints.size() > options.max_endpoints) endpoints.resize(options.max_endpoints);

  // 3. Connects and the fetch, side by side.
  std::vector<Task> tasks;
  for (const auto& e : endpoints) {
    tasks.push_back([&trace, &e, &url, &options, &response]() -> asio::awaitable<void> {
      co_await MeasureEndpoint(trace, e, url.host, options, &response);
    });
  }
  HttpOptions http_options;
  http_options.headers = ForwardedHeaders(request);
  http_options.ca_file = options.ca_file;
  http_options.timeout = options.timeout;
  http_options.body_cap = options.body_cap;
  if (!options.allow_bogons) {
    http_options.address_allowed = [](const std::string& ip) { return !IsBogon(ip); };
  }
  HttpOutcome fetched;
  auto fetch = [&]() -> asio::awaitable<void> {
    fetched = co_await Fetch(fetch_trace, dns, url, http_options, options.timeout * kFetchSteps);
  };
  {
    using namespace asio::experimental::awaitable_operators;
    co_await (RunBounded(std::move(tasks), options.parallelism) && fetch());
  }
  FillHttp(fetched, fetch_trace.keys(), url, &response.http_request);
  co_return response;
}

}  // namespace vigil
