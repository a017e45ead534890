#include "analysis/verdict/rules.h"

#include <arpa/inet.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "probe/experiments/catalog.h"

namespace vigil::analysis {
namespace {

// The rule ids, grouped by layer; a rule's layer is the word before its first dot.
enum Rule : uint8_t {
  kDnsFingerprint,
  kDnsFingerprintUnconfirmed,
  kDnsInjected,
  kDnsBogonNotInControl,
  kDnsBogon,
  kDnsFailureControlOk,
  kDnsFailureControlFailed,
  kDnsUnmatched,
  kDnsOutsideServiceAsn,
  kDnsProbeBlocking,
  kDnsSameAsnAsControl,
  kDnsMatchesControl,
  kDnsFailure,
  kDnsResolverNoAddress,
  kDnsOk,
  kTcpInjected,
  kTcpFailControlOk,
  kTcpFailControlFailed,
  kTcpProbeBlocking,
  kTcpAllFailed,
  kTcpSomeFailed,
  kTcpStunNoResponse,
  kTcpOk,
  kTlsInjected,
  kTlsFailControlOk,
  kTlsResetControlOk,
  kTlsFailControlFailed,
  kTlsSniInterference,
  kTlsSniTimeout,
  kTlsSniUnreachable,
  kTlsFailure,
  kTlsOk,
  kHttpFingerprint,
  kHttpFingerprintUnconfirmed,
  kHttpInjected,
  kHttpDiff,
  kHttpFailureControlOk,
  kHttpFailureControlFailed,
  kHttpFailure,
  kHttpTampering,
  kHttpOk,
  kDeliveryDropped,
  kDeliveryDelayed,
  kDeliveryUnknown,
  kDeliveryDelivered,
  kRuleCount
};

struct RuleInfo {
  std::string_view id;
  Layer layer;
  Evidence evidence;  // the kind of fact the rule rests on; ok rules say kNone
};

constexpr std::array<RuleInfo, kRuleCount> kRules = {{
    {"dns.fingerprint", Layer::kDns, Evidence::kConfirmed},
    {"dns.fingerprint_unconfirmed", Layer::kDns, Evidence::kHeuristic},
    {"dns.injected", Layer::kDns, Evidence::kPacket},
    {"dns.bogon_not_in_control", Layer::kDns, Evidence::kControl},
    {"dns.bogon", Layer::kDns, Evidence::kHeuristic},
    {"dns.failure_control_ok", Layer::kDns, Evidence::kControl},
    {"dns.failure_control_failed", Layer::kDns, Evidence::kControl},
    {"dns.unmatched", Layer::kDns, Evidence::kControl},
    {"dns.outside_service_asn", Layer::kDns, Evidence::kHeuristic},
    {"dns.probe_blocking", Layer::kDns, Evidence::kControl},
    {"dns.same_asn_as_control", Layer::kDns, Evidence::kControl},
    {"dns.matches_control", Layer::kDns, Evidence::kNone},
    {"dns.failure", Layer::kDns, Evidence::kHeuristic},
    {"dns.resolver_no_address", Layer::kDns, Evidence::kHeuristic},
    {"dns.ok", Layer::kDns, Evidence::kNone},
    {"tcp.injected", Layer::kTcp, Evidence::kPacket},
    {"tcp.fail_control_ok", Layer::kTcp, Evidence::kControl},
    {"tcp.fail_control_failed", Layer::kTcp, Evidence::kControl},
    {"tcp.probe_blocking", Layer::kTcp, Evidence::kControl},
    {"tcp.all_failed", Layer::kTcp, Evidence::kHeuristic},
    {"tcp.some_failed", Layer::kTcp, Evidence::kHeuristic},
    {"tcp.stun_no_response", Layer::kTcp, Evidence::kHeuristic},
    {"tcp.ok", Layer::kTcp, Evidence::kNone},
    {"tls.injected", Layer::kTls, Evidence::kPacket},
    {"tls.fail_control_ok", Layer::kTls, Evidence::kControl},
    {"tls.reset_control_ok", Layer::kTls, Evidence::kControl},
    {"tls.fail_control_failed", Layer::kTls, Evidence::kControl},
    {"tls.sni_interference", Layer::kTls, Evidence::kControl},
    {"tls.sni_timeout", Layer::kTls, Evidence::kControl},
    {"tls.sni_unreachable", Layer::kTls, Evidence::kHeuristic},
    {"tls.failure", Layer::kTls, Evidence::kHeuristic},
    {"tls.ok", Layer::kTls, Evidence::kNone},
    {"http.fingerprint", Layer::kHttp, Evidence::kConfirmed},
    {"http.fingerprint_unconfirmed", Layer::kHttp, Evidence::kHeuristic},
    {"http.injected", Layer::kHttp, Evidence::kPacket},
    {"http.diff", Layer::kHttp, Evidence::kControl},
    {"http.failure_control_ok", Layer::kHttp, Evidence::kControl},
    {"http.failure_control_failed", Layer::kHttp, Evidence::kControl},
    {"http.failure", Layer::kHttp, Evidence::kHeuristic},
    {"http.tampering", Layer::kHttp, Evidence::kControl},
    {"http.ok", Layer::kHttp, Evidence::kNone},
    {"delivery.dropped", Layer::kDelivery, Evidence::kControl},
    {"delivery.delayed", Layer::kDelivery, Evidence::kControl},
    {"delivery.unknown", Layer::kDelivery, Evidence::kNone},
    {"delivery.delivered", Layer::kDelivery, Evidence::kNone},
}};

constexpr std::array<std::string_view, 11> kFailureReasons = {
    "envelope.probe_cc_zz",
    "envelope.asn_zero",
    "envelope.no_report_id",
    "envelope.start_in_future",
    "web_connectivity.blocking_null",
    "web_connectivity.no_test_keys",
    "signal.unreliable_failure",
    "sni_blocking.control_failed",
    "dnscheck.no_lookups",
    "generic.no_data",
    "middlebox.no_comparison",
};

struct Triple {
  double blocked = 0, down = 0, ok = 0;
};

bool Contains(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// --- bogons: addresses no public name should resolve to ---------------------------

bool IsBogon(const std::string& ip) {
  unsigned char a[16];
  if (inet_pton(AF_INET, ip.c_str(), a) == 1) {
    const uint32_t v =
        (uint32_t{a[0]} << 24) | (uint32_t{a[1]} << 16) | (uint32_t{a[2]} << 8) | uint32_t{a[3]};
    struct Net {
      uint32_t base;
      int bits;
    };
    static constexpr Net kNets[] = {
        {0x00000000, 8},  {0x0A000000, 8},  {0x64400000, 10}, {0x7F000000, 8},  {0xA9FE0000, 16},
        {0xAC100000, 12}, {0xC0000000, 24}, {0xC0000200, 24}, {0xC0A80000, 16}, {0xC6120000, 15},
        {0xC6336400, 24}, {0xCB007100, 24}, {0xE0000000, 4},  {0xF0000000, 4},
    };
    for (const Net& n : kNets) {
      const uint32_t mask = n.bits == 0 ? 0 : ~uint32_t{0} << (32 - n.bits);
      if ((v & mask) == n.base) return true;
    }
    return false;
  }
  if (inet_pton(AF_INET6, ip.c_str(), a) == 1) {
    static constexpr unsigned char kZero[16] = {};
    if (std::memcmp(a, kZero, 15) == 0 && (a[15] == 0 || a[15] == 1)) return true;  // :: ::1
    if ((a[0] & 0xfe) == 0xfc) return true;                                         // ULA
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return true;                         // link-local
    if (a[0] == 0xff) return true;                                                  // multicast
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) return true;  // doc
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0) return true;        // Teredo
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a, kMapped, 12) == 0) return true;
    return false;
  }
  return false;
}

}  // namespace

struct VerdictEngine::Config {
  std::string version;
  double anomaly_threshold = 0;
  double mask_threshold = 0;
  int64_t max_future_skew_seconds = 0;
  std::vector<std::string> ignored_scopes;
  std::vector<std::string> no_route_failures;
  std::vector<std::string> ignored_failures;
  std::vector<std::string> signal_unreliable_failures;
  std::vector<std::string> signal_ignored_hosts;
  std::vector<std::string> dnscheck_answered_failures;
  std::array<Triple, kRuleCount> triples{};
};

const std::vector<std::string_view>& VerdictRuleIds() {
  static const std::vector<std::string_view> ids = [] {
    std::vector<std::string_view> v;
    for (const RuleInfo& r : kRules) v.push_back(r.id);
    return v;
  }();
  return ids;
}

const std::vector<std::string_view>& VerdictFailureReasons() {
  static const std::vector<std::string_view> reasons(kFailureReasons.begin(),
                                                     kFailureReasons.end());
  return reasons;
}

// --- loading the rules file --------------------------------------------------------

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

Result<std::unique_ptr<VerdictEngine::Config>> ReadConfig(std::string_view text,
                                                          const std::string& name) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    return Error{name + ": not JSON: " + e.what()};
  }
  if (!root.is_object()) return Error{name + ": the top level must be an object"};
  auto config = std::make_unique<VerdictEngine::Config>();
  ConfigReader r(name);
  r.OnlyKeys(root, "",
             {"version", "description", "measurement", "fingerprints", "signal", "messaging",
              "dnscheck", "rules"});
  if (!root.contains("version")) {
    r.Fail("version", "missing");
  } else if (!root["version"].is_string() || root["version"].get<std::string>().empty()) {
    r.Fail("version", "must be a non-empty string");
  } else {
    config->version = root["version"].get<std::string>();
  }
  if (root.contains("description") && !root["description"].is_string()) {
    r.Fail("description", "must be a string");
  }
  if (const json* m = r.Object(root, "", "measurement")) {
    r.OnlyKeys(*m, "measurement",
               {"anomaly_threshold", "mask_threshold", "max_future_skew_seconds"});
    config->anomaly_threshold = r.Number(*m, "measurement", "anomaly_threshold", 0, 1);
    config->mask_threshold = r.Number(*m, "measurement", "mask_threshold", 0, 1);
    config->max_future_skew_seconds =
        static_cast<int64_t>(r.Number(*m, "measurement", "max_future_skew_seconds", 0, 1e9));
  }
  if (const json* f = r.Object(root, "", "fingerprints")) {
    r.OnlyKeys(*f, "fingerprints", {"ignored_scopes"});
    config->ignored_scopes = r.Strings(*f, "fingerprints", "ignored_scopes");
  }
  if (const json* s = r.Object(root, "", "signal")) {
    r.OnlyKeys(*s, "signal", {"unreliable_failures", "ignored_hosts"});
    config->signal_unreliable_failures = r.Strings(*s, "signal", "unreliable_failures");
    config->signal_ignored_hosts = r.Strings(*s, "signal", "ignored_hosts");
  }
  if (const json* s = r.Object(root, "", "messaging")) {
    r.OnlyKeys(*s, "messaging", {"no_route_failures", "ignored_failures"});
    config->no_route_failures = r.Strings(*s, "messaging", "no_route_failures");
    config->ignored_failures = r.Strings(*s, "messaging", "ignored_failures");
  }
  if (const json* s = r.Object(root, "", "dnscheck")) {
    r.OnlyKeys(*s, "dnscheck", {"answered_failures"});
    config->dnscheck_answered_failures = r.Strings(*s, "dnscheck", "answered_failures");
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
      Triple& triple = config->triples[i];
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
  return config;
}

bool ReadTextFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *out = buffer.str();
  return !in.bad();
}

}  // namespace

VerdictEngine::VerdictEngine() = default;
VerdictEngine::~VerdictEngine() = default;
VerdictEngine::VerdictEngine(VerdictEngine&&) noexcept = default;
VerdictEngine& VerdictEngine::operator=(VerdictEngine&&) noexcept = default;

Result<VerdictEngine> VerdictEngine::Load(const std::string& rules_file,
                                          const std::string& fingerprints_dir) {
  std::string text;
  if (!ReadTextFile(rules_file, &text)) return Error{rules_file + ": cannot read the file"};
  auto fingerprints = FingerprintSet::LoadDir(fingerprints_dir);
  if (!fingerprints.ok()) return Error{fingerprints.error()};
  return FromText(text, rules_file, std::move(fingerprints).value());
}

Result<VerdictEngine> VerdictEngine::FromText(std::string_view rules_json, const std::string& name,
                                              FingerprintSet fingerprints) {
  auto config = ReadConfig(rules_json, name);
  if (!config.ok()) return Error{config.error()};
  VerdictEngine engine;
  engine.config_ = std::move(config).value();
  engine.fingerprints_ = std::move(fingerprints);
  return engine;
}

const std::string& VerdictEngine::version() const { return config_->version; }
const FingerprintSet& VerdictEngine::fingerprints() const { return fingerprints_; }

std::string VerdictEngine::RulesFired(const VerdictRow& row) {
  std::string out;
  for (size_t i = 0; i < kLayerCount; ++i) {
    const LayerVerdict& l = row.layers[i];
    if (l.rule_id.empty()) continue;
    if (!out.empty()) out += ',';
    out += l.rule_id;
    if (l.masked) out += "(masked)";
  }
  if (!row.failure_reason.empty()) out += (out.empty() ? "" : ",") + row.failure_reason;
  return out;
}

// --- scoring -------------------------------------------------------------------------

namespace {

namespace dom = simdjson::dom;

// The test's summary keys, parsed once per measurement.
class Summary {
 public:
  explicit Summary(const std::string& text) {
    if (text.empty()) return;
    thread_local dom::parser parser;
    auto doc = parser.parse(text.data(), text.size());
    if (doc.error() != simdjson::SUCCESS) return;
    if (doc.value_unsafe().type() != dom::element_type::OBJECT) return;
    root_ = doc.value_unsafe();
    ok_ = true;
  }

  bool ok() const { return ok_; }

  std::optional<dom::element> Get(std::string_view key) const {
    if (!ok_) return std::nullopt;
    auto v = root_.get_object().value_unsafe()[key];
    if (v.error() != simdjson::SUCCESS) return std::nullopt;
    return v.value_unsafe();
  }
  bool Has(std::string_view key) const { return Get(key).has_value(); }
  bool IsNull(std::string_view key) const {
    auto v = Get(key);
    return v && v->is_null();
  }
  std::optional<std::string_view> Str(std::string_view key) const { return StrOf(Get(key)); }
  std::optional<bool> Bool(std::string_view key) const {
    auto v = Get(key);
    if (!v || !v->is_bool()) return std::nullopt;
    return v->get_bool().value_unsafe();
  }

  static std::optional<std::string_view> StrOf(std::optional<dom::element> v) {
    if (!v || !v->is_string()) return std::nullopt;
    return v->get_string().value_unsafe();
  }
  static std::optional<dom::element> Field(std::optional<dom::element> v, std::string_view key) {
    if (!v || !v->is_object()) return std::nullopt;
    auto f = v->get_object().value_unsafe()[key];
    if (f.error() != simdjson::SUCCESS) return std::nullopt;
    return f.value_unsafe();
  }

 private:
  dom::element root_;
  bool ok_ = false;
};

bool IsTrue(std::optional<bool> b) { return b && *b; }
bool IsStr(std::optional<std::string_view> s, std::string_view want) { return s && *s == want; }

struct Context {
  const ExtractedMeasurement& m;
  const VerdictEngine::Config& config;
  const FingerprintSet& fingerprints;
  const Summary& summary;
  VerdictRow& row;
  std::array<bool, kLayerCount> set{};
  // A fingerprint matched that does not confirm here: weak evidence, used only for a
  // layer the test's own rules left undecided.
  bool dns_unconfirmed = false;
  bool http_unconfirmed = false;

  // Fires `rule` unless an earlier rule already decided its layer.
  void Fire(Rule rule) {
    const RuleInfo& info = kRules[rule];
    const size_t layer = static_cast<size_t>(info.layer);
    if (set[layer]) return;
    set[layer] = true;
    LayerVerdict& v = row.layers[layer];
    const Triple& t = config.triples[rule];
    v.blocked = t.blocked;
    v.down = t.down;
    v.ok = t.ok;
    v.measured = true;
    v.rule_id = std::string(info.id);
    v.evidence = t.blocked > 0 ? info.evidence : Evidence::kNone;
  }
  bool Decided(Layer layer) const { return set[static_cast<size_t>(layer)]; }
  bool Blocked(Layer layer) const {
    return Decided(layer) && row.layers[static_cast<size_t>(layer)].blocked > 0;
  }
  void Fail(std::string_view reason) {
    if (row.failure_reason.empty()) row.failure_reason = std::string(reason);
  }
  bool Ignored(const std::optional<std::string>& failure) const {
    return failure && Contains(config.ignored_failures, *failure);
  }
  bool NoRoute(const std::optional<std::string>& failure) const {
    return failure && Contains(config.no_route_failures, *failure);
  }
};

// Fingerprints, packet evidence and delivery: the same for every test.
void ScoreCommon(Context& c) {
  std::vector<uint32_t> dns_ids;
  std::vector<uint32_t> http_ids;
  for (const ObservationRow& o : c.m.observations) {
    for (const std::string& answer : o.dns_answers) c.fingerprints.MatchDns(answer, &dns_ids);
    if (!o.http_body_sample.empty()) c.fingerprints.MatchBody(o.http_body_sample, &http_ids);
    for (const auto& [name, value] : o.http_headers) {
      c.fingerprints.MatchHeader(name, value, &http_ids);
    }
  }
  auto drop_ignored = [&](std::vector<uint32_t>* ids) {
    std::erase_if(*ids, [&](uint32_t id) {
      return Contains(c.config.ignored_scopes, c.fingerprints.all()[id].scope);
    });
  };
  drop_ignored(&dns_ids);
  drop_ignored(&http_ids);
  const std::string& cc = c.m.measurement.probe_cc;
  if (const Fingerprint* fp = c.fingerprints.Best(dns_ids, cc)) {
    if (fp->Confirms(cc)) {
      c.Fire(kDnsFingerprint);
      c.row.confirmed = true;
      c.row.fingerprint = fp->name;
    } else {
      c.dns_unconfirmed = true;
    }
  }
  if (const Fingerprint* fp = c.fingerprints.Best(http_ids, cc)) {
    if (fp->Confirms(cc)) {
      c.Fire(kHttpFingerprint);
      if (!c.row.confirmed) {
        c.row.confirmed = true;
        c.row.fingerprint = fp->name;
      }
    } else {
      c.http_unconfirmed = true;
    }
  }
  bool any_delivery = false, dropped = false, delayed = false, unknown = false;
  for (const ObservationRow& o : c.m.observations) {
    const std::string& inj = o.x_injection;
    if (!inj.empty()) {
      if (inj.starts_with("dns:")) c.Fire(kDnsInjected);
      if (inj.starts_with("tcp:")) c.Fire(kTcpInjected);
      if (inj.starts_with("tls:")) c.Fire(kTlsInjected);
      if (inj.starts_with("http:")) c.Fire(kHttpInjected);
    }
    if (!o.x_delivery.empty()) {
      any_delivery = true;
      if (o.x_delivery == "dropped") {
        dropped = true;
      } else if (o.x_delivery == "delayed") {
        delayed = true;
      } else if (o.x_delivery != "delivered") {
        unknown = true;
      }
    }
  }
  if (any_delivery) {
    if (dropped) c.Fire(kDeliveryDropped);
    if (delayed) c.Fire(kDeliveryDelayed);
    if (unknown) c.Fire(kDeliveryUnknown);
    c.Fire(kDeliveryDelivered);
  }
}

// Per-endpoint evidence without a control: what every step of the measurement saw.
// `skip_host` leaves out steps the test's own rules ignore.
template <typename Skip>
void ScoreObservations(Context& c, Skip skip_host) {
  int dns_failed = 0, dns_ok = 0, tcp_failed = 0, tcp_ok = 0, tls_failed = 0, tls_ok = 0,
      http_failed = 0, http_ok = 0;
  bool bogon = false;
  bool tls_failed_any = false;
  for (const ObservationRow& o : c.m.observations) {
    if (skip_host(o)) continue;
    if (o.dns_measured) {
      if (o.dns_failure) {
        ++dns_failed;
      } else {
        ++dns_ok;
      }
      for (const std::string& a : o.dns_answers) bogon = bogon || IsBogon(a);
    }
    if (o.tcp_success != Tri::kUnknown && !c.NoRoute(o.tcp_failure)) {
      if (o.tcp_success == Tri::kYes) {
        ++tcp_ok;
      } else {
        ++tcp_failed;
      }
    }
    if (o.tls_measured) {
      if (o.tls_failure) {
        ++tls_failed;
        tls_failed_any = true;
      } else {
        ++tls_ok;
      }
    }
    if (o.http_measured) {
      if (o.http_failure && !c.Ignored(o.http_failure) && !(tls_failed_any && o.tls_failure)) {
        ++http_failed;
      } else if (!o.http_failure || c.Ignored(o.http_failure)) {
        ++http_ok;
      }
    }
  }
  if (bogon) c.Fire(kDnsBogon);
  if (dns_failed > 0) c.Fire(kDnsFailure);
  if (dns_ok > 0) c.Fire(kDnsOk);
  if (tcp_failed > 0 && tcp_ok == 0) c.Fire(kTcpAllFailed);
  if (tcp_failed > 0) c.Fire(kTcpSomeFailed);
  if (tcp_ok > 0) c.Fire(kTcpOk);
  if (tls_failed > 0) c.Fire(kTlsFailure);
  if (tls_ok > 0) c.Fire(kTlsOk);
  if (http_failed > 0) c.Fire(kHttpFailure);
  if (http_ok > 0) c.Fire(kHttpOk);
}

void ScoreObservations(Context& c) {
  ScoreObservations(c, [](const ObservationRow&) { return false; });
}

// x_dns_inconsistent (our probes): names whose answers lie outside the service's ASes.
void ScoreDnsInconsistent(Context& c) {
  auto v = c.summary.Get("x_dns_inconsistent");
  if (v && v->is_array() && v->get_array().value_unsafe().size() > 0) {
    c.Fire(kDnsOutsideServiceAsn);
  }
}

// A status key of OONI's messaging tests ("blocked"/"ok") as the fallback for a layer
// whose steps the observations do not show.
void StatusFallback(Context& c, std::string_view key, Rule when_blocked) {
  if (IsStr(c.summary.Str(key), "blocked")) c.Fire(when_blocked);
}

void ScoreWhatsapp(Context& c) {
  ScoreDnsInconsistent(c);
  ScoreObservations(c);
  StatusFallback(c, "whatsapp_endpoints_status", kTcpAllFailed);
  // OONI's web status also turns "blocked" on an HTTP status code, which says nothing
  // about the network: only a failure recorded on the fetch counts.
  if (IsStr(c.summary.Str("registration_server_status"), "blocked") &&
      !Contains(c.config.ignored_failures,
                c.summary.Str("registration_server_failure").value_or(""))) {
    c.Fire(kHttpFailure);
  }
}

void ScoreTelegram(Context& c) {
  ScoreDnsInconsistent(c);
  ScoreObservations(c);
  if (IsTrue(c.summary.Bool("telegram_tcp_blocking"))) c.Fire(kTcpAllFailed);
  if (IsTrue(c.summary.Bool("telegram_http_blocking"))) c.Fire(kHttpFailure);
  StatusFallback(c, "telegram_web_status", kHttpFailure);
}

void ScoreSignal(Context& c) {
  const auto& ignored = c.config.signal_ignored_hosts;
  auto skip = [&](const ObservationRow& o) { return Contains(ignored, o.hostname); };
  // Failures known to come from the probe rather than the network (an old pinned CA,
  // Android's resolver cache) make the measurement say nothing.
  int failures = 0, unreliable = 0;
  for (const ObservationRow& o : c.m.observations) {
    if (skip(o)) continue;
    for (const auto* f : {&o.dns_failure, &o.tcp_failure, &o.tls_failure, &o.http_failure}) {
      if (!*f) continue;
      ++failures;
      if (Contains(c.config.signal_unreliable_failures, **f)) ++unreliable;
    }
  }
  if (auto f = c.summary.Str("signal_backend_failure");
      f && failures == 0 && Contains(c.config.signal_unreliable_failures, *f)) {
    failures = unreliable = 1;
  }
  if (failures > 0 && failures == unreliable) c.Fail("signal.unreliable_failure");
  ScoreDnsInconsistent(c);
  ScoreObservations(c, skip);
  StatusFallback(c, "signal_backend_status", kHttpFailure);
}

void ScoreFacebookMessenger(Context& c) {
  // OONI's keys already judged the answers against Facebook's AS; a failed lookup is
  // left to the steps.
  bool dns_failed = false;
  for (const ObservationRow& o : c.m.observations) dns_failed = dns_failed || o.dns_failure;
  if (IsTrue(c.summary.Bool("facebook_dns_blocking")) && !dns_failed) {
    c.Fire(kDnsOutsideServiceAsn);
  }
  ScoreObservations(c);
  if (IsTrue(c.summary.Bool("facebook_dns_blocking"))) c.Fire(kDnsOutsideServiceAsn);
  if (IsTrue(c.summary.Bool("facebook_tcp_blocking"))) c.Fire(kTcpAllFailed);
}

void ScoreWechat(Context& c) {
  ScoreObservations(c);
  StatusFallback(c, "wechat_longlink_status", kTcpAllFailed);
  if (IsTrue(c.summary.Bool("x_partial_blocking"))) c.Fire(kTcpSomeFailed);
  StatusFallback(c, "wechat_shortlink_status", kHttpFailure);
  StatusFallback(c, "wechat_httpdns_status", kHttpFailure);
  StatusFallback(c, "wechat_web_status", kHttpFailure);
}

void ScoreMessaging(Context& c) {
  ScoreDnsInconsistent(c);
  ScoreObservations(c);
  if (IsTrue(c.summary.Bool("x_partial_blocking"))) c.Fire(kTcpSomeFailed);
  StatusFallback(c, "service_status", kTcpAllFailed);
}

void ScoreDnscheck(Context& c) {
  if (auto f = c.summary.Str("bootstrap_failure")) {
    c.Fire(kDnsFailure);
    return;
  }
  auto lookups = c.summary.Get("lookups");
  if (lookups && lookups->is_object()) {
    auto obj = lookups->get_object().value_unsafe();
    if (obj.size() == 0) {
      c.Fire(kDnsFailure);
      return;
    }
    bool any_ok = false, all_answered = true;
    std::string_view first_op;
    for (auto field : obj) {
      auto failure = Summary::StrOf(Summary::Field(field.value, "failure"));
      if (!failure) {
        any_ok = true;
        continue;
      }
      if (!Contains(c.config.dnscheck_answered_failures, *failure)) all_answered = false;
      if (first_op.empty()) {
        first_op = Summary::StrOf(Summary::Field(field.value, "failed_operation")).value_or("?");
      }
    }
    if (any_ok) {
      c.Fire(kDnsOk);
    } else if (all_answered) {
      c.Fire(kDnsResolverNoAddress);
    } else if (first_op == "connect") {
      c.Fire(kTcpAllFailed);
    } else if (first_op == "tls_handshake") {
      c.Fire(kTlsFailure);
    } else if (first_op == "http_round_trip") {
      c.Fire(kHttpFailure);
    } else {
      c.Fire(kDnsFailure);
    }
    return;
  }
  if (c.m.observations.empty()) {
    c.Fail("dnscheck.no_lookups");
    return;
  }
  ScoreObservations(c);
}

void ScoreSniBlocking(Context& c) {
  auto result = c.summary.Str("x_result");
  if (!result) result = c.summary.Str("result");
  if (!result) {
    ScoreObservations(c);
    return;
  }
  if (result->starts_with("anomaly.control.")) {
    c.Fail("sni_blocking.control_failed");
  } else if (*result == "success.got_server_hello") {
    c.Fire(kTlsOk);
  } else if (result->starts_with("interference.")) {
    c.Fire(kTlsSniInterference);
  } else if (*result == "anomaly.timeout") {
    c.Fire(kTlsSniTimeout);
  } else {
    c.Fire(kTlsSniUnreachable);
  }
}

void ScoreStun(Context& c) {
  if (IsTrue(c.summary.Bool("x_response_received"))) {
    c.Fire(kTcpOk);
    return;
  }
  if (c.summary.Has("failure")) {
    auto failure = c.summary.Str("failure");
    if (!failure) {
      c.Fire(kTcpOk);
    } else if (failure->starts_with("dns_")) {
      c.Fire(kDnsFailure);
    } else {
      c.Fire(kTcpStunNoResponse);
    }
    return;
  }
  ScoreObservations(c);
}

// The control's view of the URL (test_keys.control), in the layouts of both helpers.
struct WebControl {
  bool usable = false;
  bool dns_known = false;
  bool dns_failed = false;
  std::vector<std::string_view> addrs;
  std::optional<dom::element> tcp;  // {"ip:port": {status, failure}}
  bool http_known = false;
  bool http_ok = false;
};

WebControl ReadWebControl(const Summary& s) {
  WebControl w;
  // control_failure null (or absent alongside a control) means the helper answered.
  auto failure = s.Get("control_failure");
  w.usable = !failure || failure->is_null();
  auto control = s.Get("control");
  if (control && !control->is_object()) w.usable = false;
  if (!w.usable || !control) return w;
  if (auto dns = Summary::Field(control, "dns")) {
    w.dns_known = true;
    w.dns_failed = Summary::StrOf(Summary::Field(dns, "failure")).has_value();
    auto addrs = Summary::Field(dns, "addrs");
    if (addrs && addrs->is_array()) {
      // A named array: a range-for over value_unsafe() of the temporary result would
      // iterate a destroyed object.
      const dom::array list = addrs->get_array().value_unsafe();
      for (auto a : list) {
        if (a.is_string()) w.addrs.push_back(a.get_string().value_unsafe());
      }
    }
  }
  w.tcp = Summary::Field(control, "tcp_connect");
  if (auto http = Summary::Field(control, "http_request")) {
    w.http_known = true;
    auto code = Summary::Field(http, "status_code");
    int64_t status = 0;
    if (code && code->is_int64()) status = code->get_int64().value_unsafe();
    w.http_ok = !Summary::StrOf(Summary::Field(http, "failure")).has_value() && status > 0;
  }
  return w;
}

// The control's outcome for one ip:port: 1 connected, 0 failed, -1 not measured.
int ControlConnect(const WebControl& w, const ObservationRow& o) {
  if (!w.tcp || !w.tcp->is_object()) return -1;
  std::string key = o.ip.find(':') != std::string::npos ? "[" + o.ip + "]" : o.ip;
  key += ":" + std::to_string(o.port);
  auto entry = Summary::Field(w.tcp, key);
  auto status = Summary::Field(entry, "status");
  if (!status || !status->is_bool()) return -1;
  return status->get_bool().value_unsafe() ? 1 : 0;
}

void ScoreWebConnectivity(Context& c) {
  const Summary& s = c.summary;
  if (!s.ok() || (!s.Has("blocking") && !s.Has("accessible"))) {
    if (c.m.observations.empty()) {
      c.Fail("web_connectivity.no_test_keys");
      return;
    }
    ScoreObservations(c);
    return;
  }
  const WebControl control = ReadWebControl(s);
  auto blocking = s.Str("blocking");  // nullopt for false and for null
  const bool blocking_null = !s.Has("blocking") || s.IsNull("blocking");
  const bool inconsistent = IsStr(s.Str("dns_consistency"), "inconsistent");
  const bool consistent = IsStr(s.Str("dns_consistency"), "consistent");
  const bool dns_failed = s.Str("dns_experiment_failure").has_value();

  // DNS
  bool bogon = false, bogon_in_control = false, control_bogon = false;
  bool dns_measured = false;
  for (const ObservationRow& o : c.m.observations) {
    if (!o.dns_measured) continue;
    dns_measured = true;
    for (const std::string& a : o.dns_answers) {
      if (!IsBogon(a)) continue;
      bogon = true;
      if (std::find(control.addrs.begin(), control.addrs.end(), a) != control.addrs.end()) {
        bogon_in_control = true;
      }
    }
  }
  for (std::string_view a : control.addrs) control_bogon = control_bogon || IsBogon(std::string(a));
  if (bogon && control.usable && !bogon_in_control && !control_bogon &&
      (control.dns_known || inconsistent)) {
    c.Fire(kDnsBogonNotInControl);
  }
  if (inconsistent) c.Fire(dns_failed ? kDnsFailureControlOk : kDnsUnmatched);
  if (IsStr(blocking, "dns")) c.Fire(kDnsProbeBlocking);
  if (dns_failed) c.Fire(control.usable ? kDnsFailureControlFailed : kDnsFailure);
  if (consistent) c.Fire(kDnsMatchesControl);
  if (dns_measured) c.Fire(kDnsOk);

  // TCP
  int ok = 0, failed = 0, failed_control_ok = 0, failed_control_failed = 0;
  for (const ObservationRow& o : c.m.observations) {
    if (o.tcp_success == Tri::kUnknown) continue;
    if (o.tcp_success == Tri::kYes) {
      ++ok;
      continue;
    }
    if (c.NoRoute(o.tcp_failure)) continue;
    ++failed;
    const int theirs = ControlConnect(control, o);
    if (theirs == 1) ++failed_control_ok;
    if (theirs == 0) ++failed_control_failed;
  }
  if (failed > 0 && ok == 0) {
    if (failed_control_ok > 0) c.Fire(kTcpFailControlOk);
    if (failed_control_failed > 0) c.Fire(kTcpFailControlFailed);
    if (IsStr(blocking, "tcp_ip")) c.Fire(kTcpProbeBlocking);
    if (!blocking_null && !blocking) c.Fire(kTcpFailControlFailed);
    c.Fire(kTcpAllFailed);
  }
  if (ok > 0) c.Fire(kTcpOk);

  // TLS
  int tls_ok = 0, tls_failed = 0;
  bool reset = false;
  for (const ObservationRow& o : c.m.observations) {
    if (!o.tls_measured) continue;
    if (o.tls_failure) {
      ++tls_failed;
      reset = reset || *o.tls_failure == "connection_reset";
    } else {
      ++tls_ok;
    }
  }
  if (tls_failed > 0 && tls_ok == 0) {
    if (control.http_known) {
      if (control.http_ok) c.Fire(reset ? kTlsResetControlOk : kTlsFailControlOk);
      c.Fire(kTlsFailControlFailed);
    }
    if (IsStr(blocking, "http-failure")) c.Fire(reset ? kTlsResetControlOk : kTlsFailControlOk);
    if (!blocking_null && !blocking) c.Fire(kTlsFailControlFailed);
    c.Fire(kTlsFailure);
  }
  if (tls_ok > 0) c.Fire(kTlsOk);

  // HTTP
  bool http_measured = false;
  for (const ObservationRow& o : c.m.observations) http_measured = http_measured || o.http_measured;
  if (IsStr(blocking, "http-diff")) c.Fire(kHttpDiff);
  if (IsStr(blocking, "http-failure")) c.Fire(kHttpFailureControlOk);
  if (s.Str("http_experiment_failure")) {
    if (!blocking_null && !blocking) c.Fire(kHttpFailureControlFailed);
    if (control.http_known && !control.http_ok) c.Fire(kHttpFailureControlFailed);
  }
  if (http_measured || IsTrue(s.Bool("accessible"))) c.Fire(kHttpOk);

  // OONI's probe leaves blocking null when it could not tell: no control, or the
  // control could not fetch the page either.
  if (blocking_null) c.Fail("web_connectivity.blocking_null");
}

void ScoreGeneric(Context& c) {
  // Middlebox tests (http_invalid_request_line, http_header_field_manipulation) say
  // "tampering": true, or an object of booleans.
  if (auto t = c.summary.Get("tampering")) {
    bool tampered = false;
    if (t->is_bool()) tampered = t->get_bool().value_unsafe();
    if (t->is_object()) {
      const dom::object fields = t->get_object().value_unsafe();
      for (auto field : fields) {
        if (field.value.is_bool() && field.value.get_bool().value_unsafe()) tampered = true;
      }
    }
    c.Fire(tampered ? kHttpTampering : kHttpOk);
    return;
  }
  // A middlebox test without `tampering` never compared anything (as OONI's fastpath
  // reads it): a failed request to its helper says nothing about the network.
  const std::string& test = c.m.measurement.test_name;
  if (test == "http_header_field_manipulation" || test == "http_invalid_request_line") {
    c.Fail("middlebox.no_comparison");
    return;
  }
  if (c.m.observations.empty()) {
    c.Fail("generic.no_data");
    return;
  }
  ScoreObservations(c);
}

std::string_view BlockingType(Layer layer, std::string_view rule_id) {
  switch (layer) {
    case Layer::kDns:
      return "dns";
    case Layer::kTcp:
      return "tcp_ip";
    case Layer::kTls:
      return "tls";
    case Layer::kHttp:
      return rule_id == "http.diff" || rule_id.starts_with("http.fingerprint") ? "http-diff"
                                                                               : "http-failure";
    case Layer::kDelivery:
      return "delivery";
  }
  return "";
}

}  // namespace

VerdictRow VerdictEngine::Score(const ExtractedMeasurement& m) const {
  VerdictRow row;
  row.measurement_uid = m.measurement.measurement_uid;
  row.rules_version = config_->version;
  const Summary summary(m.summary_json);
  Context c{m, *config_, fingerprints_, summary, row};

  ScoreCommon(c);
  // The experiment's descriptor names its scorer; anything else (dns_injection,
  // delivery, experiments of other probes): packet and delivery evidence came from
  // ScoreCommon, the rest from the steps.
  const ExperimentDescriptor* experiment =
      ExperimentCatalog::Active().Find(m.measurement.test_name);
  switch (experiment ? experiment->scorer : ScorerKind::kGeneric) {
    case ScorerKind::kWebConnectivity:
      ScoreWebConnectivity(c);
      break;
    case ScorerKind::kWhatsapp:
      ScoreWhatsapp(c);
      break;
    case ScorerKind::kTelegram:
      ScoreTelegram(c);
      break;
    case ScorerKind::kSignal:
      ScoreSignal(c);
      break;
    case ScorerKind::kFacebookMessenger:
      ScoreFacebookMessenger(c);
      break;
    case ScorerKind::kWechat:
      ScoreWechat(c);
      break;
    case ScorerKind::kMessaging:
      ScoreMessaging(c);
      break;
    case ScorerKind::kDnscheck:
      ScoreDnscheck(c);
      break;
    case ScorerKind::kSniBlocking:
      ScoreSniBlocking(c);
      break;
    case ScorerKind::kStun:
      ScoreStun(c);
      break;
    case ScorerKind::kGeneric:
      ScoreGeneric(c);
      break;
  }

  if (c.dns_unconfirmed) c.Fire(kDnsFingerprintUnconfirmed);
  if (c.http_unconfirmed) c.Fire(kHttpFingerprintUnconfirmed);

  // Masking and the score.
  bool masking = false;
  double score = 0;
  int worst = -1;
  for (size_t i = 0; i < kLayerCount; ++i) {
    LayerVerdict& l = row.layers[i];
    if (!l.measured) continue;
    if (masking) {
      l.masked = true;
      continue;
    }
    if (worst < 0 || l.blocked > score) {
      score = l.blocked;
      worst = static_cast<int>(i);
    }
    if (l.blocked >= config_->mask_threshold && l.blocked > 0) masking = true;
  }
  row.score = score;
  if (worst >= 0) row.worst_layer = static_cast<Layer>(worst);

  // Flags: exactly one of ok / anomaly / confirmed / failure.
  const MeasurementRow& env = m.measurement;
  std::string_view envelope_failure;
  if (env.probe_cc.empty() || env.probe_cc == "ZZ") {
    envelope_failure = "envelope.probe_cc_zz";
  } else if (env.probe_asn == 0) {
    envelope_failure = "envelope.asn_zero";
  } else if (env.report_id.empty()) {
    envelope_failure = "envelope.no_report_id";
  } else {
    const int64_t reference = env.upload_time > 0
                                  ? env.upload_time
                                  : std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count();
    if (env.start_time > reference + config_->max_future_skew_seconds) {
      envelope_failure = "envelope.start_in_future";
    }
  }
  if (!envelope_failure.empty()) {
    row.failure_reason = std::string(envelope_failure);
    row.failure = true;
    row.confirmed = false;
    row.fingerprint.clear();
  } else if (row.confirmed) {
    row.failure_reason.clear();
  } else if (!row.failure_reason.empty()) {
    row.failure = true;
  } else {
    row.anomaly = score > config_->anomaly_threshold;
  }
  if ((row.anomaly || row.confirmed) && worst >= 0) {
    const LayerVerdict& w = row.layers[static_cast<size_t>(worst)];
    row.blocking_type = std::string(BlockingType(row.worst_layer, w.rule_id));
  }
  return row;
}

}  // namespace vigil::analysis
