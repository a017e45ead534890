#include "analysis/verdict/csv.h"

namespace vigil::analysis {

void SplitCsv(std::string_view text, std::vector<CsvRow>* rows, std::vector<CsvError>* errors) {
  size_t pos = 0;
  int line = 1;
  if (text.starts_with("\xEF\xBB\xBF")) pos = 3;
  auto at_line_end = [&](size_t p) {
    return text[p] == '\n' || (text[p] == '\r' && p + 1 < text.size() && text[p + 1] == '\n');
  };
  while (pos < text.size()) {
    CsvRow row;
    row.line = line;
    for (;;) {
      std::string field;
      const int column = static_cast<int>(row.fields.size()) + 1;
      if (pos < text.size() && text[pos] == '"') {
        const int start_line = line;
        ++pos;
        bool closed = false;
        while (pos < text.size()) {
          const char c = text[pos];
          if (c == '"') {
            if (pos + 1 < text.size() && text[pos + 1] == '"') {
              field += '"';
              pos += 2;
              continue;
            }
            ++pos;
            closed = true;
            break;
          }
          if (c == '\n') ++line;
          field += c;
          ++pos;
        }
        if (!closed) {
          errors->push_back({start_line, column, "quoted field is not closed"});
        } else if (pos < text.size() && text[pos] != ',' && !at_line_end(pos)) {
          errors->push_back({line, column, "text after the closing quote"});
          while (pos < text.size() && text[pos] != ',' && !at_line_end(pos)) field += text[pos++];
        }
      } else {
        while (pos < text.size() && text[pos] != ',' && !at_line_end(pos)) {
          if (text[pos] == '"') {
            errors->push_back({line, column, "quote inside an unquoted field"});
          }
          field += text[pos++];
        }
      }
      row.fields.push_back(std::move(field));
      if (pos >= text.size()) break;
      if (text[pos] == ',') {
        ++pos;
        continue;
      }
      pos += text[pos] == '\r' ? 2 : 1;
      ++line;
      break;
    }
    rows->push_back(std::move(row));
  }
}

}  // namespace vigil::analysis
