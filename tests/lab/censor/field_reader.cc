#include "tests/lab/censor/field_reader.h"

#include <charconv>

#include "tests/lab/censor/scenario_parser.h"

namespace vigil::lab {

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

const char* YamlTypeName(const YAML::Node& n) {
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

void FieldReader::Fail(const YAML::Node& at, const std::string& key, const std::string& reason) {
  Fail(static_cast<int>(at.Mark().line) + 1, key, reason);
}

void FieldReader::Fail(int line, const std::string& key, const std::string& reason) {
  errors_.push_back(file_ + ":" + std::to_string(line) + ": " + key + ": " + reason);
}

bool FieldReader::Scalar(const YAML::Node& k, const std::string& key, const YAML::Node& v) {
  if (v.IsScalar()) return true;
  Fail(v.IsNull() ? k : v, key, std::string("expected a scalar, got ") + YamlTypeName(v));
  return false;
}

bool FieldReader::Map(const YAML::Node& k, const std::string& key, const YAML::Node& v) {
  if (v.IsMap()) return true;
  Fail(v.IsNull() ? k : v, key, std::string("expected a mapping, got ") + YamlTypeName(v));
  return false;
}

bool FieldReader::String(const YAML::Node& k, const std::string& key, const YAML::Node& v,
                         std::string* out) {
  if (!Scalar(k, key, v)) return false;
  *out = v.Scalar();
  return true;
}

bool FieldReader::Bool(const YAML::Node& k, const std::string& key, const YAML::Node& v,
                       bool* out) {
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

bool FieldReader::Uint(const YAML::Node& k, const std::string& key, const YAML::Node& v,
                       uint64_t lo, uint64_t hi, uint64_t* out) {
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

bool FieldReader::ScalarList(const YAML::Node& k, const std::string& key, const YAML::Node& v,
                             std::vector<ScalarItem>* out) {
  if (v.IsScalar()) {
    out->emplace_back(v.Scalar(), v);
    return true;
  }
  if (!v.IsSequence()) {
    Fail(v.IsNull() ? k : v, key,
         std::string("expected a value or a list of values, got ") + YamlTypeName(v));
    return false;
  }
  bool ok = true;
  for (const auto& item : v) {
    if (!item.IsScalar()) {
      Fail(item, key, std::string("expected a scalar list item, got ") + YamlTypeName(item));
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

bool FieldReader::Duration(const YAML::Node& k, const std::string& key, const YAML::Node& v,
                           int64_t* out) {
  if (!Scalar(k, key, v)) return false;
  auto ms = ParseDurationMs(v.Scalar());
  if (!ms) {
    Fail(v, key, "bad duration \"" + v.Scalar() + "\" (want e.g. 500ms, 90s, 2m)");
    return false;
  }
  *out = *ms;
  return true;
}

void FieldReader::IpId(const YAML::Node& k, const std::string& key, const YAML::Node& v,
                       IpIdSpec* out) {
  if (!Scalar(k, key, v)) return;
  if (v.Scalar() == "random") {
    *out = IpIdSpec{.random = true, .value = 0, .lo = 0, .hi = 0xffff};
    return;
  }
  uint16_t id = 0;
  if (UintAs(k, key, v, 0, 0xffff, &id)) *out = IpIdSpec{.random = false, .value = id};
}

void FieldReader::Ttl(const YAML::Node& k, const std::string& key, const YAML::Node& v,
                      TtlSpec* out) {
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

bool FieldReader::Has(const YAML::Node& map, const std::string& key) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) return true;
  }
  return false;
}

YAML::Node FieldReader::Find(const YAML::Node& map, const std::string& key, YAML::Node* key_node) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) {
      *key_node = it->first;
      return it->second;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

}  // namespace vigil::lab
