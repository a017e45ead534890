// Fuzz target for InflateBounded, which inflates every gzip body uploaded to the
// collector. Besides crashes and sanitizer reports, it checks that the bound holds
// (nothing over it is returned, whatever the data claims), that inflating is exact
// (what GzipCompress made of the output inflates back to it) and that a refusal says
// why on one line.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.h"
#include "vantage/base/gzip.h"

// Byte 0 chooses the bound (0 to 255 KiB, in KiB); the rest is the compressed body.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil;
  if (size < 1) return 0;
  const size_t bound = size_t{data[0]} << 10;
  const std::string_view compressed(reinterpret_cast<const char*>(data + 1), size - 1);
  Result<std::string> inflated = InflateBounded(compressed, bound);
  if (!inflated.ok()) {
    FUZZ_CHECK(!inflated.error().empty() && inflated.error().find('\n') == std::string::npos);
    return 0;
  }
  FUZZ_CHECK(inflated->size() <= bound);
  const std::string recompressed = GzipCompress(*inflated);
  FUZZ_CHECK(LooksGzipped(recompressed));
  Result<std::string> round_trip = InflateBounded(recompressed, bound);
  FUZZ_CHECK(round_trip.ok() && *round_trip == *inflated);
  // One byte less room than it needs is refused, not cut short.
  if (!inflated->empty()) FUZZ_CHECK(!InflateBounded(compressed, inflated->size() - 1).ok());
  return 0;
}
