// Agreement with OONI over the real measurements of the reference data. The numbers
// asserted here are the ones docs/agreement.md explains: a rule change that moves them
// fails this test until the document is updated with it.
#include "analysis/verdict/agreement.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support_paths.h"

namespace vigil::analysis {
namespace {

std::string Ref() { return vigil::testing::ReferenceDir(); }
bool HaveRef() { return std::filesystem::exists(Ref() + "/ooni-measurements/expected.csv"); }

const VerdictEngine& Engine() {
  static const VerdictEngine engine = [] {
    auto e = VerdictEngine::Load(vigil::testing::SourceDir() + "/testlists/verdict/rules.json",
                                 vigil::testing::SourceDir() + "/testlists/fingerprints");
    EXPECT_TRUE(e.ok()) << e.error();
    return e.ok() ? std::move(e).value() : VerdictEngine();
  }();
  return engine;
}

std::string Base64(const std::string& data) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : data) {
    int v = -1;
    if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
    if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
    if (ch == '+') v = 62;
    if (ch == '/') v = 63;
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::optional<std::string> Failure(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return std::nullopt;
  return j[key].get<std::string>();
}

std::string HostOf(const std::string& url) {
  const size_t start = url.find("://");
  if (start == std::string::npos) return "";
  const size_t end = url.find_first_of(":/", start + 3);
  return url.substr(start + 3, end == std::string::npos ? end : end - start - 3);
}

// A stand-in for analysis/ingest until it lands: the facts the rules read, taken from
// OONI's df-000 JSON the way ingest documents them (one observation per DNS query, TCP
// connect, TLS handshake and HTTP request; the summary = test_keys without those arrays).
ExtractedMeasurement Extract(const nlohmann::json& j, const std::string& file, uint64_t line) {
  ExtractedMeasurement m;
  MeasurementRow& r = m.measurement;
  r.source_file = file;
  r.source_line = line;
  r.report_id = j.value("report_id", "");
  r.probe_cc = j.value("probe_cc", "ZZ");
  const std::string asn = j.value("probe_asn", "AS0");
  r.probe_asn = asn.size() > 2 ? static_cast<uint32_t>(std::stoul(asn.substr(2))) : 0;
  r.test_name = j.value("test_name", "");
  if (r.test_name == "stun_reachability") r.test_name = "stunreachability";
  if (j.contains("input") && j["input"].is_string()) r.input = j["input"].get<std::string>();
  const std::string start = j.value("measurement_start_time", "1970-01-01 00:00:00");
  std::tm tm{};
  strptime(start.c_str(), "%Y-%m-%d %H:%M:%S", &tm);
  r.start_time = timegm(&tm);
  r.upload_time = r.start_time + 60;
  const nlohmann::json& tk = j.contains("test_keys") ? j["test_keys"] : nlohmann::json();
  if (!tk.is_object()) return m;
  nlohmann::json summary = nlohmann::json::object();
  for (auto it = tk.begin(); it != tk.end(); ++it) {
    static const std::vector<std::string> kArrays = {"queries", "tcp_connect", "tls_handshakes",
                                                     "requests", "network_events"};
    if (std::find(kArrays.begin(), kArrays.end(), it.key()) == kArrays.end()) {
      summary[it.key()] = *it;
    }
  }
  m.summary_json = summary.dump();
  auto array = [&](const char* key) {
    return tk.contains(key) && tk[key].is_array() ? tk[key] : nlohmann::json::array();
  };
  for (const auto& q : array("queries")) {
    ObservationRow o;
    o.hostname = q.value("hostname", "");
    o.dns_measured = true;
    o.dns_failure = Failure(q, "failure");
    if (q.contains("answers") && q["answers"].is_array()) {
      for (const auto& a : q["answers"]) {
        for (const char* k : {"ipv4", "ipv6"}) {
          if (a.contains(k) && a[k].is_string()) o.dns_answers.push_back(a[k].get<std::string>());
        }
      }
    }
    m.observations.push_back(o);
  }
  for (const auto& t : array("tcp_connect")) {
    ObservationRow o;
    o.ip = t.value("ip", "");
    o.port = static_cast<uint16_t>(t.value("port", 0));
    const auto& status = t.contains("status") ? t["status"] : nlohmann::json::object();
    o.tcp_success = status.value("success", false) ? Tri::kYes : Tri::kNo;
    o.tcp_failure = Failure(status, "failure");
    m.observations.push_back(o);
  }
  for (const auto& h : array("tls_handshakes")) {
    ObservationRow o;
    o.tls_measured = true;
    o.tls_server_name = h.value("server_name", "");
    o.hostname = o.tls_server_name;
    o.tls_failure = Failure(h, "failure");
    m.observations.push_back(o);
  }
  for (const auto& q : array("requests")) {
    ObservationRow o;
    o.http_measured = true;
    if (q.contains("request") && q["request"].is_object()) {
      o.http_url = q["request"].value("url", "");
    }
    o.hostname = HostOf(o.http_url);
    o.http_failure = Failure(q, "failure");
    if (q.contains("response") && q["response"].is_object()) {
      const auto& resp = q["response"];
      if (resp.contains("code") && resp["code"].is_number())
        o.http_status = resp["code"].get<int>();
      if (resp.contains("body")) {
        const auto& b = resp["body"];
        if (b.is_string()) o.http_body_sample = b.get<std::string>();
        if (b.is_object() && b.value("format", "") == "base64") {
          o.http_body_sample = Base64(b.value("data", ""));
        }
      }
      if (resp.contains("headers") && resp["headers"].is_object()) {
        for (auto it = resp["headers"].begin(); it != resp["headers"].end(); ++it) {
          if (it->is_string()) o.http_headers.emplace_back(it.key(), it->get<std::string>());
        }
      }
    }
    m.observations.push_back(o);
  }
  return m;
}

std::vector<ExtractedMeasurement> ReadReference() {
  std::vector<ExtractedMeasurement> out;
  for (const auto& entry : std::filesystem::directory_iterator(Ref() + "/ooni-measurements")) {
    if (entry.path().extension() != ".jsonl") continue;
    std::ifstream in(entry.path());
    std::string text;
    uint64_t line = 0;
    while (std::getline(in, text)) {
      ++line;
      if (text.empty()) continue;
      out.push_back(Extract(nlohmann::json::parse(text), entry.path().string(), line));
    }
  }
  return out;
}

TEST(AgreementTest, OoniVerdictsComeFromExpectedAndIndexAlike) {
  if (!HaveRef()) GTEST_SKIP() << "no reference data at " << Ref();
  auto ooni = LoadOoniVerdicts(Ref());
  ASSERT_TRUE(ooni.ok()) << ooni.error();
  EXPECT_EQ(ooni->size(), 35u);
  std::array<int, 4> by{};
  for (const auto& [key, outcome] : *ooni) ++by[static_cast<size_t>(outcome)];
  EXPECT_EQ(by, (std::array<int, 4>{14, 11, 2, 8}));  // ok, anomaly, confirmed, failure
  EXPECT_EQ(ooni->at({"web_connectivity.jsonl", 18}), Outcome::kConfirmed);
  EXPECT_EQ(ooni->at({"signal.jsonl", 3}), Outcome::kFailure);
  EXPECT_EQ(ooni->at({"whatsapp.jsonl", 1}), Outcome::kAnomaly);
  EXPECT_FALSE(LoadOoniVerdicts("/nonexistent").ok());
}

TEST(AgreementTest, RealMeasurementsAgreeAsDocumented) {
  if (!HaveRef()) GTEST_SKIP() << "no reference data at " << Ref();
  auto ooni = LoadOoniVerdicts(Ref());
  ASSERT_TRUE(ooni.ok()) << ooni.error();
  const std::vector<ExtractedMeasurement> measurements = ReadReference();
  const AgreementReport report = CompareWithOoni(Engine(), measurements, *ooni);
  std::printf("%s", report.ToText().c_str());
  EXPECT_EQ(report.compared, 35);
  EXPECT_EQ(report.missing, 0);
  EXPECT_EQ(report.not_in_reference, static_cast<int>(measurements.size()) - 35);
  EXPECT_EQ(report.agreed, 32);
  using Row = std::array<int, 4>;                   // OONI ok, anomaly, confirmed, failure
  EXPECT_EQ(report.counts[0], (Row{13, 0, 0, 1}));  // ours ok
  EXPECT_EQ(report.counts[1], (Row{0, 11, 0, 1}));  // ours anomaly
  EXPECT_EQ(report.counts[2], (Row{0, 0, 2, 0}));   // ours confirmed
  EXPECT_EQ(report.counts[3], (Row{1, 0, 0, 6}));   // ours failure
  std::vector<std::string> where;
  for (const Disagreement& d : report.disagreements) {
    where.push_back(d.file + ":" + std::to_string(d.line) + " " + OutcomeName(d.ours) + "/" +
                    OutcomeName(d.ooni));
  }
  EXPECT_EQ(where, (std::vector<std::string>{
                       "http_header_field_manipulation.jsonl:3 anomaly/failure",
                       "telegram.jsonl:3 ok/failure",
                       "web_connectivity.jsonl:1 failure/ok",
                   }));
}

}  // namespace
}  // namespace vigil::analysis
