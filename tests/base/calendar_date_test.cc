#include "base/calendar_date.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::year;
using std::chrono::year_month_day;

TEST(CalendarDateTest, ReadsRealDatesOnly) {
  EXPECT_EQ(ParseCalendarDate("2024-05-21"), (year_month_day{year{2024}, month{5}, day{21}}));
  EXPECT_EQ(ParseCalendarDate("2024-02-29"), (year_month_day{year{2024}, month{2}, day{29}}));
  for (const char* bad :
       {"2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "2024-5-21", "2024/05/21",
        "20240521", "2024-05-21 ", " 2024-05-21", "2024-05-2x", "", "yesterday"}) {
    EXPECT_EQ(ParseCalendarDate(bad), std::nullopt) << bad;
  }
}

TEST(CalendarDateTest, TheLatestDateAnywhereIsTodayOrTomorrowInUtc) {
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  const std::chrono::sys_days latest{LatestDateAnywhere()};
  EXPECT_GE(latest, today);
  EXPECT_LE(latest, today + std::chrono::days{1});
}

}  // namespace
}  // namespace vigil
