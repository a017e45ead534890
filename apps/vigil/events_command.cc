// `vigil events`: what changed, where, how and how soon. Reads the analyzer's store,
// lays the verdicts on a grid, finds change points (CUSUM and PELT), clusters them into
// blocking events, and scores each event of the timelines (testlists/events/*.csv by
// default, or --timeline FILE...) against them: blocked share before and after, Fisher's
// exact test, the change's confidence interval, a contrast with networks and countries
// outside the event's scope, the lag to the first onset, and a one-line finding.
// Blocking events no timeline event explains are listed as leads. Followed public-account
// articles (wechat_posts) get their removal histories (--list removals), and each timeline
// event that names them the removals after it against those before. --since T reports what
// started or ended since T (for feeds and alerts), reading the --before window ahead of T
// so that blocking already on at T is known as such.
// --format table|csv|json; network names beside AS numbers. The flags it shares with
// `vigil report` are in events_flags.
#include <memory>
#include <string>

#include "apps/vigil/commands.h"
#include "apps/vigil/events_flags.h"
#include "apps/vigil/events_output.h"
#include "apps/vigil/exit_status.h"

namespace vigil::cli {
namespace {

constexpr const char* kCommand = "events";

struct Flags {
  EventsFlags events;
  std::string format = "table";
  std::string list;
};

int RunEvents(const Flags& f) {
  if (f.format != "table" && f.format != "csv" && f.format != "json") {
    return Fail(kCommand, "--format: '" + f.format + "' (table, csv, json)");
  }
  if (!f.list.empty() && f.list != "findings" && f.list != "events" && f.list != "changes" &&
      f.list != "leads" && f.list != "removals") {
    return Fail(kCommand, "--list: '" + f.list + "' (findings, events, changes, leads, removals)");
  }
  int status = kExitOk;
  auto run = RunEventsAnalysis(kCommand, f.events, &status);
  if (!run.ok()) return status;
  PrintEventsReport(run->report, run->store, f.format, f.list, run->options);
  return kExitOk;
}

}  // namespace

void AddEventsCommand(CLI::App& app) {
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "events", "Change points, blocking events and timeline findings over the analyzer's store");
  AddEventsFlags(cmd, flags->events);
  cmd->add_option("--format", flags->format, "table, csv or json")->capture_default_str();
  cmd->add_option("--list", flags->list,
                  "Only one list: findings, events, changes, leads or removals (the followed "
                  "articles' histories) (csv prints one list; default findings when a timeline "
                  "is read, else events)");
  cmd->callback([flags] { SetExitCode(RunEvents(*flags)); });
}

}  // namespace vigil::cli
