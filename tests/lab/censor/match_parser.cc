#include "tests/lab/censor/match_parser.h"

#include <initializer_list>
#include <string>
#include <vector>

namespace vigil::lab {
namespace {

void ReadProto(FieldReader* r, const std::string& k, const YAML::Node& kn, const YAML::Node& v,
               Proto* out) {
  std::string p;
  if (!r->String(kn, k, v, &p)) return;
  if (p == "tcp") {
    *out = Proto::kTcp;
  } else if (p == "udp") {
    *out = Proto::kUdp;
  } else if (p == "any") {
    *out = Proto::kAny;
  } else {
    r->Fail(v, k, "must be tcp, udp or any, got \"" + p + "\"");
  }
}

void ReadDstIps(FieldReader* r, const std::string& k, const YAML::Node& kn, const YAML::Node& v,
                std::vector<IpPrefix>* out) {
  std::vector<ScalarItem> items;
  if (!r->ScalarList(kn, k, v, &items)) return;
  for (const auto& [s, node] : items) {
    auto prefix = IpPrefix::Parse(s);
    if (!prefix) {
      r->Fail(node, k, "bad CIDR \"" + s + "\"");
    } else {
      out->push_back(*prefix);
    }
  }
}

void ReadDstPorts(FieldReader* r, const std::string& k, const YAML::Node& kn, const YAML::Node& v,
                  std::vector<uint16_t>* out) {
  std::vector<ScalarItem> items;
  if (!r->ScalarList(kn, k, v, &items)) return;
  for (const auto& [s, node] : items) {
    auto port = ParseUint(s);
    if (!port || *port < 1 || *port > 65535) {
      r->Fail(node, k, "bad port \"" + s + "\" (want 1..65535)");
    } else {
      out->push_back(static_cast<uint16_t>(*port));
    }
  }
}

// A name or path pattern: a mapping from the pattern kinds allowed (`kinds`) to a
// pattern or a list of them.
bool ReadPattern(FieldReader* r, const YAML::Node& kn, const std::string& key, const YAML::Node& v,
                 std::initializer_list<const char*> kinds, NamePattern* out) {
  if (!r->Map(kn, key, v)) return false;
  size_t errors_before = r->error_count();
  r->ForEachKey(v, [&](const std::string& k, const YAML::Node& pkn, const YAML::Node& pv) {
    bool known = false;
    for (const char* kind : kinds) known = known || k == kind;
    if (!known) return false;
    std::vector<ScalarItem> items;
    if (!r->ScalarList(pkn, k, pv, &items)) return true;
    for (const auto& [s, node] : items) {
      if (s.empty() || s.size() > 1024) {
        r->Fail(node, k, "patterns must be 1..1024 bytes");
        continue;
      }
      if (k == "regex") {
        std::string error;
        auto re = Regex::Compile(s, out->domain, &error);
        if (!re) {
          r->Fail(node, k, "bad regex \"" + s + "\": " + error);
        } else {
          out->regex.push_back(re);
        }
      } else {
        std::string value = out->domain ? NormalizeDomain(s) : s;
        (k == "exact" ? out->exact : k == "suffix" ? out->suffix : out->prefix).push_back(value);
      }
    }
    return true;
  });
  if (out->exact.empty() && out->suffix.empty() && out->prefix.empty() && out->regex.empty() &&
      r->error_count() == errors_before) {
    r->Fail(v, key, "needs at least one pattern");
  }
  return r->error_count() == errors_before;
}

// A list whose items are words or lists of words (all of which must be seen).
void ReadKeywords(FieldReader* r, const YAML::Node& kn, const std::string& key, const YAML::Node& v,
                  std::vector<std::vector<std::string>>* out) {
  if (!v.IsSequence() || v.size() == 0) {
    r->Fail(v.IsNull() ? kn : v, key,
            v.IsSequence()
                ? "empty list"
                : std::string("expected a list of words or word lists, got ") + YamlTypeName(v));
    return;
  }
  for (const auto& item : v) {
    std::vector<std::string> combo;
    if (item.IsScalar()) {
      combo.push_back(item.Scalar());
    } else if (item.IsSequence() && item.size() > 0) {
      for (const auto& w : item) {
        if (!w.IsScalar()) {
          r->Fail(w, key, std::string("expected a word, got ") + YamlTypeName(w));
          continue;
        }
        combo.push_back(w.Scalar());
      }
    } else {
      r->Fail(item, key,
              std::string("expected a word or a list of words, got ") + YamlTypeName(item));
      continue;
    }
    bool ok = true;
    for (const auto& w : combo) {
      if (w.empty() || w.size() > 256) {
        r->Fail(item, key, "keywords must be 1..256 bytes");
        ok = false;
        break;
      }
    }
    if (ok && !combo.empty()) out->push_back(std::move(combo));
  }
}

}  // namespace

void ParseMatch(FieldReader* r, const YAML::Node& m, Match* out) {
  r->ForEachKey(m, [&](const std::string& k, const YAML::Node& kn, const YAML::Node& v) {
    if (k == "proto") {
      ReadProto(r, k, kn, v, &out->proto);
    } else if (k == "dst_ip") {
      ReadDstIps(r, k, kn, v, &out->dst_ip);
    } else if (k == "dst_port") {
      ReadDstPorts(r, k, kn, v, &out->dst_port);
    } else if (k == "dns_qname" || k == "sni" || k == "http_host") {
      NamePattern p;
      if (ReadPattern(r, kn, k, v, {"suffix", "exact", "regex"}, &p)) {
        (k == "dns_qname" ? out->dns_qname : k == "sni" ? out->sni : out->http_host) = p;
      }
    } else if (k == "http_path") {
      NamePattern p;
      p.domain = false;
      if (ReadPattern(r, kn, k, v, {"prefix", "exact", "regex"}, &p)) out->http_path = p;
    } else if (k == "keywords") {
      ReadKeywords(r, kn, k, v, &out->keywords);
    } else {
      return false;
    }
    return true;
  });
}

void CheckDnsActionMatch(FieldReader* r, const YAML::Node& rule_node, const Rule& rule) {
  const std::string action = ActionName(rule.action);
  const Match& m = rule.match;
  if (m.proto == Proto::kTcp) r->Fail(rule_node, "proto", action + " needs udp or any");
  if (m.sni || m.http_host || m.http_path) {
    r->Fail(rule_node, "match", action + " cannot match sni or http fields");
  }
}

void CheckTcpActionMatch(FieldReader* r, const YAML::Node& rule_node, const Rule& rule) {
  const std::string action = ActionName(rule.action);
  const Match& m = rule.match;
  if (m.proto == Proto::kUdp) r->Fail(rule_node, "proto", action + " needs tcp or any");
  if (m.dns_qname) r->Fail(rule_node, "match", action + " cannot match dns_qname");
}

}  // namespace vigil::lab
