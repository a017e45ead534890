// The analyzer's store on both backends: the embedded SQLite file and a real ClickHouse
// server started on loopback. Synthetic messaging measurements (bench/gen_measurements.py,
// six months, ten networks) go through the real ingest and verdict rules into the store;
// every aggregation is checked against a tally computed here from the same verdicts,
// and the two backends must give identical answers.
#include "analysis/store/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "analysis/ingest/ingest.h"
#include "analysis/series/series.h"
#include "analysis/store/schema.h"
#include "analysis/verdict/rules.h"
#include "tests/support/child_process.h"
#include "tests/support/clickhouse_server.h"
#include "tests/support/read_file.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil::analysis {
namespace {

// The "now" the corpus is scored at: after every start time in it, as the clock is when
// vigil analyze scores it.
constexpr int64_t kNow = 4102444800;  // 2100-01-01

constexpr int kMeasurements = 2500;

struct Corpus {
  std::unique_ptr<test_support::TempDir> dir;
  std::string file;
  std::vector<ExtractedMeasurement> facts;
  std::vector<VerdictRow> verdicts;  // under v1
  std::string error;
};

Result<VerdictEngine> Engine(const std::string& version = "v1", double anomaly_threshold = 0.5) {
  std::string text =
      test_support::ReadFileOrFail(test_support::SourceDir() + "/testlists/verdict/rules.json");
  auto replace = [&](const std::string& from, const std::string& to) {
    const size_t at = text.find(from);
    if (at != std::string::npos) text.replace(at, from.size(), to);
  };
  replace("\"version\": \"v2\"", "\"version\": \"" + version + "\"");  // the shipped one
  char threshold[64];
  std::snprintf(threshold, sizeof threshold, "\"anomaly_threshold\": %.2f", anomaly_threshold);
  replace("\"anomaly_threshold\": 0.5", threshold);
  auto fingerprints =
      FingerprintSet::LoadDir(test_support::SourceDir() + "/testlists/fingerprints");
  if (!fingerprints.ok()) return Error{fingerprints.error()};
  return VerdictEngine::FromText(text, test_support::SourceDir() + "/testlists/verdict/rules.json",
                                 std::move(*fingerprints));
}

const Corpus& TheCorpus() {
  static Corpus* corpus = [] {
    auto* c = new Corpus;
    c->dir = std::make_unique<test_support::TempDir>("vigil-store-");
    c->file = c->dir->Join("m.jsonl");
    auto gen = test_support::RunCommand(
        {"python3", test_support::SourceDir() + "/bench/gen_measurements.py", "--count",
         std::to_string(kMeasurements), "--seed", "7", "--output", c->file},
        std::chrono::seconds(120));
    if (gen.exit_code != 0) {
      c->error = "gen_measurements.py: " + gen.output;
      return c;
    }
    auto engine = Engine();
    if (!engine.ok()) {
      c->error = engine.error();
      return c;
    }
    IngestOptions options;
    auto stats = IngestPath(
        c->file, options,
        [&](ExtractedMeasurement& m) {
          c->verdicts.push_back(engine->Score(m, kNow));
          c->facts.push_back(std::move(m));
        },
        [&](const IngestError& e) {
          c->error += e.file + ":" + std::to_string(e.line) + ": " + e.reason + "\n";
        });
    if (!stats.ok()) c->error = stats.error();
    return c;
  }();
  return *corpus;
}

test_support::ClickHouseServer* TheClickHouse() {
  static test_support::ClickHouseServer* server = new test_support::ClickHouseServer();
  return server;
}

// A fresh, empty store of the given backend.
struct StoreHandle {
  std::unique_ptr<test_support::TempDir> dir;
  std::unique_ptr<Store> store;
  std::string spec;
};

Result<StoreHandle> NewStore(const std::string& backend) {
  static std::atomic<int> counter{0};
  StoreHandle h;
  if (backend == "sqlite" || backend == "sqlite_parallel") {
    h.dir = std::make_unique<test_support::TempDir>("vigil-sqlite-");
    h.spec = h.dir->Join("sub/analysis.sqlite");
    // sqlite_parallel: the scan over rowid ranges on threads, merged, even for small stores.
    if (backend == "sqlite_parallel") setenv("VIGIL_SQLITE_PARALLEL_MIN_ROWS", "0", 1);
  } else {
    h.spec = TheClickHouse()->StoreSpec("vigil_test_" + std::to_string(counter++));
  }
  auto s = OpenStore(h.spec);
  unsetenv("VIGIL_SQLITE_PARALLEL_MIN_ROWS");
  if (!s.ok()) return Error{s.error()};
  h.store = std::move(*s);
  return h;
}

// Writes the corpus into `s` without committing, in batches, as `vigil analyze` writes.
void WriteCorpus(Store& s) {
  const Corpus& c = TheCorpus();
  for (size_t i = 0; i < c.facts.size(); i += 1000) {
    const size_t end = std::min(c.facts.size(), i + 1000);
    std::vector<ExtractedMeasurement> facts(c.facts.begin() + i, c.facts.begin() + end);
    std::vector<VerdictRow> verdicts(c.verdicts.begin() + i, c.verdicts.begin() + end);
    auto w = s.Write(facts, verdicts);
    ASSERT_TRUE(w.ok()) << w.error();
  }
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "clickhouse") {
      if (auto why = test_support::ClickHouseServer::Unavailable()) GTEST_SKIP() << *why;
      ASSERT_TRUE(TheClickHouse()->ok()) << TheClickHouse()->error();
    }
    ASSERT_TRUE(TheCorpus().error.empty()) << TheCorpus().error;
    ASSERT_EQ(TheCorpus().facts.size(), static_cast<size_t>(kMeasurements));
    auto h = NewStore(GetParam());
    ASSERT_TRUE(h.ok()) << h.error();
    handle_ = std::move(*h);
  }

  Store& store() { return *handle_.store; }

  void Fill() {
    WriteCorpus(store());
    if (HasFatalFailure()) return;
    auto c2 = store().Commit();
    ASSERT_TRUE(c2.ok()) << c2.error();
  }

  StoreHandle handle_;
};

bool Matches(const AggregationQuery& q, const EnvelopeRow& m, const VerdictRow& v, int64_t since,
             int64_t until) {
  if (!q.test_name.empty() && m.test_name != q.test_name) return false;
  if (!q.probe_cc.empty() && m.probe_cc != q.probe_cc) return false;
  if (q.probe_asn && m.probe_asn != *q.probe_asn) return false;
  if (!q.target.empty() && m.target != q.target) return false;
  if (!q.category_code.empty() && m.category_code != q.category_code) return false;
  if (q.blocking_type && v.blocking_type != *q.blocking_type) return false;
  return m.start_time >= since && m.start_time < until;
}

// The answer computed here, from the verdicts in memory, for the store's resolved query.
std::vector<AggregationCell> Tally(const ResolvedQuery& r,
                                   const std::vector<VerdictRow>& verdicts) {
  const Corpus& c = TheCorpus();
  struct Acc {
    AggregationCell cell;
    std::set<std::string> reports;
    std::set<std::pair<std::string, uint32_t>> networks;
  };
  std::map<std::vector<std::string>, Acc> by_key;
  for (size_t i = 0; i < c.facts.size(); ++i) {
    const EnvelopeRow& m = c.facts[i].measurement;
    const VerdictRow& v = verdicts[i];
    if (!Matches(r.query, m, v, r.since, r.until)) continue;
    AggregationCell cell;
    std::vector<std::string> key;
    for (Axis a : r.query.axes) {
      switch (a) {
        case Axis::kTime:
          cell.time = BucketStart(m.start_time, r.grain);
          break;
        case Axis::kCc:
          cell.probe_cc = m.probe_cc;
          break;
        case Axis::kAsn:
          cell.probe_asn = m.probe_asn;
          break;
        case Axis::kTarget:
          cell.target = m.target;
          break;
        case Axis::kInput:
          cell.input = m.input;
          break;
        case Axis::kCategory:
          cell.category_code = m.category_code;
          break;
        case Axis::kTest:
          cell.test_name = m.test_name;
          break;
        case Axis::kBlockingType:
          cell.blocking_type = v.blocking_type;
          break;
      }
      key.push_back(AxisValue(cell, a, r.grain));
    }
    Acc& acc = by_key.try_emplace(key, Acc{cell, {}, {}}).first->second;
    ++acc.cell.measurement_count;
    if (v.failure) {
      ++acc.cell.failure_count;
    } else if (v.confirmed) {
      ++acc.cell.confirmed_count;
    } else if (v.anomaly) {
      ++acc.cell.anomaly_count;
    } else {
      ++acc.cell.ok_count;
    }
    if (!m.report_id.empty()) acc.reports.insert(m.report_id);
    acc.networks.insert({m.probe_cc, m.probe_asn});
  }
  std::vector<AggregationCell> cells;
  for (auto& [key, acc] : by_key) {
    acc.cell.probe_count = acc.reports.size();
    acc.cell.network_count = acc.networks.size();
    cells.push_back(acc.cell);
  }
  if (r.query.axes.empty() && cells.empty()) cells.emplace_back();
  return FinishAggregation(r, cells).cells;
}

std::vector<AggregationQuery> Queries() {
  std::vector<AggregationQuery> qs;
  auto q = [&](std::vector<Axis> axes) {
    AggregationQuery a;
    a.axes = std::move(axes);
    return a;
  };
  qs.push_back(q({}));
  qs.push_back(q({Axis::kTime}));
  auto whatsapp = q({Axis::kTime, Axis::kCc});
  whatsapp.test_name = "whatsapp";
  qs.push_back(whatsapp);
  auto months = q({Axis::kTime, Axis::kTarget});
  months.grain = Grain::kMonth;
  months.since = *ParseTime("2023-12-01");
  months.until = *ParseTime("2024-08-01");
  qs.push_back(months);
  auto weeks = q({Axis::kCc, Axis::kTime});
  weeks.grain = Grain::kWeek;
  weeks.since = *ParseTime("2024-01-01");
  weeks.until = *ParseTime("2024-07-01");
  qs.push_back(weeks);
  auto hours = q({Axis::kTime});
  hours.grain = Grain::kHour;
  hours.probe_cc = "IR";
  hours.since = *ParseTime("2024-03-01");
  hours.until = *ParseTime("2024-03-08");
  qs.push_back(hours);
  auto asn = q({Axis::kAsn, Axis::kBlockingType});
  asn.since = *ParseTime("2024-01-01");
  asn.until = *ParseTime("2024-07-01");
  qs.push_back(asn);
  auto test = q({Axis::kTest, Axis::kCategory});
  test.probe_asn = 197207;
  test.since = *ParseTime("2024-01-01");
  test.until = *ParseTime("2024-07-01");
  qs.push_back(test);
  auto dns = q({Axis::kCc});
  dns.blocking_type = "dns";
  dns.since = *ParseTime("2024-01-01");
  dns.until = *ParseTime("2024-07-01");
  qs.push_back(dns);
  auto telegram = q({Axis::kTarget});
  telegram.target = "telegram";
  telegram.until = *ParseTime("2024-04-01");  // the default since: 30 days before
  qs.push_back(telegram);
  return qs;
}

std::string Describe(const AggregationCell& c) {
  return FormatTime(c.time) + "|" + c.probe_cc + "|" + std::to_string(c.probe_asn) + "|" +
         c.target + "|" + c.category_code + "|" + c.test_name + "|" + c.blocking_type +
         " n=" + std::to_string(c.measurement_count) + " ok=" + std::to_string(c.ok_count) +
         " anomaly=" + std::to_string(c.anomaly_count) +
         " confirmed=" + std::to_string(c.confirmed_count) +
         " failure=" + std::to_string(c.failure_count) +
         " probes=" + std::to_string(c.probe_count) +
         " networks=" + std::to_string(c.network_count);
}

void ExpectSameCells(const std::vector<AggregationCell>& got,
                     const std::vector<AggregationCell>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i], want[i]) << what << " cell " << i << ": got " << Describe(got[i]) << ", want "
                               << Describe(want[i]);
  }
}

TEST_P(StoreTest, AggregationsMatchATallyOfTheVerdicts) {
  Fill();
  const auto& c = TheCorpus();
  uint64_t nonzero_queries = 0;
  for (const AggregationQuery& q : Queries()) {
    auto got = Aggregate(store(), q);
    ASSERT_TRUE(got.ok()) << got.error();
    const std::vector<AggregationCell> want = Tally(got->query, c.verdicts);
    uint64_t total = 0;
    for (const auto& cell : got->cells) total += cell.measurement_count;
    nonzero_queries += total > 0;
    ExpectSameCells(got->cells, want,
                    "axes " + std::to_string(q.axes.size()) + " window " +
                        FormatTime(got->query.since) + ".." + FormatTime(got->query.until));
  }
  EXPECT_EQ(nonzero_queries, Queries().size()) << "every query should count something";
}

TEST_P(StoreTest, TheDefaultWindowEndsWithTheNewestMatchingMeasurement) {
  Fill();
  int64_t newest = 0, newest_whatsapp = 0;
  for (const auto& f : TheCorpus().facts) {
    newest = std::max(newest, f.measurement.start_time);
    if (f.measurement.test_name == "whatsapp") {
      newest_whatsapp = std::max(newest_whatsapp, f.measurement.start_time);
    }
  }
  AggregationQuery q;
  q.axes = {Axis::kTime, Axis::kCc};
  auto all = Aggregate(store(), q);
  ASSERT_TRUE(all.ok()) << all.error();
  EXPECT_EQ(all->query.until, BucketStart(newest, Grain::kDay) + 86400);
  EXPECT_EQ(all->query.since, all->query.until - 30 * 86400);
  EXPECT_EQ(all->query.grain, Grain::kDay);
  EXPECT_EQ(all->query.rules_version, "v1");
  q.test_name = "whatsapp";
  auto w = Aggregate(store(), q);
  ASSERT_TRUE(w.ok()) << w.error();
  EXPECT_EQ(w->query.until, BucketStart(newest_whatsapp, Grain::kDay) + 86400);
  // Every day of the window is there for every country seen, counted or not.
  std::set<std::string> countries;
  for (const auto& cell : w->cells) countries.insert(cell.probe_cc);
  EXPECT_EQ(w->cells.size(), 30 * countries.size());
}

TEST_P(StoreTest, RefusalsNameTheLimit) {
  AggregationQuery q;
  auto empty = Aggregate(store(), q);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().find("no verdicts yet"), std::string::npos) << empty.error();
  Fill();
  q.axes = {Axis::kTime};
  q.grain = Grain::kHour;
  auto hours = Aggregate(store(), q);
  ASSERT_FALSE(hours.ok());
  EXPECT_NE(hours.error().find("grain 'hour' covers at most 7 days"), std::string::npos)
      << hours.error();
  q.grain.reset();
  q.rules_version = "v9";
  auto v9 = Aggregate(store(), q);
  ASSERT_FALSE(v9.ok());
  EXPECT_NE(v9.error().find("rules version 'v9' is not in the store (versions: v1)"),
            std::string::npos)
      << v9.error();
}

TEST_P(StoreTest, WritingTheSameMeasurementsTwiceChangesNothing) {
  Fill();
  auto once = CountRows(store());
  ASSERT_TRUE(once.ok()) << once.error();
  uint64_t observations = 0;
  for (const auto& f : TheCorpus().facts) observations += f.observations.size();
  EXPECT_EQ(once->measurements, static_cast<uint64_t>(kMeasurements));
  EXPECT_EQ(once->observations, observations);
  ASSERT_EQ(once->verdicts.size(), 1u);
  EXPECT_EQ(once->verdicts[0], (std::pair<std::string, uint64_t>{"v1", kMeasurements}));
  AggregationQuery q;
  q.axes = {Axis::kCc};
  auto before = Aggregate(store(), q);
  ASSERT_TRUE(before.ok()) << before.error();

  Fill();
  auto twice = CountRows(store());
  ASSERT_TRUE(twice.ok()) << twice.error();
  EXPECT_EQ(twice->measurements, once->measurements);
  EXPECT_EQ(twice->observations, once->observations);
  EXPECT_EQ(twice->verdicts, once->verdicts);
  auto after = Aggregate(store(), q);
  ASSERT_TRUE(after.ok()) << after.error();
  ExpectSameCells(after->cells, before->cells, "after writing twice");
}

// Rows as stored, replaced copies included until they are merged away (ClickHouse keeps
// both copies of a replaced row until it merges them).
uint64_t RawRows(Store& s, const std::string& table) {
  uint64_t n = 0;
  auto r = s.Select("SELECT count(*) FROM " + table, [&](const SqlRow& row) {
    n = std::strtoull(row.values[0].c_str(), nullptr, 10);
  });
  EXPECT_TRUE(r.ok()) << r.error();
  return n;
}

// The same measurements twice in one commit (a file given twice to `vigil analyze`),
// and then again through a second store on the same database (another writer): the
// rows as stored, not only the distinct ones, stay those of one copy.
TEST_P(StoreTest, RepeatsInOneCommitAndFromAnotherWriterLeaveOneCopy) {
  const Corpus& c = TheCorpus();
  uint64_t observations = 0;
  for (const auto& f : c.facts) observations += f.observations.size();
  for (int copy = 0; copy < 2; ++copy) {
    WriteCorpus(store());
    if (HasFatalFailure()) return;
  }
  auto committed = store().Commit();
  ASSERT_TRUE(committed.ok()) << committed.error();
  EXPECT_EQ(RawRows(store(), "measurements"), static_cast<uint64_t>(kMeasurements));
  EXPECT_EQ(RawRows(store(), "observations"), observations);
  EXPECT_EQ(RawRows(store(), "verdicts"), static_cast<uint64_t>(kMeasurements));
  AggregationQuery q;
  q.axes = {Axis::kCc};
  auto before = Aggregate(store(), q);
  ASSERT_TRUE(before.ok()) << before.error();

  auto other = OpenStore(handle_.spec);
  ASSERT_TRUE(other.ok()) << other.error();
  WriteCorpus(**other);
  if (HasFatalFailure()) return;
  committed = (*other)->Commit();
  ASSERT_TRUE(committed.ok()) << committed.error();
  EXPECT_EQ(RawRows(**other, "measurements"), static_cast<uint64_t>(kMeasurements));
  EXPECT_EQ(RawRows(**other, "observations"), observations);
  EXPECT_EQ(RawRows(**other, "verdicts"), static_cast<uint64_t>(kMeasurements));
  EXPECT_EQ(RawRows(**other, "rules_versions"), 1u);
  auto after = Aggregate(**other, q);
  ASSERT_TRUE(after.ok()) << after.error();
  ExpectSameCells(after->cells, before->cells, "after another writer");
}

TEST_P(StoreTest, StoredFactsScoreAsTheIngestedOnes) {
  Fill();
  const Corpus& c = TheCorpus();
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < c.facts.size(); ++i) index[c.facts[i].measurement.measurement_uid] = i;
  auto engine = Engine();
  ASSERT_TRUE(engine.ok()) << engine.error();
  std::set<std::string> seen;
  auto scanned = ScanFacts(store(), [&](ExtractedMeasurement& m) -> Result<void> {
    auto it = index.find(m.measurement.measurement_uid);
    if (it == index.end()) return Error{"unknown uid " + m.measurement.measurement_uid};
    seen.insert(m.measurement.measurement_uid);
    const ExtractedMeasurement& want = c.facts[it->second];
    EXPECT_EQ(m.measurement.input, want.measurement.input);
    EXPECT_EQ(m.measurement.start_time, want.measurement.start_time);
    EXPECT_EQ(m.measurement.probe_network_name, want.measurement.probe_network_name);
    EXPECT_EQ(m.summary_json, want.summary_json);
    EXPECT_EQ(m.observations.size(), want.observations.size());
    for (size_t i = 0; i < std::min(m.observations.size(), want.observations.size()); ++i) {
      const ObservationRow& a = m.observations[i];
      const ObservationRow& b = want.observations[i];
      EXPECT_EQ(a.ip, b.ip);
      EXPECT_EQ(a.dns_answers, b.dns_answers);
      EXPECT_EQ(a.dns_failure, b.dns_failure);
      EXPECT_EQ(a.tcp_success, b.tcp_success);
      EXPECT_EQ(a.tls_failure, b.tls_failure);
      EXPECT_EQ(a.http_body_sample, b.http_body_sample);
      EXPECT_EQ(a.http_headers, b.http_headers);
    }
    const VerdictRow v = engine->Score(m, kNow);
    const VerdictRow& w = c.verdicts[it->second];
    EXPECT_EQ(OutcomeOf(v), OutcomeOf(w)) << m.measurement.measurement_uid;
    EXPECT_EQ(v.blocking_type, w.blocking_type) << m.measurement.measurement_uid;
    EXPECT_EQ(VerdictEngine::RulesFired(v), VerdictEngine::RulesFired(w));
    return {};
  });
  ASSERT_TRUE(scanned.ok()) << scanned.error();
  EXPECT_EQ(*scanned, c.facts.size());
  EXPECT_EQ(seen.size(), c.facts.size());
}

TEST_P(StoreTest, RescoringAddsAVersionAndKeepsTheOld) {
  Fill();
  auto v2 = Engine("v2", 0.99);  // stricter: fewer measurements are anomalies
  ASSERT_TRUE(v2.ok()) << v2.error();
  auto stats = Rescore(store(), *v2);
  ASSERT_TRUE(stats.ok()) << stats.error();
  EXPECT_EQ(stats->measurements, static_cast<uint64_t>(kMeasurements));
  EXPECT_EQ(stats->rules_version, "v2");
  // Rescoring again under the same version replaces, never adds.
  stats = Rescore(store(), *v2);
  ASSERT_TRUE(stats.ok()) << stats.error();
  auto counts = CountRows(store());
  ASSERT_TRUE(counts.ok()) << counts.error();
  EXPECT_EQ(counts->verdicts, (std::vector<std::pair<std::string, uint64_t>>{
                                  {"v1", kMeasurements}, {"v2", kMeasurements}}));

  std::vector<VerdictRow> want_v2;
  for (const auto& f : TheCorpus().facts) want_v2.push_back(v2->Score(f, kNow));
  AggregationQuery q;
  q.axes = {Axis::kCc, Axis::kTest};
  q.since = *ParseTime("2024-01-01");
  q.until = *ParseTime("2024-07-01");
  auto newest = Aggregate(store(), q);  // v2: the newest version
  ASSERT_TRUE(newest.ok()) << newest.error();
  EXPECT_EQ(newest->query.rules_version, "v2");
  ExpectSameCells(newest->cells, Tally(newest->query, want_v2), "v2");
  q.rules_version = "v1";
  auto old = Aggregate(store(), q);
  ASSERT_TRUE(old.ok()) << old.error();
  ExpectSameCells(old->cells, Tally(old->query, TheCorpus().verdicts), "v1");
  uint64_t anomalies_v1 = 0, anomalies_v2 = 0;
  for (const auto& cell : old->cells) anomalies_v1 += cell.anomaly_count;
  for (const auto& cell : newest->cells) anomalies_v2 += cell.anomaly_count;
  EXPECT_LT(anomalies_v2, anomalies_v1) << "the stricter threshold changed nothing";
}

TEST_P(StoreTest, DrillDownListsTheMeasurementsOfACell) {
  Fill();
  AggregationQuery q;
  q.axes = {Axis::kTime, Axis::kCc};
  q.since = *ParseTime("2024-01-01");
  q.until = *ParseTime("2024-07-01");
  auto agg = Aggregate(store(), q);
  ASSERT_TRUE(agg.ok()) << agg.error();
  // The busiest cell with anomalies.
  const AggregationCell* cell = nullptr;
  for (const auto& c : agg->cells) {
    if (c.anomaly_count > 0 && (!cell || c.anomaly_count > cell->anomaly_count)) cell = &c;
  }
  ASSERT_NE(cell, nullptr);
  AggregationQuery drill;
  drill.probe_cc = cell->probe_cc;
  drill.since = cell->time;
  drill.until = NextBucket(cell->time, agg->query.grain);
  ResolvedQuery resolved;
  auto listed = ListMeasurements(store(), drill, Outcome::kAnomaly, 100000, &resolved);
  ASSERT_TRUE(listed.ok()) << listed.error();
  EXPECT_EQ(listed->size(), cell->anomaly_count);
  std::set<std::string> want;
  const Corpus& c = TheCorpus();
  for (size_t i = 0; i < c.facts.size(); ++i) {
    const auto& m = c.facts[i].measurement;
    if (m.probe_cc == cell->probe_cc && m.start_time >= drill.since && m.start_time < drill.until &&
        OutcomeOf(c.verdicts[i]) == Outcome::kAnomaly) {
      want.insert(m.measurement_uid);
    }
  }
  std::set<std::string> got;
  for (const auto& m : *listed) {
    got.insert(m.measurement_uid);
    EXPECT_TRUE(m.anomaly);
    EXPECT_FALSE(m.source_file.empty());
    EXPECT_GT(m.source_line, 0u);
  }
  EXPECT_EQ(got, want);
  for (size_t i = 1; i < listed->size(); ++i) {
    EXPECT_GE((*listed)[i - 1].start_time, (*listed)[i].start_time) << "newest first";
  }
  auto limited = ListMeasurements(store(), drill, std::nullopt, 3, nullptr);
  ASSERT_TRUE(limited.ok()) << limited.error();
  EXPECT_EQ(limited->size(), std::min<uint64_t>(3, cell->measurement_count));
}

// The whole corpus in one write, committed.
void WriteAll(Store& s) {
  auto w = s.Write(TheCorpus().facts, TheCorpus().verdicts);
  ASSERT_TRUE(w.ok()) << w.error();
  auto c = s.Commit();
  ASSERT_TRUE(c.ok()) << c.error();
}

// The corpus laid on the grid straight from the verdicts in memory: what BuildSeries
// must give from the store.
SeriesSet LayOut(const SeriesQuery& query) {
  SeriesBuilder b(query);
  const Corpus& c = TheCorpus();
  for (size_t i = 0; i < c.facts.size(); ++i) {
    const EnvelopeRow& m = c.facts[i].measurement;
    const VerdictRow& v = c.verdicts[i];
    SeriesRow r;
    r.start_time = m.start_time;
    r.upload_time = m.upload_time;
    r.probe_cc = m.probe_cc;
    r.probe_asn = m.probe_asn;
    r.target = m.target;
    r.report_id = m.report_id;
    r.software_name = m.software_name;
    r.verdict = static_cast<uint8_t>(v.verdict);
    r.measured_layers = MeasuredLayers(v);
    r.blocked_layers = v.blocked_layers;
    r.masked_layers = MaskedLayers(v);
    b.Add(r);
  }
  auto out = b.Finish();
  EXPECT_TRUE(out.ok()) << out.error();
  return out.ok() ? std::move(*out) : SeriesSet{};
}

void ExpectSameSeries(const SeriesSet& got, const SeriesSet& want, const std::string& what) {
  ASSERT_EQ(got.series.size(), want.series.size()) << what;
  for (size_t i = 0; i < got.series.size(); ++i) {
    const Series& a = got.series[i];
    const Series& b = want.series[i];
    ASSERT_EQ(a.key, b.key) << what;
    EXPECT_EQ(a.since, b.since) << what;
    ASSERT_EQ(a.cells.size(), b.cells.size()) << what;
    for (size_t j = 0; j < a.cells.size(); ++j) {
      ASSERT_EQ(a.cells[j], b.cells[j])
          << what << ": " << a.key.probe_cc << " AS" << a.key.probe_asn << " " << a.key.target
          << " " << SeriesLayerName(a.key.layer) << " cell " << j;
    }
  }
}

TEST_P(StoreTest, SeriesFromTheStoreAreTheVerdictsLaidOnTheGrid) {
  ASSERT_TRUE(TheCorpus().error.empty()) << TheCorpus().error;
  auto h = NewStore(GetParam());
  ASSERT_TRUE(h.ok()) << h.error();
  WriteAll(*h->store);
  uint64_t blocked = 0, measured_layer_series = 0;
  for (SeriesGrain grain : {SeriesGrain::kDay, SeriesGrain::kWeek}) {
    SeriesQuery q;
    q.grain = grain;
    q.since = 1704067200;  // the corpus' six months
    q.until = 1704067200 + 200 * 86400;
    auto got = BuildSeries(*h->store, q);
    ASSERT_TRUE(got.ok()) << got.error();
    EXPECT_EQ(got->query.rules_version, "v1");
    EXPECT_EQ(got->rows_read, TheCorpus().facts.size());
    ExpectSameSeries(*got, LayOut(got->query), SeriesGrainName(grain));
    for (const Series& s : got->series) {
      if (s.key.layer != SeriesLayer::kAny) ++measured_layer_series;
      for (const SeriesCell& c : s.cells) blocked += c.blocked;
    }
  }
  EXPECT_GT(blocked, 0u) << "the corpus has blocked measurements: the series must show them";
  EXPECT_GT(measured_layer_series, 0u);

  // Narrowed: one country, one layer.
  SeriesQuery q;
  q.probe_cc = "IR";
  q.layers = {SeriesLayer::kDns};
  q.since = 1704067200;
  q.until = 1704067200 + 200 * 86400;
  auto ir = BuildSeries(*h->store, q);
  ASSERT_TRUE(ir.ok()) << ir.error();
  ASSERT_FALSE(ir->series.empty());
  for (const Series& s : ir->series) {
    EXPECT_EQ(s.key.probe_cc, "IR");
    EXPECT_TRUE(s.key.layer == SeriesLayer::kDns || s.key.layer == SeriesLayer::kAny);
  }
  ExpectSameSeries(*ir, LayOut(ir->query), "IR dns");

  // A window too fine for its span is refused, naming the limit.
  SeriesQuery fine;
  fine.grain = SeriesGrain::kMinute;
  fine.since = 1704067200;
  fine.until = 1704067200 + 200 * 86400;
  fine.max_cells = 100000;
  auto refused = BuildSeries(*h->store, fine);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("more than 100000"), std::string::npos) << refused.error();
}

// 250 measurements from one source in one minute: the cell is flagged on every series of
// that network, by both backends' ways of counting.
TEST_P(StoreTest, ABurstFromOneSourceFlagsItsCells) {
  ASSERT_TRUE(TheCorpus().error.empty()) << TheCorpus().error;
  auto h = NewStore(GetParam());
  ASSERT_TRUE(h.ok()) << h.error();
  constexpr int64_t kMinute = 1709251200 + 600;  // 2024-03-01T00:10:00Z
  std::vector<ExtractedMeasurement> facts;
  std::vector<VerdictRow> verdicts;
  for (size_t i = 0; facts.size() < 250 && i < TheCorpus().facts.size(); ++i) {
    ExtractedMeasurement m = TheCorpus().facts[i];
    if (m.measurement.probe_asn != 4134) continue;
    m.measurement.measurement_uid += "-burst";
    m.measurement.start_time = kMinute + static_cast<int64_t>(facts.size() % 60);
    m.measurement.software_name = "flood";
    VerdictRow v = TheCorpus().verdicts[i];
    v.measurement_uid = m.measurement.measurement_uid;
    facts.push_back(std::move(m));
    verdicts.push_back(std::move(v));
  }
  ASSERT_EQ(facts.size(), 250u);
  ASSERT_TRUE(h->store->Write(facts, verdicts).ok());
  ASSERT_TRUE(h->store->Commit().ok());
  SeriesQuery q;
  q.grain = SeriesGrain::kHour;
  q.since = kMinute - 3600;
  q.until = kMinute + 3600;
  auto got = BuildSeries(*h->store, q);
  ASSERT_TRUE(got.ok()) << got.error();
  size_t flagged = 0;
  for (const Series& series : got->series) {
    for (size_t i = 0; i < series.cells.size(); ++i) {
      const bool burst = series.cells[i].flags & kCellBurst;
      EXPECT_EQ(burst, series.key.probe_asn == 4134 && series.CellTime(i) == kMinute - 600)
          << series.key.target << " cell " << i;
      flagged += burst;
    }
  }
  EXPECT_GT(flagged, 0u);
}

// wechat_posts measurements (and one of another test) as ingest gives them: an article
// seen available, removed, then removed for violation; another without a post_status; one
// whose summary is not JSON; spread over three months.
std::vector<ExtractedMeasurement> PostMeasurements() {
  struct Spec {
    const char* uid;
    int64_t t;
    const char* cc;
    uint32_t asn;
    const char* test;
    const char* input;
    const char* summary;
  };
  const char* b = "https://mp.weixin.qq.com/s/B";
  const Spec specs[] = {
      {"p3", 1709251200, "CN", 4134, "wechat_posts", b,  // 2024-03-01
       R"({"post_url":"x","post_status":"removed_for_violation","x_title":null,)"
       R"("x_content_sha256":null,"x_notice":"此内容因违规无法查看"})"},
      {"p1", 1704067200, "CN", 4134, "wechat_posts", b,  // 2024-01-01
       R"({"post_status":"available","x_title":"城市观察：公园开放","x_content_sha256":"ab12"})"},
      {"p2", 1706745600, "HK", 4760, "wechat_posts", b,  // 2024-02-01
       R"({"post_status":"deleted_by_author","x_title":7,"x_control":{"post_status":"x"}})"},
      {"pa", 1706745600, "CN", 4837, "wechat_posts", "https://mp.weixin.qq.com/s/A",
       R"({"post_failure":"generic_timeout_error"})"},
      {"pz", 1706745601, "CN", 4837, "wechat_posts", "https://mp.weixin.qq.com/s/Z", "not json"},
      {"w1", 1706745600, "CN", 4134, "web_connectivity", "https://example.org/",
       R"({"post_status":"available"})"},
  };
  std::vector<ExtractedMeasurement> out;
  for (const Spec& x : specs) {
    ExtractedMeasurement m;
    m.measurement.measurement_uid = x.uid;
    m.measurement.report_id = std::string("r") + x.uid;
    m.measurement.start_time = x.t;
    m.measurement.probe_cc = x.cc;
    m.measurement.probe_asn = x.asn;
    m.measurement.test_name = x.test;
    m.measurement.input = x.input;
    m.measurement.target = "mp.weixin.qq.com";
    m.summary_json = x.summary;
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<std::string> Describe(const std::vector<PostRow>& posts) {
  std::vector<std::string> out;
  for (const PostRow& p : posts) {
    out.push_back(p.url + " " + p.measurement_uid + " " + std::to_string(p.start_time) + " " +
                  p.probe_cc + " AS" + std::to_string(p.probe_asn) + " [" + p.post_status + "] [" +
                  p.title + "] [" + p.content_sha256 + "]");
  }
  return out;
}

const std::vector<std::string>& ExpectedPosts() {
  static const std::vector<std::string> expected = {
      "https://mp.weixin.qq.com/s/A pa 1706745600 CN AS4837 [] [] []",
      "https://mp.weixin.qq.com/s/B p1 1704067200 CN AS4134 [available] [城市观察：公园开放] "
      "[ab12]",
      "https://mp.weixin.qq.com/s/B p2 1706745600 HK AS4760 [deleted_by_author] [] []",
      "https://mp.weixin.qq.com/s/B p3 1709251200 CN AS4134 [removed_for_violation] [] []",
      "https://mp.weixin.qq.com/s/Z pz 1706745601 CN AS4837 [] [] []"};
  return expected;
}

PostQuery AllPosts() {
  PostQuery q;
  q.since = 1700000000;
  q.until = 1800000000;
  return q;
}

// Each wechat_posts measurement leaves a row in posts (its article, status, title and
// hash, from the summary's top-level keys), read back by article and time, filtered by
// window, country and network; written again it is replaced, and re-scoring leaves it.
TEST_P(StoreTest, PostsAreKeptPerWechatPostsMeasurementAndReadBackByArticle) {
  const std::vector<ExtractedMeasurement> facts = PostMeasurements();
  ASSERT_TRUE(store().Write(facts, {}).ok());
  ASSERT_TRUE(store().Commit().ok());
  auto all = ListPosts(store(), AllPosts());
  ASSERT_TRUE(all.ok()) << all.error();
  EXPECT_EQ(Describe(*all), ExpectedPosts());

  PostQuery q = AllPosts();
  q.since = 1706745600;
  q.until = 1709251200;
  q.probe_cc = "CN";
  auto some = ListPosts(store(), q);
  ASSERT_TRUE(some.ok()) << some.error();
  EXPECT_EQ(Describe(*some), (std::vector<std::string>{ExpectedPosts()[0], ExpectedPosts()[4]}));
  q = AllPosts();
  q.probe_asns = {4760, 4134};
  some = ListPosts(store(), q);
  ASSERT_TRUE(some.ok()) << some.error();
  EXPECT_EQ(Describe(*some),
            (std::vector<std::string>{ExpectedPosts()[1], ExpectedPosts()[2], ExpectedPosts()[3]}));

  // The same measurement again, its status changed: one row, the newer.
  std::vector<ExtractedMeasurement> again = {facts[2]};
  again[0].summary_json = R"({"post_status":"account_blocked"})";
  ASSERT_TRUE(store().Write(again, {}).ok());
  ASSERT_TRUE(store().Commit().ok());
  EXPECT_EQ(RawRows(store(), "posts"), 5u);
  all = ListPosts(store(), AllPosts());
  ASSERT_TRUE(all.ok()) << all.error();
  std::vector<std::string> expected = ExpectedPosts();
  expected[2] = "https://mp.weixin.qq.com/s/B p2 1706745600 HK AS4760 [account_blocked] [] []";
  EXPECT_EQ(Describe(*all), expected);

  auto engine = Engine();
  ASSERT_TRUE(engine.ok()) << engine.error();
  auto rescored = Rescore(store(), *engine);
  ASSERT_TRUE(rescored.ok()) << rescored.error();
  all = ListPosts(store(), AllPosts());
  ASSERT_TRUE(all.ok()) << all.error();
  EXPECT_EQ(Describe(*all), expected) << "re-scoring writes verdicts only";
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         ::testing::Values("sqlite", "sqlite_parallel", "clickhouse"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(StoreBackends, SqliteAndClickHouseGiveTheSameAnswers) {
  if (auto why = test_support::ClickHouseServer::Unavailable()) GTEST_SKIP() << *why;
  ASSERT_TRUE(TheClickHouse()->ok()) << TheClickHouse()->error();
  ASSERT_TRUE(TheCorpus().error.empty()) << TheCorpus().error;
  auto sqlite = NewStore("sqlite");
  auto clickhouse = NewStore("clickhouse");
  ASSERT_TRUE(sqlite.ok()) << sqlite.error();
  ASSERT_TRUE(clickhouse.ok()) << clickhouse.error();
  for (Store* s : {sqlite->store.get(), clickhouse->store.get()}) WriteAll(*s);
  for (const AggregationQuery& q : Queries()) {
    auto a = Aggregate(*sqlite->store, q);
    auto b = Aggregate(*clickhouse->store, q);
    ASSERT_TRUE(a.ok()) << a.error();
    ASSERT_TRUE(b.ok()) << b.error();
    EXPECT_EQ(a->query.since, b->query.since);
    EXPECT_EQ(a->query.until, b->query.until);
    ExpectSameCells(b->cells, a->cells, "clickhouse vs sqlite");
    auto la = ListMeasurements(*sqlite->store, q, std::nullopt, 50, nullptr);
    auto lb = ListMeasurements(*clickhouse->store, q, std::nullopt, 50, nullptr);
    ASSERT_TRUE(la.ok()) << la.error();
    ASSERT_TRUE(lb.ok()) << lb.error();
    EXPECT_EQ(*la, *lb);
  }
}

// The cluster layout of docs/analysis.md on a one-shard cluster: local tables made by
// vigil, Distributed tables over them, vigil pointed at the Distributed ones.
TEST(StoreBackends, ClickHouseDistributedTablesAnswerAsOneServer) {
  if (auto why = test_support::ClickHouseServer::Unavailable()) GTEST_SKIP() << *why;
  test_support::ClickHouseServer* ch = TheClickHouse();
  ASSERT_TRUE(ch->ok()) << ch->error();
  ASSERT_TRUE(TheCorpus().error.empty()) << TheCorpus().error;
  {
    auto local = OpenStore(ch->StoreSpec("cluster_local"));
    ASSERT_TRUE(local.ok()) << local.error();
  }
  ASSERT_EQ(ch->Run("CREATE DATABASE IF NOT EXISTS cluster_dist"), "");
  for (const char* table : {"measurements", "observations", "verdicts", "rules_versions"}) {
    const std::string t = table;
    const std::string key = t == "rules_versions" ? "rules_version" : "measurement_uid";
    ASSERT_EQ(ch->Run("CREATE TABLE cluster_dist." + t + " AS cluster_local." + t +
                      " ENGINE = Distributed(vigil_test, cluster_local, " + t + ", cityHash64(" +
                      key + "))"),
              "");
  }
  auto dist = OpenStore(ch->StoreSpec("cluster_dist"));
  ASSERT_TRUE(dist.ok()) << dist.error();
  auto sqlite = NewStore("sqlite");
  ASSERT_TRUE(sqlite.ok()) << sqlite.error();
  for (Store* s : {sqlite->store.get(), dist->get()}) WriteAll(*s);
  for (const AggregationQuery& q : Queries()) {
    auto a = Aggregate(*sqlite->store, q);
    auto b = Aggregate(**dist, q);
    ASSERT_TRUE(a.ok()) << a.error();
    ASSERT_TRUE(b.ok()) << b.error();
    ExpectSameCells(b->cells, a->cells, "distributed vs sqlite");
  }
}

// The verdicts' `layers` column is written without a JSON library on the store's writer
// thread; it must be byte for byte what nlohmann writes for the same layers (keys
// sorted, numbers in its notation, strings escaped), whatever the values.
class ColumnRecorder : public store::ValueSink {
 public:
  void Int(int64_t v) override { values.push_back(std::to_string(v)); }
  void Real(double v) override { values.push_back(std::to_string(v)); }
  void Text(std::string_view v) override { values.emplace_back(v); }
  void Null() override { values.emplace_back("NULL"); }
  std::vector<std::string> values;
};

TEST(StoreSchema, LayersColumnIsWhatAJsonLibraryWrites) {
  const auto& columns = store::VerdictsTable().columns;
  size_t layers_column = columns.size();
  for (size_t i = 0; i < columns.size(); ++i) {
    if (std::string_view(columns[i].name) == "layers") layers_column = i;
  }
  ASSERT_LT(layers_column, columns.size());
  const std::vector<double> shares = {0,      1,      0.5,  0.25, 1.0 / 3,     1e-5,
                                      0.0001, 2.5e-7, -0.0, 7,    std::nan("")};
  const std::vector<std::string> rules = {"dns.bogon",   "",          "tcp.\"quoted\"", "tls\\back",
                                          "http\x01ctl", "h\xc3\xa9", "bad\xff"};
  ExtractedMeasurement m;
  int rows = 0;
  for (size_t a = 0; a < shares.size(); ++a) {
    for (size_t r = 0; r < rules.size(); ++r) {
      VerdictRow v;
      for (size_t i = 0; i < kLayerCount; ++i) {
        LayerVerdict& l = v.layers[i];
        l.measured = (a + r + i) % 3 != 0;
        l.masked = (a + i) % 2 == 0;
        l.blocked = shares[(a + i) % shares.size()];
        l.down = shares[(a + 2 * i + 1) % shares.size()];
        l.ok = shares[(a + 3 * i + 2) % shares.size()];
        l.rule_id = rules[(r + i) % rules.size()];
        l.evidence = static_cast<Evidence>((a + r + i) % 5);
      }
      nlohmann::json expected = nlohmann::json::array();
      for (size_t i = 0; i < kLayerCount; ++i) {
        const LayerVerdict& l = v.layers[i];
        if (!l.measured) continue;
        expected.push_back({{"layer", LayerName(static_cast<Layer>(i))},
                            {"blocked", l.blocked},
                            {"down", l.down},
                            {"ok", l.ok},
                            {"masked", l.masked},
                            {"rule", l.rule_id},
                            {"evidence", EvidenceName(l.evidence)}});
      }
      ColumnRecorder recorder;
      store::VerdictValues(m, v, 0, recorder);
      ASSERT_EQ(recorder.values.size(), columns.size());
      EXPECT_EQ(recorder.values[layers_column],
                expected.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
          << "shares from " << a << ", rules from " << r;
      ++rows;
    }
  }
  EXPECT_EQ(rows, 77);
}

// Committed pages are copied from the WAL into the file while the store is open (on the
// checkpointer's thread), not all at once when it closes: the file grows after a commit.
TEST(SqliteStore, CommittedPagesReachTheFileWhileTheStoreIsOpen) {
  ASSERT_TRUE(TheCorpus().error.empty()) << TheCorpus().error;
  auto h = NewStore("sqlite");
  ASSERT_TRUE(h.ok()) << h.error();
  const Corpus& c = TheCorpus();
  auto w = h->store->Write(c.facts, c.verdicts);
  ASSERT_TRUE(w.ok()) << w.error();
  auto committed = h->store->Commit();
  ASSERT_TRUE(committed.ok()) << committed.error();
  std::error_code ec;
  uintmax_t size = 0;
  for (int i = 0; i < 500 && size < (1u << 20); ++i) {  // up to 10 s
    size = std::filesystem::file_size(h->spec, ec);
    if (size < (1u << 20)) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(size, 1u << 20) << "the file holds only what was there before the first commit";
  EXPECT_TRUE(std::filesystem::exists(h->spec + "-wal"));  // still open: WAL mode
}

// Rows are sent on a thread of their own: an INSERT the server refuses is not lost in
// it; the commit that waits for it says what the server answered.
TEST(ClickHouseStore, ARefusedInsertIsReportedByTheCommit) {
  if (auto why = test_support::ClickHouseServer::Unavailable()) GTEST_SKIP() << *why;
  ASSERT_TRUE(TheClickHouse()->ok()) << TheClickHouse()->error();
  ASSERT_TRUE(TheCorpus().error.empty()) << TheCorpus().error;
  auto h = NewStore("clickhouse");
  ASSERT_TRUE(h.ok()) << h.error();
  const std::string database = h->spec.substr(h->spec.rfind('/') + 1);
  EXPECT_EQ(TheClickHouse()->Run("DROP TABLE " + database + ".verdicts"), "");
  const Corpus& c = TheCorpus();
  auto w = h->store->Write(c.facts, c.verdicts);
  auto committed = w.ok() ? h->store->Commit() : Result<void>(Error{w.error()});
  ASSERT_FALSE(committed.ok());
  EXPECT_NE(committed.error().find("ClickHouse answered"), std::string::npos) << committed.error();
  EXPECT_NE(committed.error().find("INSERT INTO verdicts"), std::string::npos) << committed.error();
}

// RowBinary is read by the table's column types unchecked: a table of the same name
// with other columns is refused when the store opens, by name, rather than filled.
TEST(ClickHouseStore, ATableOfAnotherShapeIsRefusedByName) {
  if (auto why = test_support::ClickHouseServer::Unavailable()) GTEST_SKIP() << *why;
  ASSERT_TRUE(TheClickHouse()->ok()) << TheClickHouse()->error();
  auto h = NewStore("clickhouse");
  ASSERT_TRUE(h.ok()) << h.error();
  const std::string database = h->spec.substr(h->spec.rfind('/') + 1);
  h->store.reset();
  EXPECT_EQ(TheClickHouse()->Run("DROP TABLE " + database + ".verdicts"), "");
  EXPECT_EQ(TheClickHouse()->Run("CREATE TABLE " + database +
                                 ".verdicts (measurement_uid String, x UInt8) ENGINE = "
                                 "MergeTree ORDER BY x"),
            "");
  auto reopened = OpenStore(h->spec);
  ASSERT_FALSE(reopened.ok());
  EXPECT_NE(reopened.error().find("table verdicts is not vigil's: column 2 is 'x UInt8', "
                                  "expected 'rules_version String'"),
            std::string::npos)
      << reopened.error();
}

// A store written before schema 3 (verdicts without the layer bits and upload time) is
// upgraded when opened, and its series are what a new store gives (the technique, which
// needs the facts, waits for the next scoring).
TEST(SqliteStore, ASchema2StoreIsUpgradedAndItsSeriesAreKept) {
  ASSERT_TRUE(TheCorpus().error.empty()) << TheCorpus().error;
  auto h = NewStore("sqlite");
  ASSERT_TRUE(h.ok()) << h.error();
  WriteAll(*h->store);
  h->store.reset();
  auto downgrade = test_support::RunCommand(
      {"sqlite3", h->spec,
       "ALTER TABLE verdicts DROP COLUMN upload_time; ALTER TABLE verdicts DROP COLUMN "
       "software_name; ALTER TABLE verdicts DROP COLUMN measured_layers; ALTER TABLE verdicts "
       "DROP COLUMN blocked_layers; ALTER TABLE verdicts DROP COLUMN masked_layers; ALTER TABLE "
       "verdicts DROP COLUMN technique; PRAGMA user_version = 2;"},
      std::chrono::seconds(60));
  ASSERT_EQ(downgrade.exit_code, 0) << downgrade.output;
  auto reopened = OpenStore(h->spec);
  ASSERT_TRUE(reopened.ok()) << reopened.error();
  SeriesQuery q;
  q.since = 1704067200;
  q.until = 1704067200 + 200 * 86400;
  auto got = BuildSeries(**reopened, q);
  ASSERT_TRUE(got.ok()) << got.error();
  ExpectSameSeries(*got, LayOut(got->query), "upgraded");
}

// The same upgrade on ClickHouse: a verdicts table without the schema-3 columns gets
// them, and the layer bits are rebuilt from the stored layers (upload time, software
// and technique wait for the next scoring, so the skew flags are left out here).
TEST(ClickHouseStore, AVerdictsTableOfSchema2IsUpgradedAndItsSeriesAreKept) {
  if (auto why = test_support::ClickHouseServer::Unavailable()) GTEST_SKIP() << *why;
  ASSERT_TRUE(TheClickHouse()->ok()) << TheClickHouse()->error();
  ASSERT_TRUE(TheCorpus().error.empty()) << TheCorpus().error;
  auto h = NewStore("clickhouse");
  ASSERT_TRUE(h.ok()) << h.error();
  WriteAll(*h->store);
  h->store.reset();
  const std::string database = h->spec.substr(h->spec.rfind('/') + 1);
  for (const char* column : {"upload_time", "software_name", "measured_layers", "blocked_layers",
                             "masked_layers", "technique"}) {
    EXPECT_EQ(TheClickHouse()->Run("ALTER TABLE " + database + ".verdicts DROP COLUMN " + column),
              "");
  }
  auto reopened = OpenStore(h->spec);
  ASSERT_TRUE(reopened.ok()) << reopened.error();
  SeriesQuery q;
  q.since = 1704067200;
  q.until = 1704067200 + 200 * 86400;
  auto got = BuildSeries(**reopened, q);
  ASSERT_TRUE(got.ok()) << got.error();
  SeriesSet want = LayOut(got->query);
  for (SeriesSet* set : {&*got, &want}) {
    for (Series& s : set->series) {
      for (SeriesCell& c : s.cells) c.flags &= static_cast<uint8_t>(~kCellClockSkew);
    }
  }
  ExpectSameSeries(*got, want, "upgraded");
}

// A store of schema 3 has no posts table: opening it makes one and fills it from the
// wechat_posts measurements it holds, the same rows a new store writes.
TEST(SqliteStore, ASchema3StoreGetsItsPostsFromItsMeasurements) {
  auto h = NewStore("sqlite");
  ASSERT_TRUE(h.ok()) << h.error();
  ASSERT_TRUE(h->store->Write(PostMeasurements(), {}).ok());
  ASSERT_TRUE(h->store->Commit().ok());
  h->store.reset();
  auto downgrade = test_support::RunCommand(
      {"sqlite3", h->spec, "DROP TABLE posts; PRAGMA user_version = 3;"}, std::chrono::seconds(60));
  ASSERT_EQ(downgrade.exit_code, 0) << downgrade.output;
  auto reopened = OpenStore(h->spec);
  ASSERT_TRUE(reopened.ok()) << reopened.error();
  auto posts = ListPosts(**reopened, AllPosts());
  ASSERT_TRUE(posts.ok()) << posts.error();
  EXPECT_EQ(Describe(*posts), ExpectedPosts());
  auto version = test_support::RunCommand({"sqlite3", h->spec, "PRAGMA user_version"},
                                          std::chrono::seconds(60));
  EXPECT_EQ(version.output, "4\n");
}

// The same on ClickHouse: a database without the posts table gets it, filled from its
// measurements (and merged: each measurement once).
TEST(ClickHouseStore, ADatabaseWithoutPostsGetsThemFromItsMeasurements) {
  if (auto why = test_support::ClickHouseServer::Unavailable()) GTEST_SKIP() << *why;
  ASSERT_TRUE(TheClickHouse()->ok()) << TheClickHouse()->error();
  auto h = NewStore("clickhouse");
  ASSERT_TRUE(h.ok()) << h.error();
  ASSERT_TRUE(h->store->Write(PostMeasurements(), {}).ok());
  ASSERT_TRUE(h->store->Commit().ok());
  h->store.reset();
  const std::string database = h->spec.substr(h->spec.rfind('/') + 1);
  EXPECT_EQ(TheClickHouse()->Run("DROP TABLE " + database + ".posts"), "");
  // A second copy of a measurement, not merged yet.
  EXPECT_EQ(TheClickHouse()->Run("INSERT INTO " + database + ".measurements SELECT * FROM " +
                                 database + ".measurements WHERE measurement_uid = 'p1'"),
            "");
  auto reopened = OpenStore(h->spec);
  ASSERT_TRUE(reopened.ok()) << reopened.error();
  auto posts = ListPosts(**reopened, AllPosts());
  ASSERT_TRUE(posts.ok()) << posts.error();
  EXPECT_EQ(Describe(*posts), ExpectedPosts());
  EXPECT_EQ(RawRows(**reopened, "posts"), 5u);
}

TEST(StoreSpecs, BadSpecsAreRefusedWithTheReason) {
  auto scheme = OpenStore("postgres://localhost/x");
  ASSERT_FALSE(scheme.ok());
  EXPECT_NE(scheme.error().find("unknown scheme"), std::string::npos) << scheme.error();
  auto port = OpenStore("clickhouse://127.0.0.1:99999/x");
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.error().find("bad port '99999'"), std::string::npos) << port.error();
  auto db = OpenStore("clickhouse://127.0.0.1:8123/x;drop");
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().find("bad database name"), std::string::npos) << db.error();
  auto param = OpenStore("clickhouse://127.0.0.1:8123/x?pasword=1");
  ASSERT_FALSE(param.ok());
  EXPECT_NE(param.error().find("unknown parameter 'pasword'"), std::string::npos) << param.error();
  test_support::TempDir dir("vigil-store-spec-");
  std::string error;
  ASSERT_TRUE(dir.WriteFile("not-a-store", "this is not a database, just text\n", &error)) << error;
  auto text = OpenStore(dir.Join("not-a-store"));
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.error().find(dir.Join("not-a-store")), std::string::npos) << text.error();
}

TEST(StoreSpecs, NoSpecOpensTheDefaultStoreAndASpecItsOwn) {
  test_support::TempDir dir("vigil-store-default-");
  const char* before = std::getenv("VIGIL_STORE");
  const std::string saved = before ? before : "";
  setenv("VIGIL_STORE", dir.Join("default.sqlite").c_str(), 1);
  auto by_default = OpenStoreOrDefault("");
  auto named = OpenStoreOrDefault(dir.Join("named.sqlite"));
  if (before) {
    setenv("VIGIL_STORE", saved.c_str(), 1);
  } else {
    unsetenv("VIGIL_STORE");
  }
  ASSERT_TRUE(by_default.ok()) << by_default.error();
  EXPECT_EQ((*by_default)->Describe(), "sqlite:" + dir.Join("default.sqlite"));
  ASSERT_TRUE(named.ok()) << named.error();
  EXPECT_EQ((*named)->Describe(), "sqlite:" + dir.Join("named.sqlite"));
}

TEST(StoreSpecs, AnUnreachableClickHouseIsNamed) {
  // A loopback port nothing listens on.
  auto s = OpenStore("clickhouse://127.0.0.1:1/vigil");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("cannot reach ClickHouse"), std::string::npos) << s.error();
}

}  // namespace
}  // namespace vigil::analysis
