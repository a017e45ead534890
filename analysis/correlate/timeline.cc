#include "analysis/correlate/timeline.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <filesystem>
#include <map>
#include <utility>

#include "analysis/query/aggregation.h"
#include "base/csv.h"
#include "base/utf8.h"
#include "base/whole_file.h"

namespace vigil::analysis {

namespace {

namespace fs = std::filesystem;

constexpr std::array<std::string_view, 9> kColumns = {
    "id", "start", "end", "cc", "asns", "targets", "category", "description", "source_url"};
enum Column { kId = 1, kStart, kEnd, kCc, kAsns, kTargets, kCategory, kDescription, kSourceUrl };

constexpr std::string_view kBom = "\xEF\xBB\xBF";
// A value is quoted in a message up to this many bytes, so a message stays one short line
// whatever the file holds.
constexpr size_t kShownBytes = 60;

constexpr char kIdAllowed[] = "letters, digits, '.', '_' and '-'";
constexpr char kTimeAllowed[] = "YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, UTC";
constexpr char kCcAllowed[] = "two upper-case letters, such as CN";
constexpr char kAsnsAllowed[] = "AS numbers joined by '+', such as 4134+AS4837";
constexpr char kTargetsAllowed[] =
    "target names joined by '+': lower-case letters, digits, '.', '_' and '-', such as "
    "wechat+www.google.com";
constexpr char kUrlAllowed[] =
    "an http:// or https:// URL with a host name, such as https://example.org/a";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsControl(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

// `s` in double quotes, control bytes and quotes escaped and long values cut short, so that
// whatever bytes a file holds the message stays on one line.
std::string Shown(std::string_view s) {
  bool cut = false;
  if (s.size() > kShownBytes) {
    size_t n = kShownBytes;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // a whole character
    s = s.substr(0, n);
    cut = true;
  }
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (IsControl(c)) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[(static_cast<unsigned char>(c) >> 4) & 0xF];
      out += kHex[static_cast<unsigned char>(c) & 0xF];
    } else {
      out += c;
    }
  }
  out += cut ? "...\"" : "\"";
  return out;
}

std::string CategoryList() {
  std::string out;
  for (std::string_view c : TimelineCategories()) {
    if (!out.empty()) out += ", ";
    out += c;
  }
  return out;
}

std::vector<std::string_view> SplitPlus(std::string_view s) {
  std::vector<std::string_view> parts;
  for (;;) {
    const size_t plus = s.find('+');
    parts.push_back(s.substr(0, plus));
    if (plus == std::string_view::npos) return parts;
    s.remove_prefix(plus + 1);
  }
}

bool IsId(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return IsLower(c) || IsUpper(c) || IsDigit(c) || c == '.' || c == '_' || c == '-';
  });
}

bool IsTarget(std::string_view s) {
  if (s.empty() || !(IsLower(s.front()) || IsDigit(s.front()))) return false;
  if (!(IsLower(s.back()) || IsDigit(s.back()))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return IsLower(c) || IsDigit(c) || c == '.' || c == '_' || c == '-';
  });
}

// "4134" or "AS4134", 1 to 4294967295.
bool ParseAsnText(std::string_view s, uint32_t* asn) {
  if (s.starts_with("AS")) s.remove_prefix(2);
  if (s.empty() || s.size() > 10 || !std::all_of(s.begin(), s.end(), IsDigit)) return false;
  uint64_t value = 0;
  std::from_chars(s.data(), s.data() + s.size(), value);
  if (value == 0 || value > 0xFFFFFFFFull) return false;
  *asn = static_cast<uint32_t>(value);
  return true;
}

// A host name as URLs carry it: labels of letters, digits and '-', at least two of them.
bool IsHostName(std::string_view host) {
  if (host.empty() || host.size() > 253 || host.find('.') == std::string_view::npos) return false;
  for (;;) {
    const size_t dot = host.find('.');
    const std::string_view label = host.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!IsLower(c) && !IsUpper(c) && !IsDigit(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    host.remove_prefix(dot + 1);
  }
}

bool IsSourceUrl(std::string_view url) {
  for (char c : url) {
    if (IsControl(c) || c == ' ') return false;
  }
  if (url.starts_with("https://")) {
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else {
    return false;
  }
  std::string_view authority = url.substr(0, url.find_first_of("/?#"));
  if (const size_t colon = authority.find(':'); colon != std::string_view::npos) {
    const std::string_view port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), IsDigit)) {
      return false;
    }
    authority = authority.substr(0, colon);
  }
  return IsHostName(authority);
}

// Where each id was first read ("cn.csv:3"), across every file of one reading.
using SeenIds = std::map<std::string, std::string, std::less<>>;

class TimelineParser {
 public:
  TimelineParser(const std::string& file, std::vector<TimelineEvent>* events,
                 std::vector<TimelineProblem>* problems, SeenIds* seen)
      : file_(file), events_(events), problems_(problems), seen_(seen) {}

  void Parse(std::string_view text) {
    const CsvText csv = ParseCsv(text);
    for (const CsvSyntaxError& e : csv.errors) {
      const std::string field = e.column >= 1 && e.column <= static_cast<int>(kColumns.size())
                                    ? std::string(kColumns[e.column - 1])
                                    : "row";
      Add(e.line, e.column, field, e.message);
    }
    // Fields may have run together: nothing after a syntax error is reliable.
    if (!csv.errors.empty()) return;
    if (csv.records.empty()) {
      Add(1, 1, "header",
          "the file is empty (its first line is " + std::string(kTimelineHeader) + ")");
      return;
    }
    const CsvRecord& header = csv.records.front();
    if (!std::equal(header.fields.begin(), header.fields.end(), kColumns.begin(), kColumns.end())) {
      std::string found;
      for (const std::string& f : header.fields) found += (found.empty() ? "" : ",") + f;
      Add(header.line, 1, "header",
          Shown(found) + " is not the timeline header (write " + std::string(kTimelineHeader) +
              ")");
      return;
    }
    for (size_t r = 1; r < csv.records.size(); ++r) Row(csv.records[r]);
  }

 private:
  void Add(uint64_t line, int column, const std::string& field, const std::string& message) {
    problems_->push_back(TimelineProblem{file_, line, column, field, message});
  }
  void Add(const CsvRecord& rec, Column column, const std::string& message) {
    Add(rec.line, column, std::string(kColumns[column - 1]), message);
  }

  void Row(const CsvRecord& rec) {
    if (rec.fields.size() == 1 && rec.fields[0].empty()) return;  // a blank line
    if (rec.fields.size() != kColumns.size()) {
      Add(rec.line, 1, "row",
          std::to_string(rec.fields.size()) + " fields (a row has " +
              std::to_string(kColumns.size()) + ": " + std::string(kTimelineHeader) + ")");
      return;
    }
    const size_t before = problems_->size();
    auto field = [&](Column c) -> const std::string& { return rec.fields[c - 1]; };
    for (int c = kId; c <= kSourceUrl; ++c) {
      if (!IsValidUtf8(rec.fields[c - 1])) {
        Add(rec, static_cast<Column>(c), "not UTF-8 (save the file as UTF-8)");
      }
    }
    if (problems_->size() != before) return;

    TimelineEvent e;
    e.file = file_;
    e.line = static_cast<uint64_t>(rec.line);
    e.id = field(kId);
    if (e.id.empty()) {
      Add(rec, kId, std::string("empty (") + kIdAllowed + ")");
    } else if (!IsId(e.id)) {
      Add(rec, kId, Shown(e.id) + " is not an id (" + kIdAllowed + ")");
    } else if (auto it = seen_->find(e.id); it != seen_->end()) {
      Add(rec, kId,
          Shown(e.id) + " is used already at " + it->second +
              " (ids are unique across the timeline files)");
    } else {
      seen_->emplace(e.id, file_ + ":" + std::to_string(rec.line));
    }

    const bool start_ok = Time(rec, kStart, &e.start);
    if (!field(kEnd).empty() && Time(rec, kEnd, &e.end) && start_ok && e.end < e.start) {
      Add(rec, kEnd,
          Shown(field(kEnd)) + " is before start " + Shown(field(kStart)) +
              " (empty, or on or after start)");
    }

    e.cc = field(kCc);
    if (e.cc.empty()) {
      Add(rec, kCc, std::string("empty (") + kCcAllowed + ")");
    } else if (e.cc.size() != 2 || !IsUpper(e.cc[0]) || !IsUpper(e.cc[1])) {
      Add(rec, kCc, Shown(e.cc) + " is not a country code (" + kCcAllowed + ")");
    }

    Asns(rec, field(kAsns), &e.asns);
    Targets(rec, field(kTargets), &e.targets);

    e.category = field(kCategory);
    const auto& categories = TimelineCategories();
    if (std::find(categories.begin(), categories.end(), e.category) == categories.end()) {
      Add(rec, kCategory,
          (e.category.empty() ? std::string("empty") : Shown(e.category) + " is not a category") +
              " (one of " + CategoryList() + ")");
    }

    e.description = field(kDescription);
    if (e.description.find_first_not_of(" \t") == std::string::npos) {
      Add(rec, kDescription, "empty (what happened, in one line of text)");
    } else if (std::any_of(e.description.begin(), e.description.end(), IsControl)) {
      Add(rec, kDescription,
          "holds a line break or another control character (what happened, in one line of "
          "text)");
    }

    e.source_url = field(kSourceUrl);
    if (e.source_url.empty()) {
      Add(rec, kSourceUrl, std::string("empty (") + kUrlAllowed + " that publishes the event)");
    } else if (!IsSourceUrl(e.source_url)) {
      Add(rec, kSourceUrl, Shown(e.source_url) + " is not a URL (" + kUrlAllowed + ")");
    }

    if (problems_->size() == before) events_->push_back(std::move(e));
  }

  bool Time(const CsvRecord& rec, Column column, int64_t* out) {
    const std::string& s = rec.fields[column - 1];
    if (s.empty()) {
      Add(rec, column, std::string("empty (") + kTimeAllowed + ")");
      return false;
    }
    // Exactly the two spellings of the format; ParseTime also takes others (a space for
    // the T, no Z, surrounding blanks) that a file should not hold.
    static constexpr std::string_view kDateShape = "0000-00-00";
    static constexpr std::string_view kTimeShape = "0000-00-00T00:00:00Z";
    const std::string_view shape = s.size() == kDateShape.size() ? kDateShape : kTimeShape;
    bool shaped = s.size() == shape.size();
    for (size_t i = 0; shaped && i < s.size(); ++i) {
      shaped = shape[i] == '0' ? IsDigit(s[i]) : s[i] == shape[i];
    }
    if (!shaped) {
      Add(rec, column, Shown(s) + " is not a time (" + kTimeAllowed + ")");
      return false;
    }
    Result<int64_t> t = ParseTime(s);
    if (!t) {
      Add(rec, column, Shown(s) + " is no such date or time (" + kTimeAllowed + ")");
      return false;
    }
    *out = *t;
    return true;
  }

  void Asns(const CsvRecord& rec, const std::string& text, std::vector<uint32_t>* out) {
    if (text.empty()) return;
    for (std::string_view part : SplitPlus(text)) {
      uint32_t asn = 0;
      if (part.empty()) {
        Add(rec, kAsns, "an empty entry in " + Shown(text) + " (" + kAsnsAllowed + ")");
        return;
      }
      if (!ParseAsnText(part, &asn)) {
        Add(rec, kAsns, Shown(part) + " is not an AS number (" + kAsnsAllowed + ")");
        return;
      }
      if (std::find(out->begin(), out->end(), asn) != out->end()) {
        Add(rec, kAsns, "AS" + std::to_string(asn) + " is given twice (each AS once)");
        return;
      }
      out->push_back(asn);
    }
  }

  void Targets(const CsvRecord& rec, const std::string& text, std::vector<std::string>* out) {
    if (text.empty()) return;
    for (std::string_view part : SplitPlus(text)) {
      if (part.empty()) {
        Add(rec, kTargets, "an empty entry in " + Shown(text) + " (" + kTargetsAllowed + ")");
        return;
      }
      if (!IsTarget(part)) {
        Add(rec, kTargets, Shown(part) + " is not a target name (" + kTargetsAllowed + ")");
        return;
      }
      if (std::find(out->begin(), out->end(), part) != out->end()) {
        Add(rec, kTargets, Shown(part) + " is given twice (each target once)");
        return;
      }
      out->emplace_back(part);
    }
  }

  const std::string& file_;
  std::vector<TimelineEvent>* events_;
  std::vector<TimelineProblem>* problems_;
  SeenIds* seen_;
};

void ReadFiles(const std::vector<std::string>& files, std::vector<TimelineEvent>* events,
               std::vector<TimelineProblem>* problems) {
  SeenIds seen;
  for (const std::string& file : files) {
    Result<std::string> text = ReadWholeFile(file);
    if (!text) {
      // ReadWholeFile names the path first; the problem names it already.
      std::string why = text.error();
      if (why.starts_with(file + ": ")) why.erase(0, file.size() + 2);
      problems->push_back(TimelineProblem{file, 1, 1, "file", why});
      continue;
    }
    TimelineParser(file, events, problems, &seen).Parse(*text);
  }
}

std::string JoinTimelineProblems(const std::vector<TimelineProblem>& problems) {
  std::vector<std::string> lines;
  lines.reserve(problems.size());
  for (const TimelineProblem& p : problems) lines.push_back(p.ToString());
  return JoinProblems(lines);
}

}  // namespace

const std::vector<std::string_view>& TimelineCategories() {
  static const std::vector<std::string_view> kCategories = {"announcement", "campaign", "blocking",
                                                            "unblocking",   "protest",  "election",
                                                            "outage",       "legal",    "other"};
  return kCategories;
}

std::string TimelineProblem::ToString() const {
  return file + ":" + std::to_string(line) + ": " + field + ": " + message;
}

Result<std::vector<TimelineEvent>> ParseTimeline(std::string_view text, const std::string& file) {
  std::vector<TimelineEvent> events;
  std::vector<TimelineProblem> problems;
  SeenIds seen;
  TimelineParser(file, &events, &problems, &seen).Parse(text);
  if (!problems.empty()) return Error{JoinTimelineProblems(problems)};
  return events;
}

Result<std::vector<TimelineEvent>> ReadTimelines(const std::vector<std::string>& files) {
  std::vector<TimelineEvent> events;
  std::vector<TimelineProblem> problems;
  ReadFiles(files, &events, &problems);
  if (!problems.empty()) return Error{JoinTimelineProblems(problems)};
  std::stable_sort(
      events.begin(), events.end(),
      [](const TimelineEvent& a, const TimelineEvent& b) { return a.start < b.start; });
  return events;
}

std::vector<TimelineProblem> CheckTimelines(const std::vector<std::string>& files) {
  std::vector<TimelineEvent> events;
  std::vector<TimelineProblem> problems;
  ReadFiles(files, &events, &problems);
  return problems;
}

std::vector<std::string> TimelineFiles(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".csv" && it->is_regular_file(ec)) {
      files.push_back(it->path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool LooksLikeTimeline(std::string_view text) {
  if (text.starts_with(kBom)) text.remove_prefix(kBom.size());
  std::string_view first = text.substr(0, text.find('\n'));
  if (first.ends_with('\r')) first.remove_suffix(1);
  return first == kTimelineHeader;
}

}  // namespace vigil::analysis
