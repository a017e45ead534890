// `vigil analyze` as a user runs it: the real OONI measurements counted by test and
// country, the agreement with OONI's own flags, the comparison with the lab censor's
// ground truth (--truth), and bad input reported with file:line.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

std::string Measurements() { return test_support::ReferenceDir() + "/ooni-measurements"; }

TEST(AnalyzeCommand, CountsVerdictsOfTheRealMeasurements) {
  if (!std::filesystem::is_directory(Measurements())) {
    GTEST_SKIP() << "no reference data at " << Measurements();
  }
  auto r = test_support::RunCommand(
      {test_support::VigilBinary(), "analyze", Measurements(), "--no-store"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("122 measurements from 14 files"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("0 bad lines skipped; rules v2"), std::string::npos) << r.output;
  // whatsapp.jsonl:1 (JP) is the one anomaly among the whatsapp measurements.
  EXPECT_NE(r.output.find("whatsapp                       JP         1        0        1"),
            std::string::npos)
      << r.output;
}

TEST(AnalyzeCommand, AgreementWithOoniIsPrinted) {
  if (!std::filesystem::is_directory(Measurements())) {
    GTEST_SKIP() << "no reference data at " << Measurements();
  }
  auto r = test_support::RunCommand({test_support::VigilBinary(), "analyze", Measurements(),
                                     "--agreement", "--reference-dir", test_support::ReferenceDir(),
                                     "--no-store"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("33 of 35 measurements"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("telegram.jsonl:3"), std::string::npos) << r.output;
}

TEST(AnalyzeCommand, BadInputIsNamed) {
  test_support::TempDir dir("vigil-analyze");
  std::string error;
  ASSERT_TRUE(dir.WriteFile("bad.jsonl", "{\"test_name\": 5}\nnot json\n", &error)) << error;
  auto r = test_support::RunCommand({test_support::VigilBinary(), "analyze", dir.Join("bad.jsonl"),
                                     "--store", dir.Join("s.sqlite")});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(dir.Join("bad.jsonl") + ":1: field 'test_name'"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find(dir.Join("bad.jsonl") + ":2:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("2 bad lines skipped"), std::string::npos) << r.output;

  r = test_support::RunCommand(
      {test_support::VigilBinary(), "analyze", dir.Join("missing"), "--no-store"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("no such file or directory"), std::string::npos) << r.output;

  r = test_support::RunCommand({test_support::VigilBinary(), "analyze", dir.path(), "--rules",
                                dir.Join("bad.jsonl"), "--no-store"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--rules"), std::string::npos) << r.output;
}

// Measurements of the lab's censored network (as `vigil run im` writes them, pared down)
// from 2023-11-14 22:13:20 UTC (Unix 1700000000) on.
constexpr const char* kLabMeasurements =
    // web.whatsapp.com answered from the censor's forged pool: dns.
    R"({"test_name":"whatsapp","measurement_start_time":"2023-11-14 22:13:20","test_runtime":3,)"
    R"("probe_cc":"CN","probe_asn":"AS64500","software_name":"vigil","test_keys":{)"
    R"("registration_server_status":"ok","whatsapp_web_status":"blocked",)"
    R"("whatsapp_endpoints_status":"ok","queries":[{"hostname":"web.whatsapp.com",)"
    R"("engine":"system","query_type":"A","answers":[{"answer_type":"A",)"
    R"("ipv4":"198.18.240.3"}],"failure":null}],"tcp_connect":[{"ip":"198.18.240.3",)"
    R"("port":443,"status":{"success":false,"failure":"generic_timeout_error"}}]}})"
    "\n"
    // An answer in no AS the probe knows: an anomaly the censor did not cause.
    R"({"test_name":"signal","measurement_start_time":"2023-11-14 22:13:20","test_runtime":3,)"
    R"("probe_cc":"CN","probe_asn":"AS64500","software_name":"vigil","test_keys":{)"
    R"("signal_backend_status":"ok","queries":[{"hostname":"chat.signal.org",)"
    R"("engine":"system","query_type":"A","answers":[{"answer_type":"A",)"
    R"("ipv4":"198.18.72.1"}],"failure":null}],"tcp_connect":[{"ip":"198.18.72.1",)"
    R"("port":443,"status":{"success":true,"failure":null}}]}})"
    "\n"
    // Throttled, and seen as fine.
    R"({"test_name":"telegram","measurement_start_time":"2023-11-14 22:13:21","test_runtime":3,)"
    R"("probe_cc":"CN","probe_asn":"AS64500","software_name":"vigil","test_keys":{)"
    R"("telegram_tcp_blocking":false,"telegram_http_blocking":false,)"
    R"("telegram_web_status":"ok","tcp_connect":[{"ip":"198.18.70.1","port":443,)"
    R"("status":{"success":true,"failure":null}}]}})"
    "\n";

constexpr const char* kLabTruth =
    R"({"t":1699999999.6,"phase":0,"event":"phase_start"})"
    "\n"
    R"({"t":1700000000.4,"phase":0,"rule":"messaging-dns","action":"dns_inject","flow":)"
    R"({"proto":"udp","src":"198.18.11.1","sport":35000,"dst":"198.18.20.53","dport":53},)"
    R"("detail":{"qname":"web.whatsapp.com","qtype":1,"answers":["198.18.240.3"]}})"
    "\n"
    R"({"t":1700000001.2,"phase":0,"rule":"messaging-hole","action":"drop","flow":)"
    R"({"proto":"tcp","src":"198.18.1.10","sport":41000,"dst":"198.18.70.1","dport":443},)"
    R"("detail":{}})"
    "\n";

TEST(AnalyzeCommand, TruthComparisonNamesFoundMissedAndFalsePositives) {
  test_support::TempDir dir("vigil-analyze-truth");
  std::string error;
  ASSERT_TRUE(dir.WriteFile("m.jsonl", kLabMeasurements, &error)) << error;
  // The lab's state directory: truth.jsonl beside `scenario`, which names its file.
  ASSERT_TRUE(dir.WriteFile("lab/truth.jsonl", kLabTruth, &error)) << error;
  ASSERT_TRUE(dir.WriteFile("lab/scenario", "/src/tests/lab/scenarios/gfw-dns.yaml\n", &error));
  auto r = test_support::RunCommand({test_support::VigilBinary(), "analyze", "--truth",
                                     dir.Join("lab/truth.jsonl"), dir.Join("m.jsonl"),
                                     "--truth-json", dir.Join("truth.json"), "--no-store"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* expected : {
           "scenario gfw-dns (",
           "  signal    signal    AS64500 CN  0      -              blocked dns  false_positive\n",
           "  telegram  telegram  AS64500 CN  0      blackhole      ok           missed\n",
           "  whatsapp  whatsapp  AS64500 CN  0      dns_injection  blocked dns  found\n",
           "all scenarios: censor acted on 2: 1 found, 0 wrong technique, 1 missed; untouched 1: "
           "1 false positive, 0 ok",
       }) {
    EXPECT_NE(r.output.find(expected), std::string::npos) << expected << "\n" << r.output;
  }
  std::istringstream json_lines(test_support::ReadFileOrEmpty(dir.Join("truth.json")));
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(json_lines, line);) {
    lines.push_back(nlohmann::json::parse(line, nullptr, false));
  }
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[2]["service"], "whatsapp");
  EXPECT_EQ(lines[2]["label"], "found");
  EXPECT_EQ(lines[2]["source"], dir.Join("m.jsonl") + ":1");
  EXPECT_EQ(lines[3]["totals"]["missed"], 1);

  // --scenario names it instead.
  r = test_support::RunCommand({test_support::VigilBinary(), "analyze", dir.Join("m.jsonl"),
                                "--truth", dir.Join("lab/truth.jsonl"), "--scenario", "mine",
                                "--no-store"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("scenario mine ("), std::string::npos) << r.output;
}

TEST(AnalyzeCommand, BadTruthIsRefusedByFileAndLineBeforeAnythingIsStored) {
  test_support::TempDir dir("vigil-analyze-truth");
  std::string error;
  ASSERT_TRUE(dir.WriteFile("m.jsonl", kLabMeasurements, &error)) << error;
  ASSERT_TRUE(dir.WriteFile("truth.jsonl",
                            std::string(kLabTruth) + "{\"t\":1700000002,\"phase\":0}\n", &error));
  auto r = test_support::RunCommand({test_support::VigilBinary(), "analyze", dir.Join("m.jsonl"),
                                     "--truth", dir.Join("truth.jsonl"), "--store",
                                     dir.Join("s.sqlite")});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(dir.Join("truth.jsonl") + ":4: field 'rule': missing"), std::string::npos)
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.Join("s.sqlite")));

  r = test_support::RunCommand({test_support::VigilBinary(), "analyze", dir.Join("m.jsonl"),
                                "--scenario", "x", "--no-store"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--scenario and --truth-json go with --truth"), std::string::npos);
}

}  // namespace
}  // namespace vigil
