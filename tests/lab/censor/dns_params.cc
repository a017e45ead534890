// dns_inject's parameter keys, and the checks of the DNS rule kinds.
#include <string>
#include <vector>

#include "tests/lab/censor/action_params.h"
#include "tests/lab/censor/match_parser.h"

namespace vigil::lab {

bool ReadDnsInjectParam(FieldReader* r, const std::string& k, const YAML::Node& kn,
                        const YAML::Node& v, Rule* rule, ParamKeysSeen* seen) {
  DnsInjectParams& d = rule->dns;
  if (k == "pool" || k == "pool6") {
    std::vector<ScalarItem> items;
    if (!r->ScalarList(kn, k, v, &items)) return true;
    for (const auto& [s, node] : items) {
      auto a = IpAddress::Parse(s);
      if (!a || a->v6 != (k == "pool6")) {
        r->Fail(
            node, k,
            std::string("not an ") + (k == "pool6" ? "IPv6" : "IPv4") + " address: \"" + s + "\"");
        continue;
      }
      (k == "pool6" ? d.pool6 : d.pool).push_back(*a);
    }
  } else if (k == "random") {
    r->Bool(kn, k, v, &d.random);
  } else if (k == "copies") {
    r->UintAs(kn, k, v, 1, 3, &d.copies);
  } else if (k == "ip_ttl") {
    seen->ip_ttl = true;
    if (r->UintAs(kn, k, v, 1, 255, &d.ip_ttl.lo)) {
      d.ip_ttl.hi = d.ip_ttl.lo;
      d.ip_ttl.kind = TtlSpec::kFixed;
    }
  } else if (k == "copy_ttl") {
    r->Bool(kn, k, v, &seen->copy_ttl);
  } else if (k == "ip_id") {
    r->IpId(kn, k, v, &d.ip_id);
  } else if (k == "df") {
    r->Bool(kn, k, v, &d.df);
  } else if (k == "dns_flags") {
    r->UintAs(kn, k, v, 0, 0xffff, &d.dns_flags);
  } else if (k == "answer_ttl") {
    r->UintAs(kn, k, v, 0, 0x7fffffff, &d.answer_ttl);
  } else {
    return false;
  }
  return true;
}

void CheckDnsInject(FieldReader* r, const YAML::Node& rule_node, const ParamKeysSeen& seen,
                    Rule* rule) {
  if (seen.copy_ttl && seen.ip_ttl)
    r->Fail(rule_node, "copy_ttl", "give ip_ttl or copy_ttl, not both");
  if (seen.copy_ttl) rule->dns.ip_ttl.kind = TtlSpec::kCopy;
  if (rule->dns.pool.empty())
    r->Fail(rule_node, "pool", "missing (IPv4 addresses to answer A with)");
  CheckDnsRule(r, rule_node, seen, rule);
}

void CheckDnsRule(FieldReader* r, const YAML::Node& rule_node, const ParamKeysSeen&, Rule* rule) {
  CheckDnsActionMatch(r, rule_node, *rule);
}

}  // namespace vigil::lab
