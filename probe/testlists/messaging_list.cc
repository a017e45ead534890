#include "probe/testlists/messaging_list.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <tuple>

#include "base/csv.h"
#include "base/host_port.h"
#include "base/whole_file.h"

namespace vigil {

namespace {

namespace fs = std::filesystem;

// Field numbers, 1-based, as Problem::column counts them.
enum Column { kService = 1, kEndpoint, kPort, kSteps, kExpectedAsn, kNotes };

constexpr std::array<MessagingStep, 4> kAllSteps = {MessagingStep::kDns, MessagingStep::kTcp,
                                                    MessagingStep::kTls, MessagingStep::kHttp};

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }

std::vector<std::string> SplitBars(const std::string& s) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t bar = s.find('|', start);
    parts.push_back(s.substr(start, bar - start));
    if (bar == std::string::npos) return parts;
    start = bar + 1;
  }
}

// "" when `s` is a service name, else why not.
std::string ServiceProblem(const std::string& s) {
  if (s.empty()) return "empty";
  if (!IsLower(s.front())) return Quoted(s) + " must start with a lowercase letter";
  for (char c : s) {
    if (!IsLower(c) && !IsDigit(c) && c != '_') {
      return Quoted(s) + " may hold only lowercase letters, digits and _";
    }
  }
  return "";
}

// "" when `s` is a host name we can look up, or an IP literal; else why not.
std::string EndpointProblem(const std::string& s) {
  if (s.empty()) return "empty";
  if (s.front() == '[') return Quoted(s) + ": write IPv6 literals without brackets";
  if (IsIpLiteral(s)) return "";
  if (s.size() > 253) return Quoted(s) + " is longer than 253 characters";
  if (s.find('.') == std::string::npos) return Quoted(s) + " is not a fully qualified host name";
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    if (dot == std::string::npos) dot = s.size();
    const std::string_view label(s.data() + start, dot - start);
    if (label.empty() || label.size() > 63) {
      return Quoted(s) + " has an empty or over-long label";
    }
    for (char c : label) {
      if (c >= 'A' && c <= 'Z') return Quoted(s) + ": write host names in lowercase";
      if (!IsLower(c) && !IsDigit(c) && c != '-') {
        return Quoted(s) + " is neither a host name nor an IP literal";
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return Quoted(s) + " has a label that starts or ends with '-'";
    }
    start = dot + 1;
  }
  return "";
}

bool ParsePort(const std::string& s, uint16_t* port) {
  if (s.empty() || s.size() > 5 || s.front() == '0') return false;
  if (!std::all_of(s.begin(), s.end(), IsDigit)) return false;
  const long value = std::stol(s);
  if (value < 1 || value > 65535) return false;
  *port = static_cast<uint16_t>(value);
  return true;
}

bool ParseAsn(const std::string& s, uint32_t* asn) {
  if (s.size() < 3 || s.size() > 12 || s.compare(0, 2, "AS") != 0 || s[2] == '0') return false;
  if (!std::all_of(s.begin() + 2, s.end(), IsDigit)) return false;
  const unsigned long long value = std::stoull(s.substr(2));
  if (value > 4294967295ull) return false;
  *asn = static_cast<uint32_t>(value);
  return true;
}

// Parses `text` into `out`, adding every problem found. `seen` holds the rows read so
// far (of this file and earlier ones), for duplicates across files.
using RowKey = std::tuple<std::string, std::string, uint16_t>;
using SeenRows = std::map<RowKey, std::pair<std::string, int>>;  // → file, line
void ParseInto(std::string_view text, const std::string& path, MessagingList* out, SeenRows* seen,
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
  bool header_ok = header.fields.size() == kMessagingListHeader.size();
  for (size_t i = 0; header_ok && i < kMessagingListHeader.size(); ++i) {
    header_ok = header.fields[i] == kMessagingListHeader[i];
  }
  if (!header_ok) {
    problem(header.line, 1, "header", "expected service,endpoint,port,steps,expected_asn,notes");
    return;
  }
  out->files.push_back(path);

  for (size_t r = 1; r < csv.records.size(); ++r) {
    const CsvRecord& rec = csv.records[r];
    if (rec.fields.size() == 1 && rec.fields[0].empty()) continue;  // a blank line
    if (rec.fields.size() != kMessagingListHeader.size()) {
      problem(rec.line, 1, "row", "expected 6 fields, found " + std::to_string(rec.fields.size()));
      continue;
    }
    const size_t before = problems->size();
    MessagingEndpoint row;
    row.service = rec.fields[kService - 1];
    row.endpoint = rec.fields[kEndpoint - 1];
    row.notes = rec.fields[kNotes - 1];
    row.file = path;
    row.line = rec.line;

    if (auto why = ServiceProblem(row.service); !why.empty()) {
      problem(rec.line, kService, "service", why);
    }
    if (auto why = EndpointProblem(row.endpoint); !why.empty()) {
      problem(rec.line, kEndpoint, "endpoint", why);
    }
    const std::string& port = rec.fields[kPort - 1];
    if (!ParsePort(port, &row.port)) {
      problem(rec.line, kPort, "port", Quoted(port) + " is not a port number (1-65535)");
    }

    const std::string& steps = rec.fields[kSteps - 1];
    if (steps.empty()) {
      problem(rec.line, kSteps, "steps", "empty (list some of dns|tcp|tls|http)");
    } else {
      std::vector<bool> listed(kAllSteps.size(), false);
      for (const auto& name : SplitBars(steps)) {
        auto it = std::find_if(kAllSteps.begin(), kAllSteps.end(),
                               [&name](MessagingStep s) { return MessagingStepName(s) == name; });
        if (it == kAllSteps.end()) {
          problem(rec.line, kSteps, "steps",
                  "unknown step " + Quoted(name) + " (known: dns, tcp, tls, http)");
          continue;
        }
        const size_t index = static_cast<size_t>(it - kAllSteps.begin());
        if (listed[index]) {
          problem(rec.line, kSteps, "steps", "step " + Quoted(name) + " is listed twice");
        }
        listed[index] = true;
      }
      for (size_t i = 0; i < kAllSteps.size(); ++i) {
        if (listed[i]) row.steps.push_back(kAllSteps[i]);
      }
      if (row.Has(MessagingStep::kDns) && IsIpLiteral(row.endpoint)) {
        problem(rec.line, kSteps, "steps",
                "dns needs a host name, and " + Quoted(row.endpoint) + " is an IP literal");
      }
    }

    const std::string& asns = rec.fields[kExpectedAsn - 1];
    if (!asns.empty()) {
      for (const auto& text_asn : SplitBars(asns)) {
        uint32_t asn = 0;
        if (!ParseAsn(text_asn, &asn)) {
          problem(rec.line, kExpectedAsn, "expected_asn",
                  Quoted(text_asn) + " is not an AS number (write AS32934)");
        } else if (std::find(row.expected_asns.begin(), row.expected_asns.end(), asn) !=
                   row.expected_asns.end()) {
          problem(rec.line, kExpectedAsn, "expected_asn", Quoted(text_asn) + " is listed twice");
        } else {
          row.expected_asns.push_back(asn);
        }
      }
    }
    if (problems->size() != before) continue;

    auto [it, inserted] =
        seen->emplace(RowKey{row.service, row.endpoint, row.port}, std::pair(path, rec.line));
    if (!inserted) {
      const auto& [file, line] = it->second;
      problem(rec.line, kEndpoint, "row",
              "repeats the service, endpoint and port of " + EarlierPlace(file, line, path));
      continue;
    }
    out->rows.push_back(std::move(row));
  }
}

void ParseFiles(const std::vector<std::string>& paths, MessagingList* list,
                std::vector<Problem>* problems) {
  SeenRows seen;
  for (const auto& path : paths) {
    auto text = ReadWholeFile(path);
    if (!text.ok()) {
      problems->push_back(Problem{path, 1, 1, text.error()});
      continue;
    }
    ParseInto(*text, path, list, &seen, problems);
  }
}

Result<MessagingList> ToResult(MessagingList list, const std::vector<Problem>& problems) {
  if (problems.empty()) return list;
  return Error{ProblemsError(problems)};
}

}  // namespace

std::string_view MessagingStepName(MessagingStep step) {
  switch (step) {
    case MessagingStep::kDns:
      return "dns";
    case MessagingStep::kTcp:
      return "tcp";
    case MessagingStep::kTls:
      return "tls";
    case MessagingStep::kHttp:
      return "http";
  }
  return "unknown";
}

bool MessagingEndpoint::Has(MessagingStep step) const {
  return std::find(steps.begin(), steps.end(), step) != steps.end();
}

std::vector<std::string> MessagingList::Services() const {
  std::vector<std::string> names;
  for (const auto& row : rows) {
    if (std::find(names.begin(), names.end(), row.service) == names.end()) {
      names.push_back(row.service);
    }
  }
  return names;
}

std::vector<MessagingEndpoint> MessagingList::RowsOf(std::string_view service) const {
  std::vector<MessagingEndpoint> out;
  for (const auto& row : rows) {
    if (row.service == service) out.push_back(row);
  }
  return out;
}

std::vector<Problem> CheckMessagingList(std::string_view text, const std::string& path) {
  MessagingList list;
  SeenRows seen;
  std::vector<Problem> problems;
  ParseInto(text, path, &list, &seen, &problems);
  return problems;
}

std::vector<Problem> CheckMessagingListFiles(const std::vector<std::string>& paths) {
  MessagingList list;
  std::vector<Problem> problems;
  ParseFiles(paths, &list, &problems);
  return problems;
}

Result<MessagingList> ParseMessagingList(std::string_view text, const std::string& path) {
  MessagingList list;
  SeenRows seen;
  std::vector<Problem> problems;
  ParseInto(text, path, &list, &seen, &problems);
  return ToResult(std::move(list), problems);
}

Result<MessagingList> ReadMessagingList(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return Error{text.error()};
  return ParseMessagingList(*text, path);
}

Result<MessagingList> ReadMessagingLists(const std::string& dir) {
  auto files = CsvFilesIn(dir, "messaging lists");
  if (!files.ok()) return Error{files.error()};
  MessagingList list;
  std::vector<Problem> problems;
  ParseFiles(*files, &list, &problems);
  return ToResult(std::move(list), problems);
}

std::string MessagingListDir(const std::string& data_dir) {
  return (fs::path(data_dir.empty() ? "testlists" : data_dir) / "messaging").string();
}

bool LooksLikeMessagingList(std::string_view text) {
  return StartsWithHeader(text, kMessagingListHeader);
}

}  // namespace vigil
