// DELETE AT MERGE. Stand-ins for functions of series.h, changepoint.h, timeline.h and
// events.h whose .cc files are written on other branches, so that the HTML report and
// `vigil report` build and link before those land. Each part compiles only while its real
// source file is absent; once they are all in, this file must go.
#include <algorithm>
#include <string>
#include <string_view>

#include "analysis/changepoint/changepoint.h"
#include "analysis/correlate/events.h"
#include "analysis/correlate/timeline.h"
#include "analysis/series/series.h"

namespace vigil::analysis {

#if !__has_include("analysis/series/series.cc")
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
  return "day";
}

Result<SeriesGrain> ParseSeriesGrain(std::string_view text) {
  for (SeriesGrain g :
       {SeriesGrain::kMinute, SeriesGrain::kHour, SeriesGrain::kDay, SeriesGrain::kWeek}) {
    if (text == SeriesGrainName(g)) return g;
  }
  return Error{"unknown grain '" + std::string(text) + "' (grains: minute, hour, day, week)"};
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
      return 604800;
  }
  return 86400;
}

int64_t CellStart(int64_t t, SeriesGrain grain) {
  // Weeks start on Monday: 1970-01-05 was one.
  const int64_t origin = grain == SeriesGrain::kWeek ? 4 * 86400 : 0;
  const int64_t step = GrainSeconds(grain);
  const int64_t offset = t - origin;
  return origin + (offset / step - (offset % step < 0)) * step;
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
  return "any";
}

int64_t Series::CellTime(size_t i) const {
  return since + static_cast<int64_t>(i) * GrainSeconds(grain);
}
#endif

#if !__has_include("analysis/changepoint/changepoint.cc")
const char* ChangeDirectionName(ChangeDirection direction) {
  return direction == ChangeDirection::kStart ? "start" : "end";
}

const char* ChangeMethodName(ChangeMethod method) {
  return method == ChangeMethod::kCusum ? "cusum" : "pelt";
}
#endif

#if !__has_include("analysis/correlate/timeline.cc")
Result<std::vector<TimelineEvent>> ReadTimelines(const std::vector<std::string>& files) {
  if (files.empty()) return std::vector<TimelineEvent>{};
  return Error{"reading timelines is not in this build yet (analysis/correlate/timeline.cc)"};
}

std::vector<std::string> TimelineFiles(const std::string&) { return {}; }
#endif

#if !__has_include("analysis/correlate/events.cc")
Result<EventsReport> AnalyzeEvents(Store&, const std::vector<TimelineEvent>&,
                                   const EventsOptions&) {
  return Error{"the events analysis is not in this build yet (analysis/correlate/events.cc)"};
}
#endif

}  // namespace vigil::analysis
