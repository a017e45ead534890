// `vigil analyze` as a user runs it: the real OONI measurements counted by test and
// country, the agreement with OONI's own flags, and bad input reported with file:line.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

std::string Measurements() { return test_support::ReferenceDir() + "/ooni-measurements"; }

TEST(AnalyzeCommand, CountsVerdictsOfTheRealMeasurements) {
  if (!std::filesystem::is_directory(Measurements())) {
    GTEST_SKIP() << "no reference data at " << Measurements();
  }
  auto r = test_support::RunCommand(
      {test_support::VigilBinary(), "analyze", Measurements(), "--no-store"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("122 measurements from 14 files"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("0 bad lines skipped; rules v1"), std::string::npos) << r.output;
  // whatsapp.jsonl:1 (JP) is the one anomaly among the whatsapp measurements.
  EXPECT_NE(r.output.find("whatsapp                       JP         1        0        1"),
            std::string::npos)
      << r.output;
}

TEST(AnalyzeCommand, AgreementWithOoniIsPrinted) {
  if (!std::filesystem::is_directory(Measurements())) {
    GTEST_SKIP() << "no reference data at " << Measurements();
  }
  auto r = test_support::RunCommand({test_support::VigilBinary(), "analyze", Measurements(),
                                     "--agreement", "--reference-dir", test_support::ReferenceDir(),
                                     "--no-store"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("33 of 35 measurements"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("telegram.jsonl:3"), std::string::npos) << r.output;
}

TEST(AnalyzeCommand, BadInputIsNamed) {
  test_support::TempDir dir("vigil-analyze");
  std::string error;
  ASSERT_TRUE(dir.WriteFile("bad.jsonl", "{\"test_name\": 5}\nnot json\n", &error)) << error;
  auto r = test_support::RunCommand({test_support::VigilBinary(), "analyze", dir.Join("bad.jsonl"),
                                     "--store", dir.Join("s.sqlite")});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(dir.Join("bad.jsonl") + ":1: field 'test_name'"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find(dir.Join("bad.jsonl") + ":2:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("2 bad lines skipped"), std::string::npos) << r.output;

  r = test_support::RunCommand(
      {test_support::VigilBinary(), "analyze", dir.Join("missing"), "--no-store"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("no such file or directory"), std::string::npos) << r.output;

  r = test_support::RunCommand({test_support::VigilBinary(), "analyze", dir.path(), "--rules",
                                dir.Join("bad.jsonl"), "--no-store"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--rules"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace vigil
