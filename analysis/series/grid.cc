// The series' time grid and names (series.h): grains, cell starts, layers.
#include <array>
#include <string>

#include "analysis/series/series.h"

namespace vigil::analysis {
namespace {

constexpr int64_t kMinute = 60;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kWeek = 7 * kDay;
constexpr int64_t kFirstMonday = -3 * kDay;  // 1969-12-29: the epoch fell on a Thursday

constexpr std::array<SeriesGrain, 4> kGrains = {SeriesGrain::kMinute, SeriesGrain::kHour,
                                                SeriesGrain::kDay, SeriesGrain::kWeek};
// Indexed by the layer's number.
constexpr std::array<const char*, kSeriesLayerCount> kLayerNames = {"dns",  "tcp",      "tls",
                                                                    "http", "delivery", "any"};

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

const char* SeriesGrainName(SeriesGrain grain) {
  switch (grain) {
    case SeriesGrain::kMinute:
      return "minute";
    case SeriesGrain::kHour:
      return "hour";
    case SeriesGrain::kDay:
      return "day";
    case SeriesGrain::kWeek:
      return "week";
  }
  return "?";
}

Result<SeriesGrain> ParseSeriesGrain(std::string_view text) {
  std::string names;
  for (SeriesGrain g : kGrains) {
    if (text == SeriesGrainName(g)) return g;
    names += (names.empty() ? "" : ", ") + std::string(SeriesGrainName(g));
  }
  return Error{"unknown grain '" + std::string(text) + "' (grains: " + names + ")"};
}

int64_t GrainSeconds(SeriesGrain grain) {
  switch (grain) {
    case SeriesGrain::kMinute:
      return kMinute;
    case SeriesGrain::kHour:
      return kHour;
    case SeriesGrain::kDay:
      return kDay;
    case SeriesGrain::kWeek:
      return kWeek;
  }
  return kDay;
}

int64_t CellStart(int64_t t, SeriesGrain grain) {
  // Weeks are counted from a Monday; the other grains divide the epoch evenly.
  const int64_t origin = grain == SeriesGrain::kWeek ? kFirstMonday : 0;
  const int64_t step = GrainSeconds(grain);
  return FloorDiv(t - origin, step) * step + origin;
}

int64_t Series::CellTime(size_t i) const {
  return since + static_cast<int64_t>(i) * GrainSeconds(grain);
}

const char* SeriesLayerName(SeriesLayer layer) {
  const size_t i = static_cast<size_t>(layer);
  return i < kLayerNames.size() ? kLayerNames[i] : "?";
}

Result<SeriesLayer> ParseSeriesLayer(std::string_view text) {
  std::string names;
  for (size_t i = 0; i < kLayerNames.size(); ++i) {
    if (text == kLayerNames[i]) return static_cast<SeriesLayer>(i);
    names += (names.empty() ? "" : ", ") + std::string(kLayerNames[i]);
  }
  return Error{"unknown layer '" + std::string(text) + "' (layers: " + names + ")"};
}

}  // namespace vigil::analysis
