#include "probe/testlists/post_list.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "base/calendar_date.h"
#include "base/csv.h"
#include "base/utf8.h"
#include "base/whole_file.h"
#include "probe/http/url.h"

namespace vigil {

namespace {

namespace fs = std::filesystem;

// Field numbers, 1-based, as Problem::column counts them.
enum Column { kUrl = 1, kAccount, kTitle, kSource, kDateAdded };

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool IsControl(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// "" when a free-text field is clean, else why not.
std::string TextProblem(std::string_view value) {
  if (!IsValidUtf8(value)) return "not UTF-8";
  if (std::any_of(value.begin(), value.end(), IsControl))
    return "holds a tab, line break or control character";
  if (!value.empty() && (value.front() == ' ' || value.back() == ' ')) {
    return "leading or trailing space";
  }
  return "";
}

// The query's parameter names that have a value.
std::vector<std::string> QueryNames(std::string_view query) {
  std::vector<std::string> names;
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view pair = query.substr(start, amp - start);
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && eq + 1 < pair.size()) {
      names.emplace_back(pair.substr(0, eq));
    }
    start = amp + 1;
  }
  return names;
}

using SeenUrls = std::map<std::string, std::pair<std::string, int>>;  // → file, line

void ParseInto(std::string_view text, const std::string& path, PostList* out, SeenUrls* seen,
               std::vector<Problem>* problems) {
  auto problem = [&](int line, int column, const std::string& field, const std::string& reason) {
    problems->push_back(Problem{path, line, column, field + ": " + reason});
  };
  CsvText csv = ParseCsv(text);
  for (const auto& e : csv.errors) problem(e.line, e.column, "csv", e.message);
  if (!csv.errors.empty()) return;  // fields may have run together: nothing more is reliable
  if (csv.records.empty()) {
    problem(1, 1, "header", "the file is empty");
    return;
  }
  const CsvRecord& header = csv.records.front();
  const bool header_ok = std::equal(header.fields.begin(), header.fields.end(),
                                    kPostListHeader.begin(), kPostListHeader.end());
  if (!header_ok) {
    problem(header.line, 1, "header", "expected url,account,title,source,date_added");
    return;
  }
  out->files.push_back(path);

  for (size_t r = 1; r < csv.records.size(); ++r) {
    const CsvRecord& rec = csv.records[r];
    if (rec.fields.size() == 1 && rec.fields[0].empty()) continue;  // a blank line
    if (rec.fields.size() != kPostListHeader.size()) {
      problem(rec.line, 1, "row",
              "expected 5 fields, found " + std::to_string(rec.fields.size()) +
                  " (quote a field that holds a comma: \"a, b\")");
      continue;
    }
    const size_t before = problems->size();
    PostEntry row{rec.fields[kUrl - 1],
                  rec.fields[kAccount - 1],
                  rec.fields[kTitle - 1],
                  rec.fields[kSource - 1],
                  rec.fields[kDateAdded - 1],
                  path,
                  rec.line};

    if (auto why = PostUrlProblem(row.url); !why.empty()) problem(rec.line, kUrl, "url", why);
    const std::pair<const char*, int> texts[] = {
        {"account", kAccount}, {"title", kTitle}, {"source", kSource}};
    for (const auto& [name, column] : texts) {
      const std::string& value = rec.fields[column - 1];
      if (value.empty() && column != kTitle) {
        problem(rec.line, column, name, "empty");
      } else if (auto why = TextProblem(value); !why.empty()) {
        problem(rec.line, column, name, why);
      }
    }
    if (const auto date = ParseCalendarDate(row.date_added); !date) {
      problem(rec.line, kDateAdded, "date_added",
              Quoted(row.date_added) + " is not a real date written YYYY-MM-DD");
    } else if (*date > LatestDateAnywhere()) {
      problem(rec.line, kDateAdded, "date_added", row.date_added + " is in the future");
    }
    if (problems->size() != before) continue;

    auto [it, inserted] = seen->emplace(row.url, std::pair(path, rec.line));
    if (!inserted) {
      const auto& [file, line] = it->second;
      problem(rec.line, kUrl, "url", "listed before, on " + EarlierPlace(file, line, path));
      continue;
    }
    out->rows.push_back(std::move(row));
  }
}

void ParseFiles(const std::vector<std::string>& paths, PostList* list,
                std::vector<Problem>* problems) {
  SeenUrls seen;
  for (const auto& path : paths) {
    auto text = ReadWholeFile(path);
    if (!text.ok()) {
      problems->push_back(Problem{path, 1, 1, text.error()});
      continue;
    }
    ParseInto(*text, path, list, &seen, problems);
  }
}

Result<PostList> ToResult(PostList list, const std::vector<Problem>& problems) {
  if (problems.empty()) return list;
  return Error{ProblemsError(problems)};
}

}  // namespace

std::vector<std::string> PostList::Urls() const {
  std::vector<std::string> urls;
  urls.reserve(rows.size());
  for (const auto& row : rows) urls.push_back(row.url);
  return urls;
}

std::string PostUrlProblem(std::string_view url) {
  if (url.empty()) return "empty";
  if (std::any_of(url.begin(), url.end(), [](char c) { return IsSpace(c) || IsControl(c); })) {
    return "whitespace or a control character in " + Quoted(url);
  }
  if (const size_t hash = url.find('#'); hash != std::string_view::npos) {
    return "drop the fragment " + Quoted(url.substr(hash)) + ": it is never sent";
  }
  auto parsed = ParseUrl(url);
  if (!parsed.ok()) return parsed.error();
  if (parsed->host != kPostHost) {
    return "host " + Quoted(parsed->host) + " is not " + std::string(kPostHost);
  }
  if (parsed->port_explicit) return "no port: articles are at the scheme's own";
  const size_t authority = url.find("://") + 3;
  if (url.substr(authority, kPostHost.size()) != kPostHost) return "write the host in lowercase";
  const std::string& target = parsed->target;
  if (target.rfind("/s/", 0) == 0) {
    const std::string_view id = std::string_view(target).substr(3);
    if (id.empty() || !std::all_of(id.begin(), id.end(), IsIdChar)) {
      return "the article id after /s/ must be letters, digits, '-' and '_', got " + Quoted(id);
    }
    return "";
  }
  if (target.rfind("/s?", 0) == 0) {
    const std::vector<std::string> names = QueryNames(std::string_view(target).substr(3));
    std::string missing;
    for (const char* name : {"__biz", "mid", "idx", "sn"}) {
      if (std::find(names.begin(), names.end(), name) == names.end()) {
        missing += missing.empty() ? name : std::string(", ") + name;
      }
    }
    if (!missing.empty()) return "the query lacks " + missing + " (each with a value)";
    return "";
  }
  return "the path is neither /s/<id> nor /s?__biz=...&mid=...&idx=...&sn=...";
}

std::vector<Problem> CheckPostList(std::string_view text, const std::string& path) {
  PostList list;
  SeenUrls seen;
  std::vector<Problem> problems;
  ParseInto(text, path, &list, &seen, &problems);
  return problems;
}

std::vector<Problem> CheckPostListFiles(const std::vector<std::string>& paths) {
  PostList list;
  std::vector<Problem> problems;
  ParseFiles(paths, &list, &problems);
  return problems;
}

Result<PostList> ParsePostList(std::string_view text, const std::string& path) {
  PostList list;
  SeenUrls seen;
  std::vector<Problem> problems;
  ParseInto(text, path, &list, &seen, &problems);
  return ToResult(std::move(list), problems);
}

Result<PostList> ReadPostLists(const std::string& dir) {
  auto files = CsvFilesIn(dir, "post lists");
  if (!files.ok()) return Error{files.error()};
  PostList list;
  std::vector<Problem> problems;
  ParseFiles(*files, &list, &problems);
  return ToResult(std::move(list), problems);
}

std::string PostListDir(const std::string& data_dir) {
  return (fs::path(data_dir.empty() ? "testlists" : data_dir) / "wechat_posts").string();
}

bool LooksLikePostList(std::string_view text) { return StartsWithHeader(text, kPostListHeader); }

}  // namespace vigil
