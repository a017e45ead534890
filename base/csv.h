// ParseCsv: RFC 4180 records from CSV text, each with the line it starts on, and every
// syntax problem with its line and field number, so a linter can report them all at once.
// JoinProblems turns the problems a reader of such a file found into one error text. It
// lives beside the parser because it is how the readers of CSV data files (the bogon list
// and the block-page fingerprints) report, and base is where any area's reader finds it.
// Pure functions; safe to call from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

struct CsvRecord {
  /// 1-based line on which the record starts (a quoted field may span lines).
  int line = 0;
  /// The fields, with quotes removed and "" read as one quote.
  std::vector<std::string> fields;
};

struct CsvSyntaxError {
  int line = 0;
  /// 1-based number of the field the error is in.
  int column = 0;
  std::string message;
};

struct CsvText {
  std::vector<CsvRecord> records;
  std::vector<CsvSyntaxError> errors;
  /// The text began with a UTF-8 byte order mark, which was skipped.
  bool had_bom = false;
};

/// Splits `text` into records. LF and CRLF both end a line and a leading UTF-8 byte order
/// mark is skipped: spreadsheet programs write all three. The line end after the last
/// record does not start another one; every other empty line is a record with one empty
/// field, so callers can report it. Reading goes on after an error: a quote inside an
/// unquoted field is kept as a byte, bytes after a closing quote are appended to the
/// field, and an unterminated quoted field runs to the end of the text.
CsvText ParseCsv(std::string_view text);

/// One field as RFC 4180 writes it: quoted (quotes doubled) when it holds a comma, a
/// quote or a line end, else as it is.
std::string CsvField(std::string_view value);

/// The first `shown` problems, one a line, then "(N more problems)" for the rest: an
/// error a reader can take in however many mistakes the file holds. "" when there are none.
std::string JoinProblems(const std::vector<std::string>& problems, size_t shown = 20);

}  // namespace vigil
