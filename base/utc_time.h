// UTC time as text: the one formatter behind measurement times, local uids, report
// ids, archive paths, consent and results timestamps. Pure functions over the time
// given (FormatUtcNow reads the system clock); thread-safe (gmtime_r, no shared state).
#pragma once

#include <chrono>
#include <ctime>
#include <string>

namespace vigil {

/// ISO 8601, as the results database and the consent record store it.
inline constexpr char kUtcIso8601[] = "%Y-%m-%dT%H:%M:%SZ";
/// OONI's measurement_start_time and test_start_time ("2026-12-03 00:00:00").
inline constexpr char kUtcOoni[] = "%Y-%m-%d %H:%M:%S";
/// Compact and sortable, for names: local uids, report ids, archive files.
inline constexpr char kUtcCompact[] = "%Y%m%dT%H%M%SZ";

/// `t` in UTC through strftime's `format` (one of the constants above, "%Y%m%d", ...);
/// the result is at most 63 characters.
std::string FormatUtc(std::time_t t, const char* format);

/// As above, to the second (the fraction is dropped, never rounded up).
std::string FormatUtc(std::chrono::system_clock::time_point t, const char* format);

/// The current time, as FormatUtc.
std::string FormatUtcNow(const char* format);

/// `t` as ISO 8601 ("2026-12-03T00:00:00Z").
inline std::string FormatUtcTime(std::chrono::system_clock::time_point t) {
  return FormatUtc(t, kUtcIso8601);
}

}  // namespace vigil
