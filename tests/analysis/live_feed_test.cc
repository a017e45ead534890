// LiveFeed, the collector's feed into the analysis store, in-process: a burst while the
// store is stalled stays within the memory bound (the rest waits in the backlog file)
// and every measurement reaches the store once it moves again; a backlog left by an
// earlier run is fed at start; a document that is not a measurement is reported.
#include "analysis/store/live_feed.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>

#include "analysis/store/store.h"
#include "tests/analysis/feed_fixtures.h"
#include "tests/support/temp_dir.h"

namespace vigil::analysis {
namespace {

constexpr int kMeasurements = 300;

const GeneratedMeasurements& TheCorpus() {
  static const GeneratedMeasurements* corpus =
      new GeneratedMeasurements(GenerateMeasurements("vigil-live-feed-", kMeasurements, 5));
  return *corpus;
}

class LiveFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(TheCorpus().error.empty()) << TheCorpus().error;
    ASSERT_EQ(TheCorpus().lines.size(), static_cast<size_t>(kMeasurements));
    ASSERT_TRUE(dir_.ok()) << dir_.error();
  }
  LiveFeedOptions Options() {
    LiveFeedOptions o;
    o.backlog_path = dir_.Join(".store-backlog");
    o.writes = {10, 20};
    o.report = [this](const std::string& m) {
      std::lock_guard lock(reports_mu_);
      reports_.push_back(m);
    };
    return o;
  }
  test_support::TempDir dir_{"vigil-live-feed-run-"};
  IngestOptions ingest_;
  std::mutex reports_mu_;
  std::vector<std::string> reports_;
};

TEST_F(LiveFeedTest, ABurstIntoAStalledStoreStaysWithinTheBoundAndNothingIsLost) {
  GatedStore store;
  LiveFeedOptions options = Options();
  options.max_queued_bytes = 64 << 10;  // about ten of these measurements
  size_t largest = 0;
  for (const auto& l : TheCorpus().lines) largest = std::max(largest, l.size());
  LiveFeedStats stats;
  {
    auto feed = LiveFeed::Start(store, ShippedVerdictEngine(), ingest_, options);
    ASSERT_TRUE(feed.ok()) << feed.error();
    // The burst, in handfuls as the archive commits them, while the store is stalled.
    const auto& lines = TheCorpus().lines;
    for (size_t i = 0; i < lines.size(); i += 7) {
      std::vector<std::string_view> handful;
      for (size_t k = i; k < std::min(lines.size(), i + 7); ++k) handful.push_back(lines[k]);
      (*feed)->Add(handful);
    }
    stats = (*feed)->stats();
    EXPECT_EQ(stats.added, static_cast<uint64_t>(kMeasurements));
    EXPECT_GT(stats.backlogged, 0u);  // the rest went to disk, not memory
    EXPECT_LE(stats.peak_queued_bytes, options.max_queued_bytes + largest);
    EXPECT_GT(std::filesystem::file_size(options.backlog_path), 0u);
    EXPECT_TRUE(store.uids().empty());
    store.Release();
  }  // drains queue and backlog, commits
  const std::vector<std::string> uids = store.uids();
  EXPECT_EQ(uids.size(), static_cast<size_t>(kMeasurements));
  EXPECT_EQ(std::set<std::string>(uids.begin(), uids.end()).size(),
            static_cast<size_t>(kMeasurements));
  EXPECT_EQ(store.verdicts(), static_cast<uint64_t>(kMeasurements));
  EXPECT_GE(store.commits(), 1);
  EXPECT_EQ(std::filesystem::file_size(options.backlog_path), 0u);  // all fed
  EXPECT_TRUE(reports_.empty()) << reports_.front();
}

TEST_F(LiveFeedTest, ABacklogLeftByAnEarlierRunIsFedAtStartInOrder) {
  LiveFeedOptions options = Options();
  {
    std::ofstream backlog(options.backlog_path);
    for (int i = 0; i < 5; ++i) backlog << TheCorpus().lines[i] << "\n";
    backlog << TheCorpus().lines[5].substr(0, 100);  // torn by a crash mid-append
  }
  GatedStore store;
  store.Release();
  {
    auto feed = LiveFeed::Start(store, ShippedVerdictEngine(), ingest_, options);
    ASSERT_TRUE(feed.ok()) << feed.error();
    (*feed)->Add({TheCorpus().lines[6]});
  }
  ASSERT_EQ(store.uids().size(), 6u);
  // The backlog's five first, then the new one.
  std::vector<std::string> expected;
  for (int i : {0, 1, 2, 3, 4, 6}) {
    MeasurementExtractor extractor(ingest_);
    ExtractedMeasurement m;
    ASSERT_TRUE(extractor.Extract(TheCorpus().lines[static_cast<size_t>(i)], &m).ok());
    expected.push_back(m.measurement.measurement_uid);
  }
  EXPECT_EQ(store.uids(), expected);
}

TEST_F(LiveFeedTest, ADocumentThatIsNotAMeasurementIsReported) {
  GatedStore store;
  store.Release();
  {
    auto feed = LiveFeed::Start(store, ShippedVerdictEngine(), ingest_, Options());
    ASSERT_TRUE(feed.ok()) << feed.error();
    (*feed)->Add({"not json", TheCorpus().lines[0]});
  }
  EXPECT_EQ(store.uids().size(), 1u);
  ASSERT_EQ(reports_.size(), 1u);
  EXPECT_NE(reports_[0].find("not ingested"), std::string::npos) << reports_[0];
}

TEST_F(LiveFeedTest, AnUnopenableBacklogIsRefusedWithItsPath) {
  GatedStore store;
  LiveFeedOptions options = Options();
  options.backlog_path = dir_.Join("missing/dir/.store-backlog");
  auto feed = LiveFeed::Start(store, ShippedVerdictEngine(), ingest_, options);
  ASSERT_FALSE(feed.ok());
  EXPECT_NE(feed.error().find(options.backlog_path), std::string::npos) << feed.error();
}

}  // namespace
}  // namespace vigil::analysis
