// Ingest over real OONI measurements (every file of the reference data, plain and
// gzipped in OONI's raw layout) and over broken input: each bad line reported with its
// file and line, the good ones kept.
#include "analysis/ingest/ingest.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "analysis/verdict/rules.h"
#include "base/base64.h"
#include "base/html_title.h"
#include "base/utf8.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil::analysis {
namespace {

std::string MeasurementsDir() { return vigil::test_support::ReferenceDir() + "/ooni-measurements"; }
bool HaveReference() { return std::filesystem::is_directory(MeasurementsDir()); }

struct Ingested {
  IngestStats stats;
  std::vector<ExtractedMeasurement> measurements;
  std::vector<IngestError> errors;
};

Ingested Ingest(const std::string& path, const IngestOptions& options = {}) {
  Ingested out;
  auto stats = IngestPath(
      path, options, [&](ExtractedMeasurement& m) { out.measurements.push_back(std::move(m)); },
      [&](const IngestError& e) { out.errors.push_back(e); });
  EXPECT_TRUE(stats.ok()) << path << ": " << stats.error();
  if (stats.ok()) out.stats = *stats;
  return out;
}

size_t CountLines(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) n += !line.empty();
  return n;
}

const ExtractedMeasurement* At(const Ingested& in, const std::string& file, uint64_t line) {
  for (const auto& m : in.measurements) {
    if (std::filesystem::path(m.measurement.source_file).filename() == file &&
        m.measurement.source_line == line) {
      return &m;
    }
  }
  return nullptr;
}

TEST(Ingest, EveryRealMeasurementIsRead) {
  if (!HaveReference()) GTEST_SKIP() << "no reference data at " << MeasurementsDir();
  Ingested in = Ingest(MeasurementsDir());
  for (const auto& e : in.errors) ADD_FAILURE() << e.file << ":" << e.line << ": " << e.reason;
  size_t expected = 0;
  for (const auto& entry : std::filesystem::directory_iterator(MeasurementsDir())) {
    if (entry.path().extension() == ".jsonl") expected += CountLines(entry.path().string());
  }
  EXPECT_EQ(in.stats.measurements, expected);
  EXPECT_EQ(in.stats.bad_lines, 0u);
  std::set<std::string> uids;
  for (const auto& m : in.measurements) uids.insert(m.measurement.measurement_uid);
  EXPECT_EQ(uids.size(), in.measurements.size()) << "uids must be distinct";

  // whatsapp.jsonl:1 (index.csv): JP, AS55392, 2022-11-05 22:39:29, ooniprobe-android 3.7.1.
  const ExtractedMeasurement* w = At(in, "whatsapp.jsonl", 1);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->measurement.test_name, "whatsapp");
  EXPECT_EQ(w->measurement.probe_cc, "JP");
  EXPECT_EQ(w->measurement.probe_asn, 55392u);
  EXPECT_EQ(w->measurement.start_time, 1667687969);  // date -u -d '2022-11-05 22:39:29' +%s
  EXPECT_EQ(w->measurement.report_id, "20221105T223928Z_whatsapp_JP_55392_n1_aL6HH9GHYc1YbILm");
  EXPECT_EQ(w->measurement.software_name, "ooniprobe-android");
  EXPECT_EQ(w->measurement.test_version, "0.9.0");
  EXPECT_EQ(w->measurement.target, "whatsapp");
  auto summary = nlohmann::json::parse(w->summary_json);
  EXPECT_EQ(summary["registration_server_status"], "blocked");
  EXPECT_EQ(summary["whatsapp_web_status"], "blocked");
  EXPECT_FALSE(summary.contains("queries"));
  EXPECT_FALSE(summary.contains("network_events"));

  // Observations are the archival arrays, one row per entry, in order.
  std::ifstream file(MeasurementsDir() + "/whatsapp.jsonl");
  std::string first;
  std::getline(file, first);
  auto raw = nlohmann::json::parse(first)["test_keys"];
  const size_t steps = raw["queries"].size() + raw["tcp_connect"].size() +
                       raw["tls_handshakes"].size() + raw["requests"].size();
  ASSERT_EQ(w->observations.size(), steps);
  const ObservationRow& q0 = w->observations[0];
  EXPECT_TRUE(q0.dns_measured);
  EXPECT_EQ(q0.hostname, raw["queries"][0]["hostname"]);
  ASSERT_FALSE(q0.dns_answers.empty());
  EXPECT_EQ(q0.dns_answers[0], raw["queries"][0]["answers"][0]["ipv4"]);
  // In the document's own order: whatsapp.jsonl writes requests before tcp_connect.
  const ObservationRow* first_tcp = nullptr;
  for (const auto& o : w->observations) {
    if (!first_tcp && o.tcp_success != Tri::kUnknown) first_tcp = &o;
  }
  ASSERT_NE(first_tcp, nullptr);
  const ObservationRow& t0 = *first_tcp;
  EXPECT_EQ(t0.ip, raw["tcp_connect"][0]["ip"]);
  EXPECT_EQ(t0.port, raw["tcp_connect"][0]["port"]);
  EXPECT_EQ(t0.tcp_success == Tri::kYes, raw["tcp_connect"][0]["status"]["success"] == true);
  for (const auto& o : w->observations)
    EXPECT_EQ(o.measurement_uid, w->measurement.measurement_uid);

  // web_connectivity: the input's domain is the target, bodies are decoded.
  size_t with_body = 0, web = 0;
  for (const auto& m : in.measurements) {
    if (m.measurement.test_name != "web_connectivity") continue;
    ++web;
    EXPECT_FALSE(m.measurement.input.empty());
    EXPECT_EQ(m.measurement.target, UrlHost(m.measurement.input)) << m.measurement.input;
    for (const auto& o : m.observations) {
      if (o.http_measured && o.http_body_length > 0) {
        ++with_body;
        EXPECT_LE(o.http_body_sample.size(), static_cast<size_t>(o.http_body_length));
      }
    }
  }
  EXPECT_GT(web, 0u);
  EXPECT_GT(with_body, 0u);
  // The older spelling of stunreachability is normalised.
  for (const auto& m : in.measurements) EXPECT_NE(m.measurement.test_name, "stun_reachability");
}

void WriteGzip(const std::string& path, const std::string& content, size_t cut = 0) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  gzwrite(f, content.data(), static_cast<unsigned>(content.size()));
  gzclose(f);
  if (cut > 0) std::filesystem::resize_file(path, std::filesystem::file_size(path) - cut);
}

TEST(Ingest, OonisRawLayoutGzippedReadsLikeThePlainFiles) {
  if (!HaveReference()) GTEST_SKIP() << "no reference data at " << MeasurementsDir();
  test_support::TempDir dir("vigil-ingest");
  ASSERT_TRUE(dir.error().empty()) << dir.error();
  Ingested plain;
  for (const char* name : {"telegram.jsonl", "signal.jsonl", "web_connectivity.jsonl"}) {
    Ingested one = Ingest(MeasurementsDir() + "/" + name);
    for (auto& m : one.measurements) plain.measurements.push_back(std::move(m));
    std::ifstream in(MeasurementsDir() + "/" + name);
    std::stringstream text;
    text << in.rdbuf();
    const std::string test = std::string(name).substr(0, std::string(name).find('.'));
    WriteGzip(dir.Join("20221110/10/US/" + test + "/2022111010_US_" + test + ".n1.0.jsonl.gz"),
              text.str());
  }
  Ingested raw = Ingest(dir.path());
  EXPECT_EQ(raw.stats.files, 3u);
  EXPECT_EQ(raw.stats.bad_lines, 0u);
  std::map<std::string, std::string> plain_by_uid, raw_by_uid;
  for (const auto& m : plain.measurements) {
    plain_by_uid[m.measurement.measurement_uid] = m.summary_json;
  }
  for (const auto& m : raw.measurements) {
    raw_by_uid[m.measurement.measurement_uid] = m.summary_json;
  }
  EXPECT_EQ(plain_by_uid, raw_by_uid);
  EXPECT_EQ(raw.measurements.size(), plain.measurements.size());
}

const char* kGood =
    R"({"test_name":"telegram","measurement_start_time":"2024-03-01 12:00:00","probe_cc":"IR",)"
    R"("probe_asn":"AS197207","report_id":"r1","test_keys":{"telegram_tcp_blocking":true,)"
    R"("tcp_connect":[{"ip":"149.154.167.51","port":443,"status":{"success":false,)"
    R"("failure":"generic_timeout_error"}}]}})";

TEST(Ingest, BadLinesAreReportedWithFileAndLineAndSkipped) {
  test_support::TempDir dir("vigil-ingest");
  ASSERT_TRUE(dir.error().empty()) << dir.error();
  const std::string good = kGood;
  std::string text;
  text += good + "\n";                             // 1
  text += "this is not json\n";                    // 2
  text += good.substr(0, good.size() / 2) + "\n";  // 3 truncated
  text += "[1,2,3]\n";                             // 4 an array
  text += "\n";                                    // blank: not a line
  text += R"({"measurement_start_time":"2024-03-01 12:00:00"})"
          "\n";  // 6 no test_name
  text += R"({"test_name":"x","measurement_start_time":"yesterday"})"
          "\n";  // 7 bad time
  text += R"({"test_name":"x","measurement_start_time":"2024-03-01 12:00:00","probe_asn":"ASx"})"
          "\n";  // 8 bad ASN
  text += R"({"test_name":"x","measurement_start_time":"2024-03-01 12:00:00","test_keys":)"
          R"({"tcp_connect":[{"ip":"1.2.3.4","port":99999}]}})"
          "\n";  // 9 bad port
  text += R"({"test_name":"x","measurement_start_time":"2024-03-01 12:00:00","probe_cc":"1.2"})"
          "\n";  // 10 bad country
  text += good;  // 11, no final newline
  std::string error;
  ASSERT_TRUE(dir.WriteFile("m.jsonl", text, &error)) << error;

  Ingested in = Ingest(dir.Join("m.jsonl"));
  EXPECT_EQ(in.stats.measurements, 2u);
  EXPECT_EQ(in.stats.bad_lines, 8u);
  EXPECT_EQ(in.stats.lines, 10u);
  std::map<uint64_t, std::string> by_line;
  for (const auto& e : in.errors) {
    EXPECT_EQ(e.file, dir.Join("m.jsonl"));
    by_line[e.line] = e.reason;
  }
  const std::map<uint64_t, std::string> expect = {
      {2, "JSON"},
      {3, "JSON"},
      {4, "not a JSON object"},
      {6, "no test_name"},
      {7, "measurement_start_time"},
      {8, "probe_asn"},
      {9, "tcp_connect[].port"},
      {10, "probe_cc"},
  };
  ASSERT_EQ(by_line.size(), expect.size());
  for (const auto& [line, words] : expect) {
    ASSERT_TRUE(by_line.count(line)) << "line " << line << " not reported";
    EXPECT_NE(by_line[line].find(words), std::string::npos) << line << ": " << by_line[line];
  }
  ASSERT_EQ(in.measurements.size(), 2u);
  EXPECT_EQ(in.measurements[0].measurement.source_line, 1u);
  EXPECT_EQ(in.measurements[1].measurement.source_line, 11u);
  const auto& m = in.measurements[0];
  EXPECT_EQ(m.measurement.probe_asn, 197207u);
  EXPECT_EQ(m.measurement.target, "telegram");
  ASSERT_EQ(m.observations.size(), 1u);
  EXPECT_EQ(m.observations[0].tcp_success, Tri::kNo);
  EXPECT_EQ(m.observations[0].tcp_failure, "generic_timeout_error");
  // The same measurement twice: the same derived uid (a re-upload is not a new one).
  EXPECT_EQ(in.measurements[0].measurement.measurement_uid,
            in.measurements[1].measurement.measurement_uid);
}

TEST(Ingest, ATruncatedGzipKeepsWhatCameBeforeAndSaysSo) {
  test_support::TempDir dir("vigil-ingest");
  ASSERT_TRUE(dir.error().empty()) << dir.error();
  std::string text;
  for (int i = 0; i < 2000; ++i) {
    std::string line = kGood;
    line.replace(line.find("\"r1\""), 4, "\"r" + std::to_string(i) + "\"");
    text += line + "\n";
  }
  WriteGzip(dir.Join("cut.jsonl.gz"), text, 200);
  Ingested in = Ingest(dir.Join("cut.jsonl.gz"));
  EXPECT_GT(in.stats.measurements, 1000u);
  EXPECT_LT(in.stats.measurements, 2000u);
  ASSERT_FALSE(in.errors.empty());
  EXPECT_NE(in.errors.back().reason.find("truncated"), std::string::npos)
      << in.errors.back().reason;
  EXPECT_EQ(in.errors.back().line, in.stats.lines);
  EXPECT_EQ(in.stats.bad_lines, 1u);

  auto missing = IngestPath(
      dir.Join("nothing-here"), {}, [](ExtractedMeasurement&) {}, [](const IngestError&) {});
  EXPECT_FALSE(missing.ok());
}

TEST(Ingest, CategoriesComeFromTheTestLists) {
  const std::string lists = vigil::test_support::SourceDir() + "/testlists/lists";
  auto index = LoadCategoryIndex({lists + "/global.csv"});
  ASSERT_TRUE(index.ok()) << index.error();
  ASSERT_GT(index->size(), 0u);
  std::ifstream in(lists + "/global.csv");
  std::string header, row;
  std::getline(in, header);
  std::getline(in, row);
  const std::string url = row.substr(0, row.find(','));
  const std::string rest = row.substr(row.find(',') + 1);
  const std::string code = rest.substr(0, rest.find(','));
  EXPECT_EQ(index->Find(url, UrlHost(url)), code);
  EXPECT_EQ(index->Find("https://no-such.example/", "no-such.example"), "");
  test_support::TempDir dir("vigil-ingest");
  std::string error;
  ASSERT_TRUE(dir.WriteFile("bad.csv", "website,code\n", &error)) << error;
  auto bad = LoadCategoryIndex({dir.Join("bad.csv")});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("bad.csv:1"), std::string::npos) << bad.error();
}

TEST(Ingest, TimesAndHosts) {
  EXPECT_EQ(ParseMeasurementTime("1970-01-01 00:00:00"), 0);
  EXPECT_EQ(ParseMeasurementTime("2024-02-29 23:59:59"), 1709251199);
  EXPECT_FALSE(ParseMeasurementTime("2024-13-01 00:00:00"));
  EXPECT_FALSE(ParseMeasurementTime("2024-01-01"));
  EXPECT_EQ(UrlHost("https://user@a.example:8443/x?y"), "a.example");
  EXPECT_EQ(UrlHost("http://[2001:db8::1]:80/"), "2001:db8::1");
  EXPECT_EQ(UrlHost("a.example"), "");
}

}  // namespace
}  // namespace vigil::analysis

namespace vigil::analysis {
namespace {

// IngestAndScore on several threads, over blocks of lines, gives what IngestPath and
// Score give one line at a time: the same measurements and verdicts in the same order,
// the same errors at the same file:line, the same counts.
TEST(Ingest, ParallelIngestMatchesTheSequentialOne) {
  test_support::TempDir dir("vigil-ingest");
  const std::string good = kGood;
  std::string unit = good + "\n" + "not json\n" + "\n" +
                     R"({"test_name":"x","measurement_start_time":"yesterday"})"
                     "\n";
  std::string text;
  for (int i = 0; text.size() < (size_t{9} << 20); ++i) {  // several 4 MB blocks
    std::string g = good;
    g.replace(g.find("\"r1\""), 4, "\"r" + std::to_string(i) + "\"");
    text += g + "\n" + unit;
  }
  std::string error;
  ASSERT_TRUE(dir.WriteFile("a.jsonl", text, &error)) << error;
  ASSERT_TRUE(dir.WriteFile("b/c.jsonl", unit + good, &error)) << error;
  auto engine = VerdictEngine::Load(test_support::SourceDir() + "/testlists/verdict/rules.json",
                                    test_support::SourceDir() + "/testlists/fingerprints");
  ASSERT_TRUE(engine.ok()) << engine.error();

  // IngestAndScore judges against the clock at its start; so does the sequential run.
  const int64_t kNow = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  std::vector<std::pair<std::string, uint64_t>> seq_lines, par_lines;
  std::vector<std::string> seq_verdicts, par_verdicts, seq_errors, par_errors;
  IngestStats seq_total;
  for (const std::string& path : {dir.Join("a.jsonl"), dir.Join("b")}) {
    auto st = IngestPath(
        path, {},
        [&](ExtractedMeasurement& m) {
          seq_lines.emplace_back(m.measurement.source_file, m.measurement.source_line);
          seq_verdicts.push_back(VerdictEngine::RulesFired(engine->Score(m, kNow)));
        },
        [&](const IngestError& e) {
          seq_errors.push_back(e.file + ":" + std::to_string(e.line) + ": " + e.reason);
        });
    ASSERT_TRUE(st.ok()) << st.error();
    seq_total.measurements += st->measurements;
    seq_total.bad_lines += st->bad_lines;
    seq_total.lines += st->lines;
  }
  size_t batches = 0;
  auto par = IngestAndScore(
      {dir.Join("a.jsonl"), dir.Join("b")}, {}, *engine, 3,
      [&](std::vector<ScoredMeasurement>& batch) {
        ++batches;
        for (const auto& s : batch) {
          par_lines.emplace_back(s.facts.measurement.source_file, s.facts.measurement.source_line);
          par_verdicts.push_back(VerdictEngine::RulesFired(s.verdict));
        }
      },
      [&](const IngestError& e) {
        par_errors.push_back(e.file + ":" + std::to_string(e.line) + ": " + e.reason);
      });
  ASSERT_TRUE(par.ok()) << par.error();
  EXPECT_GT(batches, 2u) << "the file should span several blocks";
  EXPECT_EQ(par->measurements, seq_total.measurements);
  EXPECT_EQ(par->bad_lines, seq_total.bad_lines);
  EXPECT_EQ(par->lines, seq_total.lines);
  EXPECT_EQ(par->files, 2u);
  EXPECT_EQ(par_lines, seq_lines);
  EXPECT_EQ(par_verdicts, seq_verdicts);
  EXPECT_EQ(par_errors, seq_errors);
  EXPECT_GT(seq_errors.size(), 1000u);

  auto missing = IngestAndScore(
      {dir.Join("nope")}, {}, *engine, 2, [](std::vector<ScoredMeasurement>&) {},
      [](const IngestError&) {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("no such file or directory"), std::string::npos)
      << missing.error();
}

}  // namespace
}  // namespace vigil::analysis

namespace vigil::analysis {
namespace {

// A base64 body (OONI writes non-UTF-8 bodies so) is decoded into the sample up to the
// cap; the length is the whole body's, and the alphabet's '=' padding and line breaks
// are skipped.
TEST(Ingest, Base64BodiesAreDecodedUpToTheCap) {
  const std::string body = "<html>\x01\xff blocked by order</html>";  // 31 bytes
  std::string b64 = Base64Encode(body);
  b64.insert(20, "\\n");  // a JSON-escaped line break inside the data
  const std::string line =
      R"({"test_name":"web_connectivity","measurement_start_time":"2024-03-01 12:00:00",)"
      R"("probe_cc":"IR","probe_asn":"AS197207","report_id":"r","input":"http://a.example/",)"
      R"("test_keys":{"requests":[{"request":{"url":"http://a.example/"},"response":{"code":200,)"
      R"("body":{"format":"base64","data":")" +
      b64 + R"("}}}]}})";
  for (size_t cap : {size_t{64}, size_t{10}, size_t{0}}) {
    IngestOptions options;
    options.body_sample_bytes = cap;
    MeasurementExtractor extractor(options);
    ExtractedMeasurement m;
    auto ok = extractor.Extract(line, &m);
    ASSERT_TRUE(ok.ok()) << ok.error();
    ASSERT_EQ(m.observations.size(), 1u);
    EXPECT_EQ(m.observations[0].http_body_length, static_cast<int64_t>(body.size())) << cap;
    EXPECT_EQ(m.observations[0].http_body_sample, body.substr(0, cap)) << cap;
  }
}

}  // namespace
}  // namespace vigil::analysis

namespace vigil::analysis {
namespace {

// Every fact of a measurement as text, so that two extractions can be compared whole.
std::string Describe(const ExtractedMeasurement& e) {
  std::ostringstream s;
  const EnvelopeRow& m = e.measurement;
  s << m.measurement_uid << '|' << m.report_id << '|' << m.start_time << '|' << m.upload_time << '|'
    << m.probe_cc << '|' << m.probe_asn << '|' << m.probe_network_name << '|' << m.resolver_ip
    << '|' << m.resolver_asn << '|' << m.software_name << '|' << m.software_version << '|'
    << m.test_name << '|' << m.test_version << '|' << m.input << '|' << m.target << '|'
    << m.category_code << '|' << m.test_runtime << '\n'
    << e.summary_json << '\n';
  auto opt = [](const std::optional<std::string>& v) { return v ? "'" + *v + "'" : "null"; };
  for (const ObservationRow& o : e.observations) {
    s << o.measurement_uid << '|' << o.index << '|' << o.hostname << '|' << o.ip << '|' << o.port
      << '|' << o.ip_asn << '|' << o.transaction_id << '|' << o.tag << "|dns:" << o.dns_measured
      << o.dns_engine << '|' << o.dns_resolver << '|' << opt(o.dns_failure);
    for (size_t i = 0; i < o.dns_answers.size(); ++i) {
      s << ',' << o.dns_answers[i] << '/' << o.dns_answer_asns[i];
    }
    s << "|tcp:" << static_cast<int>(o.tcp_success) << opt(o.tcp_failure)
      << "|tls:" << o.tls_measured << o.tls_server_name << static_cast<int>(o.tls_cert_valid)
      << opt(o.tls_failure) << "|http:" << o.http_measured << o.http_url << '|' << o.http_status
      << '|' << o.http_body_length << '|' << opt(o.http_failure) << '|' << o.http_title << '|'
      << o.http_body_sample.size() << ':' << o.http_body_sample;
    for (const auto& [k, v] : o.http_headers) s << ',' << k << '=' << v;
    s << '|' << o.x_injection << '|' << o.x_delivery << '\n';
  }
  return s.str();
}

// The extractor refills the rows of the measurement it is given (and keeps spare rows
// between measurements) to save allocations: nothing of an earlier measurement may show
// in a later one. Each document read through one reused ExtractedMeasurement, in file
// order and then backwards, must equal the same document read fresh.
TEST(Ingest, AReusedMeasurementHoldsNothingOfTheOneBefore) {
  std::vector<std::string> docs = {
      // Many rows, failures, answers, headers and a body ...
      R"({"test_name":"web_connectivity","measurement_start_time":"2024-03-01 12:00:00",)"
      R"("probe_cc":"IR","probe_asn":"AS197207","report_id":"r1","input":"http://a.example/",)"
      R"("test_keys":{"blocking":"dns","queries":[{"hostname":"a.example","engine":"system",)"
      R"("failure":null,"answers":[{"ipv4":"10.10.34.35","asn":0},{"ipv4":"10.10.34.36"}]},)"
      R"({"hostname":"b.example","failure":"dns_nxdomain_error","answers":null}],)"
      R"("tcp_connect":[{"ip":"10.10.34.35","port":80,"status":{"success":false,)"
      R"("failure":"connection_reset"}},{"ip":"10.10.34.36","port":443,"status":{"success":true}}],)"
      R"("tls_handshakes":[{"address":"10.10.34.36:443","server_name":"a.example",)"
      R"("failure":"ssl_invalid_hostname","tags":["tcptls_experiment"]}],)"
      R"("requests":[{"failure":null,"request":{"url":"http://a.example/"},"response":{"code":403,)"
      R"("body":"<html><title>Blocked by order</title></html>","headers_list":[["Server","x"],)"
      R"(["Content-Type","text/html; charset=utf-8"]]}}]}})",
      // ... then one with fewer rows and none of those facts ...
      R"({"test_name":"telegram","measurement_start_time":"2024-03-02 12:00:00",)"
      R"("probe_cc":"RU","probe_asn":"AS1","report_id":"r2",)"
      R"("test_keys":{"telegram_tcp_blocking":false,"tcp_connect":[{"ip":"149.154.175.50",)"
      R"("port":443,"status":{"success":true,"failure":null}}]}})",
      // ... and one with none at all.
      R"({"test_name":"signal","measurement_start_time":"2024-03-03 12:00:00","probe_cc":"BR",)"
      R"("probe_asn":"AS2","report_id":"r3","test_keys":null})",
  };
  if (HaveReference()) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(MeasurementsDir())) {
      if (entry.path().extension() != ".jsonl") continue;
      std::ifstream in(entry.path());
      std::string line;
      while (std::getline(in, line)) {
        if (!line.empty()) docs.push_back(line);
      }
    }
  } else {
    std::printf("ingest_test: %s absent: reuse checked on the built-in documents only\n",
                MeasurementsDir().c_str());
  }
  struct Extracted {
    std::string error;
    ExtractedMeasurement m;
  };
  auto fresh = [](const std::string& doc) {
    MeasurementExtractor extractor({});
    Extracted e;
    auto ok = extractor.Extract(doc, &e.m);
    if (!ok.ok()) e.error = ok.error();
    return e;
  };
  std::vector<Extracted> expected;
  for (const auto& doc : docs) expected.push_back(fresh(doc));
  EXPECT_EQ(expected[0].error, "");
  MeasurementExtractor extractor({});
  ExtractedMeasurement reused;
  size_t compared = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t k = 0; k < docs.size(); ++k) {
      const size_t i = pass == 0 ? k : docs.size() - 1 - k;
      auto ok = extractor.Extract(docs[i], &reused);
      const std::string where = "document " + std::to_string(i) + " after document " +
                                std::to_string(pass == 0 ? i - 1 : i + 1);
      EXPECT_EQ(ok.ok() ? "" : ok.error(), expected[i].error) << where;
      // Whole rows compared (their operator== covers every field, one added later too).
      if (ok.ok() && expected[i].error.empty()) {
        EXPECT_TRUE(reused == expected[i].m)
            << where << "\nreused: " << Describe(reused) << "fresh:  " << Describe(expected[i].m);
      }
      ++compared;
    }
  }
  EXPECT_EQ(compared, 2 * docs.size());
}

}  // namespace
}  // namespace vigil::analysis

namespace vigil::analysis {
namespace {

// A measurement without OONI's uid gets one derived from what identifies it; stores
// key their rows by it, so the derivation must never change: SHA-256 of report_id,
// test_name, input, test_start_time and probe_cc (each NUL-terminated), then the start
// time, NUL, the ASN, NUL and the runtime as printf's "%f" (values computed
// independently, with Python's hashlib).
TEST(Ingest, DerivedUidsAreStable) {
  const std::string base =
      R"({"test_name":"web_connectivity","measurement_start_time":"2024-03-01 12:00:00",)"
      R"("probe_cc":"IR","probe_asn":"AS197207","report_id":"r1","input":"http://a.example/")";
  MeasurementExtractor extractor({});
  ExtractedMeasurement m;
  ASSERT_TRUE(extractor
                  .Extract(base + R"(,"test_start_time":"2024-03-01 11:59:58",)"
                                  R"("test_runtime":1.0948865,"test_keys":{}})",
                           &m)
                  .ok());
  EXPECT_EQ(m.measurement.measurement_uid, "v4742a74a6c840c6e68d55adabda81390");
  ASSERT_TRUE(extractor.Extract(base + R"(,"test_keys":{}})", &m).ok());
  EXPECT_EQ(m.measurement.measurement_uid, "v087c057aca344a9e52e2d888c4b7da46");
  // OONI's own uid is kept as it is.
  ASSERT_TRUE(
      extractor.Extract(base + R"(,"measurement_uid":"20240301120000.1_IR_webconnectivity_x"})", &m)
          .ok());
  EXPECT_EQ(m.measurement.measurement_uid, "20240301120000.1_IR_webconnectivity_x");
}

// The analyzer stores the title the probe reports as x_title: one extraction for both.
// Before they shared one, the analyzer matched <titlebar>, kept runs of whitespace and
// cut long titles inside a UTF-8 character, so the same page had two titles.
TEST(Ingest, TheStoredTitleIsTheProbesTitle) {
  std::string long_title;
  while (long_title.size() < 600) long_title += "\xD0\x91\xD0\xBB\xD0\xBE\xD0\xBA ";  // "Блок "
  const std::string pages[] = {
      "<html><titlebar>menu</titlebar><title>\n  Blocked   by\torder </title></html>",
      // One ASCII byte first, so that neither 256 nor 512 bytes end on a character.
      "<title>x" + long_title + "</title>",
  };
  for (const std::string& page : pages) {
    const nlohmann::json doc = {{"test_name", "web_connectivity"},
                                {"measurement_start_time", "2024-03-01 12:00:00"},
                                {"probe_cc", "IR"},
                                {"probe_asn", "AS197207"},
                                {"report_id", "r"},
                                {"input", "http://a.example/"},
                                {"test_keys",
                                 {{"requests",
                                   {{{"request", {{"url", "http://a.example/"}}},
                                     {"response", {{"code", 200}, {"body", page}}}}}}}}};
    IngestOptions options;
    options.body_sample_bytes = 4096;
    MeasurementExtractor extractor(options);
    ExtractedMeasurement m;
    auto ok = extractor.Extract(doc.dump(), &m);
    ASSERT_TRUE(ok.ok()) << ok.error();
    ASSERT_EQ(m.observations.size(), 1u);
    const std::optional<std::string> x_title = ExtractTitle(page);
    ASSERT_TRUE(x_title.has_value());
    EXPECT_EQ(m.observations[0].http_title, *x_title);
  }
  // What the probe's extraction makes of the two pages: the title element, not
  // <titlebar>, with whitespace collapsed; a long title cut before a whole character.
  EXPECT_EQ(ExtractTitle(pages[0]), "Blocked by order");
  const std::string cut = *ExtractTitle(pages[1]);
  EXPECT_EQ(cut.size(), kMaxTitleBytes - 1);
  EXPECT_TRUE(IsValidUtf8(cut));
}

}  // namespace
}  // namespace vigil::analysis
