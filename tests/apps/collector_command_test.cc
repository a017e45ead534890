// `vigil collector` as an operator runs it: the real binary on loopback archives what
// probes upload and feeds the analyzer's store as measurements arrive, so `vigil
// query` answers over what the collector received; bad flags are named.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/child_process.h"
#include "tests/support/loopback_port.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"
#include "vantage/upload/uploader.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST(CollectorCommand, FeedsTheAnalysisStoreAsMeasurementsArrive) {
  const std::string reference = test_support::ReferenceDir() + "/ooni-measurements/whatsapp.jsonl";
  if (!fs::exists(reference))
    GTEST_SKIP() << "no reference data at " << reference << " (../shared/reference)";
  test_support::TempDir dir("collector-cmd");
  const uint16_t port = test_support::FreeLoopbackPort();
  const std::string store = "sqlite:" + dir.Join("analysis.sqlite");
  test_support::ChildProcess collector;
  std::string error;
  ASSERT_TRUE(
      collector.Start({test_support::VigilBinary(), "collector", "--archive", dir.Join("archive"),
                       "--listen", "127.0.0.1:" + std::to_string(port), "--store", store,
                       "--data-dir", test_support::SourceDir() + "/testlists"},
                      dir.Join("collector.log"), &error))
      << error;
  for (int i = 0; i < 200 && !test_support::TcpConnects("127.0.0.1", port); ++i)
    std::this_thread::sleep_for(25ms);

  UploadOptions options;
  options.collectors = {"http://127.0.0.1:" + std::to_string(port)};
  options.sleep = [](std::chrono::milliseconds) {};
  Uploader uploader(options);
  std::ifstream in(reference);
  size_t sent = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto r = uploader.Upload(line);
    ASSERT_TRUE(r.ok) << r.error << "\n"
                      << test_support::ReadFileOrEmpty(dir.Join("collector.log"));
    ++sent;
  }
  ASSERT_GT(sent, 0u);
  // SIGTERM: the last batch reaches the store before the collector exits.
  EXPECT_TRUE(collector.Terminate(20s)) << test_support::ReadFileOrEmpty(dir.Join("collector.log"));
  const std::string log = test_support::ReadFileOrEmpty(dir.Join("collector.log"));
  EXPECT_NE(log.find("feeding the analysis store"), std::string::npos) << log;
  // The log names no client address: only method, path and status.
  EXPECT_EQ(log.find("127.0.0.1:" + std::to_string(port) + " "), std::string::npos);

  auto q = test_support::RunCommand(
      {"/bin/sh", "-c",
       test_support::VigilBinary() + " query --store " + store +
           " --test whatsapp --axis cc --since 2012-01-01 --until 2030-01-01"
           " --format json 2>/dev/null"});
  ASSERT_EQ(q.exit_code, 0) << q.output;
  auto json = nlohmann::json::parse(q.output, nullptr, false);
  ASSERT_TRUE(json.is_object()) << q.output;
  size_t counted = 0;
  for (const auto& cell : json["result"]) counted += cell["measurement_count"].get<size_t>();
  EXPECT_EQ(counted, sent);
}

TEST(CollectorCommand, BadFlagsAreNamed) {
  auto no_archive = test_support::RunCommand({test_support::VigilBinary(), "collector"});
  EXPECT_EQ(no_archive.exit_code, 2);
  EXPECT_NE(no_archive.output.find("--archive"), std::string::npos) << no_archive.output;
  auto bad_listen =
      test_support::RunCommand({test_support::VigilBinary(), "collector", "--archive", "/tmp/x",
                                "--listen", "example.org:80", "--no-store"});
  EXPECT_EQ(bad_listen.exit_code, 2);
  EXPECT_NE(bad_listen.output.find("not an IP address"), std::string::npos) << bad_listen.output;
}

}  // namespace
}  // namespace vigil
