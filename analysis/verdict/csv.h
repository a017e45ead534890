// SplitCsv: RFC 4180 records (quoted fields may hold commas, doubled quotes and line
// ends; LF or CRLF ends a record; a UTF-8 byte order mark is skipped), each with the line
// it starts on, and every syntax problem with its line and field number. Internal to
// analysis/verdict; a pure function, safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vigil::analysis {

struct CsvRow {
  int line = 0;
  std::vector<std::string> fields;
};

struct CsvError {
  int line = 0;
  int column = 0;
  std::string reason;
};

void SplitCsv(std::string_view text, std::vector<CsvRow>* rows, std::vector<CsvError>* errors);

}  // namespace vigil::analysis
