// `vigil report --html FILE`: what `vigil events` finds, as one self-contained HTML page
// (analysis/report/html_report.h): the events analysis over the store (series, change
// points, blocking events, each timeline event scored, leads) drawn as tables and charts.
// Timeline files are those given with --timeline, else the shipped ones (testlists/events).
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "analysis/correlate/events.h"
#include "analysis/correlate/timeline.h"
#include "analysis/query/aggregation.h"
#include "analysis/report/html_report.h"
#include "analysis/store/store.h"
#include "apps/vigil/commands.h"
#include "apps/vigil/exit_status.h"

namespace vigil::cli {

namespace {

struct ReportFlags {
  std::string html;
  std::string store;
  std::vector<std::string> timelines;
  std::string data_dir;
  std::string grain = "day";
  std::string since;
  std::string until;
  std::string cc;
  std::vector<std::string> asns;
  std::vector<std::string> targets;
  std::string rules_version;
  std::string title;
  size_t max_series = 10;
};

constexpr const char* kCommand = "report";

Result<analysis::EventsOptions> BuildOptions(const ReportFlags& f) {
  analysis::EventsOptions options;
  analysis::SeriesQuery& q = options.series;
  auto grain = analysis::ParseSeriesGrain(f.grain);
  if (!grain.ok()) return Error{"--grain: " + grain.error()};
  q.grain = *grain;
  if (!f.since.empty()) {
    auto t = analysis::ParseTime(f.since);
    if (!t.ok()) return Error{"--since: " + t.error()};
    q.since = *t;
  }
  if (!f.until.empty()) {
    auto t = analysis::ParseTime(f.until);
    if (!t.ok()) return Error{"--until: " + t.error()};
    q.until = *t;
  }
  if (!f.cc.empty()) {
    auto cc = analysis::ParseCountry(f.cc);
    if (!cc.ok()) return Error{"--cc: " + cc.error()};
    q.probe_cc = *cc;
  }
  for (const std::string& text : f.asns) {
    auto asn = analysis::ParseAsn(text);
    if (!asn.ok()) return Error{"--asn: " + asn.error()};
    q.probe_asns.push_back(*asn);
  }
  q.targets = f.targets;
  q.rules_version = f.rules_version;
  return options;
}

// A report never creates an empty SQLite file where the user mistyped a path.
Result<std::unique_ptr<analysis::Store>> Open(const std::string& store) {
  const std::string spec = store.empty() ? analysis::DefaultStoreSpec() : store;
  if (spec.find("://") == std::string::npos) {
    const std::string path = spec.rfind("sqlite:", 0) == 0 ? spec.substr(7) : spec;
    if (FILE* file = std::fopen(path.c_str(), "rb")) {
      std::fclose(file);
    } else {
      return Error{"no store at " + path + " (run `vigil analyze PATH...` first, or give --store)"};
    }
  }
  return analysis::OpenStore(spec);
}

int RunReport(const ReportFlags& f) {
  if (f.max_series == 0) return Fail(kCommand, "--max-series: give at least 1");
  auto options = BuildOptions(f);
  if (!options.ok()) return Fail(kCommand, options.error());
  const std::vector<std::string> files =
      f.timelines.empty() ? analysis::TimelineFiles(
                                (f.data_dir.empty() ? DefaultDataDir() : f.data_dir) + "/events")
                          : f.timelines;
  auto timeline = analysis::ReadTimelines(files);
  if (!timeline.ok()) return Fail(kCommand, "--timeline: " + timeline.error());
  auto store = Open(f.store);
  if (!store.ok()) return Fail(kCommand, store.error(), kExitFailed);
  auto report = analysis::AnalyzeEvents(**store, *timeline, *options);
  if (!report.ok()) return Fail(kCommand, report.error(), kExitFailed);

  analysis::HtmlReportOptions html;
  if (!f.title.empty()) html.title = f.title;
  html.generated_at = std::time(nullptr);
  html.source = (*store)->Describe();
  html.max_series_per_chart = f.max_series;
  const std::string page = analysis::RenderHtmlReport(*report, html);
  {
    std::ofstream out(f.html, std::ios::binary | std::ios::trunc);
    out << page;
    out.close();
    if (!out) return Fail(kCommand, "--html: cannot write " + f.html, kExitFailed);
  }
  size_t followed = 0;
  for (const auto& finding : report->findings) followed += finding.outcome == "blocking_followed";
  std::fprintf(stderr,
               "vigil report: wrote %s (%zu KB): %zu timeline events (%zu followed by blocking), "
               "%zu blocking events, %zu leads; %zu series from %zu timeline files\n",
               f.html.c_str(), (page.size() + 1023) / 1024, report->findings.size(), followed,
               report->events.size(), report->lead_ids.size(), report->series.series.size(),
               files.size());
  return 0;
}

}  // namespace

void AddReportCommand(CLI::App& app) {
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* cmd = app.add_subcommand(
      "report", "The events analysis (blocking events, timeline findings) as an HTML page");
  cmd->add_option("--html", flags->html, "Write the page here (one self-contained file)")
      ->required();
  cmd->add_option("--store", flags->store,
                  "SQLite file, sqlite:PATH or clickhouse://HOST:PORT/DB (default: "
                  "$VIGIL_STORE or $XDG_DATA_HOME/vigil/analysis.sqlite)");
  cmd->add_option("--timeline", flags->timelines,
                  "Timeline CSV files (default: the shipped ones under testlists/events)");
  cmd->add_option("--data-dir", flags->data_dir, "The testlists/ directory (default: found)");
  cmd->add_option("--grain", flags->grain, "Series cells: minute, hour, day or week")
      ->capture_default_str();
  cmd->add_option("--since", flags->since, "Window start, UTC: YYYY-MM-DD[THH:MM:SSZ] (inclusive)");
  cmd->add_option("--until", flags->until, "Window end (exclusive)");
  cmd->add_option("--cc", flags->cc, "Probe country (two letters)");
  cmd->add_option("--asn", flags->asns, "Probe network (AS4134 or 4134); repeat for more");
  cmd->add_option("--target", flags->targets,
                  "Domain or messaging service (telegram, ...); repeat for more");
  cmd->add_option("--rules-version", flags->rules_version,
                  "Verdicts of this rules version (default: the newest in the store)");
  cmd->add_option("--title", flags->title, "The page's title");
  cmd->add_option("--max-series", flags->max_series, "Networks drawn per chart")
      ->capture_default_str();
  cmd->callback([flags] { SetExitCode(RunReport(*flags)); });
}

}  // namespace vigil::cli
