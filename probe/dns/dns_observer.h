// DnsObserver: DNS lookups that record what happened as OONI dnst `queries[]`
// entries (engine, resolver, rcode, every answer with its TTL, the raw response in
// base64, failure, timings) and resolve_start/resolve_done network events.
// Engines: "getaddrinfo" (the system's configuration, one ANY entry per lookup),
// "udp" and "tcp" (one explicit resolver, one entry per query type).
// Use from the executor's thread; observations go to the Trace given at each call.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "probe/net/trace.h"

namespace vigil {

/// Where and how to ask: "system" (getaddrinfo), "udp://IP:PORT", "tcp://IP:PORT".
struct ResolverSpec {
  std::string engine = "getaddrinfo";  // "getaddrinfo" | "udp" | "tcp"
  std::string ip;                      // empty for getaddrinfo
  uint16_t port = 53;

  /// "udp://1.2.3.4:53", "tcp://[2001:db8::1]:53"; "" for the system resolver.
  std::string ToString() const;
  /// "1.2.3.4:53" / "[::1]:53" as OONI's resolver_address; "" for the system resolver.
  std::string Address() const;
};

/// Accepts "system", "udp://IP[:PORT]", "tcp://IP[:PORT]" (IPv6 in brackets).
Result<ResolverSpec> ParseResolverSpec(std::string_view text);

/// The addresses a lookup produced, in answer order, or why there are none.
struct LookupResult {
  std::vector<std::string> addresses;
  std::string failure;  // "" on success
};

class DnsObserver {
 public:
  DnsObserver(asio::any_io_executor executor, ResolverSpec resolver,
              std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

  const ResolverSpec& resolver() const { return resolver_; }

  /// One round trip for `qtype` (1 = A, 28 = AAAA, ...) to the explicit resolver;
  /// with the getaddrinfo engine, a getaddrinfo lookup recorded as query_type ANY.
  asio::awaitable<DnsQuery> Query(Trace& trace, std::string hostname, int qtype);

  /// What a connecting observer needs: getaddrinfo, or A and AAAA in parallel on
  /// the explicit resolver; every query is recorded. IP literals are returned as is.
  asio::awaitable<LookupResult> Lookup(Trace& trace, std::string hostname);

 private:
  asio::awaitable<DnsQuery> RoundTrip(Trace& trace, const std::string& hostname, int qtype,
                                      int64_t transaction_id);
  asio::awaitable<DnsQuery> SystemLookup(Trace& trace, const std::string& hostname,
                                         int64_t transaction_id);

  asio::any_io_executor executor_;
  ResolverSpec resolver_;
  std::chrono::milliseconds timeout_;
};

}  // namespace vigil
