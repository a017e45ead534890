#include "analysis/truth/censor_truth.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>

#include "base/json_depth.h"
#include "base/whole_file.h"

namespace vigil::analysis {
namespace {

using nlohmann::json;

// The censor's action names (tests/lab/censor/scenario.cc's ActionName).
constexpr std::array<std::string_view, 10> kActions = {
    "dns_inject", "dns_nxdomain",   "dns_drop", "rst_inject",   "drop",
    "throttle",   "http_blockpage", "delay",    "keyword_drop", "icmp_unreachable"};

// Why a line is refused: the field and the reason.
struct LineError {
  std::string field;
  std::string reason;
};

const json* Field(const json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

double Time(const json& record) {
  const json* t = Field(record, "t");
  if (t == nullptr) throw LineError{"t", "missing"};
  if (!t->is_number()) throw LineError{"t", "not a number"};
  const double value = t->get<double>();
  if (!std::isfinite(value) || value <= 0) throw LineError{"t", "not a Unix time"};
  return value;
}

int Phase(const json& record) {
  const json* p = Field(record, "phase");
  if (p == nullptr) throw LineError{"phase", "missing"};
  if (!p->is_number_integer() || p->get<int64_t>() < 0 || p->get<int64_t>() > 1'000'000) {
    throw LineError{"phase", "not a phase number"};
  }
  return static_cast<int>(p->get<int64_t>());
}

std::string String(const json& object, const char* key, const std::string& path, bool required) {
  const json* v = Field(object, key);
  if (v == nullptr || v->is_null()) {
    if (required) throw LineError{path, "missing"};
    return "";
  }
  if (!v->is_string()) throw LineError{path, "not a string"};
  return v->get<std::string>();
}

std::string Address(const json& flow, const char* key) {
  const std::string path = std::string("flow.") + key;
  const std::string text = String(flow, key, path, true);
  std::string ip = CanonicalIp(text);
  if (ip.empty()) throw LineError{path, "'" + text + "' is not an IP address"};
  return ip;
}

uint16_t Port(const json& flow, const char* key) {
  const std::string path = std::string("flow.") + key;
  const json* v = Field(flow, key);
  if (v == nullptr) throw LineError{path, "missing"};
  if (!v->is_number_integer() || v->get<int64_t>() < 0 || v->get<int64_t>() > 65535) {
    throw LineError{path, "not a port"};
  }
  return static_cast<uint16_t>(v->get<int64_t>());
}

TruthFlow Flow(const json& record) {
  const json* f = Field(record, "flow");
  if (f == nullptr) throw LineError{"flow", "missing"};
  if (!f->is_object()) throw LineError{"flow", "not an object"};
  TruthFlow flow;
  flow.proto = String(*f, "proto", "flow.proto", true);
  if (flow.proto != "tcp" && flow.proto != "udp" && flow.proto != "ip") {
    throw LineError{"flow.proto", "'" + flow.proto + "' is not tcp, udp or ip"};
  }
  flow.src = Address(*f, "src");
  flow.dst = Address(*f, "dst");
  if (flow.proto != "ip") {
    flow.sport = Port(*f, "sport");
    flow.dport = Port(*f, "dport");
  }
  return flow;
}

CensorAct Act(const json& record) {
  CensorAct act;
  act.t = Time(record);
  act.phase = Phase(record);
  act.rule = String(record, "rule", "rule", true);
  if (act.rule.empty()) throw LineError{"rule", "empty"};
  act.action = String(record, "action", "action", true);
  bool known = false;
  for (std::string_view a : kActions) known = known || a == act.action;
  if (!known) throw LineError{"action", "unknown action '" + act.action + "'"};
  act.flow = Flow(record);
  const json* d = Field(record, "detail");
  if (d == nullptr) throw LineError{"detail", "missing"};
  if (!d->is_object()) throw LineError{"detail", "not an object"};
  act.qname = CanonicalName(String(*d, "qname", "detail.qname", false));
  act.sni = CanonicalName(String(*d, "sni", "detail.sni", false));
  act.host = CanonicalName(String(*d, "host", "detail.host", false));
  act.location = String(*d, "location", "detail.location", false);
  if (const json* copies = Field(*d, "copies"); copies != nullptr && copies->is_array()) {
    bool first = true;
    for (const json& c : *copies) {
      const json* delay = c.is_object() ? Field(c, "delay_ms") : nullptr;
      uint32_t ms = 0;
      if (delay != nullptr) {
        if (!delay->is_number_unsigned())
          throw LineError{"detail.copies[].delay_ms", "not a count"};
        ms = delay->get<uint32_t>();
      }
      act.min_delay_ms = first ? ms : std::min(act.min_delay_ms, ms);
      first = false;
    }
  }
  if (const json* k = Field(*d, "keywords"); k != nullptr && !k->is_null()) {
    if (!k->is_array()) throw LineError{"detail.keywords", "not a list"};
    act.keywords = true;
  }
  if (const json* r = Field(*d, "residual"); r != nullptr && !r->is_null()) {
    if (!r->is_boolean()) throw LineError{"detail.residual", "not true or false"};
    act.residual = r->get<bool>();
  }
  if (act.action.rfind("dns_", 0) == 0 && act.qname.empty()) {
    throw LineError{"detail.qname", "missing for " + act.action};
  }
  return act;
}

}  // namespace

std::optional<double> CensorTruth::Start() const {
  if (phases.empty()) return std::nullopt;
  return phases.front().t;
}

int CensorTruth::PhaseAt(int64_t second) const {
  int phase = -1;
  for (const PhaseStart& p : phases) {
    if (static_cast<int64_t>(std::floor(p.t)) <= second) phase = p.phase;
  }
  return phase;
}

Result<CensorTruth> ParseCensorTruth(std::string_view text, const std::string& file,
                                     size_t max_errors) {
  CensorTruth truth;
  truth.file = file;
  std::string errors;
  size_t bad = 0;
  uint64_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    try {
      // The censor writes three levels; nlohmann's parser recurses per level.
      if (JsonNestedDeeperThan(line, 32)) throw LineError{"", "nested too deep"};
      const json record = json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (record.is_discarded()) throw LineError{"", "not JSON"};
      if (!record.is_object()) throw LineError{"", "not a JSON object"};
      if (const json* event = Field(record, "event"); event != nullptr) {
        if (event->is_string() && event->get<std::string>() == "lab_settings") {
          // What the lab did besides the censor: servers failing by themselves.
          const json* servers = Field(record, "servers");
          const json* failing =
              servers && servers->is_object() ? Field(*servers, "failing") : nullptr;
          if (failing != nullptr && !failing->is_array()) {
            throw LineError{"servers.failing", "not an array"};
          }
          for (const json& f : failing ? *failing : json::array()) {
            const json* name = f.is_object() ? Field(f, "name") : nullptr;
            const json* mode = f.is_object() ? Field(f, "mode") : nullptr;
            if (!name || !name->is_string() || !mode || !mode->is_string()) {
              throw LineError{"servers.failing[]", "needs string name and mode"};
            }
            truth.failing_servers[name->get<std::string>()] = mode->get<std::string>();
          }
          continue;
        }
        if (!event->is_string() || event->get<std::string>() != "phase_start") {
          throw LineError{"event", "neither \"phase_start\" nor \"lab_settings\""};
        }
        truth.phases.push_back({line_number, Time(record), Phase(record)});
      } else {
        CensorAct act = Act(record);
        act.line = line_number;
        truth.acts.push_back(std::move(act));
      }
    } catch (const LineError& e) {
      if (bad++ < max_errors) {
        errors += file + ":" + std::to_string(line_number) + ": ";
        if (!e.field.empty()) errors += "field '" + e.field + "': ";
        errors += e.reason + "\n";
      }
    }
  }
  if (bad == 0) {
    // Written in the order the censor decided, which a delayed frame may not keep.
    std::stable_sort(truth.acts.begin(), truth.acts.end(),
                     [](const CensorAct& a, const CensorAct& b) { return a.t < b.t; });
    return truth;
  }
  if (bad > max_errors) {
    errors += "... and " + std::to_string(bad - max_errors) + " more bad lines\n";
  }
  errors.pop_back();
  return Error{errors};
}

Result<CensorTruth> ReadCensorTruth(const std::string& path, size_t max_errors) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return Error{text.error()};
  return ParseCensorTruth(*text, path, max_errors);
}

std::string CanonicalName(std::string_view text) {
  std::string out(text);
  if (!out.empty() && out.back() == '.') out.pop_back();
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string CanonicalIp(std::string_view text) {
  const std::string s(text);
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
    return inet_ntop(AF_INET, buf, out, sizeof out) ? std::string(out) : "";
  }
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
    return inet_ntop(AF_INET6, buf, out, sizeof out) ? std::string(out) : "";
  }
  return "";
}

}  // namespace vigil::analysis
