#include "probe/experiments/common/endpoint_sweep.h"

#include <algorithm>
#include <utility>

#include "base/host_port.h"
#include "probe/measurement/measurement_json.h"
#include "probe/net/failure.h"
#include "probe/tcp/tcp_observer.h"
#include "probe/tls/tls_observer.h"

namespace vigil {

EndpointSweep::EndpointSweep(Trace& trace, DnsObserver& dns, const ExperimentContext& context)
    : trace_(trace), tls_trace_(trace.zero()), dns_(dns), context_(context) {}

Task EndpointSweep::Probe(std::string host, std::vector<uint16_t> ports,
                          std::vector<uint16_t> tls_ports) {
  auto& wanted = requested_[host];
  wanted.insert(wanted.end(), ports.begin(), ports.end());
  std::set<uint16_t> tls;
  // An address has no name to send: SNI filtering cannot see it.
  if (!IsIpLiteral(host)) {
    for (uint16_t port : tls_ports) {
      if (std::find(ports.begin(), ports.end(), port) != ports.end()) tls.insert(port);
    }
    tls_requested_[host].insert(tls.begin(), tls.end());
  }
  return [this, host = std::move(host), ports = std::move(ports),
          tls = std::move(tls)]() -> asio::awaitable<void> { co_await Run(host, ports, tls); };
}

Json EndpointSweep::TlsHandshakesJson() const {
  Json out = Json::array();
  for (const auto& h : tls_trace_.keys().tls_handshakes) out.push_back(ToJson(h));
  return out;
}

asio::awaitable<void> EndpointSweep::Run(std::string host, std::vector<uint16_t> ports,
                                         std::set<uint16_t> tls_ports) {
  SweepLookup lookup{host, {}, ""};
  if (IsIpLiteral(host)) {
    lookup.addresses.push_back(context_.MapAddress(host));
  } else {
    LookupResult result = co_await dns_.Lookup(trace_, host);
    lookup.addresses = std::move(result.addresses);
    lookup.failure = std::move(result.failure);
  }
  lookups_.push_back(lookup);
  for (uint16_t port : ports) {
    for (const auto& ip : lookup.addresses) {
      const int64_t transaction_id = trace_.NextTransactionId();
      auto outcome = co_await ObserveTcpConnect(trace_, ip, port, transaction_id, context_.timeout);
      connects_.push_back(SweepConnect{host, ip, port, outcome.failure});
      // Otherwise the socket closes here: reachability is all this step asks.
      if (!outcome.socket || !tls_ports.count(port)) continue;
      TlsOptions options;
      options.sni = host;
      options.ca_file = context_.ca_file;
      options.timeout = context_.timeout;
      TlsOutcome handshake = co_await ObserveTlsHandshake(
          tls_trace_, std::move(*outcome.socket), JoinHostPort(ip, port), options, transaction_id);
      handshakes_.push_back(SweepHandshake{host, ip, port, handshake.failure});
    }
  }
}

std::map<std::string, std::map<uint16_t, PortOutcome>> EndpointSweep::Outcomes() const {
  return ReducePortOutcomes(requested_, lookups_, connects_, tls_requested_, handshakes_);
}

std::map<std::string, std::map<uint16_t, PortOutcome>> ReducePortOutcomes(
    const std::map<std::string, std::vector<uint16_t>>& requested,
    const std::vector<SweepLookup>& lookups, const std::vector<SweepConnect>& connects,
    const std::map<std::string, std::set<uint16_t>>& tls_ports,
    const std::vector<SweepHandshake>& handshakes) {
  std::map<std::string, std::map<uint16_t, PortOutcome>> out;
  for (const auto& [host, ports] : requested) {
    auto tls = tls_ports.find(host);
    for (uint16_t port : ports) {
      PortOutcome& o = out[host][port];
      o = PortOutcome{false, "connect", "", false};
      o.tls = tls != tls_ports.end() && tls->second.count(port) > 0;
    }
  }
  for (const auto& l : lookups) {
    if (l.failure.empty()) continue;
    for (auto& [port, outcome] : out[l.host]) {
      outcome.operation = "resolve";
      outcome.failure = l.failure;
    }
  }
  // host → port → the first no-route failure of an IPv6 address, kept aside: it says
  // this machine has no IPv6, and counts only when nothing else was measured.
  std::map<std::string, std::map<uint16_t, std::string>> no_route;
  for (const auto& c : connects) {
    PortOutcome& o = out[c.host][c.port];
    if (c.failure.empty()) {
      o.ok = true;
      o.operation.clear();
      o.failure.clear();
    } else if (IsNoIpv6Route(c.ip, c.failure)) {
      no_route[c.host].emplace(c.port, c.failure);
    } else if (!o.ok && o.failure.empty()) {
      o.failure = c.failure;
    }
  }
  for (const auto& [host, ports] : no_route) {
    for (const auto& [port, failure] : ports) {
      PortOutcome& o = out[host][port];
      if (o.ok || !o.failure.empty()) continue;
      o.failure = failure;
      o.no_ipv6 = true;
    }
  }
  for (const auto& h : handshakes) {
    PortOutcome& o = out[h.host][h.port];
    o.tls = true;
    // A certificate for other names (a CNAME'd host behind a wildcard that does not cover
    // it) still came from the server: the name passed the network, which is all this
    // handshake asks. The failure stays in x_tls_handshakes as data.
    if (h.failure.empty() || h.failure == "ssl_invalid_hostname") {
      o.tls_ok = true;
      o.tls_failure.clear();
    } else if (!o.tls_ok && o.tls_failure.empty()) {
      o.tls_failure = h.failure;
    }
  }
  for (auto& [host, ports] : out) {
    for (auto& [port, o] : ports) {
      // Connected, yet no handshake recorded: say so rather than leave it blank.
      if (o.tls && o.ok && !o.tls_ok && o.tls_failure.empty()) {
        o.tls_failure = "unknown_failure: no handshake";
      }
    }
  }
  return out;
}

std::vector<StepFailure> FailuresOf(
    const std::map<std::string, std::map<uint16_t, PortOutcome>>& outcomes) {
  std::vector<StepFailure> out;
  for (const auto& [host, ports] : outcomes) {
    bool resolve_reported = false;
    for (const auto& [port, o] : ports) {
      if (o.worked() || o.no_ipv6) continue;
      if (o.ok) {
        out.push_back(StepFailure{host, port, "tls_handshake", o.tls_failure});
      } else if (o.operation == "resolve") {
        // One lookup failed all the host's ports: one entry says so.
        if (!resolve_reported) out.push_back(StepFailure{host, 0, "resolve", o.failure});
        resolve_reported = true;
      } else {
        out.push_back(StepFailure{host, port, o.operation, o.failure});
      }
    }
  }
  return out;
}

}  // namespace vigil
