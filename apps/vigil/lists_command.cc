// `vigil lists check`: lints the URL test lists under testlists/ with Citizen Lab's rules,
// the messaging lists (testlists/messaging/, told apart by their header) with the
// messaging experiment's, the keyword lists (testlists/keywords/, told apart by their
// folder or their header) with the delivery experiment's, read as one list so that a test
// and its control may sit in different files, and the event timelines (testlists/events/,
// told apart by their folder or their header) with the timeline reader's, one
// "FILE:LINE:COLUMN: message" line per problem on standard output, so editors and CI can
// point at the field; exit 0 when clean, 1 with problems, 2 for bad arguments.
// Public-account post lists (testlists/wechat_posts/, told apart by their header) get the
// wechat_posts experiment's rules (probe/testlists/post_list.h).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "analysis/correlate/timeline.h"
#include "apps/vigil/commands.h"
#include "probe/testlists/keyword_list.h"
#include "probe/testlists/messaging_list.h"
#include "probe/testlists/post_list.h"
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
constexpr const char* kDefaultKeywordLists = "testlists/keywords";
constexpr const char* kDefaultTimelines = "testlists/events";
constexpr const char* kDefaultPostLists = "testlists/wechat_posts";
// A file in a folder of this name is a timeline whatever its first line says, so that a
// timeline with a broken header is reported as one rather than linted as a URL list.
constexpr const char* kTimelineFolder = "events";
// Likewise a file in a folder of this name is a keyword list.
constexpr const char* kKeywordFolder = "keywords";

struct CheckFlags {
  std::vector<std::string> paths;  // empty: the defaults above
  std::string legend;
};

std::string FirstLine(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string first_line;
  std::getline(in, first_line);
  return first_line;
}

bool IsTimelineFile(const std::string& path) {
  return fs::path(path).parent_path().filename() == kTimelineFolder ||
         analysis::LooksLikeTimeline(FirstLine(path));
}

// A keyword list's folder decides first; elsewhere, but not among the timelines, its header.
bool IsKeywordListFile(const std::string& path) {
  const fs::path folder = fs::path(path).parent_path().filename();
  if (folder == kKeywordFolder) return true;
  return folder != kTimelineFolder && LooksLikeKeywordList(FirstLine(path));
}

bool IsMessagingListFile(const std::string& path) {
  return LooksLikeMessagingList(FirstLine(path));
}

bool IsPostListFile(const std::string& path) { return LooksLikePostList(FirstLine(path)); }

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
    if (fs::is_directory(kDefaultKeywordLists, ec)) flags.paths.push_back(kDefaultKeywordLists);
    if (fs::is_directory(kDefaultTimelines, ec)) flags.paths.push_back(kDefaultTimelines);
    // No post list is shipped: the folder counts once someone adds one.
    bool post_lists = false;
    for (const auto& entry : fs::directory_iterator(kDefaultPostLists, ec)) {
      post_lists = post_lists || entry.path().extension() == ".csv";
    }
    if (post_lists) flags.paths.push_back(kDefaultPostLists);
  }
  Result<std::vector<std::string>> files = ExpandTestListPaths(flags.paths);
  if (!files) {
    Fail("lists check", files.error());
    return;
  }
  std::vector<std::string> url_lists, messaging_lists, keyword_lists, timelines, post_lists;
  for (const auto& file : *files) {
    if (IsKeywordListFile(file)) {
      keyword_lists.push_back(file);
    } else if (IsTimelineFile(file)) {
      timelines.push_back(file);
    } else if (IsPostListFile(file)) {
      post_lists.push_back(file);
    } else {
      (IsMessagingListFile(file) ? messaging_lists : url_lists).push_back(file);
    }
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
  for (Problem& p : CheckKeywordListFiles(keyword_lists)) problems.push_back(std::move(p));
  for (Problem& p : CheckPostListFiles(post_lists)) problems.push_back(std::move(p));
  for (const analysis::TimelineProblem& p : analysis::CheckTimelines(timelines)) {
    problems.push_back({p.file, static_cast<int>(p.line), p.column, p.field + ": " + p.message});
  }
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
      "Lint URL test lists (Citizen Lab CSV format), messaging lists, keyword lists, post "
      "lists and event timelines; prints FILE:LINE:COLUMN: message");
  check->add_option("PATH", flags->paths,
                    "List files or directories of them (default: testlists/lists, "
                    "testlists/messaging, testlists/keywords, testlists/events and "
                    "testlists/wechat_posts)");
  check->add_option("--legend", flags->legend,
                    "Category legend CSV (default: 00-LEGEND-category_codes.csv beside the "
                    "first PATH)");
  check->callback([flags] { RunCheck(*flags); });
}

}  // namespace vigil::cli
