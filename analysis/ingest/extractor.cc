// MeasurementExtractor: one pass of simdjson's On-Demand parser over a measurement,
// in the document's own key order (OONI's probes and ours write keys in different
// orders), materialising only what the rows hold: network_events and certificates are
// skipped without being decoded, bodies are decoded only up to the sample size.
#include <openssl/evp.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <unordered_map>

#include "analysis/ingest/ingest.h"
#include "base/base64.h"
#include "base/html_title.h"
#include "probe/experiments/catalog.h"

namespace vigil::analysis {

namespace od = simdjson::ondemand;

namespace {

// A bad field: the reason names it.
struct FieldError {
  std::string reason;
};

[[noreturn]] void Bad(std::string_view field, std::string_view why) {
  throw FieldError{"field '" + std::string(field) + "': " + std::string(why)};
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// A string, or "" for null; anything else is an error naming the field.
std::string_view StringOrNull(od::value v, std::string_view field) {
  od::json_type type;
  if (v.type().get(type)) Bad(field, "not JSON");
  if (type == od::json_type::null) return {};
  if (type != od::json_type::string) Bad(field, "expected a string");
  std::string_view s;
  if (v.get_string().get(s)) Bad(field, "bad string");
  return s;
}

std::optional<std::string> FailureOf(od::value v, std::string_view field) {
  od::json_type type;
  if (v.type().get(type)) Bad(field, "not JSON");
  if (type == od::json_type::null) return std::nullopt;
  if (type == od::json_type::boolean) {
    // Some old probes wrote `false` for no failure.
    bool failed = false;
    if (v.get_bool().get(failed)) Bad(field, "bad boolean");
    if (failed) return std::string("unknown_failure");
    return std::nullopt;
  }
  if (type != od::json_type::string) Bad(field, "expected a string or null");
  std::string_view s;
  if (v.get_string().get(s)) Bad(field, "bad string");
  return std::string(s);
}

bool IsNull(od::value v) {
  od::json_type type;
  return !v.type().get(type) && type == od::json_type::null;
}

int64_t IntOf(od::value v, std::string_view field) {
  od::json_type type;
  if (v.type().get(type)) Bad(field, "not JSON");
  if (type == od::json_type::null) return 0;
  if (type != od::json_type::number) Bad(field, "expected a number");
  double d = 0;
  if (v.get_double().get(d)) Bad(field, "bad number");
  return static_cast<int64_t>(d);
}

double DoubleOf(od::value v, std::string_view field) {
  od::json_type type;
  if (v.type().get(type)) Bad(field, "not JSON");
  if (type == od::json_type::null) return 0;
  if (type != od::json_type::number) Bad(field, "expected a number");
  double d = 0;
  if (v.get_double().get(d)) Bad(field, "bad number");
  return d;
}

uint32_t AsnOf(od::value v, std::string_view field) {
  od::json_type type;
  if (v.type().get(type)) Bad(field, "not JSON");
  if (type == od::json_type::null) return 0;
  if (type == od::json_type::number) {
    int64_t n = IntOf(v, field);
    if (n < 0 || n > UINT32_MAX) Bad(field, "not an AS number");
    return static_cast<uint32_t>(n);
  }
  std::string_view s = StringOrNull(v, field);
  if (s.size() >= 2 && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's')) {
    s.remove_prefix(2);
  }
  if (s.empty()) return 0;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || n > UINT32_MAX) Bad(field, "not an AS number (ASnnn)");
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n > UINT32_MAX) Bad(field, "not an AS number (ASnnn)");
  return static_cast<uint32_t>(n);
}

// The JSON text of a value as written (for summary_json), consuming it.
std::string_view RawJson(od::value v) {
  od::json_type type;
  if (v.type().get(type)) return "null";
  std::string_view raw;
  if (type == od::json_type::object) {
    od::object o;
    if (v.get_object().get(o) || o.raw_json().get(raw)) return "null";
    return raw;
  }
  if (type == od::json_type::array) {
    od::array a;
    if (v.get_array().get(a) || a.raw_json().get(raw)) return "null";
    return raw;
  }
  return TrimRight(v.raw_json_token());
}

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  size_t run = 0;  // start of the bytes that need no escape, appended in one go
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
        out += buf;
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

// "1.2.3.4:443", "[::1]:443" → ip, port.
void SplitAddress(std::string_view address, std::string* ip, uint16_t* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) {
    *ip = address;
    return;
  }
  std::string_view host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  *ip = host;
  uint32_t p = 0;
  for (char c : address.substr(colon + 1)) {
    if (c < '0' || c > '9') return;
    p = p * 10 + static_cast<uint32_t>(c - '0');
  }
  if (p <= 65535) *port = static_cast<uint16_t>(p);
}

// What a measurement without input is about: the service its experiment tests (the
// catalog's first), else the experiment itself.
std::string ServiceTarget(std::string_view test_name) {
  const ExperimentDescriptor* d = ExperimentCatalog::Active().Find(test_name);
  if (d && !d->services.empty()) return d->services.front();
  return std::string(test_name);
}

}  // namespace

struct MeasurementExtractor::Impl {
  IngestOptions options;
  od::parser parser;
  std::string copy;  // for Extract(string_view): the text with padding
  // Rows of earlier measurements kept for their buffers: a measurement's rows are
  // refilled in place (strings keep their capacity), so a stream of measurements
  // allocates little once warm.
  std::vector<ObservationRow> spare;
  size_t used = 0;  // rows of the current measurement in out->observations

  explicit Impl(const IngestOptions& o) : options(o) {}

  // Copy-assigning a default-constructed row resets every field (one added to the row
  // later included) while its strings and vectors keep their buffers, which assigning
  // a temporary would free.
  static void Clear(ObservationRow& o) {
    static const ObservationRow kEmpty;
    o = kEmpty;
  }

  // The next row of the measurement, cleared: one of `out`'s from an earlier use, or a
  // spare, or a new one. References to earlier rows do not survive the call.
  ObservationRow& Next(ExtractedMeasurement* out) {
    auto& rows = out->observations;
    if (used == rows.size()) {
      if (!spare.empty()) {
        rows.push_back(std::move(spare.back()));
        spare.pop_back();
      } else {
        rows.emplace_back();
      }
    }
    ObservationRow& o = rows[used];
    Clear(o);
    o.index = static_cast<uint32_t>(used);
    ++used;
    return o;
  }

  // Resets `out` for a new measurement, keeping its buffers: every field is copied from
  // a default-constructed one (see Clear) except the rows, which Next clears one by one
  // as they are refilled.
  void Reset(ExtractedMeasurement* out) {
    static const ExtractedMeasurement kEmpty;
    std::vector<ObservationRow> rows = std::move(out->observations);
    *out = kEmpty;
    out->observations = std::move(rows);
    used = 0;
  }

  // Rows past the measurement's own go back to the spares.
  void Finish(ExtractedMeasurement* out) {
    auto& rows = out->observations;
    while (rows.size() > used) {
      if (spare.size() < 256) spare.push_back(std::move(rows.back()));
      rows.pop_back();
    }
  }

  // The hostname a DNS query of this measurement resolved to `ip` (the first such), or
  // nullptr.
  static const std::string* NameOfIp(const std::vector<ObservationRow>& rows, size_t count,
                                     const std::string& ip) {
    for (size_t i = 0; i < count; ++i) {
      const ObservationRow& q = rows[i];
      if (!q.dns_measured || q.hostname.empty()) continue;
      for (const auto& a : q.dns_answers) {
        if (a == ip) return &q.hostname;
      }
    }
    return nullptr;
  }

  void Queries(od::array queries, ExtractedMeasurement* out) {
    for (od::value q : queries) {
      od::object obj;
      if (q.get_object().get(obj)) Bad("test_keys.queries[]", "expected an object");
      ObservationRow& o = Next(out);
      o.dns_measured = true;
      std::string_view resolver_address;
      for (auto field : obj) {
        std::string_view key;
        if (field.unescaped_key().get(key)) Bad("test_keys.queries[]", "bad key");
        od::value v = field.value();
        if (key == "hostname") {
          o.hostname = StringOrNull(v, "queries[].hostname");
        } else if (key == "engine") {
          o.dns_engine = StringOrNull(v, "queries[].engine");
        } else if (key == "failure") {
          o.dns_failure = FailureOf(v, "queries[].failure");
        } else if (key == "resolver_address") {
          resolver_address = StringOrNull(v, "queries[].resolver_address");
          o.dns_resolver = resolver_address;
        } else if (key == "transaction_id") {
          o.transaction_id = IntOf(v, "queries[].transaction_id");
        } else if (key == "answers") {
          if (IsNull(v)) continue;
          od::array answers;
          if (v.get_array().get(answers)) Bad("queries[].answers", "expected an array");
          for (od::value a : answers) {
            od::object ao;
            if (a.get_object().get(ao)) Bad("queries[].answers[]", "expected an object");
            std::string value;
            uint32_t asn = 0;
            for (auto af : ao) {
              std::string_view ak;
              if (af.unescaped_key().get(ak)) Bad("queries[].answers[]", "bad key");
              od::value av = af.value();
              if (ak == "ipv4" || ak == "ipv6" || ak == "hostname") {
                if (value.empty()) value = StringOrNull(av, "queries[].answers[].ip");
              } else if (ak == "asn") {
                asn = AsnOf(av, "queries[].answers[].asn");
              }
            }
            if (value.empty()) continue;
            o.dns_answers.push_back(std::move(value));
            o.dns_answer_asns.push_back(asn);
          }
        }
      }
    }
  }

  void TcpConnects(od::array connects, ExtractedMeasurement* out) {
    for (od::value t : connects) {
      od::object obj;
      if (t.get_object().get(obj)) Bad("test_keys.tcp_connect[]", "expected an object");
      ObservationRow& o = Next(out);
      for (auto field : obj) {
        std::string_view key;
        if (field.unescaped_key().get(key)) Bad("test_keys.tcp_connect[]", "bad key");
        od::value v = field.value();
        if (key == "ip") {
          o.ip = StringOrNull(v, "tcp_connect[].ip");
        } else if (key == "port") {
          const int64_t port = IntOf(v, "tcp_connect[].port");
          if (port < 0 || port > 65535) Bad("tcp_connect[].port", "not a port");
          o.port = static_cast<uint16_t>(port);
        } else if (key == "transaction_id") {
          o.transaction_id = IntOf(v, "tcp_connect[].transaction_id");
        } else if (key == "status") {
          od::object status;
          if (v.get_object().get(status)) Bad("tcp_connect[].status", "expected an object");
          for (auto sf : status) {
            std::string_view sk;
            if (sf.unescaped_key().get(sk)) Bad("tcp_connect[].status", "bad key");
            od::value sv = sf.value();
            if (sk == "success") {
              bool ok = false;
              if (!IsNull(sv) && sv.get_bool().get(ok)) {
                Bad("tcp_connect[].status.success", "expected a boolean");
              }
              o.tcp_success = ok ? Tri::kYes : Tri::kNo;
            } else if (sk == "failure") {
              o.tcp_failure = FailureOf(sv, "tcp_connect[].status.failure");
            }
          }
        }
      }
      if (o.tcp_success == Tri::kUnknown) o.tcp_success = o.tcp_failure ? Tri::kNo : Tri::kYes;
    }
  }

  void TlsHandshakes(od::array handshakes, ExtractedMeasurement* out) {
    for (od::value h : handshakes) {
      od::object obj;
      if (h.get_object().get(obj)) Bad("test_keys.tls_handshakes[]", "expected an object");
      ObservationRow& o = Next(out);
      o.tls_measured = true;
      bool no_verify = false;
      for (auto field : obj) {
        std::string_view key;
        if (field.unescaped_key().get(key)) Bad("test_keys.tls_handshakes[]", "bad key");
        od::value v = field.value();
        if (key == "address") {
          SplitAddress(StringOrNull(v, "tls_handshakes[].address"), &o.ip, &o.port);
        } else if (key == "server_name") {
          o.tls_server_name = StringOrNull(v, "tls_handshakes[].server_name");
        } else if (key == "failure") {
          o.tls_failure = FailureOf(v, "tls_handshakes[].failure");
        } else if (key == "no_tls_verify") {
          if (!IsNull(v) && v.get_bool().get(no_verify)) {
            Bad("tls_handshakes[].no_tls_verify", "expected a boolean");
          }
        } else if (key == "transaction_id") {
          o.transaction_id = IntOf(v, "tls_handshakes[].transaction_id");
        } else if (key == "tags") {
          // ["tcptls_experiment", ...]: the first names the step.
          if (IsNull(v)) continue;
          od::array tags;
          if (v.get_array().get(tags)) Bad("tls_handshakes[].tags", "expected an array");
          for (od::value tag : tags) {
            if (o.tag.empty()) o.tag = StringOrNull(tag, "tls_handshakes[].tags[]");
          }
        }
      }
      o.hostname = o.tls_server_name;
      o.tls_cert_valid = o.tls_failure ? Tri::kNo : (no_verify ? Tri::kUnknown : Tri::kYes);
    }
  }

  void Headers(od::value v, std::vector<std::pair<std::string, std::string>>* out, bool list) {
    if (IsNull(v)) return;
    if (list) {
      od::array pairs;
      if (v.get_array().get(pairs)) Bad("response.headers_list", "expected an array");
      for (od::value pair : pairs) {
        od::array kv;
        if (pair.get_array().get(kv)) Bad("response.headers_list[]", "expected [name, value]");
        std::string name, value;
        int i = 0;
        for (od::value e : kv) {
          if (i == 0) name = StringOrNull(e, "response.headers_list[][0]");
          if (i == 1) value = StringOrNull(e, "response.headers_list[][1]");
          ++i;
        }
        if (i != 2) Bad("response.headers_list[]", "expected [name, value]");
        out->emplace_back(std::move(name), std::move(value));
      }
      return;
    }
    od::object obj;
    if (v.get_object().get(obj)) Bad("response.headers", "expected an object");
    for (auto field : obj) {
      std::string_view name;
      if (field.unescaped_key().get(name)) Bad("response.headers", "bad key");
      od::value hv = field.value();
      od::json_type type;
      if (hv.type().get(type)) Bad("response.headers", "not JSON");
      if (type == od::json_type::string) {
        out->emplace_back(std::string(name), std::string(StringOrNull(hv, "response.headers")));
      } else if (type == od::json_type::array) {  // legacy: {"name": ["v1", "v2"]}
        od::array values;
        if (hv.get_array().get(values)) Bad("response.headers", "bad array");
        for (od::value e : values) {
          out->emplace_back(std::string(name), std::string(StringOrNull(e, "response.headers[]")));
        }
      }
    }
  }

  void Body(od::value v, ObservationRow* o) {
    od::json_type type;
    if (v.type().get(type)) Bad("response.body", "not JSON");
    const size_t cap = options.body_sample_bytes;
    if (type == od::json_type::null) return;
    if (type == od::json_type::string) {
      std::string_view s = StringOrNull(v, "response.body");
      o->http_body_length = static_cast<int64_t>(s.size());
      o->http_body_sample.assign(s.substr(0, cap));
      return;
    }
    if (type != od::json_type::object) Bad("response.body", "expected a string or an object");
    od::object obj;
    if (v.get_object().get(obj)) Bad("response.body", "bad object");
    std::string_view format, data;
    for (auto field : obj) {
      std::string_view key;
      if (field.unescaped_key().get(key)) Bad("response.body", "bad key");
      od::value bv = field.value();
      if (key == "format") {
        format = StringOrNull(bv, "response.body.format");
      } else if (key == "data") {
        data = StringOrNull(bv, "response.body.data");
      }
    }
    if (format != "base64") Bad("response.body.format", "expected \"base64\"");
    o->http_body_sample.clear();
    o->http_body_length = static_cast<int64_t>(Base64DecodePrefix(data, cap, &o->http_body_sample));
  }

  void Requests(od::array requests, ExtractedMeasurement* out) {
    for (od::value r : requests) {
      od::object obj;
      if (r.get_object().get(obj)) Bad("test_keys.requests[]", "expected an object");
      ObservationRow& o = Next(out);
      o.http_measured = true;
      std::vector<std::pair<std::string, std::string>> list, map;
      bool have_list = false;
      for (auto field : obj) {
        std::string_view key;
        if (field.unescaped_key().get(key)) Bad("test_keys.requests[]", "bad key");
        od::value v = field.value();
        if (key == "failure") {
          o.http_failure = FailureOf(v, "requests[].failure");
        } else if (key == "transaction_id") {
          o.transaction_id = IntOf(v, "requests[].transaction_id");
        } else if (key == "request") {
          if (IsNull(v)) continue;
          od::object req;
          if (v.get_object().get(req)) Bad("requests[].request", "expected an object");
          for (auto rf : req) {
            std::string_view rk;
            if (rf.unescaped_key().get(rk)) Bad("requests[].request", "bad key");
            if (rk == "url") o.http_url = StringOrNull(rf.value(), "requests[].request.url");
          }
        } else if (key == "response") {
          if (IsNull(v)) continue;
          od::object resp;
          if (v.get_object().get(resp)) Bad("requests[].response", "expected an object");
          for (auto rf : resp) {
            std::string_view rk;
            if (rf.unescaped_key().get(rk)) Bad("requests[].response", "bad key");
            od::value rv = rf.value();
            if (rk == "code") {
              const int64_t code = IntOf(rv, "requests[].response.code");
              o.http_status = code > 0 && code < 1000 ? static_cast<int32_t>(code) : -1;
            } else if (rk == "body") {
              Body(rv, &o);
            } else if (rk == "headers_list") {
              have_list = !IsNull(rv);
              Headers(rv, &list, true);
            } else if (rk == "headers") {
              Headers(rv, &map, false);
            }
          }
        }
      }
      o.http_headers = have_list ? std::move(list) : std::move(map);
      o.hostname.assign(UrlHost(o.http_url));
      // The probe's own extraction, so the stored title equals the probe's x_title.
      if (!o.http_body_sample.empty()) {
        o.http_title = ExtractTitle(o.http_body_sample).value_or(std::string());
      }
    }
  }

  // test_keys: the four archival arrays become observations, and so does
  // x_tls_handshakes (our messaging experiments' handshakes after OONI's connects, kept
  // apart from OONI's own keys); everything else but network_events goes to
  // summary_json as written.
  void TestKeys(od::object keys, ExtractedMeasurement* out) {
    std::string& summary = out->summary_json;
    summary = "{";
    for (auto field : keys) {
      std::string_view key;
      if (field.unescaped_key().get(key)) Bad("test_keys", "bad key");
      od::value v = field.value();
      const bool tls = key == "tls_handshakes" || key == "x_tls_handshakes";
      const bool array_key = key == "queries" || key == "tcp_connect" || tls || key == "requests";
      if (array_key) {
        if (IsNull(v)) continue;
        od::array a;
        if (v.get_array().get(a)) Bad("test_keys." + std::string(key), "expected an array");
        if (key == "queries") {
          Queries(a, out);
        } else if (key == "tcp_connect") {
          TcpConnects(a, out);
        } else if (tls) {
          TlsHandshakes(a, out);
        } else {
          Requests(a, out);
        }
        continue;
      }
      if (key == "network_events") continue;
      if (summary.size() > 1) summary += ',';
      AppendJsonString(summary, key);
      summary += ':';
      summary += RawJson(v);
    }
    summary += '}';
  }

  Result<void> Run(const char* json, size_t size, size_t readable, ExtractedMeasurement* out) {
    Reset(out);
    EnvelopeRow& m = out->measurement;
    std::string test_start_time;
    bool have_test_name = false, have_start = false, have_test_keys = false;
    try {
      od::document doc;
      if (auto e = parser.iterate(json, size, readable).get(doc)) {
        return Error{std::string("not JSON: ") + simdjson::error_message(e)};
      }
      od::object obj;
      if (doc.get_object().get(obj)) return Error{"not a JSON object"};
      for (auto field : obj) {
        std::string_view key;
        if (auto e = field.unescaped_key().get(key)) {
          return Error{std::string("not JSON: ") + simdjson::error_message(e)};
        }
        od::value v = field.value();
        if (key == "test_keys") {
          od::json_type type;
          if (v.type().get(type)) Bad(key, "not JSON");
          if (type == od::json_type::null) continue;
          od::object keys;
          if (v.get_object().get(keys)) Bad(key, "expected an object");
          TestKeys(keys, out);
          have_test_keys = true;
        } else if (key == "test_name") {
          m.test_name = StringOrNull(v, key);
          have_test_name = !m.test_name.empty();
        } else if (key == "measurement_start_time") {
          m.start_time = ParseMeasurementTime(StringOrNull(v, key)).value_or(INT64_MIN);
          if (m.start_time == INT64_MIN) Bad(key, "not YYYY-MM-DD HH:MM:SS");
          have_start = true;
        } else if (key == "measurement_uid") {
          m.measurement_uid = StringOrNull(v, key);
        } else if (key == "report_id") {
          m.report_id = StringOrNull(v, key);
        } else if (key == "probe_cc") {
          std::string_view cc = StringOrNull(v, key);
          // Two capital letters (OONI writes "ZZ" when unknown): what queries group by.
          if (!cc.empty() &&
              (cc.size() != 2 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z')) {
            Bad(key, "not a two-letter country code");
          }
          if (!cc.empty()) m.probe_cc = cc;
        } else if (key == "probe_asn") {
          m.probe_asn = AsnOf(v, key);
        } else if (key == "probe_network_name") {
          m.probe_network_name = StringOrNull(v, key);
        } else if (key == "resolver_ip") {
          m.resolver_ip = StringOrNull(v, key);
        } else if (key == "resolver_asn") {
          m.resolver_asn = AsnOf(v, key);
        } else if (key == "software_name") {
          m.software_name = StringOrNull(v, key);
        } else if (key == "software_version") {
          m.software_version = StringOrNull(v, key);
        } else if (key == "test_version") {
          m.test_version = StringOrNull(v, key);
        } else if (key == "test_runtime") {
          m.test_runtime = DoubleOf(v, key);
        } else if (key == "test_start_time") {
          // Part of the identity of a measurement without a uid.
          test_start_time = StringOrNull(v, key);
        } else if (key == "input") {
          od::json_type type;
          if (v.type().get(type)) Bad(key, "not JSON");
          if (type == od::json_type::string) {
            m.input = StringOrNull(v, key);
          } else if (type == od::json_type::array) {
            // Old measurements give a list: the first is the target.
            od::array inputs;
            if (v.get_array().get(inputs)) Bad(key, "bad array");
            for (od::value i : inputs) {
              if (m.input.empty()) m.input = StringOrNull(i, "input[]");
            }
          } else if (type != od::json_type::null) {
            Bad(key, "expected a string or null");
          }
        }
      }
    } catch (const FieldError& e) {
      return Error{e.reason};
    } catch (const simdjson::simdjson_error& e) {
      return Error{std::string("not JSON: ") + e.what()};
    }
    if (!have_test_name) return Error{"no test_name"};
    if (!have_start) return Error{"no measurement_start_time"};
    if (!have_test_keys) out->summary_json = "{}";

    // OONI spells some test names two ways; the catalog knows which is ours.
    if (const std::string_view name = ExperimentCatalog::Active().CanonicalName(m.test_name);
        name.data() != m.test_name.data()) {
      m.test_name.assign(name);
    }
    if (m.measurement_uid.empty()) {
      m.measurement_uid = DerivedUid(m, test_start_time, std::string_view(json, size));
    } else if (m.upload_time == 0) {
      m.upload_time = OoniUidTime(m.measurement_uid).value_or(0);
    }
    if (m.input.empty()) {
      m.target = ServiceTarget(m.test_name);
    } else if (std::string_view host = UrlHost(m.input); !host.empty()) {
      m.target = host;
    } else {
      std::string_view in = m.input;
      const size_t colon = in.rfind(':');
      if (colon != std::string_view::npos && in.find(':') == colon) in = in.substr(0, colon);
      m.target = in;
    }
    if (!m.input.empty()) m.category_code = options.categories.Find(m.input, m.target);
    Finish(out);
    for (auto& o : out->observations) {
      o.measurement_uid = m.measurement_uid;
      if (o.hostname.empty() && !o.ip.empty()) {
        if (const std::string* name = NameOfIp(out->observations, used, o.ip)) o.hostname = *name;
      }
    }
    return {};
  }

  // A measurement without OONI's uid gets one from what identifies it: the same
  // measurement read twice (a re-upload, a copy) gets the same id. Without a report_id
  // (runs never submitted, synthetic data) the envelope identifies nothing, and the
  // whole text is part of the key.
  std::string DerivedUid(const EnvelopeRow& m, std::string_view test_start_time,
                         std::string_view text) {
    std::string& key = uid_key;
    key.clear();
    for (std::string_view part :
         {std::string_view(m.report_id), std::string_view(m.test_name), std::string_view(m.input),
          test_start_time, std::string_view(m.probe_cc)}) {
      key.append(part);
      key.push_back('\0');
    }
    // As std::to_string wrote them (the uids of stored measurements depend on it):
    // decimal integers, and the runtime as printf's "%f" (fixed, six decimals).
    char number[64];
    auto put = [&](auto value, auto... format) {
      auto [end, ec] = std::to_chars(number, number + sizeof number, value, format...);
      key.append(number, ec == std::errc() ? end : number);
    };
    put(m.start_time);
    key.push_back('\0');
    put(m.probe_asn);
    key.push_back('\0');
    put(m.test_runtime, std::chars_format::fixed, 6);
    if (m.report_id.empty()) key.append(text);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    // One context and one fetched digest for every measurement: EVP_Digest would fetch
    // and allocate them again per call.
    if (!digest_ctx) {
      sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
      digest_ctx = EVP_MD_CTX_new();
    }
    if (!sha256 || !digest_ctx || !EVP_DigestInit_ex(digest_ctx, sha256, nullptr) ||
        !EVP_DigestUpdate(digest_ctx, key.data(), key.size()) ||
        !EVP_DigestFinal_ex(digest_ctx, digest, &length)) {
      EVP_Digest(key.data(), key.size(), digest, &length, EVP_sha256(), nullptr);
    }
    static const char* const kHex = "0123456789abcdef";
    std::string uid = "v";
    for (unsigned int i = 0; i < 16 && i < length; ++i) {
      uid += kHex[digest[i] >> 4];
      uid += kHex[digest[i] & 15];
    }
    return uid;
  }

  ~Impl() {
    EVP_MD_CTX_free(digest_ctx);
    EVP_MD_free(sha256);
  }

  std::string uid_key;
  EVP_MD* sha256 = nullptr;
  EVP_MD_CTX* digest_ctx = nullptr;
};

MeasurementExtractor::MeasurementExtractor(const IngestOptions& options)
    : impl_(new Impl(options)) {}

MeasurementExtractor::~MeasurementExtractor() { delete impl_; }

Result<void> MeasurementExtractor::ExtractPadded(const char* json, size_t size, size_t readable,
                                                 ExtractedMeasurement* out) {
  auto done = impl_->Run(json, size, readable, out);
  if (!done.ok()) impl_->Finish(out);  // no stale rows past a partial measurement's own
  return done;
}

Result<void> MeasurementExtractor::Extract(std::string_view json, ExtractedMeasurement* out) {
  impl_->copy.assign(json);
  impl_->copy.append(simdjson::SIMDJSON_PADDING, '\0');
  return ExtractPadded(impl_->copy.data(), json.size(), impl_->copy.size(), out);
}

std::optional<int64_t> OoniUidTime(std::string_view uid) {
  // "20240101000000.123456_IR_webconnectivity_...": OONI's collector stamps the uid with
  // the time it received the measurement (vigil's uids, "<start>_<CC>_...", have no
  // fraction and name the start instead).
  if (uid.size() < 22 || uid[14] != '.' || uid[21] != '_') return std::nullopt;
  for (size_t i = 0; i < 21; ++i) {
    if (i != 14 && (uid[i] < '0' || uid[i] > '9')) return std::nullopt;
  }
  std::string text;
  text.reserve(19);
  text.append(uid.substr(0, 4)).append("-").append(uid.substr(4, 2)).append("-");
  text.append(uid.substr(6, 2)).append(" ").append(uid.substr(8, 2)).append(":");
  text.append(uid.substr(10, 2)).append(":").append(uid.substr(12, 2));
  return ParseMeasurementTime(text);
}

std::optional<int64_t> ParseMeasurementTime(std::string_view t) {
  // YYYY-MM-DD HH:MM:SS, UTC.
  if (t.size() != 19 || t[4] != '-' || t[7] != '-' || (t[10] != ' ' && t[10] != 'T') ||
      t[13] != ':' || t[16] != ':') {
    return std::nullopt;
  }
  auto num = [&](size_t at, size_t n) -> int {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return -1;
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  const int y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2),
            s = num(17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
      s < 0 || s > 60) {
    return std::nullopt;
  }
  // Days from civil (Howard Hinnant's algorithm).
  const int yy = y - (mo <= 2);
  const int era = (yy >= 0 ? yy : yy - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(yy - era * 400);
  const unsigned doy = static_cast<unsigned>((153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1);
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
  return days * 86400 + h * 3600 + mi * 60 + s;
}

std::string_view UrlHost(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    return close == std::string_view::npos ? rest : rest.substr(1, close - 1);
  }
  return rest.substr(0, rest.find(':'));
}

}  // namespace vigil::analysis
