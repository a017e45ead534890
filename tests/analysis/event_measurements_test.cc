// The measurements bench/gen_event_measurements.py writes around a dated event, judged
// in-process by the analyzer with the shipped rules, get the verdicts its ground truth
// promises: blocked with the truth's blocking type inside each blocked interval, down in
// the global outage, never blocked elsewhere (the controls in HK and TW included), and
// per (cc, asn, target, before/after the event) the truth's counts of each verdict. The
// end-to-end tests of change detection and event correlation stand on this.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/ingest/ingest.h"
#include "analysis/model/verdict_class.h"
#include "analysis/verdict/rules.h"
#include "base/csv.h"
#include "tests/analysis/feed_fixtures.h"
#include "tests/support/child_process.h"
#include "tests/support/read_file.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil::analysis {
namespace {

using nlohmann::json;

// What the generator wrote for one run.
struct Generated {
  std::unique_ptr<test_support::TempDir> dir;
  std::string measurements;  // the JSONL file
  json truth;
  std::string timeline;  // the timeline CSV's text
};

// One measurement as the analyzer judged it.
struct Judged {
  int64_t start = 0;
  std::string cc;
  uint32_t asn = 0;
  std::string target;
  std::string verdict;
  std::string blocking_type;
};

int64_t Seconds(const json& iso) {
  // "2014-05-27T00:00:00Z": the measurement time's spelling with a T and a Z.
  const std::string text = iso.get<std::string>();
  auto t = ParseMeasurementTime(std::string_view(text).substr(0, 19));
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(0);
}

// A small run: three days after the event hold the telegram onset (33 h) and part of
// the AS4837 drought (57 h on).
Generated Generate(const std::string& scenario, int seed) {
  Generated g;
  g.dir = std::make_unique<test_support::TempDir>("vigil-event-gen-");
  g.measurements = g.dir->Join("m.jsonl");
  auto run = test_support::RunCommand(
      {"python3",       test_support::SourceDir() + "/bench/gen_event_measurements.py",
       "--scenario",    scenario,
       "--seed",        std::to_string(seed),
       "--event-time",  "2014-05-27T00:00:00Z",
       "--days-before", "2",
       "--days-after",  "3",
       "--per-hour",    "1",
       "--out",         g.measurements,
       "--truth",       g.dir->Join("truth.json"),
       "--timeline",    g.dir->Join("timeline.csv")},
      std::chrono::seconds(60));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  g.truth = json::parse(test_support::ReadFileOrFail(g.dir->Join("truth.json")), nullptr, false);
  EXPECT_TRUE(g.truth.is_object()) << "truth.json is not a JSON object";
  g.timeline = test_support::ReadFileOrFail(g.dir->Join("timeline.csv"));
  return g;
}

std::vector<Judged> Judge(const std::string& file) {
  std::vector<Judged> out;
  IngestOptions options;
  auto stats = IngestAndScore(
      {file}, options, ShippedVerdictEngine(), 0,
      [&](std::vector<ScoredMeasurement>& batch) {
        for (const ScoredMeasurement& s : batch) {
          const EnvelopeRow& m = s.facts.measurement;
          out.push_back({m.start_time, m.probe_cc, m.probe_asn, m.target,
                         std::string(VerdictClassName(s.verdict.verdict)),
                         s.verdict.blocking_type});
        }
      },
      [](const IngestError& e) { ADD_FAILURE() << e.file << ":" << e.line << ": " << e.reason; });
  EXPECT_TRUE(stats.ok()) << stats.error();
  return out;
}

std::string Describe(const Judged& m) {
  return m.cc + " AS" + std::to_string(m.asn) + " " + m.target + " at " + std::to_string(m.start) +
         ": " + m.verdict + " " + m.blocking_type;
}

// Each measurement's verdict against the truth's intervals, and the counts per series
// and phase against the truth's counts.
void ExpectVerdictsOfTheTruth(const Generated& g, const std::vector<Judged>& judged) {
  const json& truth = g.truth;
  ASSERT_EQ(judged.size(), truth["measurements"].get<size_t>());
  const int64_t event = Seconds(truth["event"]["start"]);
  const int64_t window_end = Seconds(truth["window"]["end"]);
  std::map<std::string, int> counts;  // "cc asn target phase verdict"
  int mismatches = 0;
  for (const Judged& m : judged) {
    std::string expected_verdict, expected_type;
    for (const json& series : truth["series"]) {
      if (series["cc"] != m.cc || series["asn"] != m.asn || series["target"] != m.target) continue;
      for (const json& b : series["blocked"]) {
        const int64_t end = b["end"].is_null() ? window_end : Seconds(b["end"]);
        if (Seconds(b["start"]) <= m.start && m.start < end) {
          expected_verdict = "blocked";
          expected_type = b["blocking_type"].get<std::string>();
        }
      }
    }
    for (const json& o : truth["outages"]) {
      if (expected_verdict.empty() && o["target"] == m.target && Seconds(o["start"]) <= m.start &&
          m.start < Seconds(o["end"])) {
        expected_verdict = "down";
      }
    }
    for (const json& d : truth["droughts"]) {
      EXPECT_FALSE(d["cc"] == m.cc && d["asn"] == m.asn && Seconds(d["start"]) <= m.start &&
                   m.start < Seconds(d["end"]))
          << "a measurement in a drought: " << Describe(m);
    }
    const bool right = expected_verdict.empty()
                           ? (m.verdict == "ok" || m.verdict == "down" || m.verdict == "error")
                           : (m.verdict == expected_verdict && m.blocking_type == expected_type);
    if (!right && ++mismatches <= 10) {
      ADD_FAILURE() << Describe(m) << "; the truth says "
                    << (expected_verdict.empty() ? "ok, down or error" : expected_verdict) << " "
                    << expected_type;
    }
    const std::string phase = m.start < event ? "before" : "after";
    ++counts[m.cc + " " + std::to_string(m.asn) + " " + m.target + " " + phase + " " + m.verdict];
  }
  EXPECT_EQ(mismatches, 0);
  std::map<std::string, int> expected;
  for (const json& row : truth["counts"]) {
    for (VerdictClass v : kVerdictClasses) {
      const std::string name(VerdictClassName(v));
      const int n = row.value(name, 0);
      if (n == 0) continue;
      expected[row["cc"].get<std::string>() + " " + std::to_string(row["asn"].get<int>()) + " " +
               row["target"].get<std::string>() + " " + row["phase"].get<std::string>() + " " +
               name] = n;
    }
  }
  EXPECT_EQ(counts, expected);
}

// The truth's blocked intervals of a series: [(blocking_type, onset_hours or -1)].
std::vector<std::pair<std::string, int>> Blocked(const json& truth, const std::string& cc, int asn,
                                                 const std::string& target) {
  std::vector<std::pair<std::string, int>> out;
  for (const json& series : truth["series"]) {
    if (series["cc"] != cc || series["asn"] != asn || series["target"] != target) continue;
    for (const json& b : series["blocked"]) {
      out.emplace_back(b["blocking_type"].get<std::string>(),
                       b["onset_hours"].is_null() ? -1 : b["onset_hours"].get<int>());
    }
  }
  return out;
}

using Intervals = std::vector<std::pair<std::string, int>>;

TEST(EventMeasurements, TheCrackdownIsJudgedAsItsTruthSays) {
  Generated g = Generate("crackdown", 3);
  ASSERT_TRUE(g.truth.is_object());
  const json& truth = g.truth;

  // The scenario: whatsapp DNS-injected on every CN network from 12 h, telegram
  // blackholed on two of them from 33 h, facebook_messenger blocked all along, signal
  // and the controls left alone.
  for (int asn : {4134, 4837, 9808}) {
    EXPECT_EQ(Blocked(truth, "CN", asn, "whatsapp"), (Intervals{{"dns", 12}})) << asn;
    EXPECT_EQ(Blocked(truth, "CN", asn, "facebook_messenger"), (Intervals{{"tls", -1}})) << asn;
    EXPECT_EQ(Blocked(truth, "CN", asn, "signal"), Intervals{}) << asn;
  }
  EXPECT_EQ(Blocked(truth, "CN", 4134, "telegram"), (Intervals{{"tcp_ip", 33}}));
  EXPECT_EQ(Blocked(truth, "CN", 4837, "telegram"), (Intervals{{"tcp_ip", 33}}));
  EXPECT_EQ(Blocked(truth, "CN", 9808, "telegram"), Intervals{});
  for (const json& series : truth["series"]) {
    if (series["cc"] != "CN") {
      EXPECT_TRUE(series["blocked"].empty()) << series.dump();
    }
  }
  ASSERT_EQ(truth["outages"].size(), 1u);
  EXPECT_EQ(truth["outages"][0]["target"], "signal");
  EXPECT_EQ(truth["outages"][0]["ccs"], json({"CN", "HK", "TW"}));
  ASSERT_EQ(truth["droughts"].size(), 1u);
  EXPECT_EQ(truth["droughts"][0]["asn"], 4837);
  EXPECT_GE(Seconds(truth["droughts"][0]["start"]), Seconds(truth["event"]["start"]) + 33 * 3600)
      << "the drought falls while telegram is blocked there";

  const std::vector<Judged> judged = Judge(g.measurements);
  ExpectVerdictsOfTheTruth(g, judged);
  // The noise is there, and is no blocking.
  std::map<std::string, int> verdicts;
  for (const Judged& m : judged) ++verdicts[m.verdict];
  EXPECT_GT(verdicts["down"], 5 * 4) << "more than the outage's";
  EXPECT_GT(verdicts["error"], 0);
  EXPECT_EQ(verdicts["anomaly"], 0);
}

TEST(EventMeasurements, QuietAndOutageScenariosChangeNoBlocking) {
  for (const std::string scenario : {"quiet", "outage"}) {
    SCOPED_TRACE(scenario);
    Generated g = Generate(scenario, 4);
    ASSERT_TRUE(g.truth.is_object());
    for (const json& series : g.truth["series"]) {
      const bool constant = series["cc"] == "CN" && series["target"] == "facebook_messenger";
      EXPECT_EQ(series["blocked"].size(), constant ? 1u : 0u) << series.dump();
    }
    EXPECT_EQ(g.truth["outages"].size(), scenario == "outage" ? 1u : 0u);
    EXPECT_TRUE(g.truth["droughts"].empty());
    ExpectVerdictsOfTheTruth(g, Judge(g.measurements));
  }
}

TEST(EventMeasurements, TheTimelineRowIsTheTruthsEventAndSaysItIsSynthetic) {
  Generated g = Generate("crackdown", 5);
  ASSERT_TRUE(g.truth.is_object());
  const CsvText csv = ParseCsv(g.timeline);
  ASSERT_TRUE(csv.errors.empty());
  ASSERT_EQ(csv.records.size(), 2u) << g.timeline;
  const std::vector<std::string> header = {
      "id", "start", "end", "cc", "asns", "targets", "category", "description", "source_url"};
  EXPECT_EQ(csv.records[0].fields, header);
  ASSERT_EQ(csv.records[1].fields.size(), header.size());
  for (size_t i = 0; i < header.size(); ++i) {
    EXPECT_EQ(csv.records[1].fields[i], g.truth["event"][header[i]]) << header[i];
  }
  EXPECT_EQ(g.truth["event"]["start"], "2014-05-27T00:00:00Z");
  EXPECT_EQ(g.truth["event"]["cc"], "CN");
  EXPECT_EQ(g.truth["event"]["source_url"], "https://example.org/synthetic");
  EXPECT_NE(g.truth["event"]["description"].get<std::string>().find("Synthetic"),
            std::string::npos);
}

}  // namespace
}  // namespace vigil::analysis
