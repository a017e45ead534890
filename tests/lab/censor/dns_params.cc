// dns_inject's parameter keys (its pools, its fingerprint, each copy's where it differs,
// its delay), and the checks of the DNS rule kinds.
#include <string>
#include <vector>

#include "tests/lab/censor/action_params.h"
#include "tests/lab/censor/match_parser.h"

namespace vigil::lab {

namespace {

constexpr uint64_t kMaxCopies = 3;
constexpr uint64_t kMaxDelayMs = 10000;

// One item of a `copies` list: the fingerprint keys that differ from the rule's.
void ReadCopy(FieldReader* r, const YAML::Node& item, DnsCopyFingerprint* c) {
  bool ip_ttl = false, copy_ttl = false;
  r->ForEachKey(item, [&](const std::string& k, const YAML::Node& kn, const YAML::Node& v) {
    if (k == "ip_ttl") {
      ip_ttl = true;
      uint8_t ttl = 0;
      if (r->UintAs(kn, k, v, 1, 255, &ttl)) c->ip_ttl = TtlSpec{TtlSpec::kFixed, ttl, ttl};
    } else if (k == "copy_ttl") {
      if (r->Bool(kn, k, v, &copy_ttl) && copy_ttl) c->ip_ttl = TtlSpec{TtlSpec::kCopy, 0, 0};
    } else if (k == "ip_id") {
      IpIdSpec id;
      size_t errors = r->error_count();
      r->IpId(kn, k, v, &id);
      if (r->error_count() == errors) c->ip_id = id;
    } else if (k == "df") {
      bool df = false;
      if (r->Bool(kn, k, v, &df)) c->df = df;
    } else if (k == "dns_flags") {
      uint16_t flags = 0;
      if (r->UintAs(kn, k, v, 0, 0xffff, &flags)) c->dns_flags = flags;
    } else if (k == "answer_ttl") {
      uint32_t ttl = 0;
      if (r->UintAs(kn, k, v, 0, 0x7fffffff, &ttl)) c->answer_ttl = ttl;
    } else if (k == "delay_ms") {
      uint32_t ms = 0;
      if (r->UintAs(kn, k, v, 0, kMaxDelayMs, &ms)) c->delay_ms = ms;
    } else {
      return false;
    }
    return true;
  });
  if (ip_ttl && copy_ttl) r->Fail(item, "copy_ttl", "give ip_ttl or copy_ttl, not both");
}

// `copies` as a list: one fingerprint per copy, 1..3 of them.
void ReadCopies(FieldReader* r, const YAML::Node& kn, const YAML::Node& v, DnsInjectParams* d) {
  if (v.size() == 0 || v.size() > kMaxCopies) {
    r->Fail(
        v.size() == 0 ? kn : v, "copies",
        "a list of 1.." + std::to_string(kMaxCopies) + " copies, got " + std::to_string(v.size()));
    return;
  }
  for (const auto& item : v) {
    DnsCopyFingerprint c;
    if (!item.IsMap()) {
      r->Fail(item, "copies",
              std::string("expected a mapping of fingerprint keys, got ") + YamlTypeName(item));
    } else {
      ReadCopy(r, item, &c);
    }
    d->per_copy.push_back(c);
  }
  d->copies = static_cast<int>(d->per_copy.size());
}

}  // namespace

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
    if (v.IsSequence()) {
      ReadCopies(r, kn, v, &d);
    } else {
      r->UintAs(kn, k, v, 1, kMaxCopies, &d.copies);
    }
  } else if (k == "delay_ms") {
    r->UintAs(kn, k, v, 0, kMaxDelayMs, &d.delay_ms);
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
