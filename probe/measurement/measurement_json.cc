#include "probe/measurement/measurement_json.h"

#include <concepts>
#include <limits>
#include <set>
#include <type_traits>

#include "base/base64.h"
#include "base/json_depth.h"
#include "base/utf8.h"

namespace vigil {

namespace {

// Deeper documents are refused before nlohmann builds them: copying and comparing
// its values recurses, and a hostile line of a million '[' must not end the process.
// OONI measurements nest about ten levels.
constexpr int kMaxDepth = 256;

// How a field is written when it holds its empty value (nullopt, "", 0, []): as
// itself, as null, or not at all. The choice per field follows ooni/probe-cli's
// archival structs (pointers are null, `omitempty` fields are left out).
enum class Empty { kWrite, kNull, kOmit };

std::string Join(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string(key);
  std::string joined = path;
  joined += '.';
  joined += key;
  return joined;
}

std::string Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

bool Fail(std::string* err, const std::string& path, std::string_view expected, const Json& got) {
  *err = path.empty() ? std::string("(top level)") : path;
  *err += ": expected ";
  *err += expected;
  *err += ", got ";
  *err += got.is_number_float() ? "a fractional number" : got.type_name();
  return false;
}

template <typename S>
concept Struct = requires(S s) {
  s.extra;
  s.spellings;
};

bool IsEmpty(const HttpBody& body) { return body.bytes.empty(); }

template <typename T>
bool IsEmpty(const T& v) {
  if constexpr (requires { v.has_value(); }) {
    return !v.has_value();
  } else if constexpr (requires { v.empty(); }) {
    return v.empty();
  } else {
    static_assert(std::is_arithmetic_v<T>);
    return v == T{};
  }
}

// --- Reading. Each Read leaves the first problem in *err and returns false. ---

bool Read(const Json& j, const std::string& path, std::string* out, std::string* err);
bool Read(const Json& j, const std::string& path, int64_t* out, std::string* err);
bool Read(const Json& j, const std::string& path, double* out, std::string* err);
bool Read(const Json& j, const std::string& path, bool* out, std::string* err);
bool Read(const Json& j, const std::string& path, Json* out, std::string* err);
bool Read(const Json& j, const std::string& path, HttpBody* out, std::string* err);
bool Read(const Json& j, const std::string& path, std::map<std::string, std::string>* out,
          std::string* err);
bool Read(const Json& j, const std::string& path, std::map<std::string, int64_t>* out,
          std::string* err);
bool Read(const Json& j, const std::string& path,
          std::vector<std::pair<std::string, std::string>>* out, std::string* err);
template <typename T>
bool Read(const Json& j, const std::string& path, std::optional<T>* out, std::string* err);
template <typename T>
bool Read(const Json& j, const std::string& path, std::vector<T>* out, std::string* err);
template <Struct S>
bool Read(const Json& j, const std::string& path, S* out, std::string* err);

bool ReadFailure(const Json& j, const std::string& path, FailureString* out, std::string* err);
bool ReadBytes(const Json& j, const std::string& path, std::string* out, std::string* err);
bool ReadHeaderMap(const Json& j, const std::string& path, std::map<std::string, std::string>* out,
                   std::string* err);
bool ReadCertificates(const Json& j, const std::string& path, std::vector<std::string>* out,
                      std::string* err);

// --- Rendering: a field's JSON, before spellings. ---

// Go's encoder, which wrote most OONI data, also replaces what is not UTF-8;
// nlohmann's would throw when the measurement is dumped.
Json Render(const std::string& s) { return IsValidUtf8(s) ? s : ToValidUtf8(s); }
Json Render(int64_t v) { return v; }
Json Render(double v) { return v; }
Json Render(bool v) { return v; }
Json Render(const Json& v) { return v; }
Json Render(const HttpBody& body);
Json Render(const std::map<std::string, std::string>& m);
Json Render(const std::map<std::string, int64_t>& m);
Json Render(const std::vector<std::pair<std::string, std::string>>& headers);
template <typename T>
Json Render(const std::optional<T>& v);
template <typename T>
Json Render(const std::vector<T>& v);
template <Struct S>
Json Render(const S& s);

Json RenderFailure(const FailureString& failure);
Json RenderBytes(std::string_view bytes);
Json RenderHeaderMap(const std::map<std::string, std::string>& headers);
Json RenderCertificates(const std::vector<std::string>& certificates);

// --- Field lists, walked by both visitors below; S is T or const T. ---

template <typename S, typename T>
concept Is = std::same_as<std::remove_const_t<S>, T>;

// Network events leave out empty tags; the other records write null.
template <typename V, Is<Timing> S>
void Visit(V& v, S& t, Empty tags = Empty::kWrite) {
  v.Field("t0", t.t0, Empty::kOmit);
  v.Field("t", t.t);
  v.Field("transaction_id", t.transaction_id, Empty::kOmit);
  v.Field("tags", t.tags, tags);
}

template <typename V, Is<DnsAnswer> S>
void Visit(V& v, S& a) {
  v.Field("answer_type", a.answer_type);
  v.Field("ipv4", a.ipv4, Empty::kOmit);
  v.Field("ipv6", a.ipv6, Empty::kOmit);
  v.Field("hostname", a.hostname, Empty::kOmit);
  v.Field("ttl", a.ttl);
  v.Field("asn", a.asn, Empty::kOmit);
  v.Field("as_org_name", a.as_org_name, Empty::kOmit);
}

template <typename V, Is<DnsQuery> S>
void Visit(V& v, S& q) {
  v.Field("hostname", q.hostname);
  v.Field("query_type", q.query_type);
  v.Field("engine", q.engine);
  v.Field("resolver_hostname", q.resolver_hostname, Empty::kNull);
  v.Field("resolver_address", q.resolver_address, Empty::kOmit);
  v.Field("resolver_port", q.resolver_port, Empty::kNull);
  v.Failure("failure", q.failure);
  v.Field("rcode", q.rcode, Empty::kOmit);
  v.Field("raw_response", q.raw_response, Empty::kOmit);
  v.Field("answers", q.answers, Empty::kNull);
  Visit(v, q.timing);
}

template <typename V, Is<TcpConnectStatus> S>
void Visit(V& v, S& s) {
  v.Field("success", s.success);
  v.Failure("failure", s.failure);
  v.Field("blocked", s.blocked, Empty::kOmit);
}

template <typename V, Is<TcpConnect> S>
void Visit(V& v, S& c) {
  v.Field("ip", c.ip);
  v.Field("port", c.port);
  v.Field("status", c.status);
  Visit(v, c.timing);
}

template <typename V, Is<TlsHandshake> S>
void Visit(V& v, S& h) {
  v.Field("network", h.network);
  v.Field("address", h.address);
  v.Field("server_name", h.server_name);
  v.Field("cipher_suite", h.cipher_suite);
  v.Field("negotiated_protocol", h.negotiated_protocol);
  v.Field("tls_version", h.tls_version);
  v.Certificates("peer_certificates", h.peer_certificates);
  v.Field("no_tls_verify", h.no_tls_verify);
  v.Failure("failure", h.failure);
  Visit(v, h.timing);
}

template <typename V, Is<HttpRequest> S>
void Visit(V& v, S& r) {
  v.Field("url", r.url);
  v.Field("method", r.method);
  v.Field("headers_list", r.headers_list);
  v.Headers("headers", r.headers, r.headers_list);
  v.Field("body", r.body);
  v.Field("body_is_truncated", r.body_is_truncated);
}

template <typename V, Is<HttpResponse> S>
void Visit(V& v, S& r) {
  v.Field("code", r.code);
  v.Field("headers_list", r.headers_list);
  v.Headers("headers", r.headers, r.headers_list);
  v.Field("body", r.body);
  v.Field("body_is_truncated", r.body_is_truncated);
  v.Field("x_title", r.x_title, Empty::kOmit);
}

template <typename V, Is<HttpTransaction> S>
void Visit(V& v, S& r) {
  v.Field("network", r.network, Empty::kOmit);
  v.Field("address", r.address, Empty::kOmit);
  v.Field("alpn", r.alpn, Empty::kOmit);
  v.Failure("failure", r.failure);
  v.Field("request", r.request);
  v.Field("response", r.response);
  Visit(v, r.timing);
}

template <typename V, Is<NetworkEvent> S>
void Visit(V& v, S& e) {
  v.Field("operation", e.operation);
  v.Field("address", e.address, Empty::kOmit);
  v.Field("proto", e.proto, Empty::kOmit);
  v.Field("num_bytes", e.num_bytes, Empty::kOmit);
  v.Failure("failure", e.failure);
  Visit(v, e.timing, Empty::kOmit);
}

template <typename V, Is<TestKeys> S>
void Visit(V& v, S& k) {
  v.Field("queries", k.queries);
  v.Field("tcp_connect", k.tcp_connect);
  v.Field("tls_handshakes", k.tls_handshakes);
  v.Field("requests", k.requests);
  v.Field("network_events", k.network_events);
  v.Failure("failure", k.failure);
  v.Field("failed_operation", k.failed_operation);
}

template <typename V, Is<Measurement> S>
void Visit(V& v, S& m) {
  v.Field("annotations", m.annotations);
  v.Field("data_format_version", m.data_format_version);
  v.Field("extensions", m.extensions);
  v.Field("input", m.input);
  v.Field("measurement_start_time", m.measurement_start_time);
  v.Field("test_start_time", m.test_start_time);
  v.Field("probe_asn", m.probe_asn);
  v.Field("probe_cc", m.probe_cc);
  v.Field("probe_ip", m.probe_ip);
  v.Field("probe_network_name", m.probe_network_name);
  v.Field("report_id", m.report_id);
  v.Field("resolver_asn", m.resolver_asn);
  v.Field("resolver_ip", m.resolver_ip);
  v.Field("resolver_network_name", m.resolver_network_name);
  v.Field("software_name", m.software_name);
  v.Field("software_version", m.software_version);
  v.Field("test_helpers", m.test_helpers);
  v.Field("test_keys", m.test_keys);
  v.Field("test_name", m.test_name);
  v.Field("test_runtime", m.test_runtime);
  v.Field("test_version", m.test_version);
}

// Reads the known keys of one JSON object into a struct. A key that is absent or
// null leaves the field at its empty value; the spelling step records which it was.
class FieldReader {
 public:
  FieldReader(const Json& object, const std::string& path, std::string* err)
      : object_(object), path_(path), err_(err) {}

  template <typename T>
  void Field(std::string_view key, T& field, Empty = Empty::kWrite) {
    if (const Json* j = Take(key)) {
      ok_ = Read(*j, Join(path_, key), &field, err_);
    } else {
      field = T{};
    }
  }
  void Failure(std::string_view key, FailureString& field) {
    field.reset();
    if (const Json* j = Take(key)) ok_ = ReadFailure(*j, Join(path_, key), &field, err_);
  }
  void Headers(std::string_view key, std::map<std::string, std::string>& field,
               const std::vector<std::pair<std::string, std::string>>&) {
    field.clear();
    if (const Json* j = Take(key)) ok_ = ReadHeaderMap(*j, Join(path_, key), &field, err_);
  }
  void Certificates(std::string_view key, std::vector<std::string>& field) {
    field.clear();
    if (const Json* j = Take(key)) ok_ = ReadCertificates(*j, Join(path_, key), &field, err_);
  }

  bool ok() const { return ok_; }
  const std::set<std::string, std::less<>>& known() const { return known_; }

 private:
  // The document's value for `key`, or nullptr when absent or after an error.
  const Json* Take(std::string_view key) {
    known_.emplace(key);
    if (!ok_) return nullptr;
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }

  const Json& object_;
  const std::string& path_;
  std::string* err_;
  bool ok_ = true;
  std::set<std::string, std::less<>> known_;
};

// Renders the known fields of a struct into one JSON object.
class FieldWriter {
 public:
  template <typename T>
  void Field(std::string_view key, const T& field, Empty empty = Empty::kWrite) {
    if (IsEmpty(field) && empty == Empty::kOmit) return;
    object_[std::string(key)] = IsEmpty(field) && empty == Empty::kNull ? Json() : Render(field);
  }
  // Structs have no empty value of their own: a null or missing one is a spelling.
  template <Struct S>
  void Field(std::string_view key, const S& field, Empty = Empty::kWrite) {
    object_[std::string(key)] = Render(field);
  }
  void Failure(std::string_view key, const FailureString& field) {
    object_[std::string(key)] = RenderFailure(field);
  }
  void Headers(std::string_view key, const std::map<std::string, std::string>& headers,
               const std::vector<std::pair<std::string, std::string>>& headers_list) {
    if (!headers.empty() || headers_list.empty()) {
      object_[std::string(key)] = RenderHeaderMap(headers);
      return;
    }
    // OONI's map keeps one value per name; the first on the wire is the one a
    // client would act on.
    std::map<std::string, std::string> derived;
    for (const auto& [name, value] : headers_list) derived.emplace(name, value);
    object_[std::string(key)] = RenderHeaderMap(derived);
  }
  void Certificates(std::string_view key, const std::vector<std::string>& certificates) {
    object_[std::string(key)] = certificates.empty() ? Json() : RenderCertificates(certificates);
  }

  Json Take() { return std::move(object_); }

 private:
  Json object_ = Json::object();
};

template <Struct S>
Json RenderKnown(const S& s) {
  FieldWriter writer;
  Visit(writer, s);
  return writer.Take();
}

const Json* Find(const Json& object, const std::string& key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// Whether two optional values, nullptr for a missing key, are the same JSON.
bool Same(const Json* a, const Json* b) { return a && b ? *a == *b : a == b; }

const Json* Ptr(const std::optional<Json>& v) { return v ? &*v : nullptr; }

template <Struct S>
Json Render(const S& s) {
  Json out = RenderKnown(s);
  for (const auto& [key, spelling] : s.spellings) {
    if (!Same(Find(out, key), Ptr(spelling.rendered))) continue;
    if (spelling.written) {
      out[key] = *spelling.written;
    } else {
      out.erase(key);
    }
  }
  if (s.extra.is_object()) {
    for (const auto& [key, value] : s.extra.items()) {
      if (!out.contains(key)) out[key] = value;
    }
  }
  return out;
}

template <Struct S>
bool Read(const Json& j, const std::string& path, S* out, std::string* err) {
  if (j.is_null()) {
    *out = S{};
    return true;
  }
  if (!j.is_object()) return Fail(err, path, "an object", j);
  S s;
  // The reader gives absent keys empty values, not the struct's defaults: a
  // document without probe_ip has no probe_ip, it does not have "127.0.0.1".
  FieldReader reader(j, path, err);
  Visit(reader, s);
  if (!reader.ok()) return false;

  s.extra = Json::object();
  for (const auto& [key, value] : j.items()) {
    if (!reader.known().contains(key)) s.extra[key] = value;
  }
  const Json rendered = RenderKnown(s);
  for (const std::string& key : reader.known()) {
    const Json* written = Find(j, key);
    const Json* ours = Find(rendered, key);
    if (Same(written, ours)) continue;
    KeySpelling& spelling = s.spellings[key];
    if (written) spelling.written = *written;
    if (ours) spelling.rendered = *ours;
  }
  *out = std::move(s);
  return true;
}

bool Read(const Json& j, const std::string& path, std::string* out, std::string* err) {
  if (j.is_null()) {
    out->clear();
    return true;
  }
  if (!j.is_string()) return Fail(err, path, "a string", j);
  *out = j.get_ref<const std::string&>();
  return true;
}

bool Read(const Json& j, const std::string& path, int64_t* out, std::string* err) {
  if (j.is_null()) {
    *out = 0;
    return true;
  }
  if (j.is_number_unsigned()) {
    const auto v = j.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      *err = path + ": integer " + std::to_string(v) + " is out of range";
      return false;
    }
    *out = static_cast<int64_t>(v);
    return true;
  }
  if (!j.is_number_integer()) return Fail(err, path, "an integer", j);
  *out = j.get<int64_t>();
  return true;
}

bool Read(const Json& j, const std::string& path, double* out, std::string* err) {
  if (j.is_null()) {
    *out = 0;
    return true;
  }
  if (!j.is_number()) return Fail(err, path, "a number", j);
  *out = j.get<double>();
  return true;
}

bool Read(const Json& j, const std::string& path, bool* out, std::string* err) {
  if (j.is_null()) {
    *out = false;
    return true;
  }
  if (!j.is_boolean()) return Fail(err, path, "a boolean", j);
  *out = j.get<bool>();
  return true;
}

bool Read(const Json& j, const std::string&, Json* out, std::string*) {
  *out = j;
  return true;
}

bool Read(const Json& j, const std::string& path, HttpBody* out, std::string* err) {
  return ReadBytes(j, path, &out->bytes, err);
}

bool Read(const Json& j, const std::string& path, std::map<std::string, std::string>* out,
          std::string* err) {
  out->clear();
  if (j.is_null()) return true;
  if (!j.is_object()) return Fail(err, path, "an object", j);
  for (const auto& [key, value] : j.items()) {
    if (!Read(value, Join(path, key), &(*out)[key], err)) return false;
  }
  return true;
}

bool Read(const Json& j, const std::string& path, std::map<std::string, int64_t>* out,
          std::string* err) {
  out->clear();
  if (j.is_null()) return true;
  if (!j.is_object()) return Fail(err, path, "an object", j);
  for (const auto& [key, value] : j.items()) {
    if (!Read(value, Join(path, key), &(*out)[key], err)) return false;
  }
  return true;
}

bool Read(const Json& j, const std::string& path,
          std::vector<std::pair<std::string, std::string>>* out, std::string* err) {
  out->clear();
  if (j.is_null()) return true;
  if (!j.is_array()) return Fail(err, path, "an array", j);
  for (size_t i = 0; i < j.size(); ++i) {
    const Json& pair = j[i];
    const std::string at = Index(path, i);
    if (!pair.is_array() || pair.size() != 2) return Fail(err, at, "a [name, value] pair", pair);
    auto& [name, value] = out->emplace_back();
    if (!ReadBytes(pair[0], Index(at, 0), &name, err)) return false;
    if (!ReadBytes(pair[1], Index(at, 1), &value, err)) return false;
  }
  return true;
}

template <typename T>
bool Read(const Json& j, const std::string& path, std::optional<T>* out, std::string* err) {
  if (j.is_null()) {
    out->reset();
    return true;
  }
  T value{};
  if (!Read(j, path, &value, err)) return false;
  *out = std::move(value);
  return true;
}

template <typename T>
bool Read(const Json& j, const std::string& path, std::vector<T>* out, std::string* err) {
  out->clear();
  if (j.is_null()) return true;
  if (!j.is_array()) return Fail(err, path, "an array", j);
  out->reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    if (!Read(j[i], Index(path, i), &out->emplace_back(), err)) return false;
  }
  return true;
}

// Old probes wrote `false` for "no failure".
bool ReadFailure(const Json& j, const std::string& path, FailureString* out, std::string* err) {
  if (j.is_null() || (j.is_boolean() && !j.get<bool>())) {
    out->reset();
    return true;
  }
  if (!j.is_string()) return Fail(err, path, "a failure string or null", j);
  *out = j.get_ref<const std::string&>();
  return true;
}

bool ReadBytes(const Json& j, const std::string& path, std::string* out, std::string* err) {
  if (!j.is_object()) return Read(j, path, out, err);
  auto format = j.find("format");
  auto data = j.find("data");
  if (format == j.end() || *format != "base64" || data == j.end() || !data->is_string()) {
    *err = path + ": expected a string or {\"format\":\"base64\",\"data\":...}";
    return false;
  }
  std::optional<std::string> bytes = Base64Decode(data->get_ref<const std::string&>());
  if (!bytes) {
    *err = Join(path, "data") + ": invalid base64";
    return false;
  }
  *out = std::move(*bytes);
  return true;
}

bool ReadHeaderMap(const Json& j, const std::string& path, std::map<std::string, std::string>* out,
                   std::string* err) {
  out->clear();
  if (j.is_null()) return true;
  if (!j.is_object()) return Fail(err, path, "an object", j);
  for (const auto& [key, value] : j.items()) {
    if (!ReadBytes(value, Join(path, key), &(*out)[key], err)) return false;
  }
  return true;
}

bool ReadCertificates(const Json& j, const std::string& path, std::vector<std::string>* out,
                      std::string* err) {
  out->clear();
  if (j.is_null()) return true;
  if (!j.is_array()) return Fail(err, path, "an array", j);
  for (size_t i = 0; i < j.size(); ++i) {
    const Json& entry = j[i];
    const std::string at = Index(path, i);
    if (!entry.is_object()) return Fail(err, at, "an object", entry);
    auto format = entry.find("format");
    auto data = entry.find("data");
    if (format == entry.end() || *format != "base64" || data == entry.end() || !data->is_string()) {
      *err = at + ": expected {\"format\":\"base64\",\"data\":...}";
      return false;
    }
    out->push_back(data->get<std::string>());
  }
  return true;
}

Json RenderBytes(std::string_view bytes) {
  if (IsValidUtf8(bytes)) return std::string(bytes);
  return Json{{"format", "base64"}, {"data", Base64Encode(bytes)}};
}

Json Render(const HttpBody& body) { return RenderBytes(body.bytes); }

Json Render(const std::map<std::string, std::string>& m) {
  Json out = Json::object();
  for (const auto& [key, value] : m) out[ToValidUtf8(key)] = Render(value);
  return out;
}

Json Render(const std::map<std::string, int64_t>& m) {
  Json out = Json::object();
  for (const auto& [key, value] : m) out[ToValidUtf8(key)] = value;
  return out;
}

Json Render(const std::vector<std::pair<std::string, std::string>>& headers) {
  Json out = Json::array();
  for (const auto& [name, value] : headers) {
    out.push_back(Json::array({RenderBytes(name), RenderBytes(value)}));
  }
  return out;
}

template <typename T>
Json Render(const std::optional<T>& v) {
  return v ? Render(*v) : Json();
}

template <typename T>
Json Render(const std::vector<T>& v) {
  Json out = Json::array();
  for (const T& item : v) out.push_back(Render(item));
  return out;
}

Json RenderFailure(const FailureString& failure) { return failure ? Render(*failure) : Json(); }

// A JSON key cannot be base64, and a name off the wire may be any bytes.
Json RenderHeaderMap(const std::map<std::string, std::string>& headers) {
  Json out = Json::object();
  for (const auto& [name, value] : headers) out[ToValidUtf8(name)] = RenderBytes(value);
  return out;
}

Json RenderCertificates(const std::vector<std::string>& certificates) {
  Json out = Json::array();
  for (const std::string& der : certificates) {
    out.push_back(Json{{"format", "base64"}, {"data", Render(der)}});
  }
  return out;
}

}  // namespace

Json ToJson(const Measurement& m) { return Render(m); }
Json ToJson(const TestKeys& k) { return Render(k); }
Json ToJson(const DnsQuery& q) { return Render(q); }
Json ToJson(const TcpConnect& c) { return Render(c); }
Json ToJson(const TlsHandshake& h) { return Render(h); }
Json ToJson(const HttpTransaction& r) { return Render(r); }
Json ToJson(const NetworkEvent& e) { return Render(e); }

Result<Measurement> MeasurementFromJson(const Json& j) {
  if (!j.is_object()) {
    std::string err;
    Fail(&err, "", "an object", j);
    return Error{err};
  }
  try {
    Measurement m;
    std::string err;
    if (!Read(j, "", &m, &err)) return Error{err};
    return m;
  } catch (const Json::exception& e) {
    // Every access above is checked first; this is a bug of ours, reported as data.
    return Error{std::string("measurement: ") + e.what()};
  }
}

Result<Measurement> ParseMeasurement(std::string_view text) {
  if (std::optional<size_t> offset = JsonNestedDeeperThan(text, kMaxDepth)) {
    return Error{"byte offset " + std::to_string(*offset) + ": JSON nested deeper than " +
                 std::to_string(kMaxDepth) + " levels"};
  }
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::parse_error& e) {
    // nlohmann counts the bytes it read, the bad one included.
    const size_t offset = e.byte > 0 ? e.byte - 1 : 0;
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 9: ".
    if (size_t colon = what.find(": "); colon != std::string::npos) what.erase(0, colon + 2);
    return Error{"byte offset " + std::to_string(offset) + ": " + what};
  }
  return MeasurementFromJson(j);
}

}  // namespace vigil
