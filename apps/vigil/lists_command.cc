// `vigil lists check`: lints the URL test lists under testlists/ with Citizen Lab's rules
// and the messaging lists (testlists/messaging/, told apart by their header) with the
// messaging experiment's, one "FILE:LINE:COLUMN: message" line per problem on standard
// output, so editors and CI can point at the field; exit 0 when clean, 1 with problems,
// 2 for bad arguments.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "apps/vigil/commands.h"
#include "probe/testlists/messaging_list.h"
#include "probe/testlists/test_list.h"

namespace vigil::cli {

namespace {

namespace fs = std::filesystem;

// Our legend's name first, then the name Citizen Lab's repository uses for the same
// columns, so that a checkout of theirs can be checked as it is.
constexpr const char* kLegendNames[] = {"00-LEGEND-category_codes.csv",
                                        "00-LEGEND-new_category_codes.csv"};

constexpr const char* kDefaultUrlLists = "testlists/lists";
constexpr const char* kDefaultMessagingLists = "testlists/messaging";

struct CheckFlags {
  std::vector<std::string> paths;  // empty: the defaults above
  std::string legend;
};

bool IsMessagingListFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string first_line;
  std::getline(in, first_line);
  return LooksLikeMessagingList(first_line);
}

std::string FindLegendBeside(const std::string& path) {
  std::error_code ec;
  const fs::path dir = fs::is_directory(path, ec) ? fs::path(path) : fs::path(path).parent_path();
  for (const char* name : kLegendNames) {
    const fs::path candidate = (dir.empty() ? fs::path(".") : dir) / name;
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
  }
  return "";
}

void RunCheck(CheckFlags flags) {
  if (flags.paths.empty()) {
    flags.paths = {kDefaultUrlLists};
    std::error_code ec;
    if (fs::is_directory(kDefaultMessagingLists, ec)) flags.paths.push_back(kDefaultMessagingLists);
  }
  Result<std::vector<std::string>> files = ExpandTestListPaths(flags.paths);
  if (!files) {
    Fail("lists check", files.error());
    return;
  }
  std::vector<std::string> url_lists, messaging_lists;
  for (const auto& file : *files) {
    (IsMessagingListFile(file) ? messaging_lists : url_lists).push_back(file);
  }

  std::vector<Problem> problems;
  if (!url_lists.empty()) {
    std::string legend_path = flags.legend;
    if (legend_path.empty()) legend_path = FindLegendBeside(url_lists.front());
    if (legend_path.empty()) {
      Fail("lists check", std::string("no ") + kLegendNames[0] + " beside " + url_lists.front() +
                              " (name a legend with --legend)");
      return;
    }
    Result<CategoryLegend> legend = ReadCategoryLegend(legend_path);
    if (!legend) {
      Fail("lists check", "legend: " + legend.error());
      return;
    }
    problems = CheckTestLists(url_lists, *legend);
  }
  for (Problem& p : CheckMessagingListFiles(messaging_lists)) problems.push_back(std::move(p));
  std::set<std::string> files_with_problems;
  for (const Problem& p : problems) {
    std::cout << p.ToString() << "\n";
    files_with_problems.insert(p.file);
  }
  std::cout.flush();
  if (problems.empty()) {
    std::fprintf(stderr, "vigil lists check: %zu file(s), no problems\n", files->size());
    return;
  }
  std::fprintf(stderr, "vigil lists check: %zu problem(s) in %zu of %zu file(s)\n", problems.size(),
               files_with_problems.size(), files->size());
  SetExitCode(kExitFailed);
}

}  // namespace

void AddListsCommand(CLI::App& app) {
  CLI::App* lists = app.add_subcommand("lists", "Work with the lists under testlists/");
  lists->require_subcommand(1);

  auto flags = std::make_shared<CheckFlags>();
  CLI::App* check = lists->add_subcommand(
      "check",
      "Lint URL test lists (Citizen Lab CSV format) and messaging lists; prints "
      "FILE:LINE:COLUMN: message");
  check->add_option("PATH", flags->paths,
                    "List files or directories of them (default: testlists/lists and "
                    "testlists/messaging)");
  check->add_option("--legend", flags->legend,
                    "Category legend CSV (default: 00-LEGEND-category_codes.csv beside the "
                    "first PATH)");
  check->callback([flags] { RunCheck(*flags); });
}

}  // namespace vigil::cli
