// Agreement with OONI over the real measurements of the reference data. The numbers
// asserted here are the ones docs/agreement.md explains: a rule change that moves them
// fails this test until the document is updated with it.
#include "analysis/verdict/agreement.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/ingest/ingest.h"
#include "tests/support_paths.h"

namespace vigil::analysis {
namespace {

std::string Ref() { return vigil::test_support::ReferenceDir(); }
bool HaveRef() { return std::filesystem::exists(Ref() + "/ooni-measurements/expected.csv"); }

const VerdictEngine& Engine() {
  static const VerdictEngine engine = [] {
    auto e = VerdictEngine::Load(vigil::test_support::SourceDir() + "/testlists/verdict/rules.json",
                                 vigil::test_support::SourceDir() + "/testlists/fingerprints");
    EXPECT_TRUE(e.ok()) << e.error();
    return e.ok() ? std::move(e).value() : VerdictEngine();
  }();
  return engine;
}

std::vector<ExtractedMeasurement> ReadReference() {
  std::vector<ExtractedMeasurement> out;
  auto stats = IngestPath(
      Ref() + "/ooni-measurements", {},
      [&](ExtractedMeasurement& m) { out.push_back(std::move(m)); },
      [](const IngestError& e) { ADD_FAILURE() << e.file << ":" << e.line << ": " << e.reason; });
  EXPECT_TRUE(stats.ok()) << stats.error();
  return out;
}

TEST(AgreementTest, OoniVerdictsComeFromExpectedAndIndexAlike) {
  if (!HaveRef()) GTEST_SKIP() << "no reference data at " << Ref();
  auto ooni = LoadOoniVerdicts(Ref());
  ASSERT_TRUE(ooni.ok()) << ooni.error();
  EXPECT_EQ(ooni->size(), 35u);
  std::array<int, 4> by{};
  for (const auto& [key, outcome] : *ooni) ++by[static_cast<size_t>(outcome)];
  EXPECT_EQ(by, (std::array<int, 4>{14, 11, 2, 8}));  // ok, anomaly, confirmed, failure
  EXPECT_EQ(ooni->at({"web_connectivity.jsonl", 18}), Outcome::kConfirmed);
  EXPECT_EQ(ooni->at({"signal.jsonl", 3}), Outcome::kFailure);
  EXPECT_EQ(ooni->at({"whatsapp.jsonl", 1}), Outcome::kAnomaly);
  EXPECT_FALSE(LoadOoniVerdicts("/nonexistent").ok());
}

TEST(AgreementTest, RealMeasurementsAgreeAsDocumented) {
  if (!HaveRef()) GTEST_SKIP() << "no reference data at " << Ref();
  auto ooni = LoadOoniVerdicts(Ref());
  ASSERT_TRUE(ooni.ok()) << ooni.error();
  const std::vector<ExtractedMeasurement> measurements = ReadReference();
  const AgreementReport report = CompareWithOoni(Engine(), measurements, *ooni);
  std::printf("%s", report.ToText().c_str());
  EXPECT_EQ(report.compared, 35);
  EXPECT_EQ(report.missing, 0);
  EXPECT_EQ(report.not_in_reference, static_cast<int>(measurements.size()) - 35);
  EXPECT_EQ(report.agreed, 33);
  using Row = std::array<int, 4>;                   // OONI ok, anomaly, confirmed, failure
  EXPECT_EQ(report.counts[0], (Row{13, 0, 0, 1}));  // ours ok
  EXPECT_EQ(report.counts[1], (Row{0, 11, 0, 0}));  // ours anomaly
  EXPECT_EQ(report.counts[2], (Row{0, 0, 2, 0}));   // ours confirmed
  EXPECT_EQ(report.counts[3], (Row{1, 0, 0, 7}));   // ours failure
  std::vector<std::string> where;
  for (const Disagreement& d : report.disagreements) {
    where.push_back(d.file + ":" + std::to_string(d.line) + " " + OutcomeName(d.ours) + "/" +
                    OutcomeName(d.ooni));
  }
  EXPECT_EQ(where, (std::vector<std::string>{
                       "telegram.jsonl:3 ok/failure",
                       "web_connectivity.jsonl:1 failure/ok",
                   }));
}

}  // namespace
}  // namespace vigil::analysis
