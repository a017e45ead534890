// A volunteer's life with the `vigil` binary, on loopback: no measurement before
// consent; `vigil onboard --yes` records it and says what it accepted; `vigil run`
// keeps each measurement in the spool and the results database and uploads it to a
// real collector; with the collector down the measurement stays pending (and says
// why) until `vigil upload` sends it; `vigil results list|show` tell the story;
// `vigil autorun` writes an hourly timer with a randomised delay; a malformed config
// is named with line and column.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/child_process.h"
#include "tests/support/running_collector.h"
#include "tests/support/silent_resolver.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"
#include "vantage/base/gzip.h"
#include "vantage/collector/collector_server.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using test_support::RunCommand;
using test_support::SilentResolver;
using test_support::VigilBinary;
namespace fs = std::filesystem;

// An in-process collector on loopback `port` (0: any), one serving thread.
struct Collector : test_support::RunningCollector {
  static CollectorConfig Config(const std::string& archive, uint16_t port) {
    CollectorConfig config = DefaultConfig(archive, port);
    config.http.threads = 1;
    return config;
  }
  Collector(const std::string& archive, uint16_t port)
      : test_support::RunningCollector(Config(archive, port)) {
    EXPECT_EQ(error(), "");
  }
};

std::string ConfigWith(const test_support::TempDir& dir, const std::string& extra) {
  std::string error;
  const std::string text = "{\"spool_dir\": \"" + dir.Join("spool") + "\", \"results_db\": \"" +
                           dir.Join("results.sqlite") + "\"" + extra + "}";
  EXPECT_TRUE(dir.WriteFile("config.json", text, &error)) << error;
  return dir.Join("config.json");
}

size_t FilesIn(const std::string& dir) {
  if (!fs::exists(dir)) return 0;
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TEST(Volunteer, NothingMeasuresBeforeConsent) {
  test_support::TempDir dir("volunteer");
  const std::string config = ConfigWith(dir, "");
  auto r = RunCommand({VigilBinary(), "run", "whatsapp", "--config", config, "--timeout", "0.5"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no informed consent recorded in " + config), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("vigil onboard"), std::string::npos);
  EXPECT_EQ(FilesIn(dir.Join("spool/pending")), 0u);
  auto missing = RunCommand({VigilBinary(), "run", "whatsapp", "--config", dir.Join("none.json")});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("no informed consent"), std::string::npos) << missing.output;
  // The quiz reads answers from stdin; without any, nothing is recorded.
  auto quiz = RunCommand({VigilBinary(), "onboard", "--config", dir.Join("new.json")});
  EXPECT_EQ(quiz.exit_code, 2);
  EXPECT_NE(quiz.output.find("end of input"), std::string::npos) << quiz.output;
  EXPECT_FALSE(fs::exists(dir.Join("new.json")));
}

TEST(Volunteer, OnboardRunUploadAndResults) {
  test_support::TempDir dir("volunteer");
  SilentResolver resolver;
  // A collector at a port that is closed for the first run.
  uint16_t port = 0;
  {
    Collector probe(dir.Join("unused"), 0);
    port = probe.port();
  }
  const std::string collector_url = "http://127.0.0.1:" + std::to_string(port);
  const std::string config = ConfigWith(dir, "");
  auto onboard = RunCommand({VigilBinary(), "onboard", "--yes", "--config", config, "--upload",
                             "--collector", collector_url});
  ASSERT_EQ(onboard.exit_code, 0) << onboard.output;
  EXPECT_NE(onboard.output.find("on the volunteer's behalf"), std::string::npos) << onboard.output;
  EXPECT_NE(onboard.output.find("uploading: on"), std::string::npos) << onboard.output;

  // Collector down: the run works, the measurement stays pending with the reason.
  auto first = RunCommand({VigilBinary(), "run", "whatsapp", "--config", config, "--timeout", "0.5",
                           "--resolver", resolver.url(), "--output", dir.Join("run1.jsonl")},
                          120s);
  EXPECT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("1 failed"), std::string::npos) << first.output;
  EXPECT_NE(first.output.find(collector_url), std::string::npos) << first.output;
  EXPECT_EQ(FilesIn(dir.Join("spool/pending")), 1u);
  auto shown = RunCommand({VigilBinary(), "results", "--config", config, "show", "1"});
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_NE(shown.output.find("whatsapp"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("failed"), std::string::npos) << shown.output;

  // Collector up: the next run uploads its own measurement and the one left over.
  Collector collector(dir.Join("archive"), port);
  auto second =
      RunCommand({VigilBinary(), "run", "whatsapp", "--config", config, "--timeout", "0.5",
                  "--resolver", resolver.url(), "--output", dir.Join("run2.jsonl")},
                 120s);
  EXPECT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("2 uploaded, 0 failed"), std::string::npos) << second.output;
  EXPECT_EQ(collector.stored(), 2u);
  EXPECT_EQ(FilesIn(dir.Join("spool/pending")), 0u);
  EXPECT_EQ(FilesIn(dir.Join("spool/sent")), 2u);

  auto list = RunCommand({VigilBinary(), "results", "--config", config, "list"});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  EXPECT_NE(list.output.find("uploads: 2 uploaded, 0 pending, 0 failed"), std::string::npos)
      << list.output;
  auto json = RunCommand({VigilBinary(), "results", "--config", config, "show", "2", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.output;
  auto rows = nlohmann::json::parse(json.output);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["upload_state"], "uploaded");
  EXPECT_TRUE(rows[0]["measurement_uid"].is_string());
  // The resolver answers nobody and the collector is on loopback (which proves nothing
  // about the network): no canary answered.
  EXPECT_EQ(rows[0]["verdict"], "no_network");

  // `vigil upload` with nothing pending, then a measurement of a run with --no-upload.
  auto third =
      RunCommand({VigilBinary(), "run", "whatsapp", "--config", config, "--timeout", "0.5",
                  "--resolver", resolver.url(), "--no-upload", "--output", dir.Join("run3.jsonl")},
                 120s);
  EXPECT_EQ(third.exit_code, 0) << third.output;
  EXPECT_EQ(FilesIn(dir.Join("spool/pending")), 1u);
  auto upload = RunCommand({VigilBinary(), "upload", "--config", config});
  EXPECT_EQ(upload.exit_code, 0) << upload.output;
  EXPECT_NE(upload.output.find("1 uploaded, 0 failed, 0 left pending (of 1)"), std::string::npos)
      << upload.output;
  EXPECT_EQ(collector.stored(), 3u);
}

TEST(Volunteer, MaxRuntimeLeavesTheRestForTheNextRunAndProgressShowsAnEta) {
  test_support::TempDir dir("volunteer");
  SilentResolver resolver;
  const std::string config = ConfigWith(dir, "");
  ASSERT_EQ(RunCommand({VigilBinary(), "onboard", "--yes", "--config", config}).exit_code, 0);
  // One at a time, each waiting out its 1 s DNS timeouts: after 1 s nothing new starts.
  const auto start = std::chrono::steady_clock::now();
  auto r = RunCommand(
      {VigilBinary(), "run", "im", "--config", config, "--timeout", "1", "--resolver",
       resolver.url(), "--parallel", "1", "--max-runtime", "1", "--output", dir.Join("run.jsonl")},
      120s);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("not started: the run's time budget (1 s) was reached"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("skipped"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ETA "), std::string::npos)
      << "progress lines give the time left: " << r.output;
  EXPECT_LT(elapsed, 30s);
  // What ran is kept; what did not start is not invented.
  const size_t kept = FilesIn(dir.Join("spool/pending"));
  EXPECT_GE(kept, 1u);
  EXPECT_LT(kept, 16u);
}

TEST(Volunteer, UploadIsRefusedWhenTheVolunteerDidNotOptIn) {
  test_support::TempDir dir("volunteer");
  const std::string config = ConfigWith(dir, "");
  ASSERT_EQ(RunCommand({VigilBinary(), "onboard", "--yes", "--config", config}).exit_code, 0);
  auto upload = RunCommand({VigilBinary(), "upload", "--config", config});
  EXPECT_EQ(upload.exit_code, 2);
  EXPECT_NE(upload.output.find("uploading is off"), std::string::npos) << upload.output;
}

TEST(Volunteer, AutorunWritesAnHourlyTimerWithARandomDelay) {
  test_support::TempDir dir("volunteer");
  const std::string config = ConfigWith(dir, "");
  const std::string units = dir.Join("units");
  auto refused =
      RunCommand({VigilBinary(), "autorun", "enable", "--config", config, "--unit-dir", units});
  EXPECT_EQ(refused.exit_code, 2) << "consent first: " << refused.output;
  ASSERT_EQ(RunCommand({VigilBinary(), "onboard", "--yes", "--config", config}).exit_code, 0);
  auto enabled =
      RunCommand({VigilBinary(), "autorun", "enable", "--config", config, "--unit-dir", units});
  ASSERT_EQ(enabled.exit_code, 0) << enabled.output;
  const std::string timer = test_support::ReadFileOrEmpty(units + "/vigil-autorun.timer");
  EXPECT_NE(timer.find("OnCalendar=hourly"), std::string::npos) << timer;
  EXPECT_NE(timer.find("RandomizedDelaySec="), std::string::npos) << timer;
  const std::string service = test_support::ReadFileOrEmpty(units + "/vigil-autorun.service");
  EXPECT_NE(service.find("run im --config " + config + " --unattended"), std::string::npos)
      << service;
  auto status = RunCommand({VigilBinary(), "autorun", "status", "--unit-dir", units});
  EXPECT_NE(status.output.find("enabled"), std::string::npos) << status.output;
  auto disabled = RunCommand({VigilBinary(), "autorun", "disable", "--unit-dir", units});
  EXPECT_EQ(disabled.exit_code, 0) << disabled.output;
  EXPECT_FALSE(fs::exists(units + "/vigil-autorun.timer"));
}

TEST(Volunteer, AMalformedConfigIsNamedWithLineAndColumn) {
  test_support::TempDir dir("volunteer");
  std::string error;
  ASSERT_TRUE(dir.WriteFile("config.json", "{\n  \"upload\": tru\n}\n", &error));
  auto r = RunCommand({VigilBinary(), "run", "whatsapp", "--config", dir.Join("config.json")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find(dir.Join("config.json") + ":2:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("malformed JSON"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace vigil
