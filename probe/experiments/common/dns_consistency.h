// DNS consistency of a messaging service: every A/AAAA answer a measurement's
// queries hold for the service's names is placed in an autonomous system — the
// lab's endpoints file first, then the ASN database (ExperimentContext::asn_db),
// then the service's prefix files (data_dir/asn/AS<n>.txt) — or found to be a
// bogon, and a name with an answer in bogon space or in another AS is inconsistent:
// the forged answers of a GFW-style injector (random addresses, 2001::/32 for IPv6)
// are caught however the later steps then fail. An answer no source places (not in
// the database, or AS0) is unknown: evidence neither way.
// Pure functions over their inputs; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "probe/experiments/common/step_failure.h"
#include "probe/experiments/experiment.h"
#include "probe/measurement/measurement.h"

namespace vigil {

struct HostConsistency {
  /// true: every answer is in an expected AS; false: some answer is a bogon or in
  /// another AS; nullopt: neither (an answer no source places, no database, no
  /// prefix list).
  std::optional<bool> consistent;
  /// address → "AS<n>", "bogon", "no_as" (not in the database, or AS0 there) or
  /// "unknown" (not in a prefix list).
  std::map<std::string, std::string> addresses;
};

/// True for addresses no public service answers with: unspecified, loopback,
/// private, link-local, shared, multicast, reserved, Teredo (2001::/32), ULA,
/// documentation ranges.
bool IsBogon(const std::string& ip);

/// Why `ip` cannot be an honest answer for a public name: "bogon" (IsBogon); nullopt
/// when nothing says so. An address the ASN database does not place is not evidence
/// (databases are incomplete), and the lab's endpoints file vouches for the addresses
/// it names.
std::optional<std::string> ForgedAnswer(const std::string& ip, const ExperimentContext& context);

/// Judges the answers of `queries` (names in `hosts` only; every name when empty)
/// against `expected_asns`, and fills each answer's asn/as_org_name when the ASN
/// database knows it.
std::map<std::string, HostConsistency> CheckDnsConsistency(
    std::vector<DnsQuery>& queries, const std::vector<uint32_t>& expected_asns,
    const ExperimentContext& context, const std::vector<std::string>& hosts = {});

/// {"host": {"consistent": true|false|null, "addresses": {"ip": "AS32934"}}}.
Json ToJson(const std::map<std::string, HostConsistency>& hosts);

/// One {host, 0, "resolve", "dns_inconsistent"} per inconsistent host.
std::vector<StepFailure> InconsistentHosts(const std::map<std::string, HostConsistency>& hosts);

/// The inconsistent hosts' names.
std::set<std::string> InconsistentNames(const std::map<std::string, HostConsistency>& hosts);

/// Adds the check to an experiment's keys: `x_dns_consistency` (ToJson), the
/// inconsistent names as `x_dns_inconsistent`, and their "resolve dns_inconsistent"
/// entries at the front of `x_failures`.
void AddDnsConsistency(Json& keys, const std::map<std::string, HostConsistency>& hosts);

/// True when the keys name a host whose answers were inconsistent.
bool HasInconsistentDns(const Json& keys);

}  // namespace vigil
