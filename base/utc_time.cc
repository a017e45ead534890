#include "base/utc_time.h"

namespace vigil {

std::string FormatUtc(std::time_t t, const char* format) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char out[64];
  const size_t n = std::strftime(out, sizeof out, format, &tm);
  return std::string(out, n);
}

std::string FormatUtc(std::chrono::system_clock::time_point t, const char* format) {
  // to_time_t may round to the nearest second; a time is never written ahead of itself.
  const auto seconds = std::chrono::floor<std::chrono::seconds>(t);
  return FormatUtc(std::chrono::system_clock::to_time_t(seconds), format);
}

std::string FormatUtcNow(const char* format) { return FormatUtc(std::time(nullptr), format); }

}  // namespace vigil
