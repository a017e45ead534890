#include "analysis/store/schema.h"

#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>

#include "analysis/query/aggregation.h"
#include "analysis/verdict/rules.h"

namespace vigil::analysis::store {
namespace {

using T = ColumnType;

// Arrays are kept as compact JSON text in both backends, so that one reader serves both.
// Most strings need no escaping (printable ASCII without quotes or backslashes): those
// are written here directly, which is what nlohmann's dump gives for them; anything
// else goes through nlohmann (escapes, invalid UTF-8 replaced).
bool Plain(std::string_view s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e || c == '"' || c == '\\') return false;
  }
  return true;
}

void AppendQuoted(std::string& out, std::string_view s) {
  out += '"';
  out += s;
  out += '"';
}

std::string JsonStrings(const std::vector<std::string>& values) {
  std::string out = "[";
  for (const auto& v : values) {
    if (!Plain(v)) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& w : values) a.push_back(w);
      return a.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    if (out.size() > 1) out += ',';
    AppendQuoted(out, v);
  }
  out += ']';
  return out;
}

std::string JsonNumbers(const std::vector<uint32_t>& values) {
  std::string out = "[";
  char digits[16];
  for (uint32_t v : values) {
    if (out.size() > 1) out += ',';
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v);
    out.append(digits, end);
  }
  out += ']';
  return out;
}

std::string JsonHeaders(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out = "[";
  for (const auto& [k, v] : headers) {
    if (!Plain(k) || !Plain(v)) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& [k2, v2] : headers) a.push_back({k2, v2});
      return a.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    if (out.size() > 1) out += ',';
    out += '[';
    AppendQuoted(out, k);
    out += ',';
    AppendQuoted(out, v);
    out += ']';
  }
  out += ']';
  return out;
}

// Byte for byte what nlohmann's dump gives (its objects print keys in sorted order),
// written directly: this runs on the store's writer thread for every verdict, where a
// tree per layer cost a twentieth of the thread's time.
std::string JsonLayers(const VerdictRow& v) {
  bool plain = true;
  for (const LayerVerdict& l : v.layers) plain = plain && Plain(l.rule_id);
  if (plain) {
    std::string out = "[";
    auto flag = [&](const char* key, bool value) {
      out += key;
      out += value ? "true" : "false";
    };
    auto number = [&](const char* key, double value) {  // shares are mostly 0 or 1
      out += key;
      if (value == 0 && !std::signbit(value)) {
        out += "0.0";
      } else if (value == 1) {
        out += "1.0";
      } else {
        out += nlohmann::json(value).dump();
      }
    };
    for (size_t i = 0; i < kLayerCount; ++i) {
      const LayerVerdict& l = v.layers[i];
      if (!l.measured) continue;
      if (out.size() > 1) out += ',';
      number("{\"blocked\":", l.blocked);
      number(",\"down\":", l.down);
      out += ",\"evidence\":";
      AppendQuoted(out, EvidenceName(l.evidence));
      out += ",\"layer\":";
      AppendQuoted(out, LayerName(static_cast<Layer>(i)));
      flag(",\"masked\":", l.masked);
      number(",\"ok\":", l.ok);
      out += ",\"rule\":";
      AppendQuoted(out, l.rule_id);
      out += '}';
    }
    out += ']';
    return out;
  }
  nlohmann::json a = nlohmann::json::array();
  for (size_t i = 0; i < kLayerCount; ++i) {
    const LayerVerdict& l = v.layers[i];
    if (!l.measured) continue;
    a.push_back({{"layer", LayerName(static_cast<Layer>(i))},
                 {"blocked", l.blocked},
                 {"down", l.down},
                 {"ok", l.ok},
                 {"masked", l.masked},
                 {"rule", l.rule_id},
                 {"evidence", EvidenceName(l.evidence)}});
  }
  return a.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void OptionalText(const std::optional<std::string>& v, ValueSink& out) {
  if (v) {
    out.Text(*v);
  } else {
    out.Null();
  }
}

template <typename N>
Result<void> Number(const SqlRow& row, size_t i, const char* column, N* out) {
  if (i >= row.values.size()) return Error{std::string("missing column ") + column};
  if (row.null[i]) {
    *out = N{};
    return {};
  }
  const std::string& s = row.values[i];
  if constexpr (std::is_floating_point_v<N>) {
    char* end = nullptr;
    *out = static_cast<N>(std::strtod(s.c_str(), &end));
    if (end != s.c_str() + s.size())
      return Error{std::string("column ") + column + ": '" + s + "'"};
  } else {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) {
      return Error{std::string("column ") + column + ": not a number: '" + s + "'"};
    }
    *out = static_cast<N>(v);
  }
  return {};
}

Tri TriOf(int64_t v) { return v < 0 ? Tri::kUnknown : (v == 0 ? Tri::kNo : Tri::kYes); }

}  // namespace

const Table& MeasurementsTable() {
  static const Table table{"measurements",
                           {{"measurement_uid", T::kText},
                            {"report_id", T::kText},
                            {"start_time", T::kInt64},
                            {"upload_time", T::kInt64},
                            {"probe_cc", T::kText},
                            {"probe_asn", T::kUInt32},
                            {"probe_network_name", T::kText},
                            {"resolver_ip", T::kText},
                            {"resolver_asn", T::kUInt32},
                            {"software_name", T::kText},
                            {"software_version", T::kText},
                            {"test_name", T::kText},
                            {"test_version", T::kText},
                            {"input", T::kText},
                            {"target", T::kText},
                            {"category_code", T::kText},
                            {"test_runtime", T::kReal},
                            {"source_file", T::kText},
                            {"source_line", T::kInt64},
                            {"summary_json", T::kText},
                            {"written_at", T::kInt64}},
                           "(probe_cc, probe_asn, target, start_time, measurement_uid)",
                           "written_at",
                           "measurement_uid"};
  return table;
}

const Table& ObservationsTable() {
  static const Table table{"observations",
                           {{"measurement_uid", T::kText},
                            {"idx", T::kUInt32},
                            {"start_time", T::kInt64},
                            {"probe_cc", T::kText},
                            {"probe_asn", T::kUInt32},
                            {"target", T::kText},
                            {"hostname", T::kText},
                            {"ip", T::kText},
                            {"port", T::kInt32},
                            {"ip_asn", T::kUInt32},
                            {"transaction_id", T::kInt64},
                            {"tag", T::kText},
                            {"dns_measured", T::kInt8},
                            {"dns_engine", T::kText},
                            {"dns_resolver", T::kText},
                            {"dns_failure", T::kNullableText},
                            {"dns_answers", T::kText},
                            {"dns_answer_asns", T::kText},
                            {"tcp_success", T::kInt8},
                            {"tcp_failure", T::kNullableText},
                            {"tls_measured", T::kInt8},
                            {"tls_server_name", T::kText},
                            {"tls_cert_valid", T::kInt8},
                            {"tls_failure", T::kNullableText},
                            {"http_measured", T::kInt8},
                            {"http_url", T::kText},
                            {"http_status", T::kInt32},
                            {"http_body_length", T::kInt64},
                            {"http_failure", T::kNullableText},
                            {"http_title", T::kText},
                            {"http_body_sample", T::kText},
                            {"http_headers", T::kText},
                            {"x_injection", T::kText},
                            {"x_delivery", T::kText},
                            {"written_at", T::kInt64}},
                           "(probe_cc, probe_asn, target, start_time, measurement_uid, idx)",
                           "written_at",
                           "measurement_uid, idx"};
  return table;
}

const Table& VerdictsTable() {
  static const Table table{
      "verdicts",
      {{"measurement_uid", T::kText}, {"rules_version", T::kText},  {"start_time", T::kInt64},
       {"probe_cc", T::kText},        {"probe_asn", T::kUInt32},    {"test_name", T::kText},
       {"target", T::kText},          {"input", T::kText},          {"category_code", T::kText},
       {"report_id", T::kText},       {"outcome", T::kInt8},        {"anomaly", T::kInt8},
       {"confirmed", T::kInt8},       {"failure", T::kInt8},        {"blocking_type", T::kText},
       {"fingerprint", T::kText},     {"failure_reason", T::kText}, {"score", T::kReal},
       {"worst_layer", T::kText},     {"rules_fired", T::kText},    {"layers", T::kText},
       {"source_file", T::kText},     {"source_line", T::kInt64},   {"written_at", T::kInt64},
       {"verdict", T::kText},         {"upload_time", T::kInt64},   {"software_name", T::kText},
       {"measured_layers", T::kInt8}, {"blocked_layers", T::kInt8}, {"masked_layers", T::kInt8},
       {"technique", T::kText}},
      "(probe_cc, probe_asn, target, start_time, rules_version, measurement_uid)",
      "written_at",
      "measurement_uid, rules_version"};
  return table;
}

const Table& RulesVersionsTable() {
  static const Table table{"rules_versions",
                           {{"rules_version", T::kText}, {"written_at", T::kInt64}},
                           "(rules_version)",
                           "written_at",
                           "rules_version"};
  return table;
}

const Table& PostsTable() {
  // ClickHouse keeps each article's measurements together, in time order: the order an
  // article's history is read in.
  static const Table table{"posts",
                           {{"measurement_uid", T::kText},
                            {"start_time", T::kInt64},
                            {"probe_cc", T::kText},
                            {"probe_asn", T::kUInt32},
                            {"url", T::kText},
                            {"post_status", T::kText},
                            {"title", T::kText},
                            {"content_sha256", T::kText},
                            {"written_at", T::kInt64}},
                           "(url, start_time, measurement_uid)",
                           "written_at",
                           "measurement_uid"};
  return table;
}

void RulesVersionValues(const std::string& version, int64_t written_at, ValueSink& out) {
  out.Text(version);
  out.Int(written_at);
}

void MeasurementValues(const ExtractedMeasurement& x, int64_t written_at, ValueSink& out) {
  const EnvelopeRow& m = x.measurement;
  out.Text(m.measurement_uid);
  out.Text(m.report_id);
  out.Int(m.start_time);
  out.Int(m.upload_time);
  out.Text(m.probe_cc);
  out.Int(m.probe_asn);
  out.Text(m.probe_network_name);
  out.Text(m.resolver_ip);
  out.Int(m.resolver_asn);
  out.Text(m.software_name);
  out.Text(m.software_version);
  out.Text(m.test_name);
  out.Text(m.test_version);
  out.Text(m.input);
  out.Text(m.target);
  out.Text(m.category_code);
  out.Real(m.test_runtime);
  out.Text(m.source_file);
  out.Int(static_cast<int64_t>(m.source_line));
  out.Text(x.summary_json);
  out.Int(written_at);
}

void ObservationValues(const ExtractedMeasurement& x, const ObservationRow& o, int64_t written_at,
                       ValueSink& out) {
  const EnvelopeRow& m = x.measurement;
  out.Text(m.measurement_uid);
  out.Int(o.index);
  out.Int(m.start_time);
  out.Text(m.probe_cc);
  out.Int(m.probe_asn);
  out.Text(m.target);
  out.Text(o.hostname);
  out.Text(o.ip);
  out.Int(o.port);
  out.Int(o.ip_asn);
  out.Int(o.transaction_id);
  out.Text(o.tag);
  out.Int(o.dns_measured);
  out.Text(o.dns_engine);
  out.Text(o.dns_resolver);
  OptionalText(o.dns_failure, out);
  out.OwnedText(JsonStrings(o.dns_answers));
  out.OwnedText(JsonNumbers(o.dns_answer_asns));
  out.Int(static_cast<int64_t>(o.tcp_success));
  OptionalText(o.tcp_failure, out);
  out.Int(o.tls_measured);
  out.Text(o.tls_server_name);
  out.Int(static_cast<int64_t>(o.tls_cert_valid));
  OptionalText(o.tls_failure, out);
  out.Int(o.http_measured);
  out.Text(o.http_url);
  out.Int(o.http_status);
  out.Int(o.http_body_length);
  OptionalText(o.http_failure, out);
  out.Text(o.http_title);
  out.Text(o.http_body_sample);
  out.OwnedText(JsonHeaders(o.http_headers));
  out.Text(o.x_injection);
  out.Text(o.x_delivery);
  out.Int(written_at);
}

void VerdictValues(const ExtractedMeasurement& x, const VerdictRow& v, int64_t written_at,
                   ValueSink& out) {
  const EnvelopeRow& m = x.measurement;
  out.Text(m.measurement_uid);
  out.Text(v.rules_version);
  out.Int(m.start_time);
  out.Text(m.probe_cc);
  out.Int(m.probe_asn);
  out.Text(m.test_name);
  out.Text(m.target);
  out.Text(m.input);
  out.Text(m.category_code);
  out.Text(m.report_id);
  out.Int(static_cast<int64_t>(OutcomeOf(v)));
  out.Int(v.anomaly);
  out.Int(v.confirmed);
  out.Int(v.failure);
  out.Text(v.blocking_type);
  out.Text(v.fingerprint);
  out.Text(v.failure_reason);
  out.Real(v.score);
  out.Text(LayerName(v.worst_layer));
  out.OwnedText(VerdictEngine::RulesFired(v));
  out.OwnedText(JsonLayers(v));
  out.Text(m.source_file);
  out.Int(static_cast<int64_t>(m.source_line));
  out.Int(written_at);
  out.Text(VerdictClassName(v.verdict));
  out.Int(m.upload_time);
  out.Text(m.software_name);
  out.Int(MeasuredLayers(v));
  out.Int(v.blocked_layers);
  out.Int(MaskedLayers(v));
  out.Text(v.technique);
}

void PostValues(const PostRow& p, int64_t written_at, ValueSink& out) {
  out.Text(p.measurement_uid);
  out.Int(p.start_time);
  out.Text(p.probe_cc);
  out.Int(p.probe_asn);
  out.Text(p.url);
  out.Text(p.post_status);
  out.Text(p.title);
  out.Text(p.content_sha256);
  out.Int(written_at);
}

Result<void> MeasurementFromRow(const SqlRow& row, ExtractedMeasurement* out) {
  if (row.values.size() != MeasurementsTable().columns.size()) {
    return Error{"measurements: " + std::to_string(row.values.size()) + " columns, expected " +
                 std::to_string(MeasurementsTable().columns.size())};
  }
  EnvelopeRow& m = out->measurement;
  const auto& v = row.values;
  m.measurement_uid = v[0];
  m.report_id = v[1];
  if (auto r = Number(row, 2, "start_time", &m.start_time); !r) return r;
  if (auto r = Number(row, 3, "upload_time", &m.upload_time); !r) return r;
  m.probe_cc = v[4];
  if (auto r = Number(row, 5, "probe_asn", &m.probe_asn); !r) return r;
  m.probe_network_name = v[6];
  m.resolver_ip = v[7];
  if (auto r = Number(row, 8, "resolver_asn", &m.resolver_asn); !r) return r;
  m.software_name = v[9];
  m.software_version = v[10];
  m.test_name = v[11];
  m.test_version = v[12];
  m.input = v[13];
  m.target = v[14];
  m.category_code = v[15];
  if (auto r = Number(row, 16, "test_runtime", &m.test_runtime); !r) return r;
  m.source_file = v[17];
  if (auto r = Number(row, 18, "source_line", &m.source_line); !r) return r;
  out->summary_json = v[19];
  return {};
}

Result<void> ObservationFromRow(const SqlRow& row, ObservationRow* out) {
  if (row.values.size() != ObservationsTable().columns.size()) {
    return Error{"observations: " + std::to_string(row.values.size()) + " columns, expected " +
                 std::to_string(ObservationsTable().columns.size())};
  }
  const auto& v = row.values;
  ObservationRow& o = *out;
  o.measurement_uid = v[0];
  if (auto r = Number(row, 1, "idx", &o.index); !r) return r;
  o.hostname = v[6];
  o.ip = v[7];
  if (auto r = Number(row, 8, "port", &o.port); !r) return r;
  if (auto r = Number(row, 9, "ip_asn", &o.ip_asn); !r) return r;
  if (auto r = Number(row, 10, "transaction_id", &o.transaction_id); !r) return r;
  o.tag = v[11];
  int64_t flag = 0;
  if (auto r = Number(row, 12, "dns_measured", &flag); !r) return r;
  o.dns_measured = flag != 0;
  o.dns_engine = v[13];
  o.dns_resolver = v[14];
  if (!row.null[15]) o.dns_failure = v[15];
  const auto answers = nlohmann::json::parse(v[16], nullptr, false);
  const auto asns = nlohmann::json::parse(v[17], nullptr, false);
  if (!answers.is_array() || !asns.is_array()) return Error{"observations: bad dns_answers"};
  for (const auto& a : answers) o.dns_answers.push_back(a.is_string() ? a.get<std::string>() : "");
  for (const auto& a : asns) o.dns_answer_asns.push_back(a.is_number() ? a.get<uint32_t>() : 0);
  if (auto r = Number(row, 18, "tcp_success", &flag); !r) return r;
  o.tcp_success = TriOf(flag);
  if (!row.null[19]) o.tcp_failure = v[19];
  if (auto r = Number(row, 20, "tls_measured", &flag); !r) return r;
  o.tls_measured = flag != 0;
  o.tls_server_name = v[21];
  if (auto r = Number(row, 22, "tls_cert_valid", &flag); !r) return r;
  o.tls_cert_valid = TriOf(flag);
  if (!row.null[23]) o.tls_failure = v[23];
  if (auto r = Number(row, 24, "http_measured", &flag); !r) return r;
  o.http_measured = flag != 0;
  o.http_url = v[25];
  if (auto r = Number(row, 26, "http_status", &o.http_status); !r) return r;
  if (auto r = Number(row, 27, "http_body_length", &o.http_body_length); !r) return r;
  if (!row.null[28]) o.http_failure = v[28];
  o.http_title = v[29];
  o.http_body_sample = v[30];
  const auto headers = nlohmann::json::parse(v[31], nullptr, false);
  if (!headers.is_array()) return Error{"observations: bad http_headers"};
  for (const auto& h : headers) {
    if (h.is_array() && h.size() == 2 && h[0].is_string() && h[1].is_string()) {
      o.http_headers.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
    }
  }
  o.x_injection = v[32];
  o.x_delivery = v[33];
  return {};
}

int64_t WriteStamp() {
  static std::atomic<int64_t> last{0};
  int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  int64_t prev = last.load();
  while (true) {
    const int64_t next = now > prev ? now : prev + 1;
    if (last.compare_exchange_weak(prev, next)) return next;
  }
}

uint32_t MonthOf(int64_t start_time) {  // on every row ClickHouse is sent: no formatting
  const time_t t = static_cast<time_t>(start_time);
  struct tm utc {};
  if (!gmtime_r(&t, &utc)) return 0;
  return static_cast<uint32_t>((utc.tm_year + 1900) * 100 + utc.tm_mon + 1);
}

}  // namespace vigil::analysis::store
