#include "probe/experiments/common/dns_consistency.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <memory>

#include "probe/experiments/common/ip_prefix_set.h"
#include "probe/geo/asn_database.h"

namespace vigil {

namespace {

const IpPrefixSet& Bogons() {
  static const IpPrefixSet set = [] {
    IpPrefixSet s;
    for (const char* cidr :
         {"0.0.0.0/8",      "10.0.0.0/8",   "100.64.0.0/10", "127.0.0.0/8",    "169.254.0.0/16",
          "172.16.0.0/12",  "192.0.0.0/24", "192.0.2.0/24",  "192.168.0.0/16", "198.51.100.0/24",
          "203.0.113.0/24", "224.0.0.0/4",  "240.0.0.0/4",   "::/128",         "::1/128",
          "::ffff:0:0/96",  "64:ff9b::/96", "100::/64",      "2001::/32",      "2001:db8::/32",
          "fc00::/7",       "fe80::/10",    "ff00::/8"}) {
      s.Add(cidr);
    }
    return s;
  }();
  return set;
}

std::string AsName(uint32_t n) { return "AS" + std::to_string(n); }

}  // namespace

bool IsBogon(const std::string& ip) { return Bogons().Contains(ip); }

std::optional<std::string> ForgedAnswer(const std::string& ip, const ExperimentContext& context) {
  for (const auto& [as, addresses] : context.extra_asn_addresses) {
    if (std::find(addresses.begin(), addresses.end(), ip) != addresses.end()) return std::nullopt;
  }
  // An address the ASN database does not place is no evidence: such databases are
  // never complete (CheckDnsConsistency reads it as unknown too).
  if (IsBogon(ip)) return "bogon";
  return std::nullopt;
}

std::map<std::string, HostConsistency> CheckDnsConsistency(
    std::vector<DnsQuery>& queries, const std::vector<uint32_t>& expected_asns,
    const ExperimentContext& context, const std::vector<std::string>& hosts) {
  // The service's prefix lists, for when there is no database.
  std::map<uint32_t, IpPrefixSet> prefixes;
  if (!context.asn_db) {
    const std::string dir = context.data_dir.empty() ? "testlists" : context.data_dir;
    for (uint32_t asn : expected_asns) {
      const auto file = std::filesystem::path(dir) / "asn" / (AsName(asn) + ".txt");
      IpPrefixSet set;
      std::error_code ec;
      if (std::filesystem::exists(file, ec) && set.AddFile(file.string()).ok()) {
        prefixes.emplace(asn, std::move(set));
      }
    }
  }
  auto lab_as = [&context](const std::string& ip) -> std::optional<std::string> {
    for (const auto& [as, addresses] : context.extra_asn_addresses) {
      if (std::find(addresses.begin(), addresses.end(), ip) != addresses.end()) return as;
    }
    return std::nullopt;
  };
  auto expected = [&expected_asns](const std::string& as) {
    return std::any_of(expected_asns.begin(), expected_asns.end(),
                       [&as](uint32_t n) { return AsName(n) == as; });
  };

  std::map<std::string, HostConsistency> out;
  for (DnsQuery& q : queries) {
    const bool judged =
        hosts.empty() || std::find(hosts.begin(), hosts.end(), q.hostname) != hosts.end();
    for (DnsAnswer& a : q.answers) {
      const std::optional<std::string>& ip = a.ipv4 ? a.ipv4 : a.ipv6;
      if (!ip || ip->empty()) continue;
      std::string where = "unknown";
      if (auto as = lab_as(*ip)) {
        where = *as;
        // Every answer says where it is routed, as OONI's probes record it, so the
        // analyzer never mistakes a placed address for a bogon.
        if (as->starts_with("AS")) {
          uint32_t number = 0;
          const auto r = std::from_chars(as->data() + 2, as->data() + as->size(), number);
          if (r.ec == std::errc() && r.ptr == as->data() + as->size()) a.asn = number;
        }
      } else if (context.asn_db) {
        auto info = context.asn_db->Lookup(*ip);
        if (info) {
          a.asn = info->number;
          a.as_org_name = info->organization;
        }
        // AS0 is how some databases write "not routed": no AS either.
        if (info && info->number != 0) {
          where = AsName(info->number);
        } else {
          where = IsBogon(*ip) ? "bogon" : "no_as";
        }
      } else {
        for (const auto& [asn, set] : prefixes) {
          if (set.Contains(*ip)) where = AsName(asn);
        }
        if (where == "unknown" && IsBogon(*ip)) where = "bogon";
      }
      if (judged) out[q.hostname].addresses[*ip] = where;
    }
  }
  for (auto& [host, h] : out) {
    bool all_expected = !h.addresses.empty();
    bool any_wrong = false;
    for (const auto& [ip, where] : h.addresses) {
      const bool good = expected(where);
      all_expected = all_expected && good;
      // "unknown" and "no_as" cannot tell: a prefix list that misses an address, or a
      // database without an entry for it, says nothing of whether it is the service's
      // (such lists and databases are never complete). A bogon, or an AS the database
      // or the lab file names, is evidence.
      if (!good && where != "unknown" && where != "no_as") any_wrong = true;
    }
    if (any_wrong) {
      h.consistent = false;
    } else if (all_expected) {
      h.consistent = true;
    }
  }
  return out;
}

Json ToJson(const std::map<std::string, HostConsistency>& hosts) {
  Json out = Json::object();
  for (const auto& [host, h] : hosts) {
    Json addresses = Json::object();
    for (const auto& [ip, where] : h.addresses) addresses[ip] = where;
    out[host] = {{"consistent", h.consistent ? Json(*h.consistent) : Json()},
                 {"addresses", addresses}};
  }
  return out;
}

std::vector<StepFailure> InconsistentHosts(const std::map<std::string, HostConsistency>& hosts) {
  std::vector<StepFailure> out;
  for (const auto& [host, h] : hosts) {
    if (h.consistent == false) out.push_back(StepFailure{host, 0, "resolve", "dns_inconsistent"});
  }
  return out;
}

std::set<std::string> InconsistentNames(const std::map<std::string, HostConsistency>& hosts) {
  std::set<std::string> out;
  for (const auto& f : InconsistentHosts(hosts)) out.insert(f.host);
  return out;
}

void AddDnsConsistency(Json& keys, const std::map<std::string, HostConsistency>& hosts) {
  keys["x_dns_consistency"] = ToJson(hosts);
  Json inconsistent = Json::array();
  Json failures = Json::array();
  for (const auto& f : InconsistentHosts(hosts)) {
    inconsistent.push_back(f.host);
    failures.push_back(ToJson(f));
  }
  if (auto it = keys.find("x_failures"); it != keys.end() && it->is_array()) {
    for (const auto& f : *it) failures.push_back(f);
  }
  keys["x_dns_inconsistent"] = inconsistent;
  keys["x_failures"] = failures;
}

bool HasInconsistentDns(const Json& keys) {
  auto it = keys.find("x_dns_inconsistent");
  return it != keys.end() && it->is_array() && !it->empty();
}

}  // namespace vigil
