#include "base/calendar_date.h"

namespace vigil {

std::optional<std::chrono::year_month_day> ParseCalendarDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  }
  auto number = [&](size_t from, size_t len) {
    int value = 0;
    for (size_t i = from; i < from + len; ++i) value = value * 10 + (text[i] - '0');
    return value;
  };
  const std::chrono::year_month_day ymd{std::chrono::year{number(0, 4)},
                                        std::chrono::month{static_cast<unsigned>(number(5, 2))},
                                        std::chrono::day{static_cast<unsigned>(number(8, 2))}};
  if (!ymd.ok()) return std::nullopt;
  return ymd;
}

std::chrono::year_month_day LatestDateAnywhere() {
  auto now = std::chrono::system_clock::now() + std::chrono::hours(14);
  return std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(now)};
}

}  // namespace vigil
