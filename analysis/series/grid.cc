// The grid's small pure functions: grain names and lengths, cell alignment, layer names.
#include <string>

#include "analysis/series/series.h"

namespace vigil::analysis {
namespace {

constexpr int64_t kFirstMonday = 4 * 86400;  // 1970-01-05T00:00:00Z

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
  for (SeriesGrain g :
       {SeriesGrain::kMinute, SeriesGrain::kHour, SeriesGrain::kDay, SeriesGrain::kWeek}) {
    if (text == SeriesGrainName(g)) return g;
  }
  return Error{"grain '" + std::string(text) + "': expected minute, hour, day or week"};
}

int64_t GrainSeconds(SeriesGrain grain) {
  switch (grain) {
    case SeriesGrain::kMinute:
      return 60;
    case SeriesGrain::kHour:
      return 3600;
    case SeriesGrain::kDay:
      return 86400;
    case SeriesGrain::kWeek:
      return 7 * 86400;
  }
  return 86400;
}

int64_t CellStart(int64_t t, SeriesGrain grain) {
  const int64_t step = GrainSeconds(grain);
  const int64_t origin = grain == SeriesGrain::kWeek ? kFirstMonday : 0;
  return FloorDiv(t - origin, step) * step + origin;
}

int64_t Series::CellTime(size_t i) const {
  return since + static_cast<int64_t>(i) * GrainSeconds(grain);
}

const char* SeriesLayerName(SeriesLayer layer) {
  switch (layer) {
    case SeriesLayer::kDns:
      return "dns";
    case SeriesLayer::kTcp:
      return "tcp";
    case SeriesLayer::kTls:
      return "tls";
    case SeriesLayer::kHttp:
      return "http";
    case SeriesLayer::kDelivery:
      return "delivery";
    case SeriesLayer::kAny:
      return "any";
  }
  return "?";
}

Result<SeriesLayer> ParseSeriesLayer(std::string_view text) {
  for (size_t i = 0; i < kSeriesLayerCount; ++i) {
    const auto layer = static_cast<SeriesLayer>(i);
    if (text == SeriesLayerName(layer)) return layer;
  }
  return Error{"layer '" + std::string(text) + "': expected dns, tcp, tls, http, delivery or any"};
}

}  // namespace vigil::analysis
