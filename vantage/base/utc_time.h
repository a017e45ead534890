// UTC time as text: the one formatter behind report ids, archive paths, consent and
// results timestamps.
#pragma once

#include <ctime>
#include <string>

namespace vigil {

/// `t` in UTC through strftime's `format` ("%Y-%m-%dT%H:%M:%SZ", "%Y%m%d", ...); the
/// result is at most 63 characters.
std::string FormatUtc(std::time_t t, const char* format);

/// The current time, as FormatUtc.
inline std::string FormatUtcNow(const char* format) {
  return FormatUtc(std::time(nullptr), format);
}

}  // namespace vigil
