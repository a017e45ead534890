// Fuzz target for ParseReportId and ParseReportOpening: the report id in every
// POST /report/{id} path and the body of every POST /report the collector receives.
// Besides crashes and sanitizer reports, it checks that an accepted id's parts are
// what a new id is made of (a new report id for them parses to the same parts), that
// an opening's fields pass the checks the collector relies on, and that a refusal
// quotes the id only as plain ASCII (replies must be valid UTF-8).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.h"
#include "vantage/collector/submission.h"

namespace vigil {
namespace {

bool OneLineAscii(const std::string& s) {
  for (unsigned char c : s) {
    if (c == '\n' || c >= 0x80) return false;
  }
  return !s.empty();
}

}  // namespace
}  // namespace vigil

// The input is a report id and, after its first newline, a POST /report body.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string_view id = input.substr(0, input.find('\n'));
  Result<ReportIdParts> parts = ParseReportId(id);
  if (!parts.ok()) {
    FUZZ_CHECK(OneLineAscii(parts.error()));
  } else {
    FUZZ_CHECK(IsCountryCode(parts->probe_cc) && IsAsn(parts->probe_asn));
    FUZZ_CHECK(!parts->test.empty() && parts->test.find('_') == std::string::npos);
    const std::string fresh =
        NewReportId(1700000000, parts->test, parts->probe_cc, parts->probe_asn, 1);
    Result<ReportIdParts> again = ParseReportId(fresh);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->test == parts->test && again->probe_cc == parts->probe_cc &&
               again->probe_asn == parts->probe_asn);
  }

  if (id.size() == input.size()) return 0;
  const std::string_view body = input.substr(id.size() + 1);
  Result<ReportOpening> opening = ParseReportOpening(body);
  if (!opening.ok()) {
    FUZZ_CHECK(!opening.error().empty());
    return 0;
  }
  FUZZ_CHECK(IsCountryCode(opening->probe_cc) && IsAsn(opening->probe_asn));
  // The collector answers an opening with a new id made of its fields.
  const std::string fresh =
      NewReportId(1700000000, opening->test_name, opening->probe_cc, opening->probe_asn, 1);
  Result<ReportIdParts> opened = ParseReportId(fresh);
  FUZZ_CHECK(opened.ok());
  FUZZ_CHECK(opened->probe_cc == opening->probe_cc && opened->probe_asn == opening->probe_asn);
  return 0;
}
