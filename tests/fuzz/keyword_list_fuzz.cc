// Fuzz target for ParseKeywordList and CheckKeywordList: the keyword lists users edit
// under testlists/keywords/, whose texts the delivery experiment sends. Besides crashes and
// sanitizer reports, it checks that the two agree (a list parses exactly when it has no
// problems), that problems come in line and field order as printable one-line text, that
// every row read keeps the promises of KeywordEntry and every test has its control, and
// that the rows written back as CSV read as the same rows.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/utf8.h"
#include "probe/testlists/keyword_list.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/quoted_csv_field.h"

namespace vigil {
namespace {

constexpr const char* kPath = "fuzz.csv";

std::string Written(const KeywordList& list) {
  std::string out = "id,text,language,theme,components,source,date_added\n";
  for (const KeywordEntry& row : list.rows) {
    std::string components;
    for (const std::string& word : row.components) {
      components += (components.empty() ? "" : "+") + word;
    }
    for (const std::string& field :
         {row.id, row.text, row.language, row.theme, components, row.source}) {
      out += fuzz::QuotedCsvField(field) + ",";
    }
    out += fuzz::QuotedCsvField(row.date_added) + "\n";
  }
  return out;
}

bool OneLineOfText(std::string_view s) {
  if (!IsValidUtf8(s)) return false;
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return false;
  }
  return true;
}

void CheckRow(const KeywordList& list, const KeywordEntry& row) {
  FUZZ_CHECK(!row.id.empty() && list.Find(row.id) == &row);
  FUZZ_CHECK(!row.text.empty() && row.text.size() <= 512 && OneLineOfText(row.text));
  FUZZ_CHECK(!row.language.empty() && !row.theme.empty() && row.date_added.size() == 10);
  FUZZ_CHECK(IsValidUtf8(row.source));
  FUZZ_CHECK(row.file == kPath && row.line >= 2);
  if (row.IsControl()) {
    FUZZ_CHECK(!row.IsCombination());
    FUZZ_CHECK(row.id.ends_with(kControlIdSuffix));
    const KeywordEntry* test = list.Find(row.id.substr(0, row.id.size() - 2));
    FUZZ_CHECK(test != nullptr && !test->IsControl() && list.ControlOf(*test) == &row);
    return;
  }
  FUZZ_CHECK(!row.id.ends_with(kControlIdSuffix));
  FUZZ_CHECK(row.components.empty() || row.components.size() >= 2);
  for (const std::string& word : row.components) {
    FUZZ_CHECK(!word.empty() && row.text.find(word) != std::string::npos);
  }
  const KeywordEntry* control = list.ControlOf(row);
  FUZZ_CHECK(control != nullptr && control->language == row.language);
  const size_t length = Utf8Length(row.text), control_length = Utf8Length(control->text);
  FUZZ_CHECK(2 * control_length >= length && control_length <= 2 * length);
}

}  // namespace
}  // namespace vigil

// The input is the text of one keyword list.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::vector<Problem> problems = CheckKeywordList(text, kPath);
  for (size_t i = 0; i < problems.size(); ++i) {
    const Problem& p = problems[i];
    FUZZ_CHECK(p.file == kPath && p.line >= 1 && p.column >= 1);
    // A CSV syntax error may lie in any field; the rest name one of the seven columns.
    if (!p.message.starts_with("csv:")) FUZZ_CHECK(p.column <= 7);
    FUZZ_CHECK(!p.message.empty() && OneLineOfText(p.message));
    if (i > 0) {
      const Problem& q = problems[i - 1];
      FUZZ_CHECK(q.line < p.line || (q.line == p.line && q.column <= p.column));
    }
  }
  LooksLikeKeywordList(text);
  Result<KeywordList> list = ParseKeywordList(text, kPath);
  FUZZ_CHECK(list.ok() == problems.empty());
  if (!list.ok()) {
    FUZZ_CHECK(list.error().starts_with(std::string(kPath) + ":"));
    return 0;
  }
  FUZZ_CHECK(LooksLikeKeywordList(text));
  for (const KeywordEntry& row : list->rows) CheckRow(*list, row);
  FUZZ_CHECK(list->rows.size() == 2 * list->Tests().size());

  const std::string written = Written(*list);
  Result<KeywordList> again = ParseKeywordList(written, kPath);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->rows.size() == list->rows.size());
  for (size_t i = 0; i < list->rows.size(); ++i) {
    const KeywordEntry& a = list->rows[i];
    const KeywordEntry& b = again->rows[i];
    FUZZ_CHECK(a.id == b.id && a.text == b.text && a.language == b.language);
    FUZZ_CHECK(a.theme == b.theme && a.components == b.components && a.source == b.source);
    FUZZ_CHECK(a.date_added == b.date_added);
  }
  return 0;
}
