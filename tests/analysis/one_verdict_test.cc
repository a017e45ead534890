// One verdict per measurement: what `vigil run` shows (a measurement's line extracted
// and scored by the engine, as apps/vigil/run_judge does) and what the stores keep (the
// same line through ScoreAndStore, the loop of `vigil analyze` and the collector) are
// the same verdict class, for generated measurements of every test and for the real
// OONI measurements under ../shared/reference (skipped with a message without them).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "analysis/ingest/ingest.h"
#include "analysis/store/score_and_store.h"
#include "analysis/store/store.h"
#include "tests/analysis/feed_fixtures.h"

namespace vigil::analysis {
namespace {

const int64_t kNow = static_cast<int64_t>(std::time(nullptr));

// uid → verdict class name, both ways.
void ExpectOneVerdict(const std::vector<std::string>& lines, const std::string& what) {
  const VerdictEngine& engine = ShippedVerdictEngine();
  IngestOptions ingest;
  MeasurementExtractor extractor(ingest);
  std::map<std::string, std::string> shown;
  for (const auto& line : lines) {
    ExtractedMeasurement m;
    if (!extractor.Extract(line, &m).ok()) continue;  // not a measurement: neither path has it
    shown[m.measurement.measurement_uid] =
        std::string(VerdictClassName(engine.Score(m, kNow).verdict));
  }
  ASSERT_FALSE(shown.empty()) << what;

  test_support::TempDir dir("vigil-one-verdict-");
  ASSERT_TRUE(dir.ok());
  auto store = OpenStore(dir.Join("analysis.sqlite"));
  ASSERT_TRUE(store.ok()) << store.error();
  {
    ScoreAndStore feed(store->get(), engine, ingest);
    feed.AddDocuments(lines, what, kNow, [](const IngestError&) {});
    auto committed = feed.Commit();
    ASSERT_TRUE(committed.ok()) << committed.error();
  }
  std::map<std::string, std::string> kept;
  auto r = (*store)->Select("SELECT measurement_uid, verdict FROM verdicts",
                            [&](const SqlRow& row) { kept[row.values[0]] = row.values[1]; });
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(kept, shown) << what;
  std::set<std::string> classes;
  for (const auto& [uid, verdict] : shown) classes.insert(verdict);
  EXPECT_GE(classes.size(), 2u) << what << ": every measurement got the same verdict";
}

TEST(OneVerdictTest, TheRunsVerdictIsTheStoresForGeneratedMeasurements) {
  const GeneratedMeasurements g = GenerateMeasurements("vigil-one-verdict-gen-", 400, 5);
  ASSERT_TRUE(g.error.empty()) << g.error;
  ExpectOneVerdict(g.lines, "generated");
}

TEST(OneVerdictTest, TheRunsVerdictIsTheStoresForRealOoniMeasurements) {
  const std::string dir = test_support::ReferenceDir() + "/ooni-measurements";
  if (!std::filesystem::is_directory(dir)) {
    GTEST_SKIP() << dir << " is absent: the reference data sits beside the repository in CI";
  }
  std::vector<std::string> lines;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".jsonl") continue;
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) lines.push_back(line);
    }
  }
  ExpectOneVerdict(lines, dir);
}

}  // namespace
}  // namespace vigil::analysis
