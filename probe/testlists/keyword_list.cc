#include "probe/testlists/keyword_list.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

#include "base/calendar_date.h"
#include "base/csv.h"
#include "base/utf8.h"
#include "base/whole_file.h"

namespace vigil {

namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxTextBytes = 512;

// Field numbers, 1-based, as Problem::column counts them.
enum Column { kId = 1, kText, kLanguage, kTheme, kComponents, kSource, kDateAdded };

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsAlnum(char c) { return IsLower(c) || IsDigit(c) || (c >= 'A' && c <= 'Z'); }

// `s` quoted for a message: ill-formed bytes as U+FFFD and control bytes escaped, so
// that whatever a file holds, the message is one printable line.
std::string Shown(std::string_view s) {
  std::string out = "\"";
  for (char c : ToValidUtf8(s)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::vector<std::string> SplitPlus(const std::string& s) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t plus = s.find('+', start);
    parts.push_back(s.substr(start, plus - start));
    if (plus == std::string::npos) return parts;
    start = plus + 1;
  }
}

// "" when `id` may name a row of this kind, else why not.
std::string IdProblem(const std::string& id, bool control) {
  if (id.empty()) return "empty";
  for (char c : id) {
    if (!IsLower(c) && !IsDigit(c) && c != '.' && c != '_' && c != '-') {
      return Shown(id) + " may hold only lowercase letters, digits, '.', '_' and '-'";
    }
  }
  const bool suffixed = id.size() > kControlIdSuffix.size() && id.ends_with(kControlIdSuffix);
  if (control && !suffixed) {
    return Shown(id) + " is a control's, which is its test's id followed by \".c\"";
  }
  if (!control && id.ends_with(kControlIdSuffix)) {
    return Shown(id) + " ends in \".c\", which only a control's id does (theme control)";
  }
  return "";
}

// The first code point of valid UTF-8 `text` that has no place in a one-line message
// (a C0 or C1 control, NUL and DEL among them, or the line and paragraph separators).
std::optional<char32_t> LineBreaker(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7F) return byte;
    if (byte == 0xC2 && i + 1 < text.size()) {
      const auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9F) return next;
    }
    if (text.substr(i, 3) == "\xE2\x80\xA8") return 0x2028;
    if (text.substr(i, 3) == "\xE2\x80\xA9") return 0x2029;
  }
  return std::nullopt;
}

std::string CodePointName(char32_t c) {
  char name[16];
  std::snprintf(name, sizeof name, "U+%04X", static_cast<unsigned>(c));
  return name;
}

// "zh", "zh-Hans", "en", "ug", "sr-Latn-RS": a primary language subtag of two or three
// lowercase letters, then subtags of one to eight letters or digits.
bool IsLanguageTag(const std::string& s) {
  size_t i = 0;
  while (i < s.size() && IsLower(s[i])) ++i;
  if (i < 2 || i > 3) return false;
  while (i < s.size()) {
    if (s[i] != '-') return false;
    const size_t start = ++i;
    while (i < s.size() && IsAlnum(s[i])) ++i;
    if (i - start < 1 || i - start > 8) return false;
  }
  return true;
}

// Lowercase words of a-z, joined by one space or '-': "politics", "human rights".
bool IsTheme(const std::string& s) {
  if (s.empty() || !IsLower(s.front()) || !IsLower(s.back())) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (IsLower(s[i])) continue;
    if ((s[i] != ' ' && s[i] != '-') || !IsLower(s[i + 1])) return false;
  }
  return true;
}

// "" when `date` is a real YYYY-MM-DD day not in the future (base/calendar_date.h), else
// why not.
std::string DateProblem(const std::string& date) {
  if (date.empty()) return "empty";
  bool form = date.size() == 10 && date[4] == '-' && date[7] == '-';
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) form = form && IsDigit(date[i]);
  if (!form) return Shown(date) + " is not a date (write YYYY-MM-DD)";
  const auto ymd = ParseCalendarDate(date);
  if (!ymd) return Shown(date) + " is no such day";
  if (*ymd > LatestDateAnywhere()) return Shown(date) + " is in the future";
  return "";
}

// A row as read, and which of its fields the pairing of tests with controls may use.
struct ReadRow {
  KeywordEntry entry;
  size_t file = 0;           // index into Reading::paths
  bool id_ok = false;        // well formed for its kind and not repeated
  bool text_ok = false;      // valid UTF-8 and not empty, so its length means something
  bool language_ok = false;  // a language tag
};

// What reading one or more files accumulates before the pairing and the verdict.
struct Reading {
  KeywordList list;
  std::vector<std::string> paths;                    // every path read, in order, readable or not
  std::vector<ReadRow> rows;                         // every row with seven fields
  std::map<std::string, size_t, std::less<>> ids;    // id -> index into rows, for id_ok rows
  std::vector<std::pair<size_t, Problem>> problems;  // (index into paths, problem)

  size_t PathIndex(const std::string& path) {
    paths.push_back(path);
    return paths.size() - 1;
  }
  // How a message points at another row: by line in the same file, else file:line.
  std::string Where(const ReadRow& row, size_t from_file) const {
    const std::string line = std::to_string(row.entry.line);
    return row.file == from_file ? "line " + line : row.entry.file + ":" + line;
  }
};

// Reads the rows of `text` into `r`, adding every problem a row has on its own.
void ParseInto(std::string_view text, const std::string& path, Reading* r) {
  const size_t file = r->PathIndex(path);
  auto problem = [&](int line, int column, const std::string& field, const std::string& reason) {
    r->problems.emplace_back(file, Problem{path, line, column, field + ": " + reason});
  };
  CsvText csv = ParseCsv(text);
  for (const auto& e : csv.errors) problem(e.line, e.column, "csv", e.message);
  if (!csv.errors.empty()) return;  // fields may have run together: nothing more is reliable
  if (csv.records.empty()) {
    problem(1, 1, "header", "the file is empty");
    return;
  }
  const CsvRecord& header = csv.records.front();
  bool header_ok = header.fields.size() == kKeywordListHeader.size();
  for (size_t i = 0; header_ok && i < kKeywordListHeader.size(); ++i) {
    header_ok = header.fields[i] == kKeywordListHeader[i];
  }
  if (!header_ok) {
    problem(header.line, 1, "header",
            "expected id,text,language,theme,components,source,date_added");
    return;
  }
  r->list.files.push_back(path);

  for (size_t n = 1; n < csv.records.size(); ++n) {
    const CsvRecord& rec = csv.records[n];
    if (rec.fields.size() == 1 && rec.fields[0].empty()) continue;  // a blank line
    if (rec.fields.size() != kKeywordListHeader.size()) {
      problem(rec.line, 1, "row", "expected 7 fields, found " + std::to_string(rec.fields.size()));
      continue;
    }
    const size_t before = r->problems.size();
    ReadRow row;
    row.file = file;
    KeywordEntry& e = row.entry;
    e.id = rec.fields[kId - 1];
    e.text = rec.fields[kText - 1];
    e.language = rec.fields[kLanguage - 1];
    e.theme = rec.fields[kTheme - 1];
    const std::string& components = rec.fields[kComponents - 1];
    e.source = rec.fields[kSource - 1];
    e.date_added = rec.fields[kDateAdded - 1];
    e.file = path;
    e.line = rec.line;
    const bool control = e.IsControl();

    if (auto why = IdProblem(e.id, control); !why.empty()) {
      problem(rec.line, kId, "id", why);
    } else if (auto it = r->ids.find(e.id); it != r->ids.end()) {
      problem(rec.line, kId, "id", "repeats the id of " + r->Where(r->rows[it->second], file));
    } else {
      row.id_ok = true;
    }

    if (e.text.empty()) {
      problem(rec.line, kText, "text", "empty");
    } else if (!IsValidUtf8(e.text)) {
      problem(rec.line, kText, "text", "not valid UTF-8");
    } else {
      row.text_ok = true;
      if (std::optional<char32_t> c = LineBreaker(e.text)) {
        problem(rec.line, kText, "text",
                "holds " + CodePointName(*c) +
                    ", a control character or line break (a message is one line of plain text)");
      }
    }
    if (e.text.size() > kMaxTextBytes) {
      problem(rec.line, kText, "text",
              std::to_string(e.text.size()) + " bytes, more than " + std::to_string(kMaxTextBytes));
    }

    if (e.language.empty()) {
      problem(rec.line, kLanguage, "language", "empty");
    } else if (!IsLanguageTag(e.language)) {
      problem(rec.line, kLanguage, "language",
              Shown(e.language) + " is not a language tag (zh, zh-Hans, en, ug)");
    } else {
      row.language_ok = true;
    }

    if (e.theme.empty()) {
      problem(rec.line, kTheme, "theme", "empty");
    } else if (!IsTheme(e.theme)) {
      problem(rec.line, kTheme, "theme",
              Shown(e.theme) + " is not lowercase words (a-z, joined by one space or '-')");
    }

    if (components.empty()) {
      // A single keyword: its text is the keyword.
    } else if (control) {
      problem(rec.line, kComponents, "components",
              "a control is not a combination (leave the field empty)");
    } else if (!IsValidUtf8(components)) {
      problem(rec.line, kComponents, "components", "not valid UTF-8");
    } else {
      const std::vector<std::string> words = SplitPlus(components);
      if (std::find(words.begin(), words.end(), "") != words.end()) {
        problem(rec.line, kComponents, "components",
                "an empty word (join the words with one '+', none at either end)");
      } else if (words.size() < 2) {
        problem(rec.line, kComponents, "components",
                Shown(components) +
                    " is one word: a combination joins two or more with '+' (leave the field "
                    "empty for a single keyword)");
      }
      for (size_t i = 0; i < words.size(); ++i) {
        const std::string& word = words[i];
        if (word.empty()) continue;
        if (std::find(words.begin(), words.begin() + i, word) != words.begin() + i) {
          problem(rec.line, kComponents, "components", Shown(word) + " is listed twice");
        } else if (e.text.find(word) == std::string::npos) {
          problem(rec.line, kComponents, "components", Shown(word) + " is not in the text");
        }
      }
      e.components = words;
    }

    if (!IsValidUtf8(e.source)) problem(rec.line, kSource, "source", "not valid UTF-8");
    if (auto why = DateProblem(e.date_added); !why.empty()) {
      problem(rec.line, kDateAdded, "date_added", why);
    }

    if (row.id_ok) r->ids.emplace(e.id, r->rows.size());
    if (r->problems.size() == before) r->list.rows.push_back(e);
    r->rows.push_back(std::move(row));
  }
}

// Every test row needs its control and every control its test, in the same language and
// of a length within half to twice the test's, wherever in the files read they are.
void PairTestsAndControls(Reading* r) {
  for (const ReadRow& row : r->rows) {
    if (!row.id_ok) continue;
    const KeywordEntry& e = row.entry;
    auto problem = [&](int column, const std::string& field, const std::string& reason) {
      r->problems.emplace_back(row.file, Problem{e.file, e.line, column, field + ": " + reason});
    };
    if (!e.IsControl()) {
      const std::string control_id = e.id + std::string(kControlIdSuffix);
      if (!r->ids.contains(control_id)) {
        problem(kId, "id", "no control " + Shown(control_id) + " (theme control) for this test");
      }
      continue;
    }
    const std::string test_id = e.id.substr(0, e.id.size() - kControlIdSuffix.size());
    auto it = r->ids.find(test_id);
    if (it == r->ids.end() || r->rows[it->second].entry.IsControl()) {
      problem(kId, "id", "no test " + Shown(test_id) + " for this control");
      continue;
    }
    const ReadRow& test = r->rows[it->second];
    const std::string where = r->Where(test, row.file);
    if (row.language_ok && test.language_ok && e.language != test.entry.language) {
      problem(kLanguage, "language",
              Shown(e.language) + " is not its test's language " + Shown(test.entry.language) +
                  " (" + where + ")");
    }
    if (row.text_ok && test.text_ok) {
      const size_t length = Utf8Length(e.text);
      const size_t test_length = Utf8Length(test.entry.text);
      if (2 * length < test_length || length > 2 * test_length) {
        problem(kText, "text",
                std::to_string(length) + " characters, not within half to twice the " +
                    std::to_string(test_length) + " of its test (" + where + ")");
      }
    }
  }
}

// The problems in the order a reader goes through the files: file, line, field.
std::vector<Problem> SortedProblems(Reading* r) {
  std::stable_sort(r->problems.begin(), r->problems.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first, a.second.line, a.second.column) <
           std::tie(b.first, b.second.line, b.second.column);
  });
  std::vector<Problem> out;
  out.reserve(r->problems.size());
  for (auto& [file, p] : r->problems) out.push_back(std::move(p));
  return out;
}

void ReadFiles(const std::vector<std::string>& paths, Reading* r) {
  for (const auto& path : paths) {
    auto text = ReadWholeFile(path);
    if (!text.ok()) {
      r->problems.emplace_back(r->PathIndex(path), Problem{path, 1, 1, text.error()});
      continue;
    }
    ParseInto(*text, path, r);
  }
  PairTestsAndControls(r);
}

Result<KeywordList> ToResult(Reading* r) {
  const std::vector<Problem> problems = SortedProblems(r);
  if (problems.empty()) return std::move(r->list);
  return Error{ProblemsError(problems)};
}

}  // namespace

std::vector<const KeywordEntry*> KeywordList::Tests() const {
  std::vector<const KeywordEntry*> tests;
  for (const auto& row : rows) {
    if (!row.IsControl()) tests.push_back(&row);
  }
  return tests;
}

const KeywordEntry* KeywordList::ControlOf(const KeywordEntry& test) const {
  const KeywordEntry* control = Find(test.id + std::string(kControlIdSuffix));
  return control != nullptr && control->IsControl() ? control : nullptr;
}

const KeywordEntry* KeywordList::Find(std::string_view id) const {
  for (const auto& row : rows) {
    if (row.id == id) return &row;
  }
  return nullptr;
}

std::vector<Problem> CheckKeywordList(std::string_view text, const std::string& path) {
  Reading r;
  ParseInto(text, path, &r);
  PairTestsAndControls(&r);
  return SortedProblems(&r);
}

std::vector<Problem> CheckKeywordListFiles(const std::vector<std::string>& paths) {
  Reading r;
  ReadFiles(paths, &r);
  return SortedProblems(&r);
}

Result<KeywordList> ParseKeywordList(std::string_view text, const std::string& path) {
  Reading r;
  ParseInto(text, path, &r);
  PairTestsAndControls(&r);
  return ToResult(&r);
}

Result<KeywordList> ReadKeywordLists(const std::string& dir) {
  auto files = CsvFilesIn(dir, "keyword lists");
  if (!files.ok()) return Error{files.error()};
  Reading r;
  ReadFiles(*files, &r);
  return ToResult(&r);
}

Result<KeywordList> ReadKeywordListPath(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return ReadKeywordLists(path);
  auto text = ReadWholeFile(path);
  if (!text.ok()) return Error{text.error()};
  return ParseKeywordList(*text, path);
}

std::string KeywordListDir(const std::string& data_dir) {
  return (fs::path(data_dir.empty() ? "testlists" : data_dir) / "keywords").string();
}

bool LooksLikeKeywordList(std::string_view text) {
  return StartsWithHeader(text, kKeywordListHeader);
}

}  // namespace vigil
