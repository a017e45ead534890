#include "probe/dns/dns_observer.h"

#include <ares.h>
#include <arpa/inet.h>

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/use_awaitable.hpp>
#include <charconv>

#include "base/base64.h"
#include "base/host_port.h"
#include "probe/dns/ares_channel.h"
#include "probe/dns/dns_message.h"
#include "probe/net/deadline.h"
#include "probe/net/failure.h"

namespace vigil {

namespace {

// Closes the query's record: timing, the resolve_done event, the queries[] entry.
void RecordQuery(Trace& trace, DnsQuery& q, double t0, int64_t transaction_id) {
  q.timing = trace.Span(t0, transaction_id);
  trace.Event("resolve_done", t0, transaction_id, std::nullopt, std::nullopt, q.failure);
  trace.keys().queries.push_back(q);
}

// c-ares times out by itself; the deadline is a backstop for a channel stuck on a
// TCP connect that never completes, or a system configuration with many retries.
constexpr std::chrono::milliseconds kDeadlineSlack{500};

}  // namespace

std::string ResolverSpec::Address() const {
  if (engine == "getaddrinfo") return "";
  return JoinHostPort(ip, port);
}

std::string ResolverSpec::ToString() const {
  if (engine == "getaddrinfo") return "";
  return FormatEndpointUrl(engine, ip, port);
}

Result<ResolverSpec> ParseResolverSpec(std::string_view text) {
  ResolverSpec spec;
  if (text == "system" || text == "getaddrinfo") return spec;
  const std::string quoted = "resolver '" + std::string(text) + "'";
  if (text.find("://") == std::string_view::npos) {
    return Error{quoted + ": expected udp://IP:PORT, tcp://IP:PORT or system"};
  }
  auto url = ParseEndpointUrl(text, spec.port);
  if (!url.ok()) return Error{"resolver " + url.error()};
  if (url->scheme != "udp" && url->scheme != "tcp") {
    return Error{quoted + ": unsupported scheme '" + url->scheme + "' (udp or tcp)"};
  }
  spec.engine = url->scheme;
  spec.ip = url->endpoint.host;
  spec.port = url->endpoint.port;
  if (!IsIpLiteral(spec.ip)) return Error{quoted + ": '" + spec.ip + "' is not an IP address"};
  return spec;
}

DnsObserver::DnsObserver(asio::any_io_executor executor, ResolverSpec resolver,
                         std::chrono::milliseconds timeout)
    : executor_(std::move(executor)), resolver_(std::move(resolver)), timeout_(timeout) {}

asio::awaitable<DnsQuery> DnsObserver::Query(Trace& trace, std::string hostname, int qtype) {
  const int64_t id = trace.NextTransactionId();
  if (resolver_.engine == "getaddrinfo") co_return co_await SystemLookup(trace, hostname, id);
  co_return co_await RoundTrip(trace, hostname, qtype, id);
}

asio::awaitable<DnsQuery> DnsObserver::RoundTrip(Trace& trace, const std::string& hostname,
                                                 int qtype, int64_t transaction_id) {
  DnsQuery q;
  q.hostname = hostname;
  q.query_type = DnsTypeName(qtype);
  q.engine = resolver_.engine;
  q.resolver_address = resolver_.Address();
  const double t0 = trace.Now();
  trace.Event("resolve_start", t0, transaction_id);

  AresOptions options;
  options.servers = {resolver_.Address()};
  options.use_tcp = resolver_.engine == "tcp";
  options.timeout = timeout_;
  std::string error;
  auto channel = AresChannel::Create(executor_, options, &error);
  if (!channel) {
    q.failure = UnknownFailure(error);
  } else {
    Deadline deadline(executor_, timeout_ + kDeadlineSlack, [c = channel.get()] { c->Cancel(); });
    AresReply reply = co_await channel->Query(hostname, qtype);
    if (!reply.message.empty()) {
      q.raw_response = Base64Encode(reply.message);
      auto parsed = ParseDnsResponse(reply.message);
      if (parsed.ok()) {
        q.rcode = parsed->rcode;
        bool has_answers = false;
        for (const auto& a : parsed->answers) {
          if (a.answer_type == q.query_type) has_answers = true;
        }
        q.answers = std::move(parsed->answers);
        q.failure = AsFailure(FailureFromDnsRcode(parsed->rcode, has_answers));
      } else {
        q.failure = "dns_server_misbehaving";
        q.extra["x_parse_error"] = parsed.error();
      }
    } else if (deadline.expired()) {
      q.failure = std::string(kGenericTimeoutError);
    } else {
      q.failure = AsFailure(FailureFromAresStatus(reply.status));
      if (!q.failure) q.failure = "dns_server_misbehaving";  // success without a message
    }
  }
  RecordQuery(trace, q, t0, transaction_id);
  co_return q;
}

asio::awaitable<DnsQuery> DnsObserver::SystemLookup(Trace& trace, const std::string& hostname,
                                                    int64_t transaction_id) {
  DnsQuery q;
  q.hostname = hostname;
  q.query_type = "ANY";
  q.engine = "getaddrinfo";
  q.resolver_address = "";
  const double t0 = trace.Now();
  trace.Event("resolve_start", t0, transaction_id);
  AresOptions options;
  options.timeout = timeout_;
  options.system_style = true;
  std::string error;
  auto channel = AresChannel::Create(executor_, options, &error);
  if (!channel) {
    q.failure = UnknownFailure(error);
  } else {
    Deadline deadline(executor_, timeout_ + kDeadlineSlack, [c = channel.get()] { c->Cancel(); });
    AresAddrinfoReply reply = co_await channel->GetAddrinfo(hostname);
    if (deadline.expired()) {
      q.failure = std::string(kGenericTimeoutError);
    } else {
      q.failure = AsFailure(FailureFromAresStatus(reply.status));
    }
    if (!q.failure && reply.addresses.empty()) q.failure = "dns_no_answer";
    for (const auto& cname : reply.cnames) {
      if (cname == hostname) continue;
      DnsAnswer a;
      a.answer_type = "CNAME";
      a.hostname = cname;
      q.answers.push_back(std::move(a));
    }
    for (const auto& addr : reply.addresses) {
      DnsAnswer a;
      a.answer_type = addr.family == AF_INET ? "A" : "AAAA";
      (addr.family == AF_INET ? a.ipv4 : a.ipv6) = addr.ip;
      a.ttl = addr.ttl;
      q.answers.push_back(std::move(a));
    }
  }
  RecordQuery(trace, q, t0, transaction_id);
  co_return q;
}

asio::awaitable<LookupResult> DnsObserver::Lookup(Trace& trace, std::string hostname) {
  LookupResult result;
  if (IsIpLiteral(hostname)) {
    result.addresses.push_back(hostname);
    co_return result;
  }
  std::vector<DnsQuery> queries;
  if (resolver_.engine == "getaddrinfo") {
    queries.push_back(co_await Query(trace, hostname, 0));
  } else {
    using namespace asio::experimental::awaitable_operators;
    const int64_t id = trace.NextTransactionId();
    auto [a, aaaa] =
        co_await (RoundTrip(trace, hostname, 1, id) && RoundTrip(trace, hostname, 28, id));
    queries.push_back(std::move(a));
    queries.push_back(std::move(aaaa));
  }
  for (const auto& q : queries) {
    for (const auto& a : q.answers) {
      if (a.ipv4) result.addresses.push_back(*a.ipv4);
      if (a.ipv6) result.addresses.push_back(*a.ipv6);
    }
  }
  if (result.addresses.empty()) {
    // Prefer the A query's reason: it is the one a browser would report.
    result.failure = queries.front().failure.value_or("dns_no_answer");
  }
  co_return result;
}

}  // namespace vigil
