// `vigil report --html FILE`: what `vigil events` finds, as one self-contained HTML page
// (analysis/report/html_report.h): the events analysis over the store (series, change
// points, blocking events, each timeline event scored, leads) drawn as tables and charts.
// It takes `vigil events`' flags (events_flags.h): the page and the table answer the same
// question.
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>

#include "analysis/report/html_report.h"
#include "apps/vigil/commands.h"
#include "apps/vigil/events_flags.h"
#include "apps/vigil/exit_status.h"

namespace vigil::cli {

namespace {

struct ReportFlags {
  EventsFlags events;
  std::string html;
  std::string title;
  size_t max_series = 10;
};

constexpr const char* kCommand = "report";

int RunReport(const ReportFlags& f) {
  if (f.max_series == 0) return Fail(kCommand, "--max-series: give at least 1");
  int status = kExitOk;
  auto run = RunEventsAnalysis(kCommand, f.events, &status);
  if (!run.ok()) return status;
  const analysis::EventsReport& report = run->report;

  analysis::HtmlReportOptions html;
  if (!f.title.empty()) html.title = f.title;
  html.generated_at = std::time(nullptr);
  html.source = run->store;
  html.max_series_per_chart = f.max_series;
  const std::string page = analysis::RenderHtmlReport(report, html);
  {
    std::ofstream out(f.html, std::ios::binary | std::ios::trunc);
    out << page;
    out.close();
    if (!out) return Fail(kCommand, "--html: cannot write " + f.html, kExitFailed);
  }
  size_t followed = 0;
  for (const auto& finding : report.findings) followed += finding.outcome == "blocking_followed";
  std::fprintf(stderr,
               "vigil report: wrote %s (%zu KB): %zu timeline events (%zu followed by blocking), "
               "%zu blocking events, %zu leads; %zu series from %zu timeline files\n",
               f.html.c_str(), (page.size() + 1023) / 1024, report.findings.size(), followed,
               report.events.size(), report.lead_ids.size(), report.series.series.size(),
               run->timeline_files);
  return 0;
}

}  // namespace

void AddReportCommand(CLI::App& app) {
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* cmd = app.add_subcommand(
      "report", "The events analysis (blocking events, timeline findings) as an HTML page");
  cmd->add_option("--html", flags->html, "Write the page here (one self-contained file)")
      ->required();
  AddEventsFlags(cmd, flags->events);
  cmd->add_option("--title", flags->title, "The page's title");
  cmd->add_option("--max-series", flags->max_series, "Networks drawn per chart")
      ->capture_default_str();
  cmd->callback([flags] { SetExitCode(RunReport(*flags)); });
}

}  // namespace vigil::cli
