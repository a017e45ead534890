// The analyzer against the censor's ground truth: `vigil run im` from the lab's censored
// network under a scenario, then `vigil analyze --truth` over what it wrote and what the
// censor recorded. Every service the censor blocked must be found with the technique it
// used, and nothing it left alone flagged.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/lab/verify/lab_environment.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil::test_support {
namespace {

using nlohmann::json;

LabEnvironment* g_lab = nullptr;
// `vigil helper` in vgl-control: its whoami tells the probe its address, which the lab's
// databases place in AS64500, CN (a measurement of an unknown network is a failure).
ChildProcess* g_helper = nullptr;
constexpr const char* kHelperUrl = LabEnvironment::kHelperUrl;

// Websites the lab serves that the scenarios block, leave alone or make fail by
// themselves, over HTTP and HTTPS.
constexpr const char* kWebsites[] = {"http://twitter.com/",          "https://twitter.com/",
                                     "http://www.minghui.org/",      "https://www.minghui.org/",
                                     "http://archive.org/",          "https://archive.org/",
                                     "http://citizenlab.ca/",        "https://citizenlab.ca/",
                                     "https://creativecommons.org/", "http://boingboing.net/"};

struct Comparison {
  std::map<std::string, json> rows;  // "test/service" -> its measurement line
  json totals;                       // the scenario's totals
  std::string text;                  // what `vigil analyze` printed
};

class LabTruthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (LabEnvironment::Unavailable()) return;
    g_lab = new LabEnvironment("clean");
    if (!g_lab->ok()) return;
    g_helper = g_lab->StartHelper().release();
  }
  static void TearDownTestSuite() {
    delete g_helper;
    g_helper = nullptr;
    delete g_lab;
    g_lab = nullptr;
  }

  void SetUp() override {
    if (auto why = LabEnvironment::Unavailable()) GTEST_SKIP() << *why;
    ASSERT_TRUE(g_lab && g_lab->ok()) << (g_lab ? g_lab->error() : "no lab");
  }

  // `vigil run im` under `scenario`, compared with the truth by `vigil analyze`.
  Comparison RunAndCompare(const std::string& scenario) {
    Comparison c;
    std::string error;
    EXPECT_TRUE(g_lab->SwitchScenario(scenario, &error)) << error;
    const std::string state = g_lab->state_dir();
    const std::string measurements = state + "/" + scenario + ".jsonl";
    auto run = g_lab->Exec(
        "client",
        {VigilBinary(), "run", "im", "--timeout", "2", "--ca-file", g_lab->ca_file(), "--endpoints",
         state + "/endpoints.csv", "--asn-db", state + "/asn.mmdb", "--country-db",
         state + "/country.mmdb", "--helper", kHelperUrl, "--output", measurements,
         // The lab's forged DNS replies come within 320 ms of the first: a shorter wait
         // for late ones than the default 2 s.
         "--dns-listen", "0.5"},
        std::chrono::seconds(90));
    EXPECT_EQ(run.exit_code, 0) << run.output;
    // A few websites too, by web_connectivity against the helper: the block pages, the
    // DNS forgeries and the servers that fail by themselves of the scenarios are theirs.
    std::vector<std::string> web = {VigilBinary(),
                                    "run",
                                    "web_connectivity",
                                    "--timeout",
                                    "2",
                                    "--ca-file",
                                    g_lab->ca_file(),
                                    "--endpoints",
                                    state + "/endpoints.csv",
                                    "--asn-db",
                                    state + "/asn.mmdb",
                                    "--country-db",
                                    state + "/country.mmdb",
                                    "--helper",
                                    kHelperUrl,
                                    "--output",
                                    measurements,
                                    "--dns-listen",
                                    "0.5"};
    for (const char* url : kWebsites) web.insert(web.end(), {"--input", url});
    auto websites = g_lab->Exec("client", web, std::chrono::seconds(90));
    EXPECT_EQ(websites.exit_code, 0) << websites.output;
    const std::string json_file = state + "/" + scenario + "-truth.jsonl";
    auto analyze =
        RunCommand({VigilBinary(), "analyze", measurements, "--truth", state + "/truth.jsonl",
                    "--scenario", scenario, "--no-store", "--truth-json", json_file},
                   std::chrono::seconds(60));
    EXPECT_EQ(analyze.exit_code, 0) << analyze.output;
    c.text = run.output + "\n" + websites.output + "\n" + analyze.output;
    std::istringstream lines(ReadFileOrEmpty(json_file));
    for (std::string line; std::getline(lines, line);) {
      json j = json::parse(line, nullptr, false);
      EXPECT_TRUE(j.is_object()) << line;
      if (!j.is_object()) continue;
      if (j["kind"] == "measurement") {
        c.rows[j["test_name"].get<std::string>() + "/" + j["service"].get<std::string>()] = j;
      } else if (j["scenario"] == scenario) {
        c.totals = j["totals"];
      }
    }
    return c;
  }
};

TEST_F(LabTruthTest, DnsInjectionIsFoundForEveryServiceItTouched) {
  Comparison c = RunAndCompare("gfw-dns");
  ASSERT_TRUE(c.totals.is_object()) << c.text;
  EXPECT_EQ(c.totals["found"], 8) << c.text;
  EXPECT_EQ(c.totals["missed"], 0) << c.text;
  EXPECT_EQ(c.totals["wrong_technique"], 0) << c.text;
  for (const char* service : {"whatsapp", "telegram", "signal", "facebook_messenger"}) {
    // By its own experiment and by the list-driven one.
    for (const std::string& key :
         {std::string(service) + "/" + service, std::string("messaging/") + service}) {
      const json& row = c.rows[key];
      EXPECT_EQ(row["label"], "found") << key << "\n" << c.text;
      EXPECT_EQ(row["truth"]["techniques"], json::array({"dns_injection"})) << key;
      EXPECT_EQ(row["truth"]["rules"], json::array({"messaging-dns"})) << key;
      EXPECT_EQ(row["verdict"]["blocking_type"], "dns") << key;
    }
  }
  // The censor left WeChat and the other services of the list alone.
  for (const char* key : {"wechat/wechat", "messaging/wechat", "messaging/viber"}) {
    EXPECT_EQ(c.rows[key]["truth"]["acts"], 0) << key << "\n" << c.text;
  }
}

// Every scenario of the library: whatever the censor does, a service it left alone is
// never flagged (a false positive is the worst bug vigil can ship), and under clean
// every measurement is ok.
TEST_F(LabTruthTest, NothingTheCensorLeftAloneIsFlaggedInAnyScenario) {
  std::vector<std::string> scenarios;
  for (const auto& e : std::filesystem::directory_iterator(SourceDir() + "/tests/lab/scenarios")) {
    if (e.path().extension() == ".yaml") scenarios.push_back(e.path().stem().string());
  }
  std::sort(scenarios.begin(), scenarios.end());
  ASSERT_GE(scenarios.size(), 5u);
  for (const std::string& scenario : scenarios) {
    Comparison c = RunAndCompare(scenario);
    ASSERT_TRUE(c.totals.is_object()) << scenario << "\n" << c.text;
    EXPECT_GT(c.rows.size(), 5u) << scenario << "\n" << c.text;
    EXPECT_EQ(c.totals["false_positive"], 0) << scenario << "\n" << c.text;
    if (scenario == "clean") {
      EXPECT_EQ(c.totals["ok"], c.rows.size()) << c.text;
    }
    if (scenario == "blackhole-ips") {
      EXPECT_EQ(c.totals["missed"], 0) << c.text;
      EXPECT_EQ(c.totals["wrong_technique"], 0) << c.text;
      for (const char* key : {"telegram/telegram", "messaging/telegram"}) {
        EXPECT_EQ(c.rows[key]["label"], "found") << key << "\n" << c.text;
        EXPECT_EQ(c.rows[key]["truth"]["techniques"], json::array({"blackhole"})) << c.text;
        EXPECT_EQ(c.rows[key]["verdict"]["blocking_type"], "tcp_ip") << c.text;
      }
    }
  }
}

}  // namespace
}  // namespace vigil::test_support
