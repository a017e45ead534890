// EndpointSweep: "resolve a host, then connect to each of its addresses on each of
// its ports", as bounded tasks for RunBounded, recording every lookup and connect
// in the measurement's Trace and keeping a per-host, per-port outcome for verdicts.
// IP literals are not resolved; they go through ExperimentContext::MapAddress.
// Use from the executor's thread; the sweep must outlive the tasks it hands out.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "probe/dns/dns_observer.h"
#include "probe/experiments/common/step_failure.h"
#include "probe/experiments/experiment.h"
#include "probe/net/concurrency.h"
#include "probe/net/trace.h"

namespace vigil {

/// What one host's lookup produced.
struct SweepLookup {
  std::string host;
  std::vector<std::string> addresses;  // as contacted (mapped for IP literals)
  std::string failure;                 // "" on success
};

/// One connect attempt.
struct SweepConnect {
  std::string host;  // as given to Probe
  std::string ip;    // as contacted
  uint16_t port = 0;
  std::string failure;  // "" on success
};

/// How one host:port fared over all its addresses: ok when any address accepted.
struct PortOutcome {
  bool ok = false;
  std::string operation;  // of the failure: resolve | connect
  /// The first failure seen, when !ok; one for want of an IPv6 route only when no
  /// address failed otherwise.
  std::string failure;
  /// Not measured: every address tried was IPv6 and failed for want of a route out of
  /// this machine (IsNoIpv6Route). Neither ok nor blocked.
  bool no_ipv6 = false;
};

class EndpointSweep {
 public:
  EndpointSweep(Trace& trace, DnsObserver& dns, const ExperimentContext& context);

  /// A task that resolves `host` (or maps an IP literal) and connects to every
  /// address on each of `ports` in turn, each connect bounded by context.timeout.
  /// With no ports, only the lookup is made.
  Task Probe(std::string host, std::vector<uint16_t> ports);

  const std::vector<SweepLookup>& lookups() const { return lookups_; }
  const std::vector<SweepConnect>& connects() const { return connects_; }

  /// host → port → outcome, for every host and port handed to Probe.
  std::map<std::string, std::map<uint16_t, PortOutcome>> Outcomes() const;

 private:
  asio::awaitable<void> Run(std::string host, std::vector<uint16_t> ports);

  Trace& trace_;
  DnsObserver& dns_;
  const ExperimentContext& context_;
  std::map<std::string, std::vector<uint16_t>> requested_;
  std::vector<SweepLookup> lookups_;
  std::vector<SweepConnect> connects_;
};

/// host → port → outcome, from the ports asked for, the lookups and the connects made.
std::map<std::string, std::map<uint16_t, PortOutcome>> ReducePortOutcomes(
    const std::map<std::string, std::vector<uint16_t>>& requested,
    const std::vector<SweepLookup>& lookups, const std::vector<SweepConnect>& connects);

/// The failures behind `outcomes`: one "resolve" entry per host whose lookup failed,
/// one "connect" entry per host:port that no address accepted (not measured ones
/// left out).
std::vector<StepFailure> FailuresOf(
    const std::map<std::string, std::map<uint16_t, PortOutcome>>& outcomes);

}  // namespace vigil
