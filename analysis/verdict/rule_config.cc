#include "analysis/verdict/rule_config.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "base/whole_file.h"

namespace vigil::analysis {
namespace {

using nlohmann::json;

class ConfigReader {
 public:
  explicit ConfigReader(std::string name) : name_(std::move(name)) {}

  std::optional<std::string> error;

  void Fail(const std::string& path, const std::string& why) {
    if (!error) error = name_ + ": " + path + ": " + why;
  }

  // Refuses keys of `obj` that are not in `known`.
  void OnlyKeys(const json& obj, const std::string& path,
                std::initializer_list<std::string_view> known) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
        std::string list;
        for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        Fail(Join(path, it.key()), "unknown key (known: " + list + ")");
      }
    }
  }

  const json* Object(const json& parent, const std::string& path, const char* key) {
    const std::string p = Join(path, key);
    if (!parent.contains(key)) {
      Fail(p, "missing");
      return nullptr;
    }
    const json& v = parent.at(key);
    if (!v.is_object()) {
      Fail(p, "must be an object");
      return nullptr;
    }
    return &v;
  }

  double Number(const json& parent, const std::string& path, const char* key, double lo,
                double hi) {
    const std::string p = Join(path, key);
    if (!parent.contains(key)) {
      Fail(p, "missing");
      return 0;
    }
    const json& v = parent.at(key);
    if (!v.is_number()) {
      Fail(p, "must be a number");
      return 0;
    }
    const double d = v.get<double>();
    if (!std::isfinite(d) || d < lo || d > hi) {
      std::ostringstream why;
      why << "must be from " << lo << " to " << hi << " (is " << d << ")";
      Fail(p, why.str());
    }
    return d;
  }

  std::vector<std::string> Strings(const json& parent, const std::string& path, const char* key) {
    std::vector<std::string> out;
    const std::string p = Join(path, key);
    if (!parent.contains(key)) {
      Fail(p, "missing");
      return out;
    }
    const json& v = parent.at(key);
    if (!v.is_array()) {
      Fail(p, "must be an array of strings");
      return out;
    }
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string() || v[i].get<std::string>().empty()) {
        Fail(p + "[" + std::to_string(i) + "]", "must be a non-empty string");
        continue;
      }
      out.push_back(v[i].get<std::string>());
    }
    return out;
  }

  static std::string Join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }

 private:
  std::string name_;
};

}  // namespace

bool Contains(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

Result<RuleConfig> ReadRuleConfig(std::string_view text, const std::string& rules_file) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    return Error{rules_file + ": not JSON: " + e.what()};
  }
  if (!root.is_object()) return Error{rules_file + ": the top level must be an object"};
  RuleConfig config;
  ConfigReader r(rules_file);
  r.OnlyKeys(root, "",
             {"version", "description", "measurement", "fingerprints", "bogons", "signal",
              "messaging", "dnscheck", "rules"});
  if (!root.contains("version")) {
    r.Fail("version", "missing");
  } else if (!root["version"].is_string() || root["version"].get<std::string>().empty()) {
    r.Fail("version", "must be a non-empty string");
  } else {
    config.version = root["version"].get<std::string>();
  }
  if (root.contains("description") && !root["description"].is_string()) {
    r.Fail("description", "must be a string");
  }
  std::string bogons_file;
  if (!root.contains("bogons")) {
    r.Fail("bogons", "missing (the bogon list's file, e.g. \"bogons.csv\" beside this one)");
  } else if (!root["bogons"].is_string() || root["bogons"].get<std::string>().empty()) {
    r.Fail("bogons", "must be a file name");
  } else {
    bogons_file = root["bogons"].get<std::string>();
  }
  if (const json* m = r.Object(root, "", "measurement")) {
    r.OnlyKeys(*m, "measurement",
               {"anomaly_threshold", "mask_threshold", "max_future_skew_seconds"});
    config.anomaly_threshold = r.Number(*m, "measurement", "anomaly_threshold", 0, 1);
    config.mask_threshold = r.Number(*m, "measurement", "mask_threshold", 0, 1);
    config.max_future_skew_seconds =
        static_cast<int64_t>(r.Number(*m, "measurement", "max_future_skew_seconds", 0, 1e9));
  }
  if (const json* f = r.Object(root, "", "fingerprints")) {
    r.OnlyKeys(*f, "fingerprints", {"ignored_scopes"});
    config.ignored_scopes = r.Strings(*f, "fingerprints", "ignored_scopes");
  }
  if (const json* s = r.Object(root, "", "signal")) {
    r.OnlyKeys(*s, "signal", {"unreliable_failures", "ignored_hosts"});
    config.signal_unreliable_failures = r.Strings(*s, "signal", "unreliable_failures");
    config.signal_ignored_hosts = r.Strings(*s, "signal", "ignored_hosts");
  }
  if (const json* s = r.Object(root, "", "messaging")) {
    r.OnlyKeys(*s, "messaging", {"no_route_failures", "ignored_failures", "tls_answered_failures"});
    config.no_route_failures = r.Strings(*s, "messaging", "no_route_failures");
    config.ignored_failures = r.Strings(*s, "messaging", "ignored_failures");
    config.tls_answered_failures = r.Strings(*s, "messaging", "tls_answered_failures");
  }
  if (const json* s = r.Object(root, "", "dnscheck")) {
    r.OnlyKeys(*s, "dnscheck", {"answered_failures"});
    config.dnscheck_answered_failures = r.Strings(*s, "dnscheck", "answered_failures");
  }
  if (const json* rules = r.Object(root, "", "rules")) {
    for (auto it = rules->begin(); it != rules->end(); ++it) {
      const auto known = std::find_if(kRules.begin(), kRules.end(),
                                      [&](const RuleInfo& ri) { return ri.id == it.key(); });
      if (known == kRules.end()) r.Fail("rules." + it.key(), "unknown rule id");
    }
    for (size_t i = 0; i < kRuleCount; ++i) {
      const std::string id(kRules[i].id);
      const std::string path = "rules." + id;
      if (!rules->contains(id)) {
        r.Fail(path, "missing (every rule needs its blocked, down, ok triple)");
        continue;
      }
      const json& t = rules->at(id);
      if (!t.is_object()) {
        r.Fail(path, "must be an object {\"blocked\", \"down\", \"ok\"}");
        continue;
      }
      r.OnlyKeys(t, path, {"blocked", "down", "ok"});
      Triple& triple = config.triples[i];
      triple.blocked = r.Number(t, path, "blocked", 0, 1);
      triple.down = r.Number(t, path, "down", 0, 1);
      triple.ok = r.Number(t, path, "ok", 0, 1);
      const double sum = triple.blocked + triple.down + triple.ok;
      if (sum > 1 + 1e-9) {
        std::ostringstream why;
        why << "blocked + down + ok must not exceed 1 (is " << sum << ")";
        r.Fail(path, why.str());
      }
    }
  }
  if (r.error) return Error{*r.error};
  const std::filesystem::path bogons_path =
      std::filesystem::path(rules_file).parent_path() / std::filesystem::path(bogons_file);
  auto bogons_text = ReadWholeFile(bogons_path.string());
  if (!bogons_text.ok()) {
    return Error{rules_file + ": bogons: cannot read " + bogons_path.string()};
  }
  auto bogons = BogonList::Parse(*bogons_text, bogons_path.string());
  if (!bogons.ok()) return Error{bogons.error()};
  config.bogons = std::move(bogons).value();
  return config;
}

Result<RuleConfig> LoadRuleConfig(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return Error{text.error()};
  return ReadRuleConfig(*text, path);
}

}  // namespace vigil::analysis
