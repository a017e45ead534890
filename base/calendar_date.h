// CalendarDate: a YYYY-MM-DD date of the proleptic Gregorian calendar, as the lists
// under testlists/ write their date_added, and the latest date it can be anywhere on
// Earth now, so that a row added "today" in UTC+14 is not taken for the future.
// Pure functions (LatestDateAnywhere reads the system clock); thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace vigil {

/// The date `text` names: exactly ten characters YYYY-MM-DD, digits where digits go,
/// and a day the calendar has (no 2023-02-29). nullopt otherwise.
std::optional<std::chrono::year_month_day> ParseCalendarDate(std::string_view text);

/// Today's date in UTC+14, the earliest time zone.
std::chrono::year_month_day LatestDateAnywhere();

}  // namespace vigil
