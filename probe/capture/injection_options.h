// InjectionOptions: what the evidence experiments (dns_injection, residual_blocking,
// censor_hop) and the run's packet capture are given by `vigil run` / `vigil measure`
// (flags and config). Plain data; part of ExperimentContext.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace vigil {

struct InjectionOptions {
  /// dns_injection's sink: an address that runs no DNS server ("ip" or "ip:port");
  /// "" = the control vantage's address (the helper URL's host).
  std::string dns_sink;
  /// How long a DNS query is listened to after its first reply.
  std::chrono::milliseconds dns_listen{2000};
  /// Files of forged-answer addresses (one address or CIDR a line, '#' comments) added
  /// to the DNS fingerprints' addresses (testlists/fingerprints/fingerprints_dns.csv).
  std::vector<std::string> forged_ip_files{};
  /// residual_blocking: how often the 3-tuple is re-tested after a trigger, and for how
  /// long at most.
  std::chrono::milliseconds residual_interval{10000};
  std::chrono::seconds residual_bound{200};
  /// censor_hop: the largest IP TTL tried.
  int max_ttl = 30;
};

}  // namespace vigil
