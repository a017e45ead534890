#include "probe/testlists/test_list.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <unordered_map>

#include "base/calendar_date.h"
#include "base/csv.h"
#include "base/whole_file.h"
#include "probe/http/url.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;

// The columns of a row, 1-based as in messages.
enum Column { kUrl = 1, kCategoryCode, kCategoryDescription, kDateAdded, kSource, kNotes };

std::string HeaderText() {
  std::string text;
  for (std::string_view name : kTestListHeader) {
    if (!text.empty()) text += ',';
    text += name;
  }
  return text;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'; }

bool AllSpace(std::string_view s) { return std::all_of(s.begin(), s.end(), IsSpace); }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// A list read as far as it can be, with what stood in the way.
struct ParsedList {
  TestList list;
  std::vector<Problem> problems;
  // The earliest problem that makes rows unreadable (for ReadTestList), if any.
  std::optional<Problem> fatal;
};

class ListParser {
 public:
  explicit ListParser(const std::string& path) { out_.list.path = path; }

  ParsedList Parse(std::string_view text) {
    CsvText csv = ParseCsv(text);
    for (CsvSyntaxError& e : csv.errors) Add(e.line, e.column, std::move(e.message), true);
    if (csv.had_bom) {
      // Python's csv module and most tools read the mark as part of "url".
      Add(1, 1, "byte order mark at the start of the file (save as UTF-8 without BOM)", false);
    }
    if (csv.records.empty()) {
      Add(1, 1, "empty file: the first line must be the header " + HeaderText(), true);
    } else {
      CheckHeader(csv.records.front());
    }
    for (size_t i = 1; i < csv.records.size(); ++i) AddRow(csv.records[i]);
    return std::move(out_);
  }

 private:
  void Add(int line, int column, std::string message, bool fatal) {
    out_.problems.push_back({out_.list.path, line, column, std::move(message)});
    if (fatal && (!out_.fatal ||
                  std::pair(line, column) < std::pair(out_.fatal->line, out_.fatal->column))) {
      out_.fatal = out_.problems.back();
    }
  }

  void CheckHeader(const CsvRecord& header) {
    const size_t n = header.fields.size();
    for (size_t i = 0; i < std::min(n, kTestListHeader.size()); ++i) {
      if (header.fields[i] != kTestListHeader[i]) {
        Add(header.line, static_cast<int>(i) + 1,
            "header field is \"" + header.fields[i] + "\", expected \"" +
                std::string(kTestListHeader[i]) + "\"",
            true);
      }
    }
    if (n != kTestListHeader.size()) {
      Add(header.line, static_cast<int>(std::min(n, kTestListHeader.size())) + 1,
          "header has " + std::to_string(n) + " fields, expected " + HeaderText(), true);
    }
  }

  void AddRow(const CsvRecord& row) {
    if (row.fields.size() == 1 && AllSpace(row.fields[0])) {
      Add(row.line, 1, row.fields[0].empty() ? "empty line" : "line holds only whitespace", false);
      return;
    }
    const size_t n = row.fields.size();
    if (n != kTestListHeader.size()) {
      // Past a missing or extra separator every field is in the wrong column, so
      // checking them would only bury this one message under consequences of it.
      Add(row.line, static_cast<int>(std::min(n, kTestListHeader.size())) + 1,
          "row has " + std::to_string(n) + " fields, expected " +
              std::to_string(kTestListHeader.size()) +
              " (quote a field that holds a comma: \"a, b\")",
          true);
      return;
    }
    out_.list.entries.push_back({row.fields[0], row.fields[1], row.fields[2], row.fields[3],
                                 row.fields[4], row.fields[5], row.line});
  }

  ParsedList out_;
};

Result<ParsedList> ParseListFile(const std::string& path) {
  Result<std::string> text = ReadWholeFile(path);
  if (!text) return Error{text.error()};
  return ListParser(path).Parse(*text);
}

using AddProblem = std::function<void(int column, std::string message)>;

// Whitespace rules: none at all where a space would change the value's meaning (url,
// code, date), and no tab, line break or surrounding space in the free-text fields,
// because those are invisible in a spreadsheet and break line-oriented tools.
bool CheckSpaces(std::string_view value, std::string_view name, int column, bool strict,
                 const AddProblem& add) {
  const std::string field(name);
  if (strict && std::any_of(value.begin(), value.end(), IsSpace)) {
    add(column, "whitespace in " + field);
    return false;
  }
  if (value.find_first_of("\r\n") != std::string_view::npos) {
    add(column, "line break in " + field);
  } else if (value.find('\t') != std::string_view::npos) {
    add(column, "tab in " + field);
  } else if (Trim(value).size() != value.size()) {
    add(column, "leading or trailing space in " + field);
  }
  return true;
}

void CheckUrl(std::string_view url, const AddProblem& add) {
  if (url.empty()) {
    add(kUrl, "url is empty");
    return;
  }
  if (!CheckSpaces(url, "url", kUrl, true, add)) return;
  Result<Url> parsed = ParseUrl(url);
  if (!parsed) {
    add(kUrl, parsed.error());
    return;
  }
  // ParseUrl reads "https://host" as "https://host/"; a list spells the path out, so that
  // the same site is not listed twice under two spellings.
  const size_t authority = url.find("://") + 3;
  const size_t end = url.find_first_of("/?#", authority);
  if (end == std::string_view::npos || url[end] != '/') {
    std::string fixed(url);
    fixed.insert(end == std::string_view::npos ? fixed.size() : end, "/");
    add(kUrl, "URL has no path; write \"" + fixed + "\"");
  }
}

void CheckCategory(const TestListEntry& e, const CategoryLegend& legend, const AddProblem& add) {
  CheckSpaces(e.category_description, "category_description", kCategoryDescription, false, add);
  if (e.category_code.empty()) {
    add(kCategoryCode, "category_code is empty");
    return;
  }
  if (!CheckSpaces(e.category_code, "category_code", kCategoryCode, true, add)) return;
  auto known = legend.descriptions.find(e.category_code);
  if (known == legend.descriptions.end()) {
    add(kCategoryCode, "unknown category code \"" + e.category_code + "\" (not in " +
                           fs::path(legend.path).filename().string() + ")");
    return;
  }
  // Surrounding space is reported above; it does not make the words differ as well.
  if (Trim(e.category_description) != known->second) {
    add(kCategoryDescription, "category_description \"" + e.category_description +
                                  "\" does not match \"" + known->second +
                                  "\", the legend's description of " + e.category_code);
  }
}

void CheckDate(std::string_view date, const AddProblem& add) {
  if (date.empty()) {
    add(kDateAdded, "date_added is empty");
    return;
  }
  if (!CheckSpaces(date, "date_added", kDateAdded, true, add)) return;
  bool form = date.size() == 10 && date[4] == '-' && date[7] == '-';
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    form = form && date[i] >= '0' && date[i] <= '9';
  }
  if (!form) {
    add(kDateAdded, "date_added \"" + std::string(date) + "\" is not in the form YYYY-MM-DD");
    return;
  }
  const auto ymd = ParseCalendarDate(date);
  if (!ymd) {
    add(kDateAdded, "date_added " + std::string(date) + " is not a real date");
  } else if (*ymd > LatestDateAnywhere()) {
    add(kDateAdded, "date_added " + std::string(date) + " is in the future");
  }
}

void CheckEntry(const TestListEntry& e, const CategoryLegend& legend, const AddProblem& add) {
  CheckUrl(e.url, add);
  CheckCategory(e, legend, add);
  CheckDate(e.date_added, add);
  CheckSpaces(e.source, "source", kSource, false, add);
  CheckSpaces(e.notes, "notes", kNotes, false, add);
}

using UrlLines = std::unordered_map<std::string, int>;

UrlLines FirstLineOfEachUrl(const TestList& list) {
  UrlLines lines;
  for (const TestListEntry& e : list.entries) lines.emplace(e.url, e.line);
  return lines;
}

Result<std::vector<std::string>> ExpandOnePath(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) return Error{"no such file or directory"};
  if (!fs::is_directory(status)) return std::vector<std::string>{path};
  std::vector<std::string> lists;
  for (const fs::directory_entry& entry : fs::directory_iterator(path, ec)) {
    const std::string name = entry.path().filename().string();
    // Citizen Lab names legends and other metadata "00-..." so they sort first.
    if (entry.is_regular_file() && entry.path().extension() == ".csv" && !name.starts_with("00-")) {
      lists.push_back((fs::path(path) / name).string());
    }
  }
  if (ec) return Error{"cannot list: " + ec.message()};
  if (lists.empty()) return Error{"no test lists (*.csv) in this directory"};
  std::sort(lists.begin(), lists.end());
  return lists;
}

std::string CanonicalKey(const fs::path& path) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(path, ec);
  return (ec ? path.lexically_normal() : canonical).string();
}

}  // namespace

std::string Problem::ToString() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

Result<TestList> ReadTestList(const std::string& path) {
  Result<ParsedList> parsed = ParseListFile(path);
  if (!parsed) return Error{parsed.error()};
  if (parsed->fatal) return Error{parsed->fatal->ToString()};
  return std::move(parsed->list);
}

Result<CategoryLegend> ReadCategoryLegend(const std::string& path) {
  Result<std::string> text = ReadWholeFile(path);
  if (!text) return Error{text.error()};
  CsvText csv = ParseCsv(*text);
  auto fail = [&path](int line, int column, const std::string& message) {
    return Error{path + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message};
  };
  if (!csv.errors.empty()) {
    const CsvSyntaxError& e = csv.errors.front();
    return fail(e.line, e.column, e.message);
  }
  if (csv.records.empty()) return fail(1, 1, "empty legend");
  const std::vector<std::string>& header = csv.records.front().fields;
  auto column_of = [&header](std::string_view name) {
    return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  const size_t description = column_of("Category Description");
  size_t code = column_of("Code");
  if (code == header.size()) code = column_of("New Code");
  if (description == header.size()) return fail(1, 1, "no \"Category Description\" column");
  if (code == header.size()) return fail(1, 1, "no \"Code\" column");

  CategoryLegend legend;
  legend.path = path;
  for (size_t i = 1; i < csv.records.size(); ++i) {
    const CsvRecord& row = csv.records[i];
    if (row.fields.size() == 1 && AllSpace(row.fields[0])) continue;
    if (row.fields.size() != header.size()) {
      return fail(row.line, static_cast<int>(std::min(row.fields.size(), header.size())) + 1,
                  "row has " + std::to_string(row.fields.size()) + " fields, the header " +
                      std::to_string(header.size()));
    }
    const std::string& name = row.fields[code];
    if (name.empty() || std::any_of(name.begin(), name.end(), IsSpace)) {
      return fail(row.line, static_cast<int>(code) + 1, "empty code or code with spaces");
    }
    if (!legend.descriptions.emplace(name, row.fields[description]).second) {
      return fail(row.line, static_cast<int>(code) + 1, "code " + name + " appears twice");
    }
  }
  return legend;
}

Result<std::vector<std::string>> ExpandTestListPaths(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    Result<std::vector<std::string>> lists = ExpandOnePath(path);
    if (!lists) return Error{path + ": " + lists.error()};
    files.insert(files.end(), lists->begin(), lists->end());
  }
  return files;
}

std::vector<Problem> CheckTestLists(const std::vector<std::string>& paths,
                                    const CategoryLegend& legend) {
  std::vector<Problem> problems;
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    Result<std::vector<std::string>> expanded = ExpandOnePath(path);
    if (!expanded) {
      problems.push_back({path, 1, 1, expanded.error()});
      continue;
    }
    files.insert(files.end(), expanded->begin(), expanded->end());
  }

  std::vector<ParsedList> parsed;
  std::unordered_map<std::string, UrlLines> global_urls;  // by canonical path of global.csv
  for (const std::string& file : files) {
    Result<ParsedList> list = ParseListFile(file);
    if (!list) {
      problems.push_back({file, 1, 1, list.error()});
      continue;
    }
    if (fs::path(file).filename() == kGlobalListName) {
      global_urls.emplace(CanonicalKey(file), FirstLineOfEachUrl(list->list));
    }
    parsed.push_back(std::move(*list));
  }

  for (ParsedList& list : parsed) {
    const std::string& file = list.list.path;
    std::vector<Problem> found = std::move(list.problems);
    const UrlLines* global = nullptr;
    const fs::path global_path = fs::path(file).parent_path() / kGlobalListName;
    if (fs::path(file).filename() != kGlobalListName) {
      const std::string key = CanonicalKey(global_path);
      auto it = global_urls.find(key);
      if (it == global_urls.end()) {
        // The global list beside a country list counts even when only the country list
        // was named: the rule is about the pair.
        Result<ParsedList> beside = ParseListFile(global_path.string());
        it = global_urls.emplace(key, beside ? FirstLineOfEachUrl(beside->list) : UrlLines{}).first;
      }
      global = &it->second;
    }
    UrlLines seen;
    for (const TestListEntry& e : list.list.entries) {
      AddProblem add = [&found, &file, &e](int column, std::string message) {
        found.push_back({file, e.line, column, std::move(message)});
      };
      CheckEntry(e, legend, add);
      if (auto [first, inserted] = seen.emplace(e.url, e.line); !inserted) {
        add(kUrl, "duplicate URL, first at line " + std::to_string(first->second));
      } else if (global != nullptr) {
        if (auto g = global->find(e.url); g != global->end()) {
          add(kUrl, "URL is also in " + global_path.string() + " (line " +
                        std::to_string(g->second) + "); a country list holds only what the " +
                        "global list does not");
        }
      }
    }
    std::stable_sort(found.begin(), found.end(), [](const Problem& a, const Problem& b) {
      return std::pair(a.line, a.column) < std::pair(b.line, b.column);
    });
    problems.insert(problems.end(), found.begin(), found.end());
  }
  return problems;
}

std::string ProblemsError(const std::vector<Problem>& problems) {
  constexpr size_t kShown = 20;
  std::string joined;
  for (size_t i = 0; i < problems.size() && i < kShown; ++i) {
    const Problem& p = problems[i];
    if (!joined.empty()) joined += "\n";
    joined += p.file + ":" + std::to_string(p.line) + ": " + p.message;
  }
  if (problems.size() > kShown) {
    joined += "\n(" + std::to_string(problems.size() - kShown) + " more)";
  }
  return joined;
}

Result<std::vector<std::string>> CsvFilesIn(const std::string& dir, std::string_view what) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error{dir + ": no such directory"};
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".csv" && entry.is_regular_file(ec)) {
      files.push_back(entry.path().string());
    }
  }
  if (ec) return Error{dir + ": " + ec.message()};
  if (files.empty()) return Error{dir + ": no " + std::string(what) + " (*.csv)"};
  std::sort(files.begin(), files.end());
  return files;
}

bool StartsWithHeader(std::string_view text, std::span<const std::string_view> header) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  std::string_view first = text.substr(0, text.find('\n'));
  if (!first.empty() && first.back() == '\r') first.remove_suffix(1);
  std::string joined;
  for (const auto& field : header) {
    if (!joined.empty()) joined += ",";
    joined += field;
  }
  return first == joined;
}

std::string EarlierPlace(const std::string& file, int line, const std::string& path) {
  return file == path ? "line " + std::to_string(line) : file + ":" + std::to_string(line);
}

}  // namespace vigil
