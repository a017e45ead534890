// dnscheck (OONI ts-028): does a DNS resolver work from here? Input: the resolver as a
// URL — udp://IP:53, tcp://IP:53, dot://HOST:853 (DNS over TLS) or
// https://HOST/dns-query (DNS over HTTPS); a name is bootstrapped through the
// context's resolver and every address it yields is tried. Each address gets one
// lookup (A and AAAA) of `domain` through the resolver's transport. test_keys are
// OONI's: `domain`, `bootstrap` (a urlgetter-like record, null for an IP literal),
// `bootstrap_failure`, `lookups` ("scheme://ADDRESS[:PORT][/path]" → urlgetter-like
// record with queries, tcp_connect, tls_handshakes, requests, network_events,
// failure, failed_operation), plus ours: `x_lookup_status` (each lookup ok, forged —
// bogon or unrouted answers — failed, or not measured for want of an IPv6 route) and
// `x_failures` for the summary.
// Options (input object): "domain" (default example.org).
// Stateless; Run on the executor's thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "probe/experiments/experiment.h"
#include "probe/http/url.h"

namespace vigil {

inline constexpr const char* kDnscheckName = "dnscheck";
inline constexpr const char* kDnscheckVersion = "0.1.0";
inline constexpr const char* kDnscheckDefaultDomain = "example.org";

/// A resolver URL split up.
struct ResolverUrl {
  std::string scheme;  // udp | tcp | dot | https
  std::string host;    // a name or an IP literal (no brackets)
  uint16_t port = 0;   // explicit, or the scheme's default (53, 53, 853, 443)
  bool port_explicit = false;
  Url http;  // the DoH URL, for https

  /// The URL with `ip` in place of the host: the key of that address's lookup.
  std::string WithAddress(const std::string& ip) const;
};

/// Parses udp://, tcp://, dot:// (host, optional port, optional "/") and https:// URLs.
Result<ResolverUrl> ParseResolverUrl(const std::string& text);

/// Our judgement of one lookup, the value of x_lookup_status[key]: "ok" (addresses, none
/// of them forged), {"status": "forged", "addresses": {ip: "bogon" | "no_as"}} (some
/// answer no honest resolver gives, by ForgedAnswer), "failed", or "no_ipv6" (it
/// failed only because this machine has no route to the resolver's IPv6 address
/// `contacted`: not a measurement).
Json DnscheckLookupStatus(const std::vector<std::string>& addresses, const std::string& failure,
                          const std::string& contacted, const ExperimentContext& context);

/// "blocked" when the bootstrap failed or found nothing. Otherwise, over the lookups
/// x_lookup_status does not call "no_ipv6" ("error" when there are none): "anomaly"
/// when some returned forged answers and some honest ones; "blocked" (dns) when some
/// returned forged answers and none honest ones; "ok" when some returned honest
/// addresses; "anomaly" when every lookup reached the resolver but got no addresses
/// (NXDOMAIN, SERVFAIL, no answer, refused); else "blocked" (the transport failed:
/// timeouts, resets, TLS, HTTP).
RunVerdict DnscheckVerdict(const Json& test_keys);

class DnscheckExperiment : public Experiment {
 public:
  std::string_view name() const override { return kDnscheckName; }
  std::string_view version() const override { return kDnscheckVersion; }
  InputPolicy input_policy() const override { return InputPolicy::kRequired; }
  asio::awaitable<Result<Measurement>> Run(const ExperimentContext& context,
                                           const Json& input) const override;
  RunSummary Summarize(const Measurement& measurement) const override;
};

}  // namespace vigil
