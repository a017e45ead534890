// TestList: a URL list in Citizen Lab's CSV format (testlists/lists/*.csv), the category
// legend that gives its codes their meaning, and the lint rules `vigil lists check` applies.
// Plain values and pure functions over files; safe to use from any thread.
#pragma once

#include <array>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vigil {

/// The header every test list starts with, field for field.
inline constexpr std::array<std::string_view, 6> kTestListHeader = {
    "url", "category_code", "category_description", "date_added", "source", "notes"};

/// The file name of the list every country list is checked against.
inline constexpr std::string_view kGlobalListName = "global.csv";

struct TestListEntry {
  std::string url;
  std::string category_code;
  std::string category_description;
  std::string date_added;
  std::string source;
  std::string notes;
  /// 1-based line of the row in its file, for messages that point back at it.
  int line = 0;
};

struct TestList {
  std::string path;
  std::vector<TestListEntry> entries;
};

/// Reads a list to measure its URLs. Fails with "FILE:LINE:COLUMN: message" on what makes
/// the rows unreadable: an I/O error, broken quoting, a header other than kTestListHeader,
/// or a row without six fields. Empty lines, a byte order mark and CRLF line ends are
/// accepted; the content of the fields is not checked here (CheckTestLists does that).
Result<TestList> ReadTestList(const std::string& path);

/// Category codes and the category_description each must come with.
struct CategoryLegend {
  std::string path;
  /// code -> category description ("COMT" -> "Communication Tools").
  std::map<std::string, std::string, std::less<>> descriptions;
};

/// Reads a legend: CSV whose header has a "Category Description" column and a "Code"
/// column (Citizen Lab's current legend calls it "New Code"); other columns are ignored.
/// Fails on broken CSV, a missing column, an empty or repeated code.
Result<CategoryLegend> ReadCategoryLegend(const std::string& path);

/// One lint finding.
struct Problem {
  std::string file;
  int line = 0;
  /// 1-based number of the CSV field.
  int column = 0;
  std::string message;

  /// "FILE:LINE:COLUMN: message", the form editors and CI annotations understand.
  std::string ToString() const;

  friend bool operator==(const Problem&, const Problem&) = default;
};

/// The list files `paths` name: files as given, directories replaced by the *.csv files
/// in them (sorted) except the "00-" legends. Fails on a path that does not exist and on
/// a directory without lists.
Result<std::vector<std::string>> ExpandTestListPaths(const std::vector<std::string>& paths);

/// Applies Citizen Lab's lint rules to the lists `paths` name (see ExpandTestListPaths):
/// the exact header; six fields per row; no empty lines and no byte order mark; a
/// URL with scheme http or https, a host and a path (at least "/"); no whitespace in
/// url, category_code or date_added, and no tab, line break or surrounding space
/// elsewhere; a category code in `legend` with the legend's description; date_added a
/// real YYYY-MM-DD date not in the future; no URL twice in a file; and no URL in a country
/// list that global.csv beside it also holds. Returns every problem, in file order, then
/// by line and column; a path that cannot be read is a problem too.
/// The readers of the lists under testlists/ (messaging, keyword and post lists) share
/// these: the problems as one error (the first 20 as "FILE:LINE: message" lines, then
/// "(N more)"); the *.csv files of `dir` sorted by name (an error when `dir` is not a
/// readable folder or holds none: "DIR: no <what> (*.csv)"); and whether `text` starts
/// with `header`'s fields joined by commas (a byte order mark and CRLF allowed).
std::string ProblemsError(const std::vector<Problem>& problems);
Result<std::vector<std::string>> CsvFilesIn(const std::string& dir, std::string_view what);
bool StartsWithHeader(std::string_view text, std::span<const std::string_view> header);
/// Where an earlier row stands, as a later row of `path` names it: "line N" in the same
/// file, "FILE:N" in another.
std::string EarlierPlace(const std::string& file, int line, const std::string& path);

std::vector<Problem> CheckTestLists(const std::vector<std::string>& paths,
                                    const CategoryLegend& legend);

}  // namespace vigil
