// Fuzz target for the web_connectivity control protocol: ParseControlJson with
// ControlRequestFromJson (what `vigil helper` reads from any probe) and
// ControlResponseFromJson (what a probe reads from any helper). Besides crashes,
// uncaught exceptions and sanitizer reports, it checks that a refusal is an error
// value and not a throw, and that what is accepted survives the trip through ToJson
// and back unchanged.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "probe/experiments/web_connectivity/control_protocol.h"
#include "tests/fuzz/fuzz_check.h"

// The input is a request or response body.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<Json> json = ParseControlJson(text);
  if (!json.ok()) {
    FUZZ_CHECK(!json.error().empty());
    return 0;
  }

  if (Result<ControlRequest> request = ControlRequestFromJson(*json); request.ok()) {
    const Json written = ToJson(*request);
    Result<ControlRequest> again = ControlRequestFromJson(written);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(ToJson(*again) == written);
    Result<Json> reparsed = ParseControlJson(written.dump());
    FUZZ_CHECK(reparsed.ok() && *reparsed == written);
  } else {
    FUZZ_CHECK(!request.error().empty());
  }

  if (Result<ControlResponse> response = ControlResponseFromJson(*json); response.ok()) {
    const Json written = ToJson(*response);
    Result<ControlResponse> again = ControlResponseFromJson(written);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(ToJson(*again) == written);
    Result<Json> reparsed = ParseControlJson(written.dump());
    FUZZ_CHECK(reparsed.ok() && *reparsed == written);
  } else {
    FUZZ_CHECK(!response.error().empty());
  }
  return 0;
}
