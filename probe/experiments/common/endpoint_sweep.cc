#include "probe/experiments/common/endpoint_sweep.h"

#include <utility>

#include "base/host_port.h"
#include "probe/net/failure.h"
#include "probe/tcp/tcp_observer.h"

namespace vigil {

EndpointSweep::EndpointSweep(Trace& trace, DnsObserver& dns, const ExperimentContext& context)
    : trace_(trace), dns_(dns), context_(context) {}

Task EndpointSweep::Probe(std::string host, std::vector<uint16_t> ports) {
  auto& wanted = requested_[host];
  wanted.insert(wanted.end(), ports.begin(), ports.end());
  return [this, host = std::move(host), ports = std::move(ports)]() -> asio::awaitable<void> {
    co_await Run(host, ports);
  };
}

asio::awaitable<void> EndpointSweep::Run(std::string host, std::vector<uint16_t> ports) {
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
      auto outcome = co_await ObserveTcpConnect(trace_, ip, port, trace_.NextTransactionId(),
                                                context_.timeout);
      // The socket closes here: reachability is all this step asks.
      connects_.push_back(SweepConnect{host, ip, port, outcome.failure});
    }
  }
}

std::map<std::string, std::map<uint16_t, PortOutcome>> EndpointSweep::Outcomes() const {
  return ReducePortOutcomes(requested_, lookups_, connects_);
}

std::map<std::string, std::map<uint16_t, PortOutcome>> ReducePortOutcomes(
    const std::map<std::string, std::vector<uint16_t>>& requested,
    const std::vector<SweepLookup>& lookups, const std::vector<SweepConnect>& connects) {
  std::map<std::string, std::map<uint16_t, PortOutcome>> out;
  for (const auto& [host, ports] : requested) {
    for (uint16_t port : ports) out[host][port] = PortOutcome{false, "connect", "", false};
  }
  for (const auto& l : lookups) {
    if (l.failure.empty()) continue;
    for (auto& [port, outcome] : out[l.host]) outcome = PortOutcome{false, "resolve", l.failure};
  }
  // host → port → the first no-route failure of an IPv6 address, kept aside: it says
  // this machine has no IPv6, and counts only when nothing else was measured.
  std::map<std::string, std::map<uint16_t, std::string>> no_route;
  for (const auto& c : connects) {
    PortOutcome& o = out[c.host][c.port];
    if (c.failure.empty()) {
      o = PortOutcome{true, "", ""};
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
  return out;
}

std::vector<StepFailure> FailuresOf(
    const std::map<std::string, std::map<uint16_t, PortOutcome>>& outcomes) {
  std::vector<StepFailure> out;
  for (const auto& [host, ports] : outcomes) {
    bool resolve_reported = false;
    for (const auto& [port, o] : ports) {
      if (o.ok || o.no_ipv6) continue;
      if (o.operation == "resolve") {
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
