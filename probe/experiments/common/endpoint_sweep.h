// EndpointSweep: "resolve a host, then connect to each of its addresses on each of
// its ports", as bounded tasks for RunBounded, recording every lookup and connect
// in the measurement's Trace and keeping a per-host, per-port outcome for verdicts.
// On the ports a service speaks TLS on, each connect that worked is followed by a TLS
// handshake naming the host (SNI), so that SNI filtering shows: OONI's messaging tests
// only connect, and a censor that resets ClientHellos by name leaves them reading ok.
// The handshakes are kept apart from the Trace (x_tls_handshakes) so that OONI's own
// keys stay as OONI computes them.
// IP literals are not resolved; they go through ExperimentContext::MapAddress.
// Use from the executor's thread; the sweep must outlive the tasks it hands out.
#pragma once

#include <cstdint>
#include <map>
#include <set>
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

/// One TLS handshake, made on a connection the sweep opened to a TLS port.
struct SweepHandshake {
  std::string host;  // as given to Probe: the name sent as SNI
  std::string ip;    // as contacted
  uint16_t port = 0;
  std::string failure;  // "" on success
};

/// How one host:port fared over all its addresses: ok when any address accepted.
struct PortOutcome {
  bool ok = false;        // some address accepted the connection (TCP only)
  std::string operation;  // of the failure: resolve | connect
  /// The first failure seen, when !ok; one for want of an IPv6 route only when no
  /// address failed otherwise.
  std::string failure;
  /// Not measured: every address tried was IPv6 and failed for want of a route out of
  /// this machine (IsNoIpv6Route). Neither ok nor blocked.
  bool no_ipv6 = false;
  /// A TLS handshake was asked for on this port (Probe's tls_ports, a host name).
  bool tls = false;
  /// When tls: some address that accepted the connection completed the handshake.
  bool tls_ok = false;
  /// When tls, ok and !tls_ok: the first handshake failure.
  std::string tls_failure = {};

  /// The endpoint works: connected, and handshaken where a handshake was asked for.
  bool worked() const { return ok && (!tls || tls_ok); }
};

class EndpointSweep {
 public:
  EndpointSweep(Trace& trace, DnsObserver& dns, const ExperimentContext& context);

  /// A task that resolves `host` (or maps an IP literal) and connects to every
  /// address on each of `ports` in turn, each connect bounded by context.timeout.
  /// On a port also in `tls_ports`, each connection made is then handshaken with
  /// `host` as SNI (no ALPN), verified against context.ca_file (the system store when
  /// empty), bounded by context.timeout; an IP literal has no name to send and is
  /// only connected to. With no ports, only the lookup is made.
  Task Probe(std::string host, std::vector<uint16_t> ports, std::vector<uint16_t> tls_ports = {});

  const std::vector<SweepLookup>& lookups() const { return lookups_; }
  const std::vector<SweepConnect>& connects() const { return connects_; }
  const std::vector<SweepHandshake>& handshakes() const { return handshakes_; }
  /// The handshakes as OONI's tls_handshakes[] entries, for test_keys.x_tls_handshakes.
  Json TlsHandshakesJson() const;

  /// host → port → outcome, for every host and port handed to Probe.
  std::map<std::string, std::map<uint16_t, PortOutcome>> Outcomes() const;

 private:
  asio::awaitable<void> Run(std::string host, std::vector<uint16_t> ports,
                            std::set<uint16_t> tls_ports);

  Trace& trace_;
  // The handshakes' own records, on the measurement's clock: kept out of trace_, whose
  // tls_handshakes and network_events are OONI's keys.
  Trace tls_trace_;
  DnsObserver& dns_;
  const ExperimentContext& context_;
  std::map<std::string, std::vector<uint16_t>> requested_;
  std::map<std::string, std::set<uint16_t>> tls_requested_;
  std::vector<SweepLookup> lookups_;
  std::vector<SweepConnect> connects_;
  std::vector<SweepHandshake> handshakes_;
};

/// host → port → outcome, from the ports asked for (`tls_ports`: those handshaken on,
/// by host), the lookups, the connects and the handshakes made.
std::map<std::string, std::map<uint16_t, PortOutcome>> ReducePortOutcomes(
    const std::map<std::string, std::vector<uint16_t>>& requested,
    const std::vector<SweepLookup>& lookups, const std::vector<SweepConnect>& connects,
    const std::map<std::string, std::set<uint16_t>>& tls_ports = {},
    const std::vector<SweepHandshake>& handshakes = {});

/// The failures behind `outcomes`: one "resolve" entry per host whose lookup failed,
/// one "connect" entry per host:port that no address accepted, one "tls_handshake"
/// entry per host:port connected to where no handshake completed (not measured ones
/// left out).
std::vector<StepFailure> FailuresOf(
    const std::map<std::string, std::map<uint16_t, PortOutcome>>& outcomes);

}  // namespace vigil
