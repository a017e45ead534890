#include "probe/urlgetter/urlgetter.h"

#include <asio/this_coro.hpp>

#include "base/host_port.h"
#include "probe/dns/dns_message.h"
#include "probe/dns/dns_observer.h"
#include "probe/http/http_observer.h"
#include "probe/http/url.h"
#include "probe/measurement/envelope.h"
#include "probe/net/trace.h"
#include "probe/tcp/tcp_observer.h"
#include "probe/tls/tls_observer.h"

namespace vigil {

namespace {

void SetFailure(TestKeys& keys, const std::string& failure, const std::string& operation) {
  keys.failure = AsFailure(failure);
  keys.failed_operation = failure.empty() ? std::nullopt : std::optional<std::string>(operation);
}

// Resolves `host` and connects to its addresses in order until one accepts.
struct Connected {
  std::optional<asio::ip::tcp::socket> socket;
  std::string address;
  std::string failure;
  std::string failed_operation;
};

asio::awaitable<Connected> ResolveAndConnect(Trace& trace, DnsObserver& dns, const HostPort& hp,
                                             int64_t tid, std::chrono::milliseconds timeout) {
  Connected c;
  LookupResult lookup = co_await dns.Lookup(trace, hp.host);
  if (!lookup.failure.empty()) {
    c.failure = lookup.failure;
    c.failed_operation = "resolve";
    co_return c;
  }
  for (const auto& ip : lookup.addresses) {
    auto outcome = co_await ObserveTcpConnect(trace, ip, hp.port, tid, timeout);
    if (outcome.socket) {
      c.socket = std::move(outcome.socket);
      c.address = JoinHostPort(ip, hp.port);
      c.failure.clear();
      co_return c;
    }
    c.failure = outcome.failure;
  }
  c.failed_operation = "connect";
  co_return c;
}

}  // namespace

Result<bool> ValidateUrlgetterConfig(const UrlgetterConfig& config) {
  auto resolver = ParseResolverSpec(config.resolver);
  if (!resolver.ok()) return Error{"--resolver: " + resolver.error()};
  if (config.step == "dns") {
    if (config.target.empty() || config.target.size() > 253 ||
        config.target.find_first_of(" /:@") != std::string::npos) {
      return Error{"NAME: '" + config.target + "' is not a host name"};
    }
    if (DnsTypeFromName(config.query_type) == 0) {
      return Error{"--type: unknown query type '" + config.query_type + "'"};
    }
  } else if (config.step == "tcp" || config.step == "tls") {
    auto hp = ParseHostPort(config.target);
    if (!hp.ok()) return Error{(config.step == "tcp" ? "IP:PORT: " : "HOST:PORT: ") + hp.error()};
    if (config.step == "tcp" && !IsIpLiteral(hp->host)) {
      return Error{"IP:PORT: '" + hp->host + "' is not an IP address"};
    }
  } else if (config.step == "http") {
    auto url = ParseUrl(config.target);
    if (!url.ok()) return Error{"URL: " + url.error()};
  } else {
    return Error{"unknown step '" + config.step + "' (dns, tcp, tls or http)"};
  }
  if (config.step == "tls" || config.step == "http") {
    if (!config.ca_file.empty()) {
      auto ok = CheckCaFile(config.ca_file);
      if (!ok.ok()) return Error{"--ca-file: " + ok.error()};
    }
  }
  return true;
}

asio::awaitable<Measurement> RunUrlgetter(UrlgetterConfig config) {
  auto executor = co_await asio::this_coro::executor;
  Measurement m = NewMeasurement("urlgetter", kUrlgetterVersion, config.target);
  Trace trace;
  auto resolver = ParseResolverSpec(config.resolver);
  DnsObserver dns(executor, resolver.ok() ? *resolver : ResolverSpec{}, config.timeout);
  TestKeys& keys = trace.keys();

  if (config.step == "dns") {
    if (dns.resolver().engine == "getaddrinfo") {
      DnsQuery q = co_await dns.Query(trace, config.target, 0);
      SetFailure(keys, q.failure.value_or(""), "resolve");
    } else {
      DnsQuery q = co_await dns.Query(trace, config.target, DnsTypeFromName(config.query_type));
      SetFailure(keys, q.failure.value_or(""), "resolve");
    }
  } else if (config.step == "tcp") {
    auto hp = ParseHostPort(config.target);
    auto outcome = co_await ObserveTcpConnect(trace, hp->host, hp->port, trace.NextTransactionId(),
                                              config.timeout);
    SetFailure(keys, outcome.failure, "connect");
  } else if (config.step == "tls") {
    auto hp = ParseHostPort(config.target);
    const int64_t tid = trace.NextTransactionId();
    Connected c = co_await ResolveAndConnect(trace, dns, *hp, tid, config.timeout);
    if (!c.socket) {
      SetFailure(keys, c.failure, c.failed_operation);
    } else {
      TlsOptions tls;
      tls.sni = config.sni.empty() ? hp->host : config.sni;
      tls.alpn = config.alpn;
      tls.ca_file = config.ca_file;
      tls.no_verify = config.no_verify;
      tls.timeout = config.timeout;
      auto outcome = co_await ObserveTlsHandshake(trace, std::move(*c.socket), c.address, tls, tid);
      SetFailure(keys, outcome.failure, "tls_handshake");
    }
  } else if (config.step == "http") {
    auto url = ParseUrl(config.target);
    HttpOptions http;
    http.method = config.method;
    http.body = config.body;
    http.headers = config.headers;
    http.host_override = config.host_header;
    http.sni = config.sni;
    http.ca_file = config.ca_file;
    http.body_cap = config.body_cap;
    http.timeout = config.timeout;
    auto outcome = co_await ObserveHttp(trace, dns, *url, http);
    SetFailure(keys, outcome.failure, outcome.failed_operation);
  }
  m.test_runtime = trace.Now();
  m.test_keys = std::move(keys);
  m.test_keys.extra["x_step"] = config.step;
  if (!dns.resolver().ToString().empty())
    m.test_keys.extra["x_resolver"] = dns.resolver().ToString();
  co_return m;
}

}  // namespace vigil
