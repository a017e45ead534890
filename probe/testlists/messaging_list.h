// MessagingList: the messaging services the data-driven `messaging` experiment measures,
// read from CSV files under testlists/messaging/ (header
// service,endpoint,port,steps,expected_asn,notes; one row per endpoint and port), with
// every malformed row reported as "file:line: field: reason" instead of being guessed at.
// Plain values and pure functions over files; safe to use from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "probe/testlists/test_list.h"

namespace vigil {

/// The header every messaging list starts with, field for field.
inline constexpr std::array<std::string_view, 6> kMessagingListHeader = {
    "service", "endpoint", "port", "steps", "expected_asn", "notes"};

/// The steps a row may ask for, in the order they are taken.
enum class MessagingStep { kDns, kTcp, kTls, kHttp };

/// "dns", "tcp", "tls", "http".
std::string_view MessagingStepName(MessagingStep step);

struct MessagingEndpoint {
  std::string service;   // lowercase name: "whatsapp", "facebook_messenger"
  std::string endpoint;  // a lowercase host name or an IP literal (IPv6 without brackets)
  uint16_t port = 0;     // 1..65535; for a dns-only row, the port the service uses
  std::vector<MessagingStep> steps;     // distinct, in MessagingStep order
  std::vector<uint32_t> expected_asns;  // empty: no DNS consistency check
  std::string notes;
  std::string file;  // where the row came from, for messages
  int line = 0;

  bool Has(MessagingStep step) const;
};

struct MessagingList {
  std::vector<std::string> files;  // the files read, in order
  std::vector<MessagingEndpoint> rows;

  /// The service names, in order of first appearance.
  std::vector<std::string> Services() const;
  /// The rows of one service, in file order.
  std::vector<MessagingEndpoint> RowsOf(std::string_view service) const;
};

/// Every problem of one list's text, as Problems whose column is the CSV field number and
/// whose message is "field: reason": broken quoting, a header other than
/// kMessagingListHeader, a row without six fields, a bad service name, endpoint, port,
/// step list or AS number, a dns step on an IP literal, and a row that repeats the
/// service, endpoint and port of an earlier one. Blank lines are skipped.
std::vector<Problem> CheckMessagingList(std::string_view text, const std::string& path);

/// The same over files read as one list: a file that cannot be read is a problem, and so
/// is a row that repeats a row of another file.
std::vector<Problem> CheckMessagingListFiles(const std::vector<std::string>& paths);

/// Parses one list's text. The error lists the problems (at most 20), one
/// "path:line: field: reason" a line.
Result<MessagingList> ParseMessagingList(std::string_view text, const std::string& path);

/// Reads and parses one file.
Result<MessagingList> ReadMessagingList(const std::string& path);

/// Reads every *.csv file in `dir` (sorted by name) as one list; a row that repeats a
/// row of another file is an error too.
Result<MessagingList> ReadMessagingLists(const std::string& dir);

/// data_dir/messaging ("testlists/messaging" when data_dir is empty).
std::string MessagingListDir(const std::string& data_dir);

/// True when `text` starts with kMessagingListHeader (a byte order mark and CRLF allowed):
/// how `vigil lists check` tells messaging lists from URL lists.
bool LooksLikeMessagingList(std::string_view text);

}  // namespace vigil
