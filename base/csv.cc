#include "base/csv.h"

#include <algorithm>

namespace vigil {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

class CsvParser {
 public:
  explicit CsvParser(std::string_view text) : text_(text) {}

  CsvText Parse() {
    if (text_.starts_with(kUtf8Bom)) {
      out_.had_bom = true;
      pos_ = kUtf8Bom.size();
    }
    while (pos_ < text_.size()) out_.records.push_back(ReadRecord());
    return std::move(out_);
  }

 private:
  bool AtLineEnd() const {
    return text_[pos_] == '\n' ||
           (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n');
  }
  bool AtFieldEnd() const { return pos_ >= text_.size() || text_[pos_] == ',' || AtLineEnd(); }

  void AddError(int line, int column, std::string message) {
    out_.errors.push_back({line, column, std::move(message)});
  }

  CsvRecord ReadRecord() {
    CsvRecord record;
    record.line = line_;
    for (;;) {
      const int column = static_cast<int>(record.fields.size()) + 1;
      const bool quoted = pos_ < text_.size() && text_[pos_] == '"';
      record.fields.push_back(quoted ? ReadQuotedField(column) : ReadPlainField(column));
      if (pos_ >= text_.size()) break;
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      pos_ += text_[pos_] == '\r' ? 2 : 1;
      ++line_;
      break;
    }
    return record;
  }

  std::string ReadPlainField(int column) {
    std::string field;
    bool reported = false;
    while (!AtFieldEnd()) {
      if (text_[pos_] == '"' && !reported) {
        AddError(line_, column,
                 "quote inside an unquoted field (quote the whole field and double the quote)");
        reported = true;
      }
      field += text_[pos_++];
    }
    return field;
  }

  std::string ReadQuotedField(int column) {
    const int start_line = line_;
    std::string field;
    ++pos_;  // the opening quote
    for (;;) {
      if (pos_ >= text_.size()) {
        AddError(start_line, column, "quoted field is not closed before the end of the file");
        return field;
      }
      const char c = text_[pos_];
      if (c == '"') {
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
          field += '"';
          pos_ += 2;
          continue;
        }
        ++pos_;
        break;
      }
      if (c == '\n') ++line_;
      field += c;
      ++pos_;
    }
    if (!AtFieldEnd()) {
      AddError(line_, column,
               "text after the closing quote (quote the whole field and double quotes inside it)");
      while (!AtFieldEnd()) field += text_[pos_++];
    }
    return field;
  }

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  CsvText out_;
};

}  // namespace

CsvText ParseCsv(std::string_view text) { return CsvParser(text).Parse(); }

std::string CsvField(std::string_view value) {
  if (value.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string JoinProblems(const std::vector<std::string>& problems, size_t shown) {
  std::string message;
  const size_t joined = std::min(problems.size(), shown);
  for (size_t i = 0; i < joined; ++i) message += (i ? "\n" : "") + problems[i];
  if (problems.size() > joined) {
    if (!message.empty()) message += "\n";
    message += "(" + std::to_string(problems.size() - joined) + " more problems)";
  }
  return message;
}

}  // namespace vigil
