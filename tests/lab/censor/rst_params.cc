// rst_inject's parameter keys: the RST type, whether the trigger passes, and for type
// custom its packets.
#include <charconv>
#include <string>

#include "tests/lab/censor/action_params.h"
#include "tests/lab/censor/match_parser.h"

namespace vigil::lab {
namespace {

constexpr size_t kMaxPayloadBytes = 1000;

bool HexBytes(const std::string& hex, std::string* out) {
  if (hex.size() % 2 != 0 || hex.size() > 2 * kMaxPayloadBytes) return false;
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, v, 16);
    if (ec != std::errc() || p != hex.data() + i + 2) return false;
    out->push_back(static_cast<char>(v));
  }
  return true;
}

// The keys of a custom RST's packets; the named types fix them.
bool ReadCustomRstParam(FieldReader* r, const std::string& k, const YAML::Node& kn,
                        const YAML::Node& v, RstParams* p) {
  if (k == "count") {
    r->UintAs(kn, k, v, 1, 10, &p->count);
  } else if (k == "flags") {
    std::string f;
    if (!r->String(kn, k, v, &f)) return true;
    if (f == "R") {
      p->ack = false;
    } else if (f == "RA") {
      p->ack = true;
    } else {
      r->Fail(v, k, "must be R or RA, got \"" + f + "\"");
    }
  } else if (k == "df") {
    r->Bool(kn, k, v, &p->df);
  } else if (k == "ip_id") {
    r->IpId(kn, k, v, &p->ip_id);
  } else if (k == "ttl") {
    r->Ttl(kn, k, v, &p->ttl);
  } else if (k == "payload_hex") {
    std::string hex;
    if (!r->String(kn, k, v, &hex)) return true;
    if (!HexBytes(hex, &p->payload)) {
      r->Fail(v, k, "expected an even number of hex digits, at most 2000");
    }
  } else {
    return false;
  }
  return true;
}

}  // namespace

void ReadTrigger(FieldReader* r, const std::string& k, const YAML::Node& kn, const YAML::Node& v,
                 bool* pass) {
  std::string t;
  if (!r->String(kn, k, v, &t)) return;
  if (t == "drop" || t == "pass") {
    *pass = t == "pass";
  } else {
    r->Fail(v, k, "must be drop or pass, got \"" + t + "\"");
  }
}

// The type decides which further keys are allowed, so it is read before them.
void ReadRstType(FieldReader* r, const YAML::Node& rule_node, Rule* rule) {
  YAML::Node type_key;
  YAML::Node type = FieldReader::Find(rule_node, "type", &type_key);
  if (!type.IsDefined()) {
    r->Fail(rule_node, "type", "missing (gfw1, gfw2, gfw3, henan or custom)");
  } else if (r->String(type_key, "type", type, &rule->rst.type)) {
    if (rule->rst.type != "custom" && !RstTypeDefaults(rule->rst.type, &rule->rst)) {
      r->Fail(type, "type",
              "unknown RST type \"" + rule->rst.type + "\" (gfw1, gfw2, gfw3, henan, custom)");
    }
  }
}

bool ReadRstParam(FieldReader* r, const std::string& k, const YAML::Node& kn, const YAML::Node& v,
                  Rule* rule, ParamKeysSeen*) {
  RstParams& p = rule->rst;
  if (k == "type") return true;
  if (k == "trigger") {
    ReadTrigger(r, k, kn, v, &p.pass_trigger);
    return true;
  }
  if (k == "direction") {
    std::string dir;
    if (!r->String(kn, k, v, &dir)) return true;
    if (dir == "both") {
      p.direction = RstDirection::kBoth;
    } else if (dir == "client") {
      p.direction = RstDirection::kClient;
    } else if (dir == "server") {
      p.direction = RstDirection::kServer;
    } else {
      r->Fail(v, k, "must be both, client or server, got \"" + dir + "\"");
    }
    return true;
  }
  if (k != "count" && k != "flags" && k != "df" && k != "ip_id" && k != "ttl" &&
      k != "payload_hex") {
    return false;
  }
  if (p.type != "custom") {
    r->Fail(kn, k, "only allowed with type: custom");
    return true;
  }
  return ReadCustomRstParam(r, k, kn, v, &p);
}

void CheckRstInject(FieldReader* r, const YAML::Node& rule_node, const ParamKeysSeen&, Rule* rule) {
  CheckTcpActionMatch(r, rule_node, *rule);
}

}  // namespace vigil::lab
