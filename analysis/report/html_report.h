// The events report as one self-contained HTML page (`vigil report --html`): the window
// and counts, the findings per timeline event, the blocking events and leads, a chart per
// target of the blocked share per network over time (inline SVG; an empty cell is a gap in
// the line, never interpolated; change points and timeline events marked), and the
// measurement uids behind each event. The page loads nothing: its CSS, SVG and the little
// script are inline, and a Content-Security-Policy of hashes forbids anything else, so a
// string from a measurement cannot run or fetch even if it escaped its escaping (every one
// is HTML-escaped). Sizes are bounded: lines have at most one point per horizontal unit
// of the plot, and charts, series per chart, table rows and uids are capped (the page says
// what it left out). A pure function; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "analysis/correlate/events.h"
#include "analysis/series/series.h"

namespace vigil::analysis {

struct HtmlReportOptions {
  std::string title = "vigil events report";
  int64_t generated_at = 0;  // Unix seconds UTC, shown in the header; 0: not shown
  std::string source;        // what was read ("sqlite:/data/analysis.sqlite"); empty: not shown
  SeriesLayer chart_layer = SeriesLayer::kAny;  // which layer's series the charts draw
  size_t max_charts = 40;  // targets with blocking events, then change points, then measurements
  size_t max_series_per_chart = 10;  // networks with change points first, then the most measured
  size_t max_events = 1000;          // rows of the blocking events table
  size_t max_uids_per_event = 50;    // measurement uids listed per blocking event
  int plot_width = 960;  // horizontal units of a chart's plot: at most that many points per line
};

/// The whole page, from <!DOCTYPE html> to </html>, UTF-8.
std::string RenderHtmlReport(const EventsReport& report, const HtmlReportOptions& options = {});

/// `text` with & < > " ' as character references (and ill-formed UTF-8 replaced), safe as
/// element content and as a quoted attribute value.
std::string HtmlEscape(std::string_view text);

}  // namespace vigil::analysis
