// `vigil lists check`: lints the URL test lists under testlists/ with Citizen Lab's rules,
// one "FILE:LINE:COLUMN: message" line per problem on standard output, so editors and CI
// can point at the field; exit 0 when clean, 1 with problems, 2 for bad arguments.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "apps/vigil/commands.h"
#include "probe/testlists/test_list.h"

namespace vigil::cli {

namespace {

namespace fs = std::filesystem;

// Our legend's name first, then the name Citizen Lab's repository uses for the same
// columns, so that a checkout of theirs can be checked as it is.
constexpr const char* kLegendNames[] = {"00-LEGEND-category_codes.csv",
                                        "00-LEGEND-new_category_codes.csv"};

struct CheckFlags {
  std::vector<std::string> paths{"testlists/lists"};
  std::string legend;
};

std::string FindLegendBeside(const std::string& path) {
  std::error_code ec;
  const fs::path dir = fs::is_directory(path, ec) ? fs::path(path) : fs::path(path).parent_path();
  for (const char* name : kLegendNames) {
    const fs::path candidate = (dir.empty() ? fs::path(".") : dir) / name;
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
  }
  return "";
}

void RunCheck(const CheckFlags& flags) {
  Result<std::vector<std::string>> files = ExpandTestListPaths(flags.paths);
  if (!files) {
    std::fprintf(stderr, "vigil lists check: %s\n", files.error().c_str());
    SetExitCode(2);
    return;
  }
  std::string legend_path = flags.legend;
  if (legend_path.empty()) legend_path = FindLegendBeside(flags.paths.front());
  if (legend_path.empty()) {
    std::fprintf(stderr, "vigil lists check: no %s beside %s (name a legend with --legend)\n",
                 kLegendNames[0], flags.paths.front().c_str());
    SetExitCode(2);
    return;
  }
  Result<CategoryLegend> legend = ReadCategoryLegend(legend_path);
  if (!legend) {
    std::fprintf(stderr, "vigil lists check: legend: %s\n", legend.error().c_str());
    SetExitCode(2);
    return;
  }

  const std::vector<Problem> problems = CheckTestLists(flags.paths, *legend);
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
  SetExitCode(1);
}

}  // namespace

void AddListsCommand(CLI::App& app) {
  CLI::App* lists = app.add_subcommand("lists", "Work with the URL test lists under testlists/");
  lists->require_subcommand(1);

  auto flags = std::make_shared<CheckFlags>();
  CLI::App* check = lists->add_subcommand(
      "check", "Lint test lists (Citizen Lab CSV format); prints FILE:LINE:COLUMN: message");
  check->add_option("PATH", flags->paths,
                    "List files or directories of them (default: testlists/lists)");
  check->add_option("--legend", flags->legend,
                    "Category legend CSV (default: 00-LEGEND-category_codes.csv beside the "
                    "first PATH)");
  check->callback([flags] { RunCheck(*flags); });
}

}  // namespace vigil::cli
