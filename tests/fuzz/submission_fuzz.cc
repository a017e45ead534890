// Fuzz target for ParseSubmission: every measurement uploaded to the collector, plain
// or gzip. Besides crashes and sanitizer reports, it checks that what is accepted is
// what the archive relies on (one line of JSON naming its report, whose id parses and
// matches the content, and the uid the content hashes to) and that accepting is
// idempotent: the stored content submitted again is accepted as the same measurement.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.h"
#include "vantage/base/gzip.h"
#include "vantage/collector/submission.h"

namespace vigil {
namespace {

constexpr std::string_view kReportId =
    "20231114T221320Z_webconnectivity_IT_30722_n1_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKl";

bool OneLine(const std::string& s) { return !s.empty() && s.find('\n') == std::string::npos; }

void CheckAccepted(const Submission& s, std::string_view url_report_id,
                   const SubmissionLimits& limits) {
  FUZZ_CHECK(s.content.find('\n') == std::string::npos);
  FUZZ_CHECK(url_report_id.empty() || s.report_id == url_report_id);
  Result<ReportIdParts> parts = ParseReportId(s.report_id);
  FUZZ_CHECK(parts.ok());
  FUZZ_CHECK(parts->probe_cc == s.probe_cc && parts->probe_asn == s.probe_asn);
  const auto content = nlohmann::json::parse(s.content, nullptr, false);
  FUZZ_CHECK(content.is_object());
  FUZZ_CHECK(content.contains("report_id") && content["report_id"] == s.report_id);
  FUZZ_CHECK(s.measurement_uid == MeasurementUid(s.content, s.report_id, s.measurement_start_time,
                                                 s.probe_cc, s.test_name));

  const std::string again_body = "{\"format\":\"json\",\"content\":" + s.content + "}";
  Result<Submission> again = ParseSubmission(again_body, "", limits);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->content == s.content && again->measurement_uid == s.measurement_uid);
  FUZZ_CHECK(again->report_id == s.report_id);
}

}  // namespace
}  // namespace vigil

// Byte 0 chooses how it arrives (bit 0: POST /report/{id} rather than
// submit_measurement; bit 1: gzip-compressed here first; bit 2: a 512-byte limit);
// the rest is the body.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil;
  if (size < 1) return 0;
  const uint8_t config = data[0];
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  if (config & 2) body = GzipCompress(body);
  const std::string_view url_report_id = (config & 1) ? kReportId : "";
  SubmissionLimits limits;
  limits.now = 1700000000;  // 2023-11-14
  if (config & 4) limits.max_measurement_bytes = 512;

  Result<Submission> s = ParseSubmission(body, url_report_id, limits);
  if (!s.ok()) {
    FUZZ_CHECK(OneLine(s.error()));
    return 0;
  }
  CheckAccepted(*s, url_report_id, limits);
  return 0;
}
