// `vigil analyze` into a store, then `vigil query` and `vigil query measurements`, as an
// analyst runs them: on the real OONI measurements (when the reference data is there),
// on synthetic ones into both SQLite and a real ClickHouse server on loopback (the same
// answers), re-scoring under a new rules version, and the errors a user meets.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/child_process.h"
#include "tests/support/clickhouse_server.h"
#include "tests/support/read_file.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

std::string Measurements() { return test_support::ReferenceDir() + "/ooni-measurements"; }

test_support::CommandResult Vigil(std::vector<std::string> args) {
  args.insert(args.begin(), test_support::VigilBinary());
  return test_support::RunCommand(args, std::chrono::seconds(120));
}

// Only the standard output of a command (the summary lines go to stderr): run through
// sh so that stderr can be dropped.
test_support::CommandResult VigilStdout(const std::vector<std::string>& args) {
  std::string cmd = "'" + test_support::VigilBinary() + "'";
  for (const auto& a : args) cmd += " '" + a + "'";
  return test_support::RunCommand({"sh", "-c", cmd + " 2>/dev/null"}, std::chrono::seconds(120));
}

// The per-test, per-country rows `vigil analyze` prints: (test, cc) -> total.
std::map<std::pair<std::string, std::string>, long> AnalyzeTable(const std::string& output) {
  std::map<std::pair<std::string, std::string>, long> table;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string test, cc;
    long total = 0;
    if (fields >> test >> cc >> total && cc.size() == 2) table[{test, cc}] = total;
  }
  return table;
}

TEST(QueryCommand, AnalyzeThenQueryTheRealMeasurements) {
  if (!std::filesystem::is_directory(Measurements())) {
    GTEST_SKIP() << "no reference data at " << Measurements();
  }
  test_support::TempDir dir("vigil-query-");
  const std::string store = dir.Join("analysis.sqlite");
  auto analyzed = Vigil({"analyze", Measurements(), "--store", store});
  ASSERT_EQ(analyzed.exit_code, 0) << analyzed.output;
  EXPECT_NE(analyzed.output.find("stored in sqlite:" + store), std::string::npos)
      << analyzed.output;
  const auto table = AnalyzeTable(analyzed.output);

  // The command of the issue: an answer, over the default window.
  auto r = Vigil({"query", "--axis", "time,cc", "--test", "whatsapp", "--store", store});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("time        probe_cc  measurement_count"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("the default: 30 days"), std::string::npos) << r.output;

  // Over all time, per country, the store's counts are analyze's.
  r = VigilStdout({"query", "--axis", "cc", "--test", "whatsapp", "--since", "2010-01-01",
                   "--until", "2030-01-01", "--store", store, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto json = nlohmann::json::parse(r.output, nullptr, false);
  ASSERT_TRUE(json.is_object()) << r.output;
  EXPECT_EQ(json["rules_version"], "v2");
  long whatsapp_total = 0;
  for (const auto& cell : json["result"]) {
    const std::string cc = cell["probe_cc"];
    EXPECT_EQ(cell["measurement_count"].get<long>(), table.at({"whatsapp", cc})) << cc;
    EXPECT_EQ(cell["measurement_count"].get<long>(),
              cell["ok_count"].get<long>() + cell["anomaly_count"].get<long>() +
                  cell["confirmed_count"].get<long>() + cell["failure_count"].get<long>());
    whatsapp_total += cell["measurement_count"].get<long>();
  }
  long want = 0;
  for (const auto& [key, n] : table) want += key.first == "whatsapp" ? n : 0;
  EXPECT_EQ(whatsapp_total, want);
  EXPECT_GT(want, 0);

  // Drill-down: whatsapp.jsonl:1 (JP) is the anomaly.
  r = VigilStdout({"query", "measurements", "--test", "whatsapp", "--outcome", "anomaly", "--since",
                   "2010-01-01", "--until", "2030-01-01", "--store", store, "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.rfind("measurement_uid,start_time,probe_cc,", 0), 0u) << r.output;
  EXPECT_NE(r.output.find(",JP,"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("whatsapp.jsonl:1\n"), std::string::npos) << r.output;
}

TEST(QueryCommand, RescoringIsOneCommandAndQueriesFollowTheNewestRules) {
  test_support::TempDir dir("vigil-rescore-");
  std::string error;
  auto gen =
      test_support::RunCommand({"python3", test_support::SourceDir() + "/bench/gen_measurements.py",
                                "--count", "400", "--seed", "5", "--output", dir.Join("m.jsonl")});
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  const std::string store = dir.Join("s.sqlite");
  auto r = Vigil({"analyze", dir.Join("m.jsonl"), "--store", store});
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // The shipped rules (v2) under another name.
  std::string v3 =
      test_support::ReadFileOrFail(test_support::SourceDir() + "/testlists/verdict/rules.json");
  const size_t version = v3.find("\"version\": \"v2\"");
  ASSERT_NE(version, std::string::npos);
  v3.replace(version, 15, "\"version\": \"v3\"");
  ASSERT_TRUE(dir.WriteFile("rules-v3.json", v3, &error)) << error;
  std::ifstream bogons(test_support::SourceDir() + "/testlists/verdict/bogons.csv");
  std::stringstream bogons_text;
  bogons_text << bogons.rdbuf();
  ASSERT_TRUE(dir.WriteFile("bogons.csv", bogons_text.str(), &error)) << error;

  r = Vigil({"analyze", "--rescore", "--rules", dir.Join("rules-v3.json"), "--store", store});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("rescored 400 measurements"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rules v2         400 verdicts"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rules v3         400 verdicts"), std::string::npos) << r.output;

  auto old_out =
      VigilStdout({"query", "--axis", "cc,test", "--since", "2024-01-01", "--until", "2024-07-01",
                   "--store", store, "--rules-version", "v2", "--format", "csv"});
  auto new_out = VigilStdout({"query", "--axis", "cc,test", "--since", "2024-01-01", "--until",
                              "2024-07-01", "--store", store, "--format", "json"});
  ASSERT_EQ(old_out.exit_code, 0) << old_out.output;
  ASSERT_EQ(new_out.exit_code, 0) << new_out.output;
  const auto json = nlohmann::json::parse(new_out.output, nullptr, false);
  ASSERT_TRUE(json.is_object()) << new_out.output;
  EXPECT_EQ(json["rules_version"], "v3");
  // Same rules, another name: the same counts.
  long total = 0;
  for (const auto& cell : json["result"]) total += cell["measurement_count"].get<long>();
  EXPECT_EQ(total, 400);
  EXPECT_EQ(std::count(old_out.output.begin(), old_out.output.end(), '\n'),
            static_cast<long>(json["result"].size()) + 1);

  r = Vigil({"analyze", dir.Join("m.jsonl"), "--rescore", "--store", store});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("give no paths with it"), std::string::npos) << r.output;
}

TEST(QueryCommand, SqliteAndClickHouseAnswerTheSame) {
  if (auto why = test_support::ClickHouseServer::Unavailable()) GTEST_SKIP() << *why;
  test_support::ClickHouseServer clickhouse;
  ASSERT_TRUE(clickhouse.ok()) << clickhouse.error();
  test_support::TempDir dir("vigil-query-ch-");
  auto gen =
      test_support::RunCommand({"python3", test_support::SourceDir() + "/bench/gen_measurements.py",
                                "--count", "600", "--seed", "9", "--output", dir.Join("m.jsonl")});
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  const std::string sqlite = dir.Join("s.sqlite");
  const std::string ch = clickhouse.StoreSpec("vigil");
  for (const std::string& store : {sqlite, ch}) {
    auto r = Vigil({"analyze", dir.Join("m.jsonl"), "--store", store});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  const std::vector<std::vector<std::string>> queries = {
      {"query", "--axis", "time,cc", "--test", "whatsapp"},
      {"query", "--axis", "time,target", "--grain", "week", "--since", "2024-01-01", "--until",
       "2024-07-01"},
      {"query", "--axis", "asn,blocking_type", "--cc", "IR", "--since", "2024-01-01"},
      {"query", "measurements", "--cc", "RU", "--outcome", "anomaly", "--limit", "20"},
  };
  for (const auto& q : queries) {
    auto a = q, b = q;
    for (auto* args : {&a, &b}) args->insert(args->end(), {"--format", "csv", "--store"});
    a.push_back(sqlite);
    b.push_back(ch);
    auto ra = VigilStdout(a);
    auto rb = VigilStdout(b);
    ASSERT_EQ(ra.exit_code, 0) << ra.output;
    ASSERT_EQ(rb.exit_code, 0) << rb.output;
    EXPECT_GT(std::count(ra.output.begin(), ra.output.end(), '\n'), 1) << q[2] << ": no rows";
    EXPECT_EQ(rb.output, ra.output) << q[1] << " " << q[2];
  }
}

TEST(QueryCommand, MistakesAreNamed) {
  test_support::TempDir dir("vigil-query-bad-");
  auto r = Vigil({"query", "--store", dir.Join("none.sqlite")});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("no store at " + dir.Join("none.sqlite")), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.Join("none.sqlite"))) << "a query created a store";

  r = Vigil({"query", "--axis", "time,color", "--store", dir.Join("none.sqlite")});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--axis: unknown axis 'color' (axes: time, cc,"), std::string::npos)
      << r.output;
  r = Vigil({"query", "--since", "2024-02-30", "--store", dir.Join("none.sqlite")});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--since: bad time '2024-02-30' (no such date"), std::string::npos)
      << r.output;
  r = Vigil({"query", "--format", "xml"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--format: 'xml'"), std::string::npos) << r.output;

  // An empty store (analyze of nothing measurable) answers with the reason.
  std::string error;
  ASSERT_TRUE(dir.WriteFile("bad.jsonl", "not json\n", &error)) << error;
  r = Vigil({"analyze", dir.Join("bad.jsonl"), "--store", dir.Join("s.sqlite")});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  r = Vigil({"query", "--store", dir.Join("s.sqlite")});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("no verdicts yet"), std::string::npos) << r.output;
  r = Vigil({"query", "--axis", "time", "--grain", "hour", "--since", "2024-01-01", "--store",
             dir.Join("s.sqlite")});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("grain 'hour' covers at most 7 days"), std::string::npos) << r.output;
  r = Vigil({"query", "measurements", "--outcome", "bad", "--store", dir.Join("s.sqlite")});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--outcome: unknown outcome 'bad'"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace vigil
