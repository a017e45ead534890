#include "probe/experiments/wechat_posts/notice_fingerprints.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "base/csv.h"
#include "base/utf8.h"
#include "base/whole_file.h"

namespace vigil {

namespace {

enum Column { kClass = 1, kPattern, kProvenance, kSource, kNotes };

bool IsControl(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

}  // namespace

Result<std::vector<NoticeFingerprint>> ParseNoticeFingerprints(std::string_view text,
                                                               const std::string& path) {
  std::vector<std::string> problems;
  auto problem = [&](int line, const std::string& field, const std::string& reason) {
    problems.push_back(path + ":" + std::to_string(line) + ": " + field + ": " + reason);
  };
  CsvText csv = ParseCsv(text);
  for (const auto& e : csv.errors) problem(e.line, "csv", e.message);
  if (!csv.errors.empty()) return Error{JoinProblems(problems)};
  if (csv.records.empty()) return Error{path + ":1: header: the file is empty"};
  const CsvRecord& header = csv.records.front();
  if (!std::equal(header.fields.begin(), header.fields.end(), kNoticeFingerprintsHeader.begin(),
                  kNoticeFingerprintsHeader.end())) {
    return Error{path + ":" + std::to_string(header.line) +
                 ": header: expected class,pattern,provenance,source,notes"};
  }
  std::vector<NoticeFingerprint> out;
  std::set<std::string> patterns;
  for (size_t r = 1; r < csv.records.size(); ++r) {
    const CsvRecord& rec = csv.records[r];
    if (rec.fields.size() == 1 && rec.fields[0].empty()) continue;
    if (rec.fields.size() != kNoticeFingerprintsHeader.size()) {
      problem(rec.line, "row", "expected 5 fields, found " + std::to_string(rec.fields.size()));
      continue;
    }
    const size_t before = problems.size();
    NoticeFingerprint fp;
    fp.pattern = rec.fields[kPattern - 1];
    fp.provenance = rec.fields[kProvenance - 1];
    fp.source = rec.fields[kSource - 1];
    fp.notes = rec.fields[kNotes - 1];
    fp.line = rec.line;
    const std::string& name = rec.fields[kClass - 1];
    auto status = ParsePostStatus(name);
    if (!status || !IsRemoval(*status)) {
      problem(rec.line, "class",
              "\"" + name +
                  "\" is not one of deleted_by_author, removed_for_violation, account_blocked");
    } else {
      fp.status = *status;
    }
    if (!IsValidUtf8(fp.pattern)) {
      problem(rec.line, "pattern", "not UTF-8");
    } else if (Utf8Length(fp.pattern) < 2) {  // characters: one CJK one is three bytes
      problem(rec.line, "pattern", "\"" + fp.pattern + "\" is shorter than two characters");
    } else if (std::any_of(fp.pattern.begin(), fp.pattern.end(), IsControl) ||
               fp.pattern.front() == ' ' || fp.pattern.back() == ' ') {
      problem(rec.line, "pattern", "control characters or surrounding space");
    } else if (!patterns.insert(fp.pattern).second) {
      problem(rec.line, "pattern", "\"" + fp.pattern + "\" is listed twice");
    }
    if (fp.provenance != "sample" && fp.provenance != "lab") {
      problem(rec.line, "provenance", "\"" + fp.provenance + "\" is neither sample nor lab");
    }
    if (fp.source.empty()) problem(rec.line, "source", "empty (say where the text comes from)");
    if (problems.size() == before) out.push_back(std::move(fp));
  }
  if (!problems.empty()) return Error{JoinProblems(problems)};
  return out;
}

Result<std::vector<NoticeFingerprint>> ReadNoticeFingerprints(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return Error{text.error()};
  return ParseNoticeFingerprints(*text, path);
}

std::string NoticeFingerprintsPath(const std::string& data_dir) {
  return (std::filesystem::path(data_dir.empty() ? "testlists" : data_dir) / "fingerprints" /
          "wechat_posts.csv")
      .string();
}

}  // namespace vigil
