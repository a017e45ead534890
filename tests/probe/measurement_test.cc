#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/base64.h"
#include "base/utf8.h"
#include "probe/measurement/measurement_json.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;

// The real OONI measurements: ooni-measurements/ of the reference data (found as every
// suite finds it: $VIGIL_REFERENCE_DIR or ../shared/reference).
fs::path ReferenceDir() { return fs::path(test_support::ReferenceDir()) / "ooni-measurements"; }

std::vector<fs::path> ReferenceFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".jsonl") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

struct ReferenceLine {
  std::string where;  // file:line
  std::string text;
};

std::vector<ReferenceLine> ReadLines(const fs::path& file) {
  std::vector<ReferenceLine> lines;
  std::ifstream in(file, std::ios::binary);
  std::string text;
  for (int n = 1; std::getline(in, text); ++n) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    lines.push_back({file.string() + ":" + std::to_string(n), text});
  }
  return lines;
}

std::string Short(const Json& j) {
  std::string s = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > 160) s = s.substr(0, 160) + "...";
  return s;
}

std::string At(const std::string& path) { return path.empty() ? "(top level)" : path; }

// The JSON path of the first place where `got` differs from `want`, with both
// values; nullopt when they are equal. Numbers compare by value (5 == 5.0), the
// way JSON itself does not distinguish them.
std::optional<std::string> FirstDifference(const Json& want, const Json& got,
                                           const std::string& path = "") {
  const bool both_numbers = want.is_number() && got.is_number();
  if (want.type() != got.type() && !both_numbers) {
    return At(path) + ": want " + Short(want) + ", got " + Short(got);
  }
  if (want.is_object()) {
    for (const auto& [key, value] : want.items()) {
      const std::string sub = path.empty() ? key : path + "." + key;
      auto it = got.find(key);
      if (it == got.end()) return sub + ": missing, want " + Short(value);
      if (auto diff = FirstDifference(value, *it, sub)) return diff;
    }
    for (const auto& [key, value] : got.items()) {
      if (!want.contains(key)) {
        return (path.empty() ? key : path + "." + key) + ": unexpected " + Short(value);
      }
    }
    return std::nullopt;
  }
  if (want.is_array()) {
    for (size_t i = 0; i < std::min(want.size(), got.size()); ++i) {
      if (auto diff = FirstDifference(want[i], got[i], path + "[" + std::to_string(i) + "]")) {
        return diff;
      }
    }
    if (want.size() != got.size()) {
      return At(path) + ": want " + std::to_string(want.size()) + " elements, got " +
             std::to_string(got.size());
    }
    return std::nullopt;
  }
  if (want != got) return At(path) + ": want " + Short(want) + ", got " + Short(got);
  return std::nullopt;
}

TEST(FirstDifferenceTest, NamesThePathOfTheFirstDifference) {
  const Json want = Json::parse(R"({"a": {"b": [1, {"c": "x"}]}, "t": 5})");
  EXPECT_EQ(FirstDifference(want, Json::parse(R"({"a": {"b": [1, {"c": "x"}]}, "t": 5.0})")),
            std::nullopt);
  EXPECT_EQ(FirstDifference(want, Json::parse(R"({"a": {"b": [1, {"c": "y"}]}, "t": 5})")),
            R"(a.b[1].c: want "x", got "y")");
  EXPECT_EQ(FirstDifference(want, Json::parse(R"({"a": {"b": [1]}, "t": 5})")),
            "a.b: want 2 elements, got 1");
  EXPECT_EQ(FirstDifference(want, Json::parse(R"({"a": {"b": [1, {"c": "x"}]}})")),
            "t: missing, want 5");
  EXPECT_EQ(FirstDifference(want, Json::parse(R"({"a": {"b": [1, {"c": "x"}]}, "t": 5, "u": 1})")),
            "u: unexpected 1");
}

// --- Round trip of real OONI data. ---

// One key a parsed document spelled its own way, found anywhere in a measurement.
struct Spelled {
  std::string path;
  const KeySpelling* spelling;
};

void Collect(const std::string& path, const KeySpellings& spellings, std::vector<Spelled>* out) {
  for (const auto& [key, spelling] : spellings) {
    out->push_back({path.empty() ? key : path + "." + key, &spelling});
  }
}

std::vector<Spelled> AllSpellings(const Measurement& m) {
  std::vector<Spelled> out;
  auto at = [](const std::string& path, const char* key, size_t i) {
    return path + "." + key + "[" + std::to_string(i) + "]";
  };
  Collect("", m.spellings, &out);
  const TestKeys& k = m.test_keys;
  Collect("test_keys", k.spellings, &out);
  for (size_t i = 0; i < k.queries.size(); ++i) {
    const std::string path = at("test_keys", "queries", i);
    Collect(path, k.queries[i].spellings, &out);
    for (size_t j = 0; j < k.queries[i].answers.size(); ++j) {
      Collect(at(path, "answers", j), k.queries[i].answers[j].spellings, &out);
    }
  }
  for (size_t i = 0; i < k.tcp_connect.size(); ++i) {
    Collect(at("test_keys", "tcp_connect", i), k.tcp_connect[i].spellings, &out);
    Collect(at("test_keys", "tcp_connect", i) + ".status", k.tcp_connect[i].status.spellings, &out);
  }
  for (size_t i = 0; i < k.tls_handshakes.size(); ++i) {
    Collect(at("test_keys", "tls_handshakes", i), k.tls_handshakes[i].spellings, &out);
  }
  for (size_t i = 0; i < k.requests.size(); ++i) {
    const std::string path = at("test_keys", "requests", i);
    Collect(path, k.requests[i].spellings, &out);
    Collect(path + ".request", k.requests[i].request.spellings, &out);
    Collect(path + ".response", k.requests[i].response.spellings, &out);
  }
  for (size_t i = 0; i < k.network_events.size(); ++i) {
    Collect(at("test_keys", "network_events", i), k.network_events[i].spellings, &out);
  }
  return out;
}

// Spellings carry a document through unchanged whatever ToJson does, so on their
// own they would hide rendering bugs. In real data they may only stand for what
// OONI's probes really vary on: a key left out, null, or false for "no failure";
// and, in old measurements, base64 for header values that are valid UTF-8.
std::optional<std::string> UnexplainedSpelling(const Spelled& s) {
  const KeySpelling& sp = *s.spelling;
  if (!sp.written || sp.written->is_null() || *sp.written == false) return std::nullopt;
  const bool headers = s.path.size() >= 8 && s.path.compare(s.path.size() - 8, 8, ".headers") == 0;
  if (headers && sp.written->is_object() && sp.rendered && sp.rendered->is_object() &&
      sp.written->size() == sp.rendered->size()) {
    bool only_base64 = true;
    for (const auto& [name, value] : sp.written->items()) {
      auto ours = sp.rendered->find(name);
      if (ours != sp.rendered->end() && value == *ours) continue;
      only_base64 = only_base64 && ours != sp.rendered->end() && ours->is_string() &&
                    value.is_object() && value.value("format", "") == "base64" &&
                    Base64Decode(value.value("data", "")) == ours->get<std::string>();
    }
    if (only_base64) return std::nullopt;
  }
  return s.path + ": written " + Short(*sp.written) + ", the model renders " +
         (sp.rendered ? Short(*sp.rendered) : std::string("nothing"));
}

TEST(MeasurementJsonTest, ReferenceMeasurementsRoundTripUnchanged) {
  const fs::path dir = ReferenceDir();
  if (!fs::is_directory(dir)) {
    GTEST_SKIP() << "no reference OONI measurements: looked for *.jsonl under " << dir
                 << " (set VIGIL_REFERENCE_DIR to another folder)";
  }
  const std::vector<fs::path> files = ReferenceFiles(dir);
  ASSERT_FALSE(files.empty()) << "no *.jsonl files under " << dir;

  int total = 0;
  int spellings = 0;
  for (const fs::path& file : files) {
    const std::vector<ReferenceLine> lines = ReadLines(file);
    EXPECT_FALSE(lines.empty()) << file << " contributed no measurement";
    for (const ReferenceLine& line : lines) {
      ++total;
      Json want;
      try {
        want = Json::parse(line.text);
      } catch (const Json::exception& e) {
        ADD_FAILURE() << line.where << ": the reference line is not JSON: " << e.what();
        continue;
      }
      Result<Measurement> parsed = ParseMeasurement(line.text);
      if (!parsed.ok()) {
        ADD_FAILURE() << line.where << ": " << parsed.error();
        continue;
      }
      const Json got = ToJson(*parsed);
      if (auto diff = FirstDifference(want, got)) {
        ADD_FAILURE() << line.where << ": " << *diff;
        continue;
      }
      EXPECT_NO_THROW(static_cast<void>(got.dump())) << line.where;
      for (const Spelled& spelled : AllSpellings(*parsed)) {
        ++spellings;
        if (auto why = UnexplainedSpelling(spelled)) ADD_FAILURE() << line.where << ": " << *why;
      }

      // What we write must read back to the same document: spellings survive.
      Result<Measurement> again = MeasurementFromJson(got);
      ASSERT_TRUE(again.ok()) << line.where << ": " << again.error();
      if (auto diff = FirstDifference(want, ToJson(*again))) {
        ADD_FAILURE() << line.where << " (second trip): " << *diff;
      }
    }
  }
  EXPECT_GT(total, 0);
  RecordProperty("measurements", total);
  std::cout << "round-tripped " << total << " reference measurements from " << files.size()
            << " files under " << dir.string() << " (" << spellings
            << " keys in the documents' own spelling)\n";
}

// The model must hold the data, not just carry it through: spot checks on fields
// the reference data has in every shape.
TEST(MeasurementJsonTest, ReferenceMeasurementsFillTheModel) {
  const fs::path dir = ReferenceDir();
  if (!fs::is_directory(dir)) GTEST_SKIP() << "no reference OONI measurements under " << dir;
  size_t queries = 0, answers = 0, connects = 0, handshakes = 0, certificates = 0, requests = 0;
  size_t binary_bodies = 0, events = 0;
  for (const fs::path& file : ReferenceFiles(dir)) {
    for (const ReferenceLine& line : ReadLines(file)) {
      Result<Measurement> m = ParseMeasurement(line.text);
      ASSERT_TRUE(m.ok()) << line.where << ": " << m.error();
      EXPECT_FALSE(m->test_name.empty()) << line.where;
      EXPECT_FALSE(m->measurement_start_time.empty()) << line.where;
      const TestKeys& k = m->test_keys;
      queries += k.queries.size();
      for (const DnsQuery& q : k.queries) {
        EXPECT_FALSE(q.hostname.empty()) << line.where;
        answers += q.answers.size();
      }
      connects += k.tcp_connect.size();
      for (const TcpConnect& c : k.tcp_connect) EXPECT_GT(c.port, 0) << line.where;
      handshakes += k.tls_handshakes.size();
      for (const TlsHandshake& h : k.tls_handshakes) {
        for (const std::string& der : h.peer_certificates) {
          ++certificates;
          std::optional<std::string> bytes = Base64Decode(der);
          ASSERT_TRUE(bytes.has_value()) << line.where;
          ASSERT_FALSE(bytes->empty()) << line.where;
          EXPECT_EQ(static_cast<unsigned char>((*bytes)[0]), 0x30) << line.where << ": not DER";
        }
      }
      requests += k.requests.size();
      for (const HttpTransaction& r : k.requests) {
        if (!IsValidUtf8(r.response.body.bytes)) ++binary_bodies;
      }
      events += k.network_events.size();
    }
  }
  // Counts from the Python json module over the same files.
  EXPECT_EQ(queries, 689u);
  EXPECT_EQ(answers, 1108u);
  EXPECT_EQ(connects, 589u);
  EXPECT_EQ(handshakes, 214u);
  EXPECT_EQ(certificates, 349u);
  EXPECT_EQ(requests, 259u);
  EXPECT_EQ(binary_bodies, 2u);
  EXPECT_EQ(events, 2333u);
}

// --- Shapes of a measurement built in C++. ---

Measurement Built() {
  Measurement m;
  m.annotations = {{"engine_name", "vigil"}, {"platform", "linux"}};
  m.extensions = {{"dnst", 0}, {"httpt", 0}, {"netevents", 0}, {"tcpconnect", 0}};
  m.input = "https://example.com/";
  m.measurement_start_time = "2024-05-06 07:08:09";
  m.test_start_time = "2024-05-06 07:08:00";
  m.report_id = "20240506T070800Z_webconnectivity_ZZ_0_n1_abc";
  m.software_version = "0.1.0";
  m.test_name = "web_connectivity";
  m.test_runtime = 1.25;
  m.test_version = "0.5.0";

  DnsQuery ok;
  ok.hostname = "example.com";
  ok.query_type = "ANY";
  ok.engine = "getaddrinfo";
  DnsAnswer a;
  a.answer_type = "A";
  a.ipv4 = "93.184.215.14";
  a.asn = 15133;
  a.as_org_name = "Edgecast Inc.";
  ok.answers.push_back(a);
  ok.timing.t0 = 0.001;
  ok.timing.t = 0.02;
  ok.timing.transaction_id = 1;
  m.test_keys.queries.push_back(ok);

  DnsQuery nx;
  nx.hostname = "nx.example.com";
  nx.query_type = "A";
  nx.engine = "udp";
  nx.resolver_address = "8.8.8.8:53";
  nx.failure = "dns_nxdomain_error";
  nx.rcode = 3;
  nx.raw_response = Base64Encode(std::string("\x12\x34\x81\x83", 4));
  m.test_keys.queries.push_back(nx);

  TcpConnect c;
  c.ip = "93.184.215.14";
  c.port = 443;
  c.status.success = true;
  m.test_keys.tcp_connect.push_back(c);
  c.port = 80;
  c.status.success = false;
  c.status.failure = "connection_reset";
  m.test_keys.tcp_connect.push_back(c);

  TlsHandshake h;
  h.network = "tcp";
  h.address = "93.184.215.14:443";
  h.server_name = "example.com";
  h.cipher_suite = "TLS_AES_128_GCM_SHA256";
  h.negotiated_protocol = "h2";
  h.tls_version = "TLSv1.3";
  h.peer_certificates = {Base64Encode("\x30\x82leaf"), Base64Encode("\x30\x82intermediate")};
  m.test_keys.tls_handshakes.push_back(h);
  h.peer_certificates.clear();
  h.failure = "ssl_invalid_hostname";
  m.test_keys.tls_handshakes.push_back(h);

  HttpTransaction r;
  r.network = "tcp";
  r.address = "93.184.215.14:443";
  r.alpn = "h2";
  r.request.url = "https://example.com/";
  r.request.method = "GET";
  r.request.headers_list = {{"Host", "example.com"}, {"Accept", "*/*"}};
  r.response.code = 200;
  r.response.headers_list = {{"Set-Cookie", "a=1"},
                             {"Content-Type", "image/jpeg"},
                             {"Set-Cookie", "b=2"},
                             {"X-Raw", std::string("\xff\xfe", 2)}};
  r.response.body.bytes = std::string("\xff\xd8\xff\xe0\x00\x10JFIF", 10);
  r.response.x_title = "Example";
  m.test_keys.requests.push_back(r);

  NetworkEvent e;
  e.operation = "read";
  e.address = "93.184.215.14:443";
  e.proto = "tcp";
  e.num_bytes = 1024;
  e.timing.t = 0.5;
  m.test_keys.network_events.push_back(e);
  NetworkEvent start;
  start.operation = "http_transaction_start";
  start.timing.t = 0.1;
  m.test_keys.network_events.push_back(start);

  m.test_keys.extra["x_blocking_flags"] = 0;
  m.test_keys.extra["blocking"] = false;
  return m;
}

TEST(MeasurementJsonTest, BuiltMeasurementHasOoniEnvelope) {
  Json j = ToJson(Built());
  EXPECT_EQ(j["data_format_version"], "0.2.0");
  EXPECT_EQ(j["probe_asn"], "AS0");
  EXPECT_EQ(j["probe_cc"], "ZZ");
  EXPECT_EQ(j["probe_ip"], "127.0.0.1");
  EXPECT_EQ(j["software_name"], "vigil");
  EXPECT_EQ(j["input"], "https://example.com/");
  EXPECT_EQ(j["test_runtime"], 1.25);
  EXPECT_EQ(j["annotations"], Json::parse(R"({"engine_name": "vigil", "platform": "linux"})"));
  EXPECT_EQ(j["extensions"]["dnst"], 0);
  EXPECT_TRUE(j["test_helpers"].is_null());
  EXPECT_EQ(j["test_keys"]["x_blocking_flags"], 0);
  EXPECT_EQ(j["test_keys"]["blocking"], false);
  EXPECT_TRUE(j["test_keys"]["failure"].is_null());
  EXPECT_TRUE(j["test_keys"].contains("failure"));
}

TEST(MeasurementJsonTest, FailureIsNullOrString) {
  Json k = ToJson(Built())["test_keys"];
  EXPECT_TRUE(k["queries"][0].contains("failure"));
  EXPECT_TRUE(k["queries"][0]["failure"].is_null());
  EXPECT_EQ(k["queries"][1]["failure"], "dns_nxdomain_error");
  EXPECT_EQ(k["tcp_connect"][0]["status"], Json::parse(R"({"success": true, "failure": null})"));
  EXPECT_EQ(k["tcp_connect"][1]["status"],
            Json::parse(R"({"success": false, "failure": "connection_reset"})"));
  EXPECT_EQ(k["tls_handshakes"][1]["failure"], "ssl_invalid_hostname");
}

TEST(MeasurementJsonTest, DnsQueriesHaveOoniShape) {
  Json k = ToJson(Built())["test_keys"];
  EXPECT_EQ(k["queries"][0], Json::parse(R"({
    "hostname": "example.com", "query_type": "ANY", "engine": "getaddrinfo",
    "resolver_hostname": null, "resolver_port": null, "failure": null,
    "answers": [{"answer_type": "A", "ipv4": "93.184.215.14", "ttl": null,
                 "asn": 15133, "as_org_name": "Edgecast Inc."}],
    "t0": 0.001, "t": 0.02, "transaction_id": 1, "tags": null})"));
  EXPECT_EQ(k["queries"][1]["rcode"], 3);
  EXPECT_EQ(k["queries"][1]["raw_response"], "EjSBgw==");
  EXPECT_EQ(k["queries"][1]["resolver_address"], "8.8.8.8:53");
  EXPECT_TRUE(k["queries"][1]["answers"].is_null());
  EXPECT_FALSE(k["queries"][1].contains("t0"));
}

TEST(MeasurementJsonTest, PeerCertificatesAreBase64Objects) {
  Json k = ToJson(Built())["test_keys"];
  EXPECT_EQ(k["tls_handshakes"][0]["peer_certificates"],
            Json::array({{{"format", "base64"}, {"data", Base64Encode("\x30\x82leaf")}},
                         {{"format", "base64"}, {"data", Base64Encode("\x30\x82intermediate")}}}));
  EXPECT_TRUE(k["tls_handshakes"][1]["peer_certificates"].is_null());
  EXPECT_EQ(k["tls_handshakes"][0]["no_tls_verify"], false);
}

TEST(MeasurementJsonTest, BodiesAreStringsWhenUtf8ElseBase64) {
  Measurement m = Built();
  Json r = ToJson(m)["test_keys"]["requests"][0];
  EXPECT_EQ(r["response"]["body"],
            Json::parse(R"({"format": "base64", "data": "/9j/4AAQSkZJRg=="})"));
  EXPECT_EQ(r["request"]["body"], "");
  EXPECT_EQ(r["response"]["x_title"], "Example");

  m.test_keys.requests[0].response.body.bytes = "<html>caf\xc3\xa9</html>";
  r = ToJson(m)["test_keys"]["requests"][0];
  EXPECT_EQ(r["response"]["body"], "<html>caf\xc3\xa9</html>");
}

TEST(MeasurementJsonTest, HeadersMapIsDerivedFromHeadersListFirstValueWins) {
  Measurement m = Built();
  Json response = ToJson(m)["test_keys"]["requests"][0]["response"];
  EXPECT_EQ(response["headers"], Json::parse(R"({
    "Set-Cookie": "a=1", "Content-Type": "image/jpeg",
    "X-Raw": {"format": "base64", "data": "//4="}})"));
  EXPECT_EQ(response["headers_list"], Json::parse(R"([
    ["Set-Cookie", "a=1"], ["Content-Type", "image/jpeg"], ["Set-Cookie", "b=2"],
    ["X-Raw", {"format": "base64", "data": "//4="}]])"));
  EXPECT_EQ(ToJson(m)["test_keys"]["requests"][0]["request"]["headers"],
            Json::parse(R"({"Host": "example.com", "Accept": "*/*"})"));

  // A map the observer filled itself is written as it is.
  m.test_keys.requests[0].response.headers = {{"Set-Cookie", "b=2"}};
  response = ToJson(m)["test_keys"]["requests"][0]["response"];
  EXPECT_EQ(response["headers"], Json::parse(R"({"Set-Cookie": "b=2"})"));
}

TEST(MeasurementJsonTest, OptionalKeysAreLeftOutLikeProbeCli) {
  Json k = ToJson(Built())["test_keys"];
  const Json& read = k["network_events"][0];
  EXPECT_EQ(read, Json::parse(R"({"operation": "read", "address": "93.184.215.14:443",
    "proto": "tcp", "num_bytes": 1024, "failure": null, "t": 0.5})"));
  EXPECT_EQ(k["network_events"][1], Json::parse(R"({"operation": "http_transaction_start",
    "failure": null, "t": 0.1})"));
  EXPECT_FALSE(k["tcp_connect"][0]["status"].contains("blocked"));
}

TEST(MeasurementJsonTest, ExtraKeysCannotOverrideKnownOnes) {
  Measurement m = Built();
  m.test_keys.extra["failure"] = "not from the model";
  m.extra["x_engine"] = "vigil";
  Json j = ToJson(m);
  EXPECT_TRUE(j["test_keys"]["failure"].is_null());
  EXPECT_EQ(j["x_engine"], "vigil");
}

TEST(MeasurementJsonTest, TextThatIsNotUtf8StillDumps) {
  Measurement m = Built();
  m.test_keys.queries[0].answers[0].answer_type = "CNAME";
  m.test_keys.queries[0].answers[0].hostname = "bad\xff.example";
  m.test_keys.failure = "unknown_failure: \xc0";
  m.test_keys.requests[0].response.headers = {{"X-\xfe", "v"}};
  Json j = ToJson(m);
  EXPECT_EQ(j["test_keys"]["queries"][0]["answers"][0]["hostname"], "bad\xef\xbf\xbd.example");
  EXPECT_EQ(j["test_keys"]["failure"], "unknown_failure: \xef\xbf\xbd");
  EXPECT_TRUE(j["test_keys"]["requests"][0]["response"]["headers"].contains("X-\xef\xbf\xbd"));
  EXPECT_NO_THROW(static_cast<void>(j.dump()));
}

TEST(MeasurementJsonTest, BuiltMeasurementRoundTripsThroughText) {
  const Json want = ToJson(Built());
  Result<Measurement> parsed = ParseMeasurement(want.dump());
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(FirstDifference(want, ToJson(*parsed)), std::nullopt);
  EXPECT_EQ(parsed->test_keys.requests[0].response.body.bytes,
            std::string("\xff\xd8\xff\xe0\x00\x10JFIF", 10));
  EXPECT_EQ(parsed->test_keys.requests[0].response.headers.at("X-Raw"), "\xff\xfe");
  EXPECT_EQ(parsed->test_keys.tcp_connect[1].status.failure, "connection_reset");
  EXPECT_EQ(parsed->test_keys.extra["x_blocking_flags"], 0);
}

// --- Reading the spellings older probes used. ---

constexpr const char* kOldStyle = R"({
  "annotations": null, "data_format_version": "0.2.0",
  "measurement_start_time": "2016-11-25 10:00:00", "test_start_time": "2016-11-25 10:00:00",
  "probe_asn": "AS30722", "probe_cc": "IT", "report_id": "", "software_name": "ooniprobe",
  "software_version": "2.0.3", "test_name": "web_connectivity", "test_runtime": 3,
  "test_version": "0.1.0", "input": null,
  "test_keys": {
    "tcp_connect": [{"ip": "1.2.3.4", "port": 80,
                     "status": {"success": true, "failure": false, "blocked": false}}],
    "requests": [{"failure": "connection_reset", "response": null,
                  "request": {"url": "http://x/", "method": "GET", "body": null,
                              "headers": {"Host": "x"}, "tor": {"is_tor": false}}}],
    "queries": [{"hostname": "x", "query_type": "A", "resolver_hostname": null,
                 "resolver_port": null, "failure": null, "answers": [], "t": 0}],
    "network_events": null, "x_status": 32
  },
  "probe_city": null
})";

TEST(MeasurementJsonTest, OldSpellingsAreReadIntoTheModelAndWrittenBack) {
  Result<Measurement> parsed = ParseMeasurement(kOldStyle);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  Measurement m = *parsed;
  EXPECT_EQ(m.probe_ip, "") << "an absent key is empty, not the default";
  EXPECT_EQ(m.test_keys.tcp_connect[0].status.failure, std::nullopt);
  EXPECT_EQ(m.test_keys.tcp_connect[0].status.blocked, false);
  EXPECT_EQ(m.test_keys.requests[0].failure, "connection_reset");
  EXPECT_EQ(m.test_keys.requests[0].request.headers.at("Host"), "x");
  EXPECT_EQ(m.test_keys.requests[0].request.extra["tor"], Json::parse(R"({"is_tor": false})"));
  EXPECT_EQ(m.test_keys.extra["x_status"], 32);
  EXPECT_EQ(m.extra["probe_city"], Json());
  EXPECT_EQ(FirstDifference(Json::parse(kOldStyle), ToJson(m)), std::nullopt);
}

TEST(MeasurementJsonTest, ChangedFieldsLoseTheDocumentsSpelling) {
  Result<Measurement> parsed = ParseMeasurement(kOldStyle);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  Measurement m = *parsed;
  m.test_keys.requests[0].request.body.bytes = "q=1";
  m.test_keys.requests[0].response.code = 200;
  m.test_keys.tcp_connect[0].status.failure = "connection_refused";
  m.probe_ip = "127.0.0.1";
  Json j = ToJson(m);
  EXPECT_EQ(j["probe_ip"], "127.0.0.1");
  EXPECT_EQ(j["test_keys"]["requests"][0]["request"]["body"], "q=1");
  EXPECT_EQ(j["test_keys"]["requests"][0]["response"]["code"], 200);
  EXPECT_EQ(j["test_keys"]["tcp_connect"][0]["status"]["failure"], "connection_refused");
  // Unchanged neighbours keep theirs.
  EXPECT_FALSE(j.contains("resolver_ip"));
  EXPECT_TRUE(j["annotations"].is_null());
}

TEST(MeasurementJsonTest, Base64HeaderValuesAreDecoded) {
  Result<Measurement> parsed = ParseMeasurement(R"({"test_keys": {"requests": [{"request": {},
    "response": {"code": 302, "headers_list": [["Location", "http://a/\u0000"]],
      "headers": {"Location": {"format": "base64", "data": "aHR0cDovL2EvAA=="}},
      "body": {"format": "base64", "data": "AP8="}}}]}})");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  const HttpResponse& response = parsed->test_keys.requests[0].response;
  EXPECT_EQ(response.headers.at("Location"), std::string("http://a/\0", 10));
  EXPECT_EQ(response.headers_list[0].second, std::string("http://a/\0", 10));
  EXPECT_EQ(response.body.bytes, std::string("\x00\xff", 2));
  // NUL is UTF-8, so ToJson would write a string; the document's base64 is kept.
  EXPECT_EQ(ToJson(parsed->test_keys.requests[0])["response"]["headers"]["Location"]["format"],
            "base64");
}

// --- Malformed documents. ---

std::string ErrorOf(std::string_view text) {
  Result<Measurement> parsed = ParseMeasurement(text);
  EXPECT_FALSE(parsed.ok()) << text;
  return parsed.error();
}

TEST(MeasurementJsonTest, NonObjectDocumentsAreRejected) {
  EXPECT_EQ(ErrorOf("[1, 2]"), "(top level): expected an object, got array");
  EXPECT_EQ(ErrorOf("null"), "(top level): expected an object, got null");
  EXPECT_EQ(ErrorOf("\"measurement\""), "(top level): expected an object, got string");
  EXPECT_EQ(ErrorOf("42"), "(top level): expected an object, got number");
  Result<Measurement> from_json = MeasurementFromJson(Json::array());
  EXPECT_EQ(from_json.error(), "(top level): expected an object, got array");
}

TEST(MeasurementJsonTest, SyntaxErrorsNameTheByteOffset) {
  const std::string truncated = R"({"probe_cc": "IT", "test_keys": {"queries": [)";
  EXPECT_NE(ErrorOf(truncated).find("byte offset " + std::to_string(truncated.size()) + ":"),
            std::string::npos)
      << ErrorOf(truncated);
  EXPECT_NE(ErrorOf(R"({"probe_cc": tru})").find("byte offset 16:"), std::string::npos)
      << ErrorOf(R"({"probe_cc": tru})");
  EXPECT_NE(ErrorOf("").find("byte offset 0:"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"a": 1} x)").find("byte offset 9:"), std::string::npos);
  EXPECT_NE(ErrorOf("{\"probe_cc\": \"\xff\"}").find("byte offset"), std::string::npos);
}

TEST(MeasurementJsonTest, DeepNestingIsRefusedNotRecursedInto) {
  const std::string deep = "{\"x\": " + std::string(1000000, '[');
  EXPECT_EQ(ErrorOf(deep), "byte offset 261: JSON nested deeper than 256 levels");
  // Brackets inside strings do not count.
  const std::string quoted = "{\"x\": \"" + std::string(1000, '[') + "\"}";
  Result<Measurement> parsed = ParseMeasurement(quoted);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->extra["x"], std::string(1000, '['));
}

TEST(MeasurementJsonTest, TypeErrorsNameTheJsonPath) {
  struct Case {
    const char* document;
    const char* error;
  };
  const Case cases[] = {
      {R"({"probe_cc": 7})", "probe_cc: expected a string, got number"},
      {R"({"test_runtime": "1.5"})", "test_runtime: expected a number, got string"},
      {R"({"annotations": {"platform": 3}})",
       "annotations.platform: expected a string, got number"},
      {R"({"extensions": {"dnst": 0.5}})",
       "extensions.dnst: expected an integer, got a fractional number"},
      {R"({"test_keys": []})", "test_keys: expected an object, got array"},
      {R"({"test_keys": {"network_events": {}}})",
       "test_keys.network_events: expected an array, got object"},
      {R"({"test_keys": {"queries": [{}, {}, {"rcode": "NXDOMAIN"}]}})",
       "test_keys.queries[2].rcode: expected an integer, got string"},
      {R"({"test_keys": {"queries": [{"answers": [{"ttl": 1.5}]}]}})",
       "test_keys.queries[0].answers[0].ttl: expected an integer, got a fractional number"},
      {R"({"test_keys": {"queries": [{"tags": ["a", 1]}]}})",
       "test_keys.queries[0].tags[1]: expected a string, got number"},
      {R"({"test_keys": {"tcp_connect": [{"port": 18446744073709551615}]}})",
       "test_keys.tcp_connect[0].port: integer 18446744073709551615 is out of range"},
      {R"({"test_keys": {"tcp_connect": [{"status": {"success": "yes"}}]}})",
       "test_keys.tcp_connect[0].status.success: expected a boolean, got string"},
      {R"({"test_keys": {"tcp_connect": [{"status": {"failure": true}}]}})",
       "test_keys.tcp_connect[0].status.failure: expected a failure string or null, got boolean"},
      {R"({"test_keys": {"tls_handshakes": [{"peer_certificates": ["MIIB"]}]}})",
       "test_keys.tls_handshakes[0].peer_certificates[0]: expected an object, got string"},
      {R"({"test_keys": {"tls_handshakes": [{"peer_certificates": [{"format": "pem"}]}]}})",
       R"(test_keys.tls_handshakes[0].peer_certificates[0]: expected {"format":"base64","data":...})"},
      {R"({"test_keys": {"requests": [{"response": {"headers_list": [["A", "b"], [5, "c"]]}}]}})",
       "test_keys.requests[0].response.headers_list[1][0]: expected a string, got number"},
      {R"({"test_keys": {"requests": [{"response": {"headers_list": [["A"]]}}]}})",
       "test_keys.requests[0].response.headers_list[0]: expected a [name, value] pair, got array"},
      {R"({"test_keys": {"requests": [{"request": {"headers": {"Host": ["a"]}}}]}})",
       "test_keys.requests[0].request.headers.Host: expected a string, got array"},
      {R"({"test_keys": {"requests": [{"response": {"body": {"format": "base64", "data": "!"}}}]}})",
       "test_keys.requests[0].response.body.data: invalid base64"},
      {R"({"test_keys": {"requests": [{"response": {"body": {"format": "hex"}}}]}})",
       R"(test_keys.requests[0].response.body: expected a string or {"format":"base64","data":...})"},
  };
  for (const Case& c : cases) EXPECT_EQ(ErrorOf(c.document), c.error) << c.document;
}

// --- Mutations of real documents: anything may be rejected, nothing may crash,
// and whatever is accepted must be written back unchanged. ---

Json RandomValue(std::mt19937& rng) {
  switch (std::uniform_int_distribution<int>(0, 11)(rng)) {
    case 0:
      return nullptr;
    case 1:
      return true;
    case 2:
      return false;
    case 3:
      return 0;
    case 4:
      return -7;
    case 5:
      return 18446744073709551615u;
    case 6:
      return 2.5;
    case 7:
      return "mutated";
    case 8:
      return Json::array();
    case 9:
      return Json::object();
    case 10:
      return Json::array({"Host", {{"format", "base64"}, {"data", "AP8="}}});
    default:
      return Json{{"format", "base64"}, {"data", "AP8="}};
  }
}

// Replaces one value, chosen by a random walk from the root, with a value of a
// random type.
void Mutate(Json& doc, std::mt19937& rng) {
  Json* at = &doc;
  while ((at->is_object() || at->is_array()) && !at->empty() &&
         std::uniform_int_distribution<int>(0, 9)(rng) < 8) {
    const size_t i = std::uniform_int_distribution<size_t>(0, at->size() - 1)(rng);
    if (at->is_array()) {
      at = &(*at)[i];
    } else {
      auto it = at->begin();
      std::advance(it, static_cast<std::ptrdiff_t>(i));
      at = &it.value();
    }
  }
  *at = RandomValue(rng);
}

std::vector<Json> FuzzCorpus() {
  std::vector<Json> corpus = {ToJson(Built()), Json::parse(kOldStyle)};
  const fs::path dir = ReferenceDir();
  if (!fs::is_directory(dir)) return corpus;
  for (const fs::path& file : ReferenceFiles(dir)) {
    for (const ReferenceLine& line : ReadLines(file)) {
      // The big web_connectivity bodies add time, not shapes.
      if (line.text.size() < 40000) corpus.push_back(Json::parse(line.text));
    }
  }
  return corpus;
}

TEST(MeasurementJsonTest, MutatedTypesAreRejectedOrRoundTrip) {
  const std::vector<Json> corpus = FuzzCorpus();
  std::mt19937 rng(20240506);
  int accepted = 0, rejected = 0;
  for (int iteration = 0; iteration < 3000; ++iteration) {
    Json doc = corpus[static_cast<size_t>(iteration) % corpus.size()];
    const int mutations = std::uniform_int_distribution<int>(1, 3)(rng);
    for (int i = 0; i < mutations; ++i) Mutate(doc, rng);
    Result<Measurement> parsed = MeasurementFromJson(doc);
    if (!parsed.ok()) {
      ++rejected;
      EXPECT_NE(parsed.error().find(": "), std::string::npos) << parsed.error();
      continue;
    }
    ++accepted;
    const Json written = ToJson(*parsed);
    if (auto diff = FirstDifference(doc, written)) {
      ADD_FAILURE() << "iteration " << iteration << ": accepted but changed: " << *diff;
    }
  }
  EXPECT_GT(accepted, 0);
  EXPECT_GT(rejected, 0);
}

TEST(MeasurementJsonTest, DamagedTextIsRejectedWithoutCrashing) {
  const std::vector<Json> corpus = FuzzCorpus();
  std::mt19937 rng(7);
  for (int iteration = 0; iteration < 500; ++iteration) {
    std::string text = corpus[static_cast<size_t>(iteration) % corpus.size()].dump();
    if (iteration % 2 == 0) {
      text.resize(std::uniform_int_distribution<size_t>(0, text.size() - 1)(rng));
    } else {
      const size_t at = std::uniform_int_distribution<size_t>(0, text.size() - 1)(rng);
      text[at] = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
    }
    Result<Measurement> parsed = ParseMeasurement(text);
    if (!parsed.ok()) {
      EXPECT_FALSE(parsed.error().empty());
    }
  }
}

}  // namespace
}  // namespace vigil
