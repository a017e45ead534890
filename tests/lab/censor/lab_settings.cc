#include "tests/lab/censor/lab_settings.h"

#include <set>

#include "tests/lab/censor/name_pattern.h"

namespace vigil::lab {
namespace {

// A host name or an IPv4 literal as endpoints.csv writes them: letters, digits, '-',
// '_' and dots between non-empty labels.
bool PlausibleName(const std::string& name) {
  if (name.empty() || name.size() > 253 || name.front() == '.' || name.back() == '.') return false;
  char last = '.';
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              (c == '.' && last != '.');
    if (!ok) return false;
    last = c;
  }
  return true;
}

bool ReadMode(FieldReader* r, const YAML::Node& kn, const YAML::Node& v, ServerFailure* out) {
  std::string mode;
  if (!r->String(kn, "mode", v, &mode)) return false;
  for (ServerFailure m : {ServerFailure::kHttp503, ServerFailure::kTcpReset}) {
    if (mode == ServerFailureName(m)) {
      *out = m;
      return true;
    }
  }
  r->Fail(v, "mode", "must be http_503 or tcp_reset, got \"" + mode + "\"");
  return false;
}

// One item of `failing`: a name (mode http_503), or {name: N, mode: M}.
bool ReadFailingServer(FieldReader* r, const YAML::Node& item, FailingServer* out) {
  // Errors about the name point at its own line (yaml-cpp's Node::operator= would
  // rewrite the document, so the line is kept rather than the node).
  int name_line = static_cast<int>(item.Mark().line) + 1;
  if (item.IsMap()) {
    bool have_name = false;
    r->ForEachKey(item, [&](const std::string& k, const YAML::Node& kn, const YAML::Node& v) {
      if (k == "name") {
        have_name = r->String(kn, k, v, &out->name);
        name_line = static_cast<int>(v.Mark().line) + 1;
      } else if (k == "mode") {
        ReadMode(r, kn, v, &out->mode);
      } else {
        return false;
      }
      return true;
    });
    if (!have_name) {
      if (!FieldReader::Has(item, "name")) r->Fail(item, "name", "missing");
      return false;
    }
  } else if (item.IsScalar()) {
    out->name = item.Scalar();
  } else {
    r->Fail(item, "failing",
            std::string("expected a name or {name, mode}, got ") + YamlTypeName(item));
    return false;
  }
  out->name = NormalizeDomain(out->name);
  if (!PlausibleName(out->name)) {
    r->Fail(name_line, "name", "not a host name or address: \"" + out->name + "\"");
    return false;
  }
  return true;
}

void ReadFailing(FieldReader* r, const YAML::Node& kn, const YAML::Node& v, LabSettings* out) {
  if (!v.IsSequence() || v.size() == 0) {
    r->Fail(v.IsNull() ? kn : v, "failing",
            v.IsSequence() ? "empty list" : std::string("expected a list, got ") + YamlTypeName(v));
    return;
  }
  std::set<std::string> names;
  for (const auto& item : v) {
    FailingServer server;
    if (!ReadFailingServer(r, item, &server)) continue;
    if (!names.insert(server.name).second) {
      r->Fail(item, "failing", "\"" + server.name + "\" listed twice");
      continue;
    }
    out->failing.push_back(server);
  }
}

}  // namespace

void ParseServers(FieldReader* r, const YAML::Node& kn, const YAML::Node& v, LabSettings* out) {
  if (!r->Map(kn, "servers", v)) return;
  r->ForEachKey(v, [&](const std::string& k, const YAML::Node& fkn, const YAML::Node& fv) {
    if (k != "failing") return false;
    ReadFailing(r, fkn, fv, out);
    return true;
  });
}

std::string LabSettingsText(const LabSettings& lab) {
  std::string text;
  for (const FailingServer& s : lab.failing) {
    text += std::string("failing ") + ServerFailureName(s.mode) + " " + s.name + "\n";
  }
  text += std::string("keep_resolver_cache ") + (lab.keep_resolver_cache ? "true" : "false") + "\n";
  if (!lab.platform.posts.empty()) text += "platform true\n";
  return text;
}

}  // namespace vigil::lab
