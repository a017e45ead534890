// Facebook Messenger (OONI ts-019): DNS lookups of Messenger's service names and TCP
// connects to port 443, with OONI's test_keys; and, beyond OONI, a TLS handshake
// naming each service on every connection made (x_tls_handshakes), since a censor
// that resets ClientHellos by SNI leaves the connects themselves untouched. An answer is consistent
// when every address lies in Facebook's AS32934, read as CIDR prefixes from
// data_dir/asn/AS32934.txt plus ExperimentContext::extra_asn_files (no ASN
// database needed). Stateless; Run on the executor's thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "probe/experiments/common/endpoint_sweep.h"
#include "probe/experiments/common/ip_prefix_set.h"
#include "probe/experiments/experiment.h"

namespace vigil {

inline constexpr const char* kFacebookMessengerName = "facebook_messenger";
inline constexpr const char* kFacebookMessengerVersion = "0.5.0";

/// One service OONI reports on: its key ("b_api" in facebook_b_api_reachable),
/// its host, and the port connected to (none for STUN: OONI only resolves it).
struct FacebookService {
  std::string key;
  std::string host;
  std::optional<uint16_t> port;
};

const std::vector<FacebookService>& FacebookServices();

struct FacebookObservations {
  std::map<std::string, SweepLookup> lookups;  // host → lookup
  std::map<std::string, std::map<uint16_t, PortOutcome>> endpoints;
  std::string client_resolver;  // the explicit resolver's IP, "" for the system one
};

/// OONI's keys and ours, from the observations and Facebook's prefixes:
///  facebook_<key>_dns_consistent  false when the lookup failed or an address lies
///      outside the prefixes, else true
///  facebook_<key>_reachable  null unless DNS was consistent (and always for STUN);
///      then whether some address accepted on 443
///  facebook_dns_blocking / facebook_tcp_blocking  some service inconsistent /
///      unreachable
///  client_resolver  as measurement-kit wrote it: the resolver asked (null for the
///      system's)
///  x_dns_status     {host: "consistent" | "inconsistent" | failure}
///  x_inconsistent_addresses  {host: [addresses outside the prefixes]}
///  x_endpoint_status / x_endpoint_failures  per host, per port, whatever DNS said
///  x_partial_blocking  some services were reachable (consistent DNS, a connect on
///      443 and a TLS handshake over it) and some failed (their lookup failed or lied,
///      no address accepted, or no handshake completed); STUN, only looked up, counts
///      only when its lookup failed or lied
///  x_failures  failed lookups, inconsistent answers (failure "dns_inconsistent"),
///      refused connects to consistent addresses and failed handshakes after a
///      connect (see step_failure.h)
/// (x_tls_handshakes, the handshakes themselves, is added by Run from the sweep.)
Json FacebookMessengerTestKeys(const FacebookObservations& o, const IpPrefixSet& facebook);

/// "anomaly" for partial blocking (whatever else the keys say: some service is
/// reachable); else "blocked" when DNS or TCP blocking or a failed TLS handshake was
/// seen; else "ok".
RunVerdict FacebookMessengerVerdict(const Json& test_keys);

/// Facebook's prefixes: data_dir/asn/AS32934.txt and the context's extra files,
/// whose names go to `sources`. An unreadable or malformed file is an error.
Result<IpPrefixSet> LoadFacebookPrefixes(const ExperimentContext& context,
                                         std::vector<std::string>* sources);

class FacebookMessengerExperiment : public Experiment {
 public:
  std::string_view name() const override { return kFacebookMessengerName; }
  std::string_view version() const override { return kFacebookMessengerVersion; }
  InputPolicy input_policy() const override { return InputPolicy::kNone; }
  asio::awaitable<Result<Measurement>> Run(const ExperimentContext& context,
                                           const Json& input) const override;
  RunSummary Summarize(const Measurement& measurement) const override;
};

}  // namespace vigil
