// ScoreAndStore, the loop behind `vigil analyze` and the collector's live feed, driven
// in-process: synthetic measurements (bench/gen_measurements.py) read from a file or
// handed over as documents end up in a SQLite store with the same contents whatever the
// batch size, queue bound and thread count; a slow store holds the producer back instead
// of letting the queue grow; a failing store's error says how much it lost.
#include "analysis/store/score_and_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <ctime>
#include <sstream>
#include <thread>

#include "analysis/store/schema.h"
#include "analysis/store/store.h"
#include "tests/analysis/feed_fixtures.h"
#include "tests/support/temp_dir.h"

namespace vigil::analysis {
namespace {

// The time the collector path judges at: now, as `vigil analyze` judges its files.
const int64_t kNow = static_cast<int64_t>(std::time(nullptr));

constexpr int kMeasurements = 600;

const GeneratedMeasurements& TheCorpus() {
  static const GeneratedMeasurements* corpus =
      new GeneratedMeasurements(GenerateMeasurements("vigil-score-store-", kMeasurements, 11));
  return *corpus;
}

// Every table's rows in key order, every column but written_at (the time of the write).
std::string Contents(Store& store) {
  std::string out;
  for (const auto& [sql, table] :
       {std::pair{"SELECT * FROM measurements ORDER BY measurement_uid",
                  &store::MeasurementsTable()},
        std::pair{"SELECT * FROM observations ORDER BY measurement_uid, idx",
                  &store::ObservationsTable()},
        std::pair{"SELECT * FROM verdicts ORDER BY measurement_uid, rules_version",
                  &store::VerdictsTable()},
        std::pair{"SELECT rules_version FROM rules_versions ORDER BY rules_version",
                  static_cast<const store::Table*>(nullptr)}}) {
    size_t written_at = SIZE_MAX;
    for (size_t i = 0; table && i < table->columns.size(); ++i) {
      if (std::string_view(table->columns[i].name) == "written_at") written_at = i;
    }
    out += std::string(sql) + "\n";
    auto r = store.Select(sql, [&](const SqlRow& row) {
      for (size_t i = 0; i < row.values.size(); ++i) {
        if (i == written_at) continue;
        out += row.null[i] ? "NULL" : row.values[i];
        out += '\t';
      }
      out += '\n';
    });
    EXPECT_TRUE(r.ok()) << r.error();
  }
  return out;
}

struct FreshStore {
  std::unique_ptr<test_support::TempDir> dir;
  std::unique_ptr<Store> store;
};

FreshStore OpenFresh() {
  FreshStore run;
  run.dir = std::make_unique<test_support::TempDir>("vigil-score-store-db-");
  auto s = OpenStore(run.dir->Join("analysis.sqlite"));
  EXPECT_TRUE(s.ok()) << s.error();
  if (s.ok()) run.store = std::move(*s);
  return run;
}

class ScoreAndStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(TheCorpus().error.empty()) << TheCorpus().error;
    ASSERT_EQ(TheCorpus().lines.size(), static_cast<size_t>(kMeasurements));
  }
  IngestOptions ingest_;
};

TEST_F(ScoreAndStoreTest, TheStoreHoldsTheSameWhateverTheBatchesAndThreads) {
  // The reference: every measurement scored here and written in one Store::Write.
  FreshStore reference = OpenFresh();
  {
    std::vector<ExtractedMeasurement> facts;
    std::vector<VerdictRow> verdicts;
    auto stats = IngestPath(
        TheCorpus().file, ingest_,
        [&](ExtractedMeasurement& m) {
          verdicts.push_back(ShippedVerdictEngine().Score(m, kNow));
          facts.push_back(std::move(m));
        },
        [](const IngestError& e) { ADD_FAILURE() << e.reason; });
    ASSERT_TRUE(stats.ok()) << stats.error();
    ASSERT_TRUE(reference.store->Write(facts, verdicts).ok());
    ASSERT_TRUE(reference.store->Commit().ok());
  }
  const std::string expected = Contents(*reference.store);
  ASSERT_NE(expected.find(TheCorpus().file), std::string::npos);  // source files are kept

  struct Shape {
    size_t batch, max_queued;
    unsigned threads;
  };
  for (Shape shape : {Shape{1, 1, 1}, Shape{7, 20, 3}, Shape{2000, 8000, 2}, Shape{64, 64, 0}}) {
    SCOPED_TRACE("batch " + std::to_string(shape.batch) + ", queue " +
                 std::to_string(shape.max_queued) + ", threads " + std::to_string(shape.threads));
    FreshStore run = OpenFresh();
    uint64_t observed = 0;
    {
      ScoreAndStore feed(run.store.get(), ShippedVerdictEngine(), ingest_,
                         {shape.batch, shape.max_queued});
      auto stats = feed.IngestPaths(
          {TheCorpus().file}, shape.threads, [&](const ScoredMeasurement&) { ++observed; },
          [](const IngestError& e) { ADD_FAILURE() << e.reason; });
      ASSERT_TRUE(stats.ok()) << stats.error();
      EXPECT_EQ(stats->measurements, static_cast<uint64_t>(kMeasurements));
      auto c = feed.Commit();
      ASSERT_TRUE(c.ok()) << c.error();
      EXPECT_EQ(feed.written(), static_cast<uint64_t>(kMeasurements));
    }
    EXPECT_EQ(observed, static_cast<uint64_t>(kMeasurements));
    EXPECT_EQ(Contents(*run.store), expected);
  }
}

TEST_F(ScoreAndStoreTest, DocumentsAreStoredAsTheSameLinesReadFromAFile) {
  FreshStore from_file = OpenFresh();
  {
    ScoreAndStore feed(from_file.store.get(), ShippedVerdictEngine(), ingest_);
    ASSERT_TRUE(feed.IngestPaths({TheCorpus().file}, 2, nullptr, nullptr).ok());
    ASSERT_TRUE(feed.Commit().ok());
  }
  FreshStore from_documents = OpenFresh();
  {
    ScoreAndStore feed(from_documents.store.get(), ShippedVerdictEngine(), ingest_, {5, 10});
    // In uneven handfuls, as the collector's archive commits them.
    const auto& lines = TheCorpus().lines;
    for (size_t i = 0; i < lines.size();) {
      const size_t n = std::min(lines.size() - i, 1 + i % 13);
      std::vector<std::string> documents(lines.begin() + i, lines.begin() + i + n);
      EXPECT_EQ(feed.AddDocuments(documents, "collector", kNow, nullptr), n);
      i += n;
    }
    ASSERT_TRUE(feed.Commit().ok());
  }
  // The same rows, but for where each came from.
  auto counts_file = CountRows(*from_file.store);
  auto counts_documents = CountRows(*from_documents.store);
  ASSERT_TRUE(counts_file.ok() && counts_documents.ok());
  EXPECT_EQ(counts_documents->measurements, static_cast<uint64_t>(kMeasurements));
  EXPECT_EQ(counts_documents->observations, counts_file->observations);
  EXPECT_EQ(counts_documents->verdicts, counts_file->verdicts);
  std::string expected = Contents(*from_file.store);
  std::string got = Contents(*from_documents.store);
  // source_file and source_line differ by design: the file's name and line, or "collector".
  size_t lines_with_collector = 0;
  for (size_t at = got.find("\tcollector\t0\t"); at != std::string::npos;
       at = got.find("\tcollector\t0\t", at + 1)) {
    ++lines_with_collector;
  }
  EXPECT_EQ(lines_with_collector, 2u * kMeasurements);  // measurements and verdicts
  auto aggregate = [](Store& s) {
    AggregationQuery q;
    q.axes = {Axis::kCc, Axis::kTest};
    auto r = Aggregate(s, q);
    EXPECT_TRUE(r.ok()) << r.error();
    std::string out;
    if (r.ok()) {
      for (const auto& c : r->cells) {
        out += c.probe_cc + " " + c.test_name + " " + std::to_string(c.measurement_count) + " " +
               std::to_string(c.anomaly_count) + " " + std::to_string(c.confirmed_count) + " " +
               std::to_string(c.failure_count) + "\n";
      }
    }
    return out;
  };
  EXPECT_EQ(aggregate(*from_documents.store), aggregate(*from_file.store));
}

TEST_F(ScoreAndStoreTest, ADocumentThatIsNotAMeasurementIsReportedAndSkipped) {
  FreshStore run = OpenFresh();
  ScoreAndStore feed(run.store.get(), ShippedVerdictEngine(), ingest_);
  std::vector<IngestError> errors;
  const size_t queued = feed.AddDocuments(
      {TheCorpus().lines[0], "not json", "{\"test_name\": 5}", TheCorpus().lines[1]}, "collector",
      kNow, [&](const IngestError& e) { errors.push_back(e); });
  EXPECT_EQ(queued, 2u);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].file, "collector");
  EXPECT_EQ(errors[0].line, 2u);
  EXPECT_EQ(errors[1].line, 3u);
  EXPECT_NE(errors[1].reason.find("test_name"), std::string::npos) << errors[1].reason;
  ASSERT_TRUE(feed.Commit().ok());
  auto counts = CountRows(*run.store);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->measurements, 2u);
}

TEST_F(ScoreAndStoreTest, WithoutAStoreMeasurementsAreScoredAndObservedOnly) {
  ScoreAndStore feed(nullptr, ShippedVerdictEngine(), ingest_);
  uint64_t anomalies = 0, seen = 0;
  auto stats = feed.IngestPaths(
      {TheCorpus().file}, 2,
      [&](const ScoredMeasurement& s) {
        ++seen;
        anomalies += s.verdict.anomaly;
      },
      nullptr);
  ASSERT_TRUE(stats.ok()) << stats.error();
  EXPECT_EQ(seen, static_cast<uint64_t>(kMeasurements));
  EXPECT_GT(anomalies, 0u);  // the generator blocks some
  EXPECT_TRUE(feed.Commit().ok());
  EXPECT_EQ(feed.written(), 0u);
}

TEST_F(ScoreAndStoreTest, ASlowStoreHoldsTheProducerBackAtTheQueueBound) {
  GatedStore store;
  constexpr size_t kBatch = 10, kQueue = 40;
  ScoreAndStore feed(&store, ShippedVerdictEngine(), ingest_, {kBatch, kQueue});
  std::atomic<size_t> added{0};
  std::thread producer([&] {
    const auto& lines = TheCorpus().lines;
    for (size_t i = 0; i < 200; ++i) {
      feed.AddDocuments({lines[i]}, "collector", kNow, nullptr);
      added = i + 1;
    }
  });
  // The writer holds one batch, the queue at most kQueue measurements, the producer one
  // batch being filled: beyond that it must wait.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_LE(added.load(), kQueue + 2 * kBatch);
  EXPECT_GE(added.load(), kQueue);
  EXPECT_EQ(store.written(), 0u);
  store.Release();
  producer.join();
  ASSERT_TRUE(feed.Commit().ok());
  EXPECT_EQ(store.written(), 200u);  // nothing lost on the way
  EXPECT_EQ(feed.written(), 200u);
}

TEST_F(ScoreAndStoreTest, AFailingStoreSaysHowManyMeasurementsItLost) {
  GatedStore store;
  store.Release();
  store.FailWrites();
  ScoreAndStore feed(&store, ShippedVerdictEngine(), ingest_, {10, 100});
  std::vector<std::string> documents(TheCorpus().lines.begin(), TheCorpus().lines.begin() + 25);
  feed.AddDocuments(documents, "collector", kNow, nullptr);
  auto c = feed.Commit();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().find("disk full (25 measurements not stored)"), std::string::npos)
      << c.error();
  EXPECT_EQ(feed.written(), 0u);
  EXPECT_TRUE(feed.Commit().ok());  // the error was reported once
}

}  // namespace
}  // namespace vigil::analysis
