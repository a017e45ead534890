#include "tests/lab/censor/scenario_parser.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace vigil::lab {
namespace {

constexpr size_t kMaxBodyBytes = 64 * 1024;
constexpr size_t kMaxPayloadBytes = 1000;

std::optional<uint64_t> ParseUint(const std::string& s) {
  if (s.empty()) return std::nullopt;
  int base = 10;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    begin += 2;
  }
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(begin, end, v, base);
  if (ec != std::errc() || p != end) return std::nullopt;
  return v;
}

std::optional<uint64_t> ParseWithUnit(
    const std::string& text, std::initializer_list<std::pair<const char*, uint64_t>> units) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 12) return std::nullopt;
  std::string unit = text.substr(digits);
  for (const auto& [name, scale] : units) {
    if (unit == name) return *ParseUint(text.substr(0, digits)) * scale;
  }
  return std::nullopt;
}

const char* TypeName(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return "a scalar";
  }
}

// Walks one YAML document, collecting every error rather than stopping at the first,
// so a scenario author fixes a file in one round.
class Parser {
 public:
  Parser(std::string file, std::string base_dir)
      : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

  std::vector<std::string>& errors() { return errors_; }

  void Fail(const YAML::Node& at, const std::string& key, const std::string& reason) {
    Fail(static_cast<int>(at.Mark().line) + 1, key, reason);
  }
  void Fail(int line, const std::string& key, const std::string& reason) {
    errors_.push_back(file_ + ":" + std::to_string(line) + ": " + key + ": " + reason);
  }

  Scenario ParseRoot(const YAML::Node& root) {
    Scenario s;
    if (!root.IsMap()) {
      Fail(root.IsNull() ? 1 : static_cast<int>(root.Mark().line) + 1, "scenario",
           std::string("expected a mapping, got ") + TypeName(root));
      return s;
    }
    bool have_name = false, have_phases = false;
    ForEachKey(root, [&](const std::string& key, const YAML::Node& k, const YAML::Node& v) {
      if (key == "name") {
        have_name = String(k, key, v, &s.name);
      } else if (key == "description") {
        String(k, key, v, &s.description);
      } else if (key == "phases") {
        have_phases = true;
        ParsePhases(k, key, v, &s.phases);
      } else {
        return false;
      }
      return true;
    });
    if (!have_name) Fail(root, "name", "missing");
    if (!have_phases) Fail(root, "phases", "missing");
    return s;
  }

 private:
  // Calls fn(key, key_node, value_node) for each entry; fn returns false for an
  // unknown key. Reports unknown and duplicate keys.
  template <typename Fn>
  void ForEachKey(const YAML::Node& map, Fn fn, const std::string& unknown_reason = "unknown key") {
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      // Copies: yaml-cpp's iterator hands out a temporary proxy, so a reference to
      // it->first would dangle once this statement ends.
      const YAML::Node k = it->first;
      const YAML::Node v = it->second;
      if (!k.IsScalar()) {
        Fail(k, "key", "expected a scalar key");
        continue;
      }
      std::string key = k.Scalar();
      if (!seen.insert(key).second) {
        Fail(k, key, "duplicate key");
        continue;
      }
      if (!fn(key, k, v)) Fail(k, key, unknown_reason);
    }
  }

  bool Scalar(const YAML::Node& k, const std::string& key, const YAML::Node& v) {
    if (v.IsScalar()) return true;
    Fail(v.IsNull() ? k : v, key, std::string("expected a scalar, got ") + TypeName(v));
    return false;
  }

  bool String(const YAML::Node& k, const std::string& key, const YAML::Node& v, std::string* out) {
    if (!Scalar(k, key, v)) return false;
    *out = v.Scalar();
    return true;
  }

  bool Bool(const YAML::Node& k, const std::string& key, const YAML::Node& v, bool* out) {
    if (!Scalar(k, key, v)) return false;
    const std::string& s = v.Scalar();
    if (s == "true") {
      *out = true;
    } else if (s == "false") {
      *out = false;
    } else {
      Fail(v, key, "expected true or false, got \"" + s + "\"");
      return false;
    }
    return true;
  }

  bool Uint(const YAML::Node& k, const std::string& key, const YAML::Node& v, uint64_t lo,
            uint64_t hi, uint64_t* out) {
    if (!Scalar(k, key, v)) return false;
    auto n = ParseUint(v.Scalar());
    if (!n) {
      Fail(v, key, "expected a number, got \"" + v.Scalar() + "\"");
      return false;
    }
    if (*n < lo || *n > hi) {
      Fail(v, key,
           "must be " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + v.Scalar());
      return false;
    }
    *out = *n;
    return true;
  }

  template <typename T>
  bool UintAs(const YAML::Node& k, const std::string& key, const YAML::Node& v, uint64_t lo,
              uint64_t hi, T* out) {
    uint64_t n = 0;
    if (!Uint(k, key, v, lo, hi, &n)) return false;
    *out = static_cast<T>(n);
    return true;
  }

  // A scalar or a list of scalars, as strings (with the node of each for errors).
  bool ScalarList(const YAML::Node& k, const std::string& key, const YAML::Node& v,
                  std::vector<std::pair<std::string, YAML::Node>>* out) {
    if (v.IsScalar()) {
      out->emplace_back(v.Scalar(), v);
      return true;
    }
    if (!v.IsSequence()) {
      Fail(v.IsNull() ? k : v, key,
           std::string("expected a value or a list of values, got ") + TypeName(v));
      return false;
    }
    bool ok = true;
    for (const auto& item : v) {
      if (!item.IsScalar()) {
        Fail(item, key, std::string("expected a scalar list item, got ") + TypeName(item));
        ok = false;
        continue;
      }
      out->emplace_back(item.Scalar(), item);
    }
    if (out->empty() && ok) {
      Fail(k, key, "empty list");
      return false;
    }
    return ok;
  }

  bool Map(const YAML::Node& k, const std::string& key, const YAML::Node& v) {
    if (v.IsMap()) return true;
    Fail(v.IsNull() ? k : v, key, std::string("expected a mapping, got ") + TypeName(v));
    return false;
  }

  bool Duration(const YAML::Node& k, const std::string& key, const YAML::Node& v, int64_t* out) {
    if (!Scalar(k, key, v)) return false;
    auto ms = ParseDurationMs(v.Scalar());
    if (!ms) {
      Fail(v, key, "bad duration \"" + v.Scalar() + "\" (want e.g. 500ms, 90s, 2m)");
      return false;
    }
    *out = *ms;
    return true;
  }

  void ParsePhases(const YAML::Node& kn, const std::string& key, const YAML::Node& v,
                   std::vector<Phase>* out) {
    if (!v.IsSequence() || v.size() == 0) {
      Fail(v.IsNull() ? kn : v, key,
           v.IsSequence() ? "needs at least one phase"
                          : std::string("expected a list, got ") + TypeName(v));
      return;
    }
    int64_t last_start = -1;
    for (const auto& item : v) {
      if (!item.IsMap()) {
        Fail(item, "phases", std::string("expected a mapping, got ") + TypeName(item));
        continue;
      }
      Phase p;
      bool have_start = false;
      std::set<std::string> ids;
      ForEachKey(item, [&](const std::string& k, const YAML::Node& pkn, const YAML::Node& val) {
        if (k == "start") {
          have_start = Duration(pkn, k, val, &p.start_ms);
          if (have_start && p.start_ms <= last_start) {
            Fail(val, k, "phases must start in increasing order");
          }
        } else if (k == "rules") {
          if (val.IsNull()) return true;
          if (!val.IsSequence()) {
            Fail(val, k, std::string("expected a list, got ") + TypeName(val));
            return true;
          }
          for (const auto& r : val) {
            Rule rule;
            if (ParseRule(r, &rule)) {
              if (!ids.insert(rule.id).second) {
                Fail(rule.line, "id", "duplicate rule id \"" + rule.id + "\" in this phase");
              }
              p.rules.push_back(std::move(rule));
            }
          }
        } else {
          return false;
        }
        return true;
      });
      if (!have_start && !ItemHas(item, "start")) Fail(item, "start", "missing");
      if (have_start) last_start = p.start_ms;
      out->push_back(std::move(p));
    }
  }

  static bool ItemHas(const YAML::Node& map, const std::string& key) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) return true;
    }
    return false;
  }

  static YAML::Node Find(const YAML::Node& map, const std::string& key, YAML::Node* key_node) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) {
        *key_node = it->first;
        return it->second;
      }
    }
    return YAML::Node(YAML::NodeType::Undefined);
  }

  bool ParseRule(const YAML::Node& r, Rule* rule) {
    if (!r.IsMap()) {
      Fail(r, "rules", std::string("expected a mapping, got ") + TypeName(r));
      return false;
    }
    rule->line = static_cast<int>(r.Mark().line) + 1;
    size_t errors_before = errors_.size();
    // The action decides which parameter keys are valid, so read it first.
    YAML::Node action_key;
    YAML::Node action = Find(r, "action", &action_key);
    std::string action_name;
    bool action_ok = false;
    if (!action.IsDefined()) {
      Fail(r, "action", "missing");
    } else if (String(action_key, "action", action, &action_name)) {
      static const std::pair<const char*, ActionKind> kActions[] = {
          {"dns_inject", ActionKind::kDnsInject},
          {"dns_nxdomain", ActionKind::kDnsNxdomain},
          {"dns_drop", ActionKind::kDnsDrop},
          {"rst_inject", ActionKind::kRstInject},
          {"drop", ActionKind::kDrop},
          {"http_blockpage", ActionKind::kHttpBlockpage},
          {"throttle", ActionKind::kThrottle},
          {"delay", ActionKind::kDelay},
          {"keyword_drop", ActionKind::kKeywordDrop},
      };
      for (const auto& [name, kind] : kActions) {
        if (action_name == name) {
          rule->action = kind;
          action_ok = true;
        }
      }
      if (!action_ok) Fail(action, "action", "unknown action \"" + action_name + "\"");
    }
    // rst_inject's type decides which further keys are allowed.
    if (action_ok && rule->action == ActionKind::kRstInject) {
      YAML::Node type_key;
      YAML::Node type = Find(r, "type", &type_key);
      if (!type.IsDefined()) {
        Fail(r, "type", "missing (gfw1, gfw2, gfw3, henan or custom)");
      } else if (String(type_key, "type", type, &rule->rst.type)) {
        if (rule->rst.type != "custom" && !RstTypeDefaults(rule->rst.type, &rule->rst)) {
          Fail(type, "type",
               "unknown RST type \"" + rule->rst.type + "\" (gfw1, gfw2, gfw3, henan, custom)");
        }
      }
    }
    bool have_id = false, have_ms = false, have_updown = false, have_ttl = false, have_body = false,
         have_rate = false;
    bool copy_ttl = false;
    ForEachKey(
        r,
        [&](const std::string& k, const YAML::Node& kn, const YAML::Node& v) {
          if (k == "id") {
            have_id = String(kn, k, v, &rule->id);
            if (have_id && rule->id.empty()) Fail(v, k, "must not be empty");
            return true;
          }
          if (k == "action") return true;
          if (k == "match") {
            if (Map(kn, k, v)) ParseMatch(v, &rule->match);
            return true;
          }
          if (k == "residual") {
            if (!Map(kn, k, v)) return true;
            bool have_seconds = false;
            ForEachKey(v, [&](const std::string& rk, const YAML::Node& rkn, const YAML::Node& rv) {
              if (rk != "seconds") return false;
              have_seconds = UintAs(rkn, rk, rv, 1, 86400, &rule->residual_seconds);
              return true;
            });
            if (!have_seconds && !ItemHas(v, "seconds")) Fail(v, "seconds", "missing");
            return true;
          }
          if (!action_ok) return true;  // the action error is already reported
          switch (rule->action) {
            case ActionKind::kDnsInject: {
              DnsInjectParams& d = rule->dns;
              if (k == "pool" || k == "pool6") {
                std::vector<std::pair<std::string, YAML::Node>> items;
                if (!ScalarList(kn, k, v, &items)) return true;
                for (const auto& [s, node] : items) {
                  auto a = IpAddress::Parse(s);
                  if (!a || a->v6 != (k == "pool6")) {
                    Fail(node, k,
                         std::string("not an ") + (k == "pool6" ? "IPv6" : "IPv4") +
                             " address: \"" + s + "\"");
                    continue;
                  }
                  (k == "pool6" ? d.pool6 : d.pool).push_back(*a);
                }
              } else if (k == "random") {
                Bool(kn, k, v, &d.random);
              } else if (k == "copies") {
                UintAs(kn, k, v, 1, 3, &d.copies);
              } else if (k == "ip_ttl") {
                have_ttl = true;
                if (UintAs(kn, k, v, 1, 255, &d.ip_ttl.lo)) {
                  d.ip_ttl.hi = d.ip_ttl.lo;
                  d.ip_ttl.kind = TtlSpec::kFixed;
                }
              } else if (k == "copy_ttl") {
                Bool(kn, k, v, &copy_ttl);
              } else if (k == "ip_id") {
                IpId(kn, k, v, &d.ip_id);
              } else if (k == "df") {
                Bool(kn, k, v, &d.df);
              } else if (k == "dns_flags") {
                UintAs(kn, k, v, 0, 0xffff, &d.dns_flags);
              } else if (k == "answer_ttl") {
                UintAs(kn, k, v, 0, 0x7fffffff, &d.answer_ttl);
              } else {
                return false;
              }
              return true;
            }
            case ActionKind::kRstInject: {
              RstParams& p = rule->rst;
              if (k == "type") return true;
              if (k == "direction") {
                std::string dir;
                if (!String(kn, k, v, &dir)) return true;
                if (dir == "both") {
                  p.direction = RstDirection::kBoth;
                } else if (dir == "client") {
                  p.direction = RstDirection::kClient;
                } else if (dir == "server") {
                  p.direction = RstDirection::kServer;
                } else {
                  Fail(v, k, "must be both, client or server, got \"" + dir + "\"");
                }
                return true;
              }
              if (k != "count" && k != "flags" && k != "df" && k != "ip_id" && k != "ttl" &&
                  k != "payload_hex") {
                return false;
              }
              if (p.type != "custom") {
                Fail(kn, k, "only allowed with type: custom");
                return true;
              }
              if (k == "count") {
                UintAs(kn, k, v, 1, 10, &p.count);
              } else if (k == "flags") {
                std::string f;
                if (!String(kn, k, v, &f)) return true;
                if (f == "R") {
                  p.ack = false;
                } else if (f == "RA") {
                  p.ack = true;
                } else {
                  Fail(v, k, "must be R or RA, got \"" + f + "\"");
                }
              } else if (k == "df") {
                Bool(kn, k, v, &p.df);
              } else if (k == "ip_id") {
                IpId(kn, k, v, &p.ip_id);
              } else if (k == "ttl") {
                Ttl(kn, k, v, &p.ttl);
              } else {
                std::string hex;
                if (!String(kn, k, v, &hex)) return true;
                if (!HexBytes(hex, &p.payload)) {
                  Fail(v, k, "expected an even number of hex digits, at most 2000");
                }
              }
              return true;
            }
            case ActionKind::kHttpBlockpage: {
              BlockpageParams& b = rule->blockpage;
              if (k == "status") {
                UintAs(kn, k, v, 100, 599, &b.status);
              } else if (k == "body") {
                if (have_body) Fail(kn, k, "give body or body_file, not both");
                have_body = true;
                if (String(kn, k, v, &b.body) && b.body.size() > kMaxBodyBytes) {
                  Fail(v, k, "longer than 65536 bytes");
                }
              } else if (k == "body_file") {
                if (have_body) Fail(kn, k, "give body or body_file, not both");
                have_body = true;
                std::string path;
                if (String(kn, k, v, &path)) ReadBody(v, k, path, &b.body);
              } else if (k == "then") {
                std::string t;
                if (!String(kn, k, v, &t)) return true;
                if (t == "rst") {
                  b.then_rst = true;
                } else if (t == "fin") {
                  b.then_rst = false;
                } else {
                  Fail(v, k, "must be rst or fin, got \"" + t + "\"");
                }
              } else {
                return false;
              }
              return true;
            }
            case ActionKind::kThrottle: {
              ThrottleParams& t = rule->throttle;
              if (k == "rate") {
                have_rate = true;
                if (!Scalar(kn, k, v)) return true;
                auto bps = ParseRate(v.Scalar());
                if (!bps || *bps < 1000) {
                  Fail(v, k, "bad rate \"" + v.Scalar() + "\" (want e.g. 64kbit, 2mbit; >= 1kbit)");
                } else {
                  t.rate_bps = *bps;
                }
              } else if (k == "burst_bytes") {
                UintAs(kn, k, v, 1500, 16 << 20, &t.burst_bytes);
              } else if (k == "queue_bytes") {
                UintAs(kn, k, v, 1500, 64 << 20, &t.queue_bytes);
              } else {
                return false;
              }
              return true;
            }
            case ActionKind::kDelay: {
              DelayParams& d = rule->delay;
              if (k == "ms") {
                have_ms = true;
                uint32_t ms = 0;
                if (UintAs(kn, k, v, 0, 60000, &ms)) d.up_ms = d.down_ms = ms;
              } else if (k == "up_ms") {
                have_updown = true;
                UintAs(kn, k, v, 0, 60000, &d.up_ms);
              } else if (k == "down_ms") {
                have_updown = true;
                UintAs(kn, k, v, 0, 60000, &d.down_ms);
              } else {
                return false;
              }
              return true;
            }
            default:
              return false;
          }
        },
        action_ok ? "unknown key for action " + action_name : "unknown key");
    if (!have_id && !ItemHas(r, "id")) Fail(r, "id", "missing");
    if (action_ok) CheckRule(r, copy_ttl, have_ttl, have_ms, have_updown, have_rate, rule);
    return errors_.size() == errors_before;
  }

  // Cross-field checks, once all keys of a rule are read.
  void CheckRule(const YAML::Node& r, bool copy_ttl, bool have_ttl, bool have_ms, bool have_updown,
                 bool have_rate, Rule* rule) {
    const Match& m = rule->match;
    const std::string action = ActionName(rule->action);
    switch (rule->action) {
      case ActionKind::kDnsInject:
        if (copy_ttl && have_ttl) Fail(r, "copy_ttl", "give ip_ttl or copy_ttl, not both");
        if (copy_ttl) rule->dns.ip_ttl.kind = TtlSpec::kCopy;
        if (rule->dns.pool.empty()) Fail(r, "pool", "missing (IPv4 addresses to answer A with)");
        [[fallthrough]];
      case ActionKind::kDnsNxdomain:
      case ActionKind::kDnsDrop:
        if (m.proto == Proto::kTcp) Fail(r, "proto", action + " needs udp or any");
        if (m.sni || m.http_host || m.http_path) {
          Fail(r, "match", action + " cannot match sni or http fields");
        }
        break;
      case ActionKind::kRstInject:
      case ActionKind::kHttpBlockpage:
        if (m.proto == Proto::kUdp) Fail(r, "proto", action + " needs tcp or any");
        if (m.dns_qname) Fail(r, "match", action + " cannot match dns_qname");
        if (rule->action == ActionKind::kHttpBlockpage && rule->blockpage.body.empty()) {
          rule->blockpage.body =
              "<html><head><title>Access denied</title></head><body><h1>Access denied</h1>"
              "<p>The page you requested is blocked.</p></body></html>\n";
        }
        break;
      case ActionKind::kKeywordDrop:
        if (m.keywords.empty()) Fail(r, "keywords", "keyword_drop needs match.keywords");
        break;
      case ActionKind::kThrottle:
        if (!have_rate) Fail(r, "rate", "missing");
        break;
      case ActionKind::kDelay:
        if (have_ms && have_updown) Fail(r, "ms", "give ms or up_ms/down_ms, not both");
        if (!have_ms && !have_updown) Fail(r, "ms", "missing (ms, or up_ms and/or down_ms)");
        break;
      default:
        break;
    }
    if (rule->residual_seconds > 0 && m.proto == Proto::kUdp) {
      Fail(r, "residual", "only applies to tcp rules");
    }
  }

  void IpId(const YAML::Node& k, const std::string& key, const YAML::Node& v, IpIdSpec* out) {
    if (!Scalar(k, key, v)) return;
    if (v.Scalar() == "random") {
      *out = IpIdSpec{.random = true, .value = 0, .lo = 0, .hi = 0xffff};
      return;
    }
    uint16_t id = 0;
    if (UintAs(k, key, v, 0, 0xffff, &id)) *out = IpIdSpec{.random = false, .value = id};
  }

  void Ttl(const YAML::Node& k, const std::string& key, const YAML::Node& v, TtlSpec* out) {
    if (!Scalar(k, key, v)) return;
    const std::string& s = v.Scalar();
    size_t dash = s.find('-');
    if (dash != std::string::npos) {
      auto lo = ParseUint(s.substr(0, dash));
      auto hi = ParseUint(s.substr(dash + 1));
      if (!lo || !hi || *lo < 1 || *hi > 255 || *lo > *hi) {
        Fail(v, key, "bad TTL range \"" + s + "\" (want e.g. 55-118)");
        return;
      }
      *out = {TtlSpec::kRandom, static_cast<uint8_t>(*lo), static_cast<uint8_t>(*hi)};
      return;
    }
    uint8_t ttl = 0;
    if (UintAs(k, key, v, 1, 255, &ttl)) *out = {TtlSpec::kFixed, ttl, ttl};
  }

  static bool HexBytes(const std::string& hex, std::string* out) {
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

  void ReadBody(const YAML::Node& v, const std::string& key, const std::string& path,
                std::string* out) {
    std::string full = (!path.empty() && path[0] == '/') ? path : base_dir_ + "/" + path;
    std::ifstream in(full, std::ios::binary);
    if (!in) {
      Fail(v, key, "cannot read \"" + full + "\"");
      return;
    }
    std::string body(kMaxBodyBytes + 1, '\0');
    in.read(body.data(), static_cast<std::streamsize>(body.size()));
    body.resize(static_cast<size_t>(in.gcount()));
    if (body.size() > kMaxBodyBytes) {
      Fail(v, key, "longer than 65536 bytes");
      return;
    }
    *out = body;
  }

  void ParseMatch(const YAML::Node& m, Match* out) {
    ForEachKey(m, [&](const std::string& k, const YAML::Node& kn, const YAML::Node& v) {
      if (k == "proto") {
        std::string p;
        if (!String(kn, k, v, &p)) return true;
        if (p == "tcp") {
          out->proto = Proto::kTcp;
        } else if (p == "udp") {
          out->proto = Proto::kUdp;
        } else if (p == "any") {
          out->proto = Proto::kAny;
        } else {
          Fail(v, k, "must be tcp, udp or any, got \"" + p + "\"");
        }
      } else if (k == "dst_ip") {
        std::vector<std::pair<std::string, YAML::Node>> items;
        if (!ScalarList(kn, k, v, &items)) return true;
        for (const auto& [s, node] : items) {
          auto prefix = IpPrefix::Parse(s);
          if (!prefix) {
            Fail(node, k, "bad CIDR \"" + s + "\"");
          } else {
            out->dst_ip.push_back(*prefix);
          }
        }
      } else if (k == "dst_port") {
        std::vector<std::pair<std::string, YAML::Node>> items;
        if (!ScalarList(kn, k, v, &items)) return true;
        for (const auto& [s, node] : items) {
          auto port = ParseUint(s);
          if (!port || *port < 1 || *port > 65535) {
            Fail(node, k, "bad port \"" + s + "\" (want 1..65535)");
          } else {
            out->dst_port.push_back(static_cast<uint16_t>(*port));
          }
        }
      } else if (k == "dns_qname" || k == "sni" || k == "http_host") {
        NamePattern p;
        if (Pattern(kn, k, v, {"suffix", "exact", "regex"}, &p)) {
          (k == "dns_qname" ? out->dns_qname : k == "sni" ? out->sni : out->http_host) = p;
        }
      } else if (k == "http_path") {
        NamePattern p;
        p.domain = false;
        if (Pattern(kn, k, v, {"prefix", "exact", "regex"}, &p)) out->http_path = p;
      } else if (k == "keywords") {
        Keywords(kn, k, v, &out->keywords);
      } else {
        return false;
      }
      return true;
    });
  }

  bool Pattern(const YAML::Node& kn, const std::string& key, const YAML::Node& v,
               std::initializer_list<const char*> kinds, NamePattern* out) {
    if (!Map(kn, key, v)) return false;
    size_t errors_before = errors_.size();
    ForEachKey(v, [&](const std::string& k, const YAML::Node& pkn, const YAML::Node& pv) {
      bool known = false;
      for (const char* kind : kinds) known = known || k == kind;
      if (!known) return false;
      std::vector<std::pair<std::string, YAML::Node>> items;
      if (!ScalarList(pkn, k, pv, &items)) return true;
      for (const auto& [s, node] : items) {
        if (s.empty() || s.size() > 1024) {
          Fail(node, k, "patterns must be 1..1024 bytes");
          continue;
        }
        if (k == "regex") {
          std::string error;
          auto re = Regex::Compile(s, out->domain, &error);
          if (!re) {
            Fail(node, k, "bad regex \"" + s + "\": " + error);
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
        errors_.size() == errors_before) {
      Fail(v, key, "needs at least one pattern");
    }
    return errors_.size() == errors_before;
  }

  void Keywords(const YAML::Node& kn, const std::string& key, const YAML::Node& v,
                std::vector<std::vector<std::string>>* out) {
    if (!v.IsSequence() || v.size() == 0) {
      Fail(v.IsNull() ? kn : v, key,
           v.IsSequence()
               ? "empty list"
               : std::string("expected a list of words or word lists, got ") + TypeName(v));
      return;
    }
    for (const auto& item : v) {
      std::vector<std::string> combo;
      if (item.IsScalar()) {
        combo.push_back(item.Scalar());
      } else if (item.IsSequence() && item.size() > 0) {
        for (const auto& w : item) {
          if (!w.IsScalar()) {
            Fail(w, key, std::string("expected a word, got ") + TypeName(w));
            continue;
          }
          combo.push_back(w.Scalar());
        }
      } else {
        Fail(item, key, std::string("expected a word or a list of words, got ") + TypeName(item));
        continue;
      }
      bool ok = true;
      for (const auto& w : combo) {
        if (w.empty() || w.size() > 256) {
          Fail(item, key, "keywords must be 1..256 bytes");
          ok = false;
          break;
        }
      }
      if (ok && !combo.empty()) out->push_back(std::move(combo));
    }
  }

  std::string file_;
  std::string base_dir_;
  std::vector<std::string> errors_;
};

}  // namespace

std::optional<int64_t> ParseDurationMs(const std::string& text) {
  auto v = ParseWithUnit(text, {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}});
  if (!v || *v > (int64_t{1} << 40)) return std::nullopt;
  return static_cast<int64_t>(*v);
}

std::optional<uint64_t> ParseRate(const std::string& text) {
  return ParseWithUnit(text, {{"bit", 1}, {"kbit", 1000}, {"mbit", 1000000}, {"gbit", 1000000000}});
}

ScenarioLoad ParseScenario(const std::string& text, const std::string& file,
                           const std::string& base_dir) {
  ScenarioLoad out;
  Parser parser(file, base_dir);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    out.errors.push_back(file + ":" + std::to_string(e.mark.line + 1) + ": yaml: " + e.msg);
    return out;
  }
  Scenario s = parser.ParseRoot(root);
  out.errors = std::move(parser.errors());
  if (out.errors.empty()) out.scenario = std::move(s);
  return out;
}

ScenarioLoad LoadScenarioFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ScenarioLoad out;
    out.errors.push_back(path + ":0: file: cannot read");
    return out;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  return ParseScenario(buf.str(), path, dir);
}

}  // namespace vigil::lab
