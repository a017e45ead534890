// KeywordList: the words and combinations the delivery experiment sends, read from CSV
// files under testlists/keywords/ (header id,text,language,theme,components,source,
// date_added). A row is a single keyword (components empty: its text is the keyword) or
// a combination (components: its words joined by '+', each a substring of text, at
// least two). Rows of theme "control" are benign controls: every test row ID has the
// control "ID.c", in the same language and of similar length (the experiment sends it
// beside the test so that a broken endpoint is not taken for a filter). Every malformed
// row is reported as "file:line: field: reason". Plain values and pure functions over
// files; safe to use from any thread.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "probe/testlists/test_list.h"

namespace vigil {

/// The header every keyword list starts with, field for field.
inline constexpr std::array<std::string_view, 7> kKeywordListHeader = {
    "id", "text", "language", "theme", "components", "source", "date_added"};

/// The theme of benign controls.
inline constexpr std::string_view kControlTheme = "control";
/// A test row's control is its id with this suffix.
inline constexpr std::string_view kControlIdSuffix = ".c";

struct KeywordEntry {
  std::string id;                       // [a-z0-9._-]+, unique across the files read together
  std::string text;                     // UTF-8, no control characters, at most 512 bytes
  std::string language;                 // BCP 47-ish tag: "zh", "zh-Hans", "en", "ug", ...
  std::string theme;                    // lowercase word(s): "politics", "religion", ...; "control"
  std::vector<std::string> components;  // empty, or >= 2 words each found in text
  std::string source;                   // a URL or citation the row rests on
  std::string date_added;               // YYYY-MM-DD
  std::string file;                     // where the row came from, for messages
  int line = 0;

  bool IsControl() const { return theme == kControlTheme; }
  bool IsCombination() const { return !components.empty(); }
};

struct KeywordList {
  std::vector<std::string> files;  // the files read, in order
  std::vector<KeywordEntry> rows;  // in file order

  /// The test rows (not controls), in file order.
  std::vector<const KeywordEntry*> Tests() const;
  /// The control of a test row ("ID.c"), or nullptr.
  const KeywordEntry* ControlOf(const KeywordEntry& test) const;
  /// The row with this id, or nullptr.
  const KeywordEntry* Find(std::string_view id) const;
};

/// Every problem of one list's text (column = CSV field number, message "field: reason"):
/// broken quoting, a wrong header, a row without seven fields, a bad or repeated id, an
/// empty or over-long text or one with control characters, a bad language tag, theme or
/// date, a combination with fewer than two components or a component not found in its
/// text, a control with components, a test row without its control, a control without
/// its test, and a control in another language or whose length (in characters) is
/// outside half to twice its test's. Blank lines are skipped.
std::vector<Problem> CheckKeywordList(std::string_view text, const std::string& path);

/// The same over files read as one list (a test and its control may sit in different
/// files; an id repeated across files is a problem).
std::vector<Problem> CheckKeywordListFiles(const std::vector<std::string>& paths);

/// Parses one list's text; the error lists the problems (at most 20), one
/// "path:line: field: reason" a line.
Result<KeywordList> ParseKeywordList(std::string_view text, const std::string& path);

/// Reads every *.csv file in `dir` (sorted by name) as one list.
Result<KeywordList> ReadKeywordLists(const std::string& dir);

/// Reads one file, or every *.csv in it when `path` is a directory.
Result<KeywordList> ReadKeywordListPath(const std::string& path);

/// data_dir/keywords ("testlists/keywords" when data_dir is empty).
std::string KeywordListDir(const std::string& data_dir);

/// True when `text` starts with kKeywordListHeader (a byte order mark and CRLF allowed).
bool LooksLikeKeywordList(std::string_view text);

}  // namespace vigil
