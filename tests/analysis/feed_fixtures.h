// What the suites of the analyzer's feeds (score_and_store, live_feed) start from:
// synthetic measurements from bench/gen_measurements.py, written to a temporary file and
// read back as lines; the verdict engine of the shipped rules and fingerprints; and a
// store that holds every write until the test lets it go. Header-only (each suite is a
// program of its own). GatedStore is thread-safe; the rest is for the test thread.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "analysis/store/store.h"
#include "analysis/verdict/rules.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil::analysis {

struct GeneratedMeasurements {
  std::unique_ptr<test_support::TempDir> dir;
  /// The JSONL file in `dir`.
  std::string file;
  /// Its non-empty lines, one measurement each.
  std::vector<std::string> lines;
  /// Why the generator failed; empty when it did not.
  std::string error;
};

/// `count` measurements of the generator's `seed` in m.jsonl of a new temporary directory
/// whose name starts with `dir_prefix`.
inline GeneratedMeasurements GenerateMeasurements(const std::string& dir_prefix, int count,
                                                  int seed) {
  GeneratedMeasurements g;
  g.dir = std::make_unique<test_support::TempDir>(dir_prefix);
  g.file = g.dir->Join("m.jsonl");
  auto gen = test_support::RunCommand(
      {"python3", test_support::SourceDir() + "/bench/gen_measurements.py", "--count",
       std::to_string(count), "--seed", std::to_string(seed), "--output", g.file},
      std::chrono::seconds(120));
  if (gen.exit_code != 0) {
    g.error = "gen_measurements.py: " + gen.output;
    return g;
  }
  std::ifstream in(g.file);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) g.lines.push_back(line);
  }
  return g;
}

/// The engine of testlists/verdict/rules.json and testlists/fingerprints, loaded once;
/// a load that fails is a test failure.
inline const VerdictEngine& ShippedVerdictEngine() {
  static VerdictEngine* engine = [] {
    auto e = VerdictEngine::Load(test_support::SourceDir() + "/testlists/verdict/rules.json",
                                 test_support::SourceDir() + "/testlists/fingerprints");
    EXPECT_TRUE(e.ok()) << e.error();
    return e.ok() ? new VerdictEngine(std::move(*e)) : nullptr;
  }();
  return *engine;
}

// A store that holds every Write until Release, remembers the uids written and counts
// verdicts and commits; after FailWrites each Write fails with "disk full" (what it was
// given still counted).
class GatedStore : public Store {
 public:
  std::string Describe() const override { return "gated"; }
  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  Result<void> Write(const std::vector<ExtractedMeasurement>& facts,
                     const std::vector<VerdictRow>& verdicts) override {
    std::unique_lock lock(mu_);
    open_.wait(lock, [&] { return released_; });
    for (const auto& m : facts) uids_.push_back(m.measurement.measurement_uid);
    verdicts_ += verdicts.size();
    if (fail_) return Error{"disk full"};
    return {};
  }
  Result<void> WriteVerdicts(const std::vector<ExtractedMeasurement>&,
                             const std::vector<VerdictRow>&) override {
    return {};
  }
  Result<void> Commit() override {
    std::lock_guard lock(mu_);
    ++commits_;
    return {};
  }
  Result<void> Select(const std::string&, const SqlRowSink&) override { return {}; }

  void Release() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    open_.notify_all();
  }
  void FailWrites() { fail_ = true; }
  std::vector<std::string> uids() {
    std::lock_guard lock(mu_);
    return uids_;
  }
  /// Measurements given to Write, failed writes included.
  uint64_t written() {
    std::lock_guard lock(mu_);
    return uids_.size();
  }
  uint64_t verdicts() {
    std::lock_guard lock(mu_);
    return verdicts_;
  }
  int commits() {
    std::lock_guard lock(mu_);
    return commits_;
  }

 private:
  std::mutex mu_;
  std::condition_variable open_;
  bool released_ = false;
  std::atomic<bool> fail_{false};
  std::vector<std::string> uids_;
  uint64_t verdicts_ = 0;
  int commits_ = 0;
};

}  // namespace vigil::analysis
