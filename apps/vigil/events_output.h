// How `vigil events` prints an EventsReport: an aligned table, CSV of one list, or JSON
// (everything, for feeds, alerts and pages). Not thread-safe (writes to stdout).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "analysis/correlate/events.h"
#include "base/result.h"

namespace vigil::cli {

/// The whole report as JSON: window, findings, events, leads, change points, names.
nlohmann::json EventsReportJson(const analysis::EventsReport& report, const std::string& store);

/// Prints `report` in `format` (table, csv, json); `list` narrows to findings, events,
/// changes or leads ("" = all for table and json; csv defaults to findings when there
/// are any, else events).
void PrintEventsReport(const analysis::EventsReport& report, const std::string& store,
                       const std::string& format, const std::string& list,
                       const analysis::EventsOptions& options);

}  // namespace vigil::cli
