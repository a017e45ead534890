// Event timelines: dated, sourced events an analyst correlates measurements with
// (testlists/events/*.csv). One RFC 4180 CSV per file with the header
//   id,start,end,cc,asns,targets,category,description,source_url
// id unique across the files read; start (and end, which may be empty: ongoing or a
// one-off announcement) as YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, UTC; cc two upper-case
// letters; asns and targets empty (all) or joined by '+' ("4134+4837", "wechat+telegram");
// category one of a fixed set; description non-empty; source_url an http(s) URL (every
// event must say where it is published). Errors name file, line and field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vigil::analysis {

struct TimelineEvent {
  std::string id;
  int64_t start = 0;                 // Unix seconds UTC
  int64_t end = 0;                   // 0: none given
  std::string cc;                    // "CN"
  std::vector<uint32_t> asns;        // empty: every network of the country
  std::vector<std::string> targets;  // empty: every target
  std::string category;              // see TimelineCategories()
  std::string description;
  std::string source_url;
  std::string file;  // where it was read, for messages
  uint64_t line = 0;

  bool operator==(const TimelineEvent&) const = default;
};

/// "announcement", "campaign", "blocking", "unblocking", "protest", "election",
/// "outage", "legal", "other".
const std::vector<std::string_view>& TimelineCategories();

/// Parses one timeline file's text; `file` names it in errors ("cn.csv:7: start: ...").
Result<std::vector<TimelineEvent>> ParseTimeline(std::string_view text, const std::string& file);
/// Reads and parses files, and checks ids are unique across them; events sorted by start.
Result<std::vector<TimelineEvent>> ReadTimelines(const std::vector<std::string>& files);
/// The timeline files shipped under `dir` (testlists/events/*.csv), sorted: the *.csv
/// files in that folder; none when it does not exist.
std::vector<std::string> TimelineFiles(const std::string& dir);

/// The first line of every timeline file.
inline constexpr std::string_view kTimelineHeader =
    "id,start,end,cc,asns,targets,category,description,source_url";

/// One thing wrong in a timeline file, for linters that report every problem at once.
struct TimelineProblem {
  std::string file;
  uint64_t line = 0;
  int column = 0;       // 1-based CSV field
  std::string field;    // a column's name, or "header", "row", "file"
  std::string message;  // what is wrong (what is allowed)

  /// "FILE:LINE: FIELD: message", the form of ParseTimeline's and ReadTimelines' errors.
  std::string ToString() const;
  bool operator==(const TimelineProblem&) const = default;
};

/// Every problem of the files read as ReadTimelines reads them (ids unique across them),
/// in file order; empty when ReadTimelines would succeed. What `vigil lists check` prints.
std::vector<TimelineProblem> CheckTimelines(const std::vector<std::string>& files);

/// True when `text` starts with kTimelineHeader (a byte order mark and CRLF allowed).
bool LooksLikeTimeline(std::string_view text);

}  // namespace vigil::analysis
