// dns_injection (no OONI test exists): are DNS answers for a name forged on the path?
// For each name it sends one A query (AAAA for an input "NAME/AAAA") from its own UDP
// socket to the sink — an address that runs no DNS server
// (InjectionOptions::dns_sink, else the helper URL's host) — and one to each resolver,
// and keeps reading the socket for InjectionOptions::dns_listen after the first reply
// (the step timeout when none comes; dns_listen after an ICMP port unreachable),
// recording each reply's IP TTL, DNS flags, rcode and answers: a stub resolver stops
// at the first reply, and an on-path injector's forged answers race the genuine one.
// The judgement is dns_injection_judge.h's; test_keys are docs/evidence.md's
// ("sink", "listen_ms", "names", "x_injection").
// Input: a host name (or "NAME/AAAA"); options (input object): "resolvers", a list of
// resolver specs ("system", "udp://IP[:PORT]"), by default the context's resolver.
// "system" means every nameserver of /etc/resolv.conf; tcp resolvers are recorded as
// skipped. Without input, `vigil run` measures DefaultInputs, one measurement each.
// Stateless; Run on the executor's thread.
#pragma once

#include <string>
#include <vector>

#include "probe/experiments/experiment.h"

namespace vigil {

inline constexpr const char* kDnsInjectionName = "dns_injection";
inline constexpr const char* kDnsInjectionVersion = "0.1.0";

/// The nameserver addresses of a resolv.conf-format file, in file order, without
/// repeats (an IPv6 zone suffix "%eth0" dropped); empty when it cannot be read.
std::vector<std::string> ResolvConfNameservers(const std::string& path = "/etc/resolv.conf");

class DnsInjectionExperiment : public Experiment {
 public:
  std::string_view name() const override { return kDnsInjectionName; }
  std::string_view version() const override { return kDnsInjectionVersion; }
  InputPolicy input_policy() const override { return InputPolicy::kOptional; }
  /// One host name per service of the messaging lists under data_dir/messaging/: the
  /// first row with a dns step, in list order (IP literals have nothing to look up).
  Result<std::vector<std::string>> DefaultInputs(const std::string& data_dir) const override;
  asio::awaitable<Result<Measurement>> Run(const ExperimentContext& context,
                                           const Json& input) const override;
  RunSummary Summarize(const Measurement& measurement) const override;
};

}  // namespace vigil
