// Faults between probes and `vigil collector`: the collector (the real binary) is
// killed with SIGKILL in the middle of a burst of uploads from several clients, each
// with its own durable spool. While it is down every client's spool still holds what
// was not acknowledged; after a restart on the same archive the clients send the rest,
// and every measurement is in the archive exactly once. And a probe with no collector
// at all keeps every measurement pending, each failure recorded with its reason.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/child_process.h"
#include "tests/support/loopback_port.h"
#include "tests/support/read_file.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"
#include "vantage/base/gzip.h"
#include "vantage/upload/upload_pending.h"

namespace vigil {
namespace {

using Json = nlohmann::ordered_json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string Measurement(int client, int n) {
  return Json{{"annotations", {{"engine_name", "vigil"}}},
              {"data_format_version", "0.2.0"},
              {"input", nullptr},
              {"measurement_start_time", "2026-12-01 10:00:00"},
              {"probe_asn", "AS30722"},
              {"probe_cc", "IT"},
              {"probe_ip", "127.0.0.1"},
              {"report_id", ""},
              {"software_name", "vigil"},
              {"software_version", "0.1.0"},
              {"test_keys", {{"client", client}, {"n", n}, {"padding", std::string(4000, 'p')}}},
              {"test_name", "telegram"},
              {"test_runtime", 0.5},
              {"test_start_time", "2026-12-01 10:00:00"},
              {"test_version", "0.3.0"}}
      .dump();
}

// "client/n" of every archived measurement, with how often it is there.
std::map<std::string, int> Archived(const std::string& root) {
  std::map<std::string, int> seen;
  if (!fs::exists(root)) return seen;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const std::string path = entry.path().string();
    if (!entry.is_regular_file() || path.size() < 9 || path.substr(path.size() - 9) != ".jsonl.gz")
      continue;
    auto text = InflateBounded(test_support::ReadFileOrFail(path), size_t{1} << 30);
    // A torn last batch is possible until the collector restarts and cuts it off.
    if (!text.ok()) continue;
    for (size_t start = 0; start < text->size();) {
      size_t end = text->find('\n', start);
      if (end == std::string::npos) end = text->size();
      if (end > start) {
        auto m = Json::parse(text->substr(start, end - start));
        ++seen[std::to_string(m["test_keys"]["client"].get<int>()) + "/" +
               std::to_string(m["test_keys"]["n"].get<int>())];
      }
      start = end + 1;
    }
  }
  return seen;
}

// "client/n" of each measurement in a spool's sent/ (acknowledged) or pending/.
std::vector<std::string> Keys(const Spool& spool, bool sent) {
  std::vector<std::string> keys;
  auto entries = sent ? spool.Sent() : spool.Pending();
  EXPECT_TRUE(entries.ok()) << entries.error();
  for (const auto& e : *entries) {
    auto m = Json::parse(*spool.Read(e));
    keys.push_back(std::to_string(m["test_keys"]["client"].get<int>()) + "/" +
                   std::to_string(m["test_keys"]["n"].get<int>()));
  }
  return keys;
}

bool StartCollector(test_support::ChildProcess& child, const std::string& archive, uint16_t port,
                    const std::string& log) {
  std::string error;
  if (!child.Start({test_support::VigilBinary(), "collector", "--archive", archive, "--listen",
                    "127.0.0.1:" + std::to_string(port), "--quiet", "--threads", "2", "--no-store"},
                   log, &error)) {
    ADD_FAILURE() << error;
    return false;
  }
  for (int i = 0; i < 200; ++i) {
    if (test_support::TcpConnects("127.0.0.1", port)) return true;
    std::this_thread::sleep_for(25ms);
  }
  ADD_FAILURE() << "the collector did not come up: " << test_support::ReadFileOrEmpty(log);
  return false;
}

TEST(CollectorCrash, KillNineMidBurstLosesNothingAcknowledgedAndStoresEverythingOnce) {
  test_support::TempDir dir("crash");
  const std::string archive = dir.Join("archive");
  const uint16_t port = test_support::FreeLoopbackPort();
  constexpr int kClients = 4, kEach = 150;

  std::vector<Spool> spools;
  for (int c = 0; c < kClients; ++c) {
    auto spool = Spool::Open(dir.Join("spool" + std::to_string(c)));
    ASSERT_TRUE(spool.ok()) << spool.error();
    for (int n = 0; n < kEach; ++n) {
      ASSERT_TRUE(spool->Put(NewLocalUid(), Measurement(c, n)).ok());
    }
    spools.push_back(std::move(*spool));
  }

  test_support::ChildProcess collector;
  ASSERT_TRUE(StartCollector(collector, archive, port, dir.Join("collector.log")));

  // Clients upload until their spools are empty, retrying through the outage.
  std::atomic<bool> stop{false};
  std::atomic<int> acknowledged{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      UploadPendingOptions options;
      options.upload.collectors = {"http://127.0.0.1:" + std::to_string(port)};
      options.upload.attempts_per_collector = 2;
      options.upload.sleep = [](std::chrono::milliseconds) { std::this_thread::sleep_for(20ms); };
      options.upload.connect_timeout = 1000ms;
      options.upload.io_timeout = 3000ms;
      while (!stop.load()) {
        auto report = UploadPending(spools[static_cast<size_t>(c)], nullptr, options,
                                    [&](const UploadProgress& p) {
                                      if (p.result->ok) acknowledged.fetch_add(1);
                                    });
        if (report.pending == 0) return;
        if (report.uploaded == 0) std::this_thread::sleep_for(50ms);
      }
    });
  }

  // Kill the collector in the middle of the burst.
  const auto wait_until = std::chrono::steady_clock::now() + 60s;
  while (acknowledged.load() < kClients * kEach / 3 &&
         std::chrono::steady_clock::now() < wait_until) {
    std::this_thread::sleep_for(2ms);
  }
  ASSERT_GE(acknowledged.load(), kClients * kEach / 3) << "the burst did not get going";
  collector.Kill();  // SIGKILL, reaped
  const int at_kill = acknowledged.load();
  ASSERT_LT(at_kill, kClients * kEach) << "the collector was killed too late to test anything";

  // While it is down: each client's spool holds everything, sent or pending, and
  // what it has as acknowledged is in the archive.
  std::this_thread::sleep_for(300ms);
  const auto archived_during = Archived(archive);
  for (int c = 0; c < kClients; ++c) {
    const auto sent = Keys(spools[static_cast<size_t>(c)], true);
    const auto pending = Keys(spools[static_cast<size_t>(c)], false);
    EXPECT_EQ(sent.size() + pending.size(), static_cast<size_t>(kEach)) << "client " << c;
    for (const auto& key : sent) {
      EXPECT_EQ(archived_during.count(key), 1u) << key << " was acknowledged but is not archived";
    }
  }

  // Back on the same archive: the clients finish.
  test_support::ChildProcess restarted;
  ASSERT_TRUE(StartCollector(restarted, archive, port, dir.Join("collector2.log")));
  for (auto& t : clients) t.join();
  stop = true;

  const auto archived = Archived(archive);
  EXPECT_EQ(archived.size(), static_cast<size_t>(kClients * kEach));
  for (int c = 0; c < kClients; ++c) {
    EXPECT_TRUE(Keys(spools[static_cast<size_t>(c)], false).empty()) << "client " << c;
    for (int n = 0; n < kEach; ++n) {
      const std::string key = std::to_string(c) + "/" + std::to_string(n);
      auto it = archived.find(key);
      ASSERT_NE(it, archived.end()) << key << " is missing";
      EXPECT_EQ(it->second, 1) << key << " is archived " << it->second << " times";
    }
  }
}

TEST(CollectorCrash, WithoutANetworkEveryMeasurementStaysPendingWithItsReason) {
  test_support::TempDir dir("crash");
  auto spool = Spool::Open(dir.Join("spool"));
  ASSERT_TRUE(spool.ok()) << spool.error();
  auto db = ResultsDb::Open(dir.Join("results.sqlite"));
  ASSERT_TRUE(db.ok()) << db.error();
  auto run = (*db)->BeginRun({"2026-12-03T10:00:00Z", "telegram", "IT", "AS30722", ""});
  ASSERT_TRUE(run.ok()) << run.error();
  for (int n = 0; n < 5; ++n) {
    const std::string uid = NewLocalUid();
    auto put = spool->Put(uid, Measurement(0, n));
    ASSERT_TRUE(put.ok());
    MeasurementRow row;
    row.uid = uid;
    row.run_id = *run;
    row.test_name = "telegram";
    row.spool_path = put->path;
    ASSERT_TRUE((*db)->AddMeasurement(row).ok());
  }
  UploadPendingOptions options;
  const uint16_t nobody = test_support::FreeLoopbackPort();
  options.upload.collectors = {"http://127.0.0.1:" + std::to_string(nobody)};
  options.upload.sleep = [](std::chrono::milliseconds) {};
  options.give_up_after_consecutive_failures = 0;  // try every one
  auto report = UploadPending(*spool, db->get(), options);
  EXPECT_EQ(report.pending, 5u);
  EXPECT_EQ(report.uploaded, 0u);
  EXPECT_EQ(report.failed, 5u);
  ASSERT_EQ(report.failures.size(), 5u);
  EXPECT_NE(report.failures[0].second.find("127.0.0.1:" + std::to_string(nobody)),
            std::string::npos)
      << report.failures[0].second;
  EXPECT_EQ(spool->Pending()->size(), 5u);
  auto failed = (*db)->ListMeasurements({std::nullopt, {UploadState::kFailed}, 0});
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->size(), 5u);
  EXPECT_TRUE((*failed)[0].upload_error.has_value());
  EXPECT_EQ((*failed)[0].upload_attempts, 1);

  // By default a pass stops after three failures in a row: the rest is left, not lost.
  options.give_up_after_consecutive_failures = 3;
  auto short_pass = UploadPending(*spool, db->get(), options);
  EXPECT_EQ(short_pass.failed, 3u);
  EXPECT_EQ(short_pass.left, 2u);
  EXPECT_EQ(spool->Pending()->size(), 5u);
}

}  // namespace
}  // namespace vigil
