#include "vantage/base/utc_time.h"

namespace vigil {

std::string FormatUtc(std::time_t t, const char* format) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char out[64];
  const size_t n = std::strftime(out, sizeof out, format, &tm);
  return std::string(out, n);
}

}  // namespace vigil
