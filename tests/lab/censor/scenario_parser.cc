#include "tests/lab/censor/scenario_parser.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "tests/lab/censor/field_reader.h"
#include "tests/lab/censor/lab_settings.h"
#include "tests/lab/censor/platform_settings.h"
#include "tests/lab/censor/rule_parser.h"

namespace vigil::lab {
namespace {

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

// A phase's rules; rule ids are unique within the phase.
void ParseRules(FieldReader* r, const std::string& k, const YAML::Node& v, std::vector<Rule>* out) {
  if (v.IsNull()) return;
  if (!v.IsSequence()) {
    r->Fail(v, k, std::string("expected a list, got ") + YamlTypeName(v));
    return;
  }
  std::set<std::string> ids;
  for (const auto& node : v) {
    Rule rule;
    if (!ParseRule(r, node, &rule)) continue;
    if (!ids.insert(rule.id).second) {
      r->Fail(rule.line, "id", "duplicate rule id \"" + rule.id + "\" in this phase");
    }
    out->push_back(std::move(rule));
  }
}

// One phase mapping; its start must come after `*last_start`, which it updates.
Phase ParsePhase(FieldReader* r, const YAML::Node& item, int64_t* last_start) {
  Phase p;
  bool have_start = false;
  r->ForEachKey(item, [&](const std::string& k, const YAML::Node& kn, const YAML::Node& v) {
    if (k == "start") {
      have_start = r->Duration(kn, k, v, &p.start_ms);
      if (have_start && p.start_ms <= *last_start) {
        r->Fail(v, k, "phases must start in increasing order");
      }
    } else if (k == "rules") {
      ParseRules(r, k, v, &p.rules);
    } else {
      return false;
    }
    return true;
  });
  if (!have_start && !FieldReader::Has(item, "start")) r->Fail(item, "start", "missing");
  if (have_start) *last_start = p.start_ms;
  return p;
}

void ParsePhases(FieldReader* r, const YAML::Node& kn, const std::string& key, const YAML::Node& v,
                 std::vector<Phase>* out) {
  if (!v.IsSequence() || v.size() == 0) {
    r->Fail(v.IsNull() ? kn : v, key,
            v.IsSequence() ? "needs at least one phase"
                           : std::string("expected a list, got ") + YamlTypeName(v));
    return;
  }
  int64_t last_start = -1;
  for (const auto& item : v) {
    if (!item.IsMap()) {
      r->Fail(item, "phases", std::string("expected a mapping, got ") + YamlTypeName(item));
      continue;
    }
    out->push_back(ParsePhase(r, item, &last_start));
  }
}

Scenario ParseRoot(FieldReader* r, const YAML::Node& root) {
  Scenario s;
  if (!root.IsMap()) {
    r->Fail(root.IsNull() ? 1 : static_cast<int>(root.Mark().line) + 1, "scenario",
            std::string("expected a mapping, got ") + YamlTypeName(root));
    return s;
  }
  bool have_name = false, have_phases = false;
  r->ForEachKey(root, [&](const std::string& key, const YAML::Node& k, const YAML::Node& v) {
    if (key == "name") {
      have_name = r->String(k, key, v, &s.name);
    } else if (key == "description") {
      r->String(k, key, v, &s.description);
    } else if (key == "phases") {
      have_phases = true;
      ParsePhases(r, k, key, v, &s.phases);
    } else if (key == "servers") {
      ParseServers(r, k, v, &s.lab);
    } else if (key == "keep_resolver_cache") {
      r->Bool(k, key, v, &s.lab.keep_resolver_cache);
    } else if (key == "platform") {
      ParsePlatform(r, k, v, &s.lab.platform);
    } else {
      return false;
    }
    return true;
  });
  if (!have_name) r->Fail(root, "name", "missing");
  if (!have_phases) r->Fail(root, "phases", "missing");
  return s;
}

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
  FieldReader reader(file, base_dir);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    out.errors.push_back(file + ":" + std::to_string(e.mark.line + 1) + ": yaml: " + e.msg);
    return out;
  }
  Scenario s = ParseRoot(&reader, root);
  out.errors = std::move(reader.errors());
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
