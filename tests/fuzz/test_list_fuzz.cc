// Fuzz target for the CSV lists users edit: ParseCsv, and ReadTestList,
// CheckTestLists and ReadCategoryLegend over a file holding the input. Besides crashes
// and sanitizer reports, it checks that CSV read without errors and written back
// (every field quoted) reads as the same records, that reading and linting agree (a
// list that lints clean reads, and its URLs are http(s) URLs), and that every problem
// points into the file, in line and column order.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "base/csv.h"
#include "probe/http/url.h"
#include "probe/testlists/test_list.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/quoted_csv_field.h"

namespace vigil {
namespace {

// A file the lists are read from: the readers take paths, as `vigil lists check` does.
// Its directory is removed when the process ends.
const std::string& ListPath() {
  struct Directory {
    std::string path;
    ~Directory() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const Directory dir = [] {
    std::string path = (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
    path += "/vigil-fuzz-lists-XXXXXX";
    FUZZ_CHECK(mkdtemp(path.data()) != nullptr);
    return Directory{path};
  }();
  static const std::string path = dir.path + "/it.csv";
  return path;
}

void CheckCsvRoundTrip(std::string_view text) {
  const CsvText csv = ParseCsv(text);
  int line = 0;
  for (const CsvRecord& r : csv.records) {
    FUZZ_CHECK(r.line > line && !r.fields.empty());
    line = r.line;
  }
  for (const CsvSyntaxError& e : csv.errors) FUZZ_CHECK(e.line >= 1 && e.column >= 1);
  if (!csv.errors.empty()) return;
  std::string written;
  for (const CsvRecord& r : csv.records) {
    for (size_t i = 0; i < r.fields.size(); ++i) {
      written += (i ? "," : "") + fuzz::QuotedCsvField(r.fields[i]);
    }
    written += "\r\n";
  }
  const CsvText again = ParseCsv(written);
  FUZZ_CHECK(again.errors.empty() && !again.had_bom);
  FUZZ_CHECK(again.records.size() == csv.records.size());
  for (size_t i = 0; i < csv.records.size(); ++i) {
    FUZZ_CHECK(again.records[i].fields == csv.records[i].fields);
  }
}

}  // namespace
}  // namespace vigil

// The input is the text of a list file.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckCsvRoundTrip(text);

  const std::string& path = ListPath();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    FUZZ_CHECK(out.good());
  }
  CategoryLegend legend;
  legend.descriptions = {{"NEWS", "News Media"}, {"COMT", "Communication Tools"}};
  const std::vector<Problem> problems = CheckTestLists({path}, legend);
  for (size_t i = 0; i < problems.size(); ++i) {
    FUZZ_CHECK(problems[i].file == path && problems[i].line >= 1 && problems[i].column >= 1);
    FUZZ_CHECK(!problems[i].message.empty());
    if (i > 0) {
      FUZZ_CHECK(std::pair(problems[i - 1].line, problems[i - 1].column) <=
                 std::pair(problems[i].line, problems[i].column));
    }
  }
  Result<TestList> list = ReadTestList(path);
  if (!list.ok()) {
    FUZZ_CHECK(list.error().starts_with(path + ":"));
    FUZZ_CHECK(!problems.empty());
  } else {
    int line = 1;
    for (const TestListEntry& e : list->entries) {
      FUZZ_CHECK(e.line > line);
      line = e.line;
    }
  }
  if (problems.empty()) {
    FUZZ_CHECK(list.ok());
    for (const TestListEntry& e : list->entries) {
      Result<Url> url = ParseUrl(e.url);
      FUZZ_CHECK(url.ok() && (url->scheme == "http" || url->scheme == "https"));
      FUZZ_CHECK(legend.descriptions.contains(e.category_code));
    }
  }

  Result<CategoryLegend> read = ReadCategoryLegend(path);
  if (!read.ok()) {
    FUZZ_CHECK(read.error().starts_with(path + ":"));
  } else {
    for (const auto& [code, description] : read->descriptions) {
      FUZZ_CHECK(!code.empty() && code.find(' ') == std::string::npos);
    }
  }
  return 0;
}
