#include "vantage/helper/endpoints_measurement.h"

#include <algorithm>
#include <asio/this_coro.hpp>
#include <map>
#include <string>
#include <utility>

#include "base/host_port.h"
#include "probe/dns/dns_observer.h"
#include "probe/experiments/common/dns_consistency.h"
#include "probe/net/concurrency.h"
#include "probe/net/trace.h"
#include "probe/tcp/tcp_observer.h"
#include "probe/tls/tls_observer.h"

namespace vigil {

namespace {

// One ip:port to connect to, and the server names to handshake with there.
struct Target {
  std::string ip;
  uint16_t port = 0;
  std::string key;                 // "ip:port"
  std::vector<std::string> names;  // TLS server names, in request order
};

void AddOnce(std::vector<std::string>& list, const std::string& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

// Connects once, handshakes with the first name over that connection and with each
// further name over a connection of its own.
asio::awaitable<void> MeasureTarget(Trace& trace, const Target& t,
                                    const ControlMeasurementOptions& options,
                                    ControlEndpointsAnswer* answer) {
  const int64_t tid = trace.NextTransactionId();
  auto connected = co_await ObserveTcpConnect(trace, t.ip, t.port, tid, options.timeout);
  answer->tcp_connect[t.key] = {connected.failure.empty(), HelperTcpFailure(connected.failure)};
  if (!connected.socket) co_return;
  for (size_t i = 0; i < t.names.size(); ++i) {
    std::optional<asio::ip::tcp::socket> socket;
    std::string failure;
    if (i == 0) {
      socket = std::move(connected.socket);
    } else {
      auto again = co_await ObserveTcpConnect(trace, t.ip, t.port, tid, options.timeout);
      socket = std::move(again.socket);
      failure = again.failure;
    }
    if (socket) {
      TlsOptions tls;
      tls.sni = t.names[i];
      tls.ca_file = options.ca_file;
      tls.timeout = options.timeout;
      auto handshake = co_await ObserveTlsHandshake(trace, std::move(*socket), t.key, tls, tid);
      failure = handshake.failure;
    }
    answer->tls_handshake[t.key][t.names[i]] = {t.names[i], failure.empty(), AsFailure(failure)};
  }
}

}  // namespace

asio::awaitable<ControlEndpointsAnswer> MeasureControlEndpoints(
    const std::vector<ControlEndpoint>& endpoints, const ControlMeasurementOptions& options) {
  auto executor = co_await asio::this_coro::executor;
  ControlEndpointsAnswer answer;
  // Observers want a trace; the helper answers with summaries, so it is not sent.
  Trace trace;
  DnsObserver dns(executor, options.resolver, options.timeout);

  // 1. Our own view of each name, once.
  std::vector<std::string> names;
  for (const auto& e : endpoints) {
    if (!IsIpLiteral(e.host)) AddOnce(names, e.host);
  }
  std::vector<Task> lookups;
  for (const auto& name : names) {
    lookups.push_back([&trace, &dns, &answer, &name]() -> asio::awaitable<void> {
      LookupResult lookup = co_await dns.Lookup(trace, name);
      ControlDns& d = answer.dns[name];
      d.failure = HelperDnsFailure(lookup.failure);
      for (const auto& ip : lookup.addresses) AddOnce(d.addrs, ip);
    });
  }
  co_await RunBounded(std::move(lookups), options.endpoint_parallelism);

  // 2. Every address of an endpoint on each of its ports, each ip:port once, in request
  // order up to the limit.
  std::vector<Target> targets;
  std::map<std::string, size_t> index;  // key → targets
  for (const auto& e : endpoints) {
    std::vector<std::string> addresses;
    for (const auto& ip : e.addrs) AddOnce(addresses, ip);
    if (!IsIpLiteral(e.host)) {
      for (const auto& ip : answer.dns[e.host].addrs) AddOnce(addresses, ip);
    } else if (addresses.empty()) {
      addresses.push_back(e.host);
    }
    const std::string& name = e.sni.empty() ? e.host : e.sni;
    for (uint16_t port : e.ports) {
      const bool tls = std::find(e.tls_ports.begin(), e.tls_ports.end(), port) != e.tls_ports.end();
      for (const auto& ip : addresses) {
        const std::string key = JoinHostPort(ip, port);
        if (IsBogon(ip) && !options.allow_bogons) {
          answer.not_measured[key] = "bogon";
          continue;
        }
        auto it = index.find(key);
        if (it == index.end()) {
          if (targets.size() >= options.max_endpoint_connects) {
            answer.not_measured[key] = "limit";
            continue;
          }
          it = index.emplace(key, targets.size()).first;
          targets.push_back(Target{ip, port, key, {}});
        }
        if (tls) AddOnce(targets[it->second].names, name);
      }
    }
  }

  // 3. The connects and handshakes.
  std::vector<Task> tasks;
  for (const auto& t : targets) {
    tasks.push_back([&trace, &t, &options, &answer]() -> asio::awaitable<void> {
      co_await MeasureTarget(trace, t, options, &answer);
    });
  }
  co_await RunBounded(std::move(tasks), options.endpoint_parallelism);
  co_return answer;
}

}  // namespace vigil
