// Fuzz target for ParseMessagingList and CheckMessagingList: the messaging lists users
// edit under testlists/messaging/. Besides crashes and sanitizer reports, it checks
// that the two agree (a list parses exactly when it has no problems), that every row
// read keeps the promises of MessagingEndpoint, and that the rows written back as CSV
// read as the same rows.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/host_port.h"
#include "probe/testlists/messaging_list.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/quoted_csv_field.h"

namespace vigil {
namespace {

constexpr const char* kPath = "fuzz.csv";

std::string Written(const MessagingList& list) {
  std::string out = "service,endpoint,port,steps,expected_asn,notes\n";
  for (const MessagingEndpoint& row : list.rows) {
    std::string steps, asns;
    for (MessagingStep step : row.steps) {
      steps += (steps.empty() ? "" : "|") + std::string(MessagingStepName(step));
    }
    for (uint32_t asn : row.expected_asns) {
      asns += (asns.empty() ? "AS" : "|AS") + std::to_string(asn);
    }
    out += fuzz::QuotedCsvField(row.service) + "," + fuzz::QuotedCsvField(row.endpoint) + "," +
           std::to_string(row.port) + "," + fuzz::QuotedCsvField(steps) + "," +
           fuzz::QuotedCsvField(asns) + "," + fuzz::QuotedCsvField(row.notes) + "\n";
  }
  return out;
}

void CheckRow(const MessagingEndpoint& row) {
  FUZZ_CHECK(!row.service.empty() && row.service.front() >= 'a' && row.service.front() <= 'z');
  FUZZ_CHECK(!row.endpoint.empty() && row.port >= 1);
  FUZZ_CHECK(!row.steps.empty());
  for (size_t i = 1; i < row.steps.size(); ++i) FUZZ_CHECK(row.steps[i - 1] < row.steps[i]);
  FUZZ_CHECK(!(row.Has(MessagingStep::kDns) && IsIpLiteral(row.endpoint)));
  for (uint32_t asn : row.expected_asns) FUZZ_CHECK(asn != 0);
  FUZZ_CHECK(row.file == kPath && row.line >= 2);
}

}  // namespace
}  // namespace vigil

// The input is the text of one messaging list.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::vector<Problem> problems = CheckMessagingList(text, kPath);
  for (const Problem& p : problems) {
    FUZZ_CHECK(p.file == kPath && p.line >= 1 && p.column >= 1);
    // A CSV syntax error may lie in any field; the rest name one of the six columns.
    if (!p.message.starts_with("csv:")) FUZZ_CHECK(p.column <= 6);
    FUZZ_CHECK(!p.message.empty());
  }
  LooksLikeMessagingList(text);
  Result<MessagingList> list = ParseMessagingList(text, kPath);
  FUZZ_CHECK(list.ok() == problems.empty());
  if (!list.ok()) {
    FUZZ_CHECK(list.error().starts_with(std::string(kPath) + ":"));
    return 0;
  }
  FUZZ_CHECK(LooksLikeMessagingList(text));
  for (const MessagingEndpoint& row : list->rows) CheckRow(row);
  for (const std::string& service : list->Services()) {
    FUZZ_CHECK(!list->RowsOf(service).empty());
  }

  const std::string written = Written(*list);
  Result<MessagingList> again = ParseMessagingList(written, kPath);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->rows.size() == list->rows.size());
  for (size_t i = 0; i < list->rows.size(); ++i) {
    const MessagingEndpoint& a = list->rows[i];
    const MessagingEndpoint& b = again->rows[i];
    FUZZ_CHECK(a.service == b.service && a.endpoint == b.endpoint && a.port == b.port);
    FUZZ_CHECK(a.steps == b.steps && a.expected_asns == b.expected_asns && a.notes == b.notes);
  }
  return 0;
}
