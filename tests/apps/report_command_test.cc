// `vigil report --html FILE` as an analyst runs it: measurements analyzed into a store,
// then the page written from them with a timeline; and the mistakes a user meets, each
// named before anything is read.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/read_file.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

test_support::CommandResult Vigil(std::vector<std::string> args) {
  args.insert(args.begin(), test_support::VigilBinary());
  return test_support::RunCommand(args, std::chrono::seconds(120));
}

TEST(ReportCommand, WritesThePageFromTheStoreAndATimeline) {
  test_support::TempDir dir("vigil-report-");
  std::string error;
  auto gen =
      test_support::RunCommand({"python3", test_support::SourceDir() + "/bench/gen_measurements.py",
                                "--count", "600", "--seed", "3", "--output", dir.Join("m.jsonl")});
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  const std::string store = dir.Join("s.sqlite");
  auto r = Vigil({"analyze", dir.Join("m.jsonl"), "--store", store});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(dir.WriteFile("cn.csv",
                            "id,start,end,cc,asns,targets,category,description,source_url\n"
                            "cn-test,2024-02-01,,CN,,telegram,announcement,A test "
                            "event,https://example.org/cn-test\n",
                            &error))
      << error;

  r = Vigil({"report", "--html", dir.Join("report.html"), "--store", store, "--timeline",
             dir.Join("cn.csv"), "--since", "2024-01-01", "--until", "2024-04-01", "--title",
             "Synthetic <test>"});
  if (r.output.find("not in this build yet") != std::string::npos) {
    GTEST_SKIP() << "the events analysis is not linked in yet: " << r.output;
  }
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("vigil report: wrote " + dir.Join("report.html")), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("1 timeline events"), std::string::npos) << r.output;
  const std::string page = test_support::ReadFileOrFail(dir.Join("report.html"));
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find("<title>Synthetic &lt;test&gt;</title>"), std::string::npos);
  EXPECT_NE(page.find("From sqlite:" + store), std::string::npos);
  EXPECT_NE(page.find("<figure class=\"chart\""), std::string::npos);
  EXPECT_NE(page.find("<tr id=\"finding-0\""), std::string::npos);
  EXPECT_NE(page.find("AS4134 Chinanet"), std::string::npos);
}

TEST(ReportCommand, MistakesAreNamed) {
  test_support::TempDir dir("vigil-report-bad-");
  const std::string html = dir.Join("report.html");
  auto r = Vigil({"report"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--html is required"), std::string::npos) << r.output;
  r = Vigil({"report", "--html", html, "--grain", "fortnight"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--grain: unknown grain 'fortnight'"), std::string::npos) << r.output;
  r = Vigil({"report", "--html", html, "--since", "2024-02-30"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--since: bad time '2024-02-30'"), std::string::npos) << r.output;
  r = Vigil({"report", "--html", html, "--asn", "ASX"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--asn: "), std::string::npos) << r.output;
  r = Vigil({"report", "--html", html, "--timeline", dir.Join("none.csv")});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--timeline: "), std::string::npos) << r.output;
  r = Vigil({"report", "--html", html, "--store", dir.Join("none.sqlite")});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("no store at " + dir.Join("none.sqlite")), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.Join("none.sqlite"))) << "a report created a store";
  EXPECT_FALSE(std::filesystem::exists(html)) << "a failed report wrote a page";
}

}  // namespace
}  // namespace vigil
