#include "probe/dns/encrypted_dns.h"

#include <asio/buffer.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <optional>

#include "probe/dns/dns_exchange.h"
#include "probe/dns/dns_message.h"
#include "probe/dns/dns_observer.h"
#include "probe/http/http_observer.h"
#include "probe/net/deadline.h"
#include "probe/net/failure.h"
#include "probe/tcp/tcp_observer.h"
#include "probe/tls/tls_observer.h"

namespace vigil {

namespace {

constexpr int kQueryTypes[] = {1, 28};  // A, AAAA
// A DNS message over TCP or HTTP is at most 65535 bytes.
constexpr size_t kMaxDnsMessage = 65535;

DnsQuery NewQuery(const std::string& domain, int qtype, const std::string& engine,
                  const std::string& resolver_address) {
  DnsQuery q;
  q.hostname = domain;
  q.query_type = DnsTypeName(qtype);
  q.engine = engine;
  q.resolver_address = resolver_address;
  return q;
}

void Finish(Trace& trace, DnsQuery& q, double t0, int64_t tid) {
  q.timing = trace.Span(t0, tid);
  trace.keys().queries.push_back(q);
}

// The lookup's outcome from its queries: addresses from any of them, else the first
// query's failure and where it happened.
void Conclude(EncryptedLookupResult& result, const std::vector<DnsQuery>& queries,
              const std::vector<std::string>& operations) {
  for (const auto& q : queries) {
    for (const auto& a : q.answers) {
      if (a.ipv4) result.addresses.push_back(*a.ipv4);
      if (a.ipv6) result.addresses.push_back(*a.ipv6);
    }
  }
  if (!result.addresses.empty() || queries.empty()) return;
  result.failure = queries.front().failure.value_or("dns_no_answer");
  result.failed_operation = operations.front();
}

// Reads exactly `size` bytes into `out`, recording the read.
asio::awaitable<std::string> ReadExactly(Trace& trace, TlsStream& stream, size_t size,
                                         const std::string& address, int64_t tid,
                                         std::string& out) {
  out.assign(size, '\0');
  std::error_code ec;
  const double t0 = trace.Now();
  const size_t n = co_await asio::async_read(stream, asio::buffer(out),
                                             asio::redirect_error(asio::use_awaitable, ec));
  const std::string failure = ec ? FailureFromErrorCode(ec) : "";
  trace.Event("read", t0, tid, address, static_cast<int64_t>(n), AsFailure(failure), "tcp");
  co_return failure;
}

}  // namespace

asio::awaitable<EncryptedLookupResult> DotLookup(Trace& trace, const std::string& ip, uint16_t port,
                                                 const std::string& sni, const std::string& domain,
                                                 const EncryptedDnsOptions& options) {
  auto executor = co_await asio::this_coro::executor;
  EncryptedLookupResult result;
  const std::string address = JoinHostPort(ip, port);
  const int64_t tid = trace.NextTransactionId();
  const double lookup_t0 = trace.Now();
  trace.Event("resolve_start", lookup_t0, tid);

  std::vector<DnsQuery> queries;
  std::vector<std::string> operations;
  // Once the connection is lost, the queries not yet sent fail the same way.
  std::string dead_failure, dead_operation;

  auto connected = co_await ObserveTcpConnect(trace, ip, port, tid, options.timeout);
  std::optional<TlsOutcome> tls;
  if (!connected.socket) {
    dead_failure = connected.failure;
    dead_operation = "connect";
  } else {
    TlsOptions tls_options;
    tls_options.sni = sni;
    // No ALPN, as OONI's probes send none for DoT: a server that implements ALPN
    // but not "dot" may refuse the handshake over it.
    tls_options.ca_file = options.ca_file;
    tls_options.timeout = options.timeout;
    tls = co_await ObserveTlsHandshake(trace, std::move(*connected.socket), address, tls_options,
                                       tid);
    if (!tls->stream) {
      dead_failure = tls->failure;
      dead_operation = "tls_handshake";
    }
  }

  for (int qtype : kQueryTypes) {
    DnsQuery q = NewQuery(domain, qtype, "dot", address);
    const double t0 = trace.Now();
    std::string operation = "dns_round_trip";
    const uint16_t id = RandomDnsId();
    auto wire = EncodeDnsQuery(domain, qtype, id);
    if (!wire.ok()) {
      q.failure = UnknownFailure("cannot encode the query: " + wire.error());
    } else if (!dead_failure.empty()) {
      q.failure = dead_failure;
      operation = dead_operation;
    } else {
      TlsStream& stream = *tls->stream;
      std::string frame;
      frame += static_cast<char>(wire->size() >> 8);
      frame += static_cast<char>(wire->size() & 0xff);
      frame += *wire;
      std::string failure;
      bool expired = false;
      {
        Deadline deadline(executor, options.timeout, [&stream] {
          std::error_code ignored;
          stream.lowest_layer().close(ignored);
        });
        std::error_code ec;
        const double write_t0 = trace.Now();
        const size_t written = co_await asio::async_write(
            stream, asio::buffer(frame), asio::redirect_error(asio::use_awaitable, ec));
        failure = ec ? FailureFromErrorCode(ec) : "";
        trace.Event("write", write_t0, tid, address, static_cast<int64_t>(written),
                    AsFailure(failure), "tcp");
        std::string length_bytes, message;
        if (failure.empty()) {
          failure = co_await ReadExactly(trace, stream, 2, address, tid, length_bytes);
        }
        if (failure.empty()) {
          const size_t length = (static_cast<unsigned char>(length_bytes[0]) << 8) |
                                static_cast<unsigned char>(length_bytes[1]);
          failure = co_await ReadExactly(trace, stream, length, address, tid, message);
        }
        expired = deadline.expired();
        if (failure.empty() && !expired) RecordDnsResponse(q, message, id);
      }
      if (expired) failure = std::string(kGenericTimeoutError);
      if (!failure.empty()) {
        q.failure = failure;
        dead_failure = failure;
        dead_operation = operation;
      } else if (q.failure) {
        operation = "resolve";
      }
    }
    Finish(trace, q, t0, tid);
    queries.push_back(std::move(q));
    operations.push_back(std::move(operation));
  }
  if (tls && tls->stream) {
    std::error_code ignored;
    tls->stream->lowest_layer().close(ignored);
  }
  Conclude(result, queries, operations);
  trace.Event("resolve_done", lookup_t0, tid, std::nullopt, std::nullopt,
              AsFailure(result.failure));
  co_return result;
}

asio::awaitable<EncryptedLookupResult> DohLookup(Trace& trace, const Url& url,
                                                 const std::string& ip, const std::string& domain,
                                                 const EncryptedDnsOptions& options) {
  auto executor = co_await asio::this_coro::executor;
  EncryptedLookupResult result;
  const std::string resolver = url.ToString();
  const int64_t tid = trace.NextTransactionId();
  const double lookup_t0 = trace.Now();
  trace.Event("resolve_start", lookup_t0, tid);
  // The URL's host is an IP literal from here on, so this observer never resolves.
  DnsObserver no_lookups(executor, ResolverSpec{}, options.timeout);
  Url contacted = url;
  contacted.host = ip;

  HttpOptions http;
  http.method = "POST";
  http.headers = {{"Content-Type", "application/dns-message"},
                  {"Accept", "application/dns-message"}};
  http.host_override = url.HostHeader();
  http.sni = url.host;
  http.ca_file = options.ca_file;
  http.timeout = options.timeout;
  http.max_redirects = 0;
  http.body_cap = kMaxDnsMessage;

  std::vector<DnsQuery> queries;
  std::vector<std::string> operations;
  for (int qtype : kQueryTypes) {
    DnsQuery q = NewQuery(domain, qtype, "doh", resolver);
    const double t0 = trace.Now();
    std::string operation = "http_round_trip";
    // RFC 8484 §4.1: id 0, so that identical queries are cacheable.
    auto wire = EncodeDnsQuery(domain, qtype, 0);
    if (!wire.ok()) {
      q.failure = UnknownFailure("cannot encode the query: " + wire.error());
    } else {
      http.body = *wire;
      const size_t before = trace.keys().requests.size();
      HttpOutcome outcome = co_await ObserveHttp(trace, no_lookups, contacted, http);
      // ObserveHttp puts its newest request first; record the URL as the user wrote it.
      const HttpTransaction* tx = nullptr;
      if (trace.keys().requests.size() > before) {
        HttpTransaction& newest = trace.keys().requests.front();
        newest.request.url = resolver;
        tx = &newest;
      }
      if (!outcome.failure.empty()) {
        q.failure = outcome.failure;
        operation = outcome.failed_operation;
      } else if (!tx) {
        q.failure = UnknownFailure("the HTTP exchange left no record");
      } else if (outcome.status_code != 200) {
        q.failure = "http_unexpected_status_code";
        q.extra["x_status_code"] = outcome.status_code;
      } else if (tx->response.body_is_truncated) {
        q.failure = "dns_server_misbehaving";
        q.extra["x_parse_error"] = "the response body is longer than a DNS message";
      } else {
        RecordDnsResponse(q, tx->response.body.bytes, 0);
        if (q.failure) operation = "resolve";
      }
    }
    Finish(trace, q, t0, tid);
    queries.push_back(std::move(q));
    operations.push_back(std::move(operation));
  }
  Conclude(result, queries, operations);
  trace.Event("resolve_done", lookup_t0, tid, std::nullopt, std::nullopt,
              AsFailure(result.failure));
  co_return result;
}

}  // namespace vigil
