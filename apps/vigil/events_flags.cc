#include "apps/vigil/events_flags.h"

#include <cstdio>
#include <filesystem>
#include <optional>

#include "analysis/query/aggregation.h"
#include "analysis/store/store.h"
#include "apps/vigil/commands.h"
#include "apps/vigil/exit_status.h"
#include "probe/testlists/post_list.h"

namespace vigil::cli {
namespace {

bool HasCsv(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".csv") return true;
  }
  return false;
}

// The accounts and titles of the followed articles: --posts DIR, which must read; else
// the shipped folder, when it holds lists (none is shipped), whose problems are noted
// and cost only the accounts.
Result<analysis::ArticleList> ReadListedArticles(const char* command, const std::string& dir) {
  const std::string path = dir.empty() ? PostListDir(DefaultDataDir()) : dir;
  analysis::ArticleList listed;
  if (dir.empty() && !HasCsv(path)) return listed;
  auto lists = ReadPostLists(path);
  if (!lists.ok()) {
    if (!dir.empty()) return Error{lists.error()};
    std::fprintf(stderr,
                 "vigil %s: post lists: %s\nvigil %s: the articles' accounts are taken from "
                 "their URLs where they name one\n",
                 command, lists.error().c_str(), command);
    return listed;
  }
  for (const PostEntry& e : lists->rows) listed[e.url] = {e.account, e.title};
  return listed;
}

}  // namespace

Result<int64_t> ParseDuration(std::string_view text) {
  if (text.empty()) return Error{"empty duration (e.g. 7d, 36h, 90m, 600s)"};
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 9) {
    return Error{"'" + std::string(text) + "' is not a duration (e.g. 7d, 36h, 90m, 600s)"};
  }
  const int64_t n = std::stoll(std::string(text.substr(0, digits)));
  const std::string_view unit = text.substr(digits);
  if (unit.empty() || unit == "s") return n;
  if (unit == "m") return n * 60;
  if (unit == "h") return n * 3600;
  if (unit == "d") return n * 86400;
  if (unit == "w") return n * 7 * 86400;
  return Error{"'" + std::string(text) + "': unit '" + std::string(unit) +
               "' is not one of s, m, h, d, w"};
}

Result<analysis::EventsOptions> BuildEventsOptions(const EventsFlags& f) {
  analysis::EventsOptions o;
  auto grain = analysis::ParseSeriesGrain(f.grain);
  if (!grain.ok()) return Error{"--grain: " + grain.error()};
  o.series.grain = *grain;
  if (!f.cc.empty()) {
    auto cc = analysis::ParseCountry(f.cc);
    if (!cc.ok()) return Error{"--cc: " + cc.error()};
    o.series.probe_cc = *cc;
  }
  for (const std::string& a : f.asns) {
    auto asn = analysis::ParseAsn(a);
    if (!asn.ok()) return Error{"--asn: " + asn.error()};
    o.series.probe_asns.push_back(*asn);
  }
  o.series.targets = f.targets;
  for (const std::string& l : f.layers) {
    auto layer = analysis::ParseSeriesLayer(l);
    if (!layer.ok()) return Error{"--layer: " + layer.error()};
    o.series.layers.push_back(*layer);
  }
  o.series.test_name = f.test;
  o.series.rules_version = f.rules_version;
  std::optional<int64_t> since;
  if (!f.since.empty()) {
    auto t = analysis::ParseTime(f.since);
    if (!t.ok()) return Error{"--since: " + t.error()};
    since = *t;
  }
  if (!f.until.empty()) {
    auto t = analysis::ParseTime(f.until);
    if (!t.ok()) return Error{"--until: " + t.error()};
    o.series.until = *t;
  }
  if (since && o.series.until && *since >= o.series.until) {
    return Error{"--since must be before --until"};
  }
  auto before = ParseDuration(f.before);
  if (!before.ok()) return Error{"--before: " + before.error()};
  auto after = ParseDuration(f.after);
  if (!after.ok()) return Error{"--after: " + after.error()};
  if (*before <= 0 || *after <= 0) return Error{"--before and --after must be positive"};
  o.before_seconds = *before;
  o.after_seconds = *after;
  if (!f.link.empty()) {
    auto link = ParseDuration(f.link);
    if (!link.ok()) return Error{"--link: " + link.error()};
    o.link_seconds = *link;
  }
  if (f.method == "cusum") {
    o.method = analysis::ChangeMethod::kCusum;
  } else if (f.method == "pelt") {
    o.method = analysis::ChangeMethod::kPelt;
  } else {
    return Error{"--method: '" + f.method + "' (cusum, pelt)"};
  }
  // What happened since T: events starting or ending from T on, timeline events from T
  // on; the series begin a --before window earlier, so a block already on at T is known.
  if (since) {
    o.changed_since = *since;
    o.series.since = *since - o.before_seconds;
  }
  if (!(f.alpha > 0 && f.alpha < 1)) return Error{"--alpha: must be between 0 and 1"};
  o.alpha = f.alpha;
  return o;
}

void AddEventsFlags(CLI::App* cmd, EventsFlags& flags) {
  cmd->add_option("--store", flags.store,
                  "Store: PATH, sqlite:PATH or clickhouse://HOST:PORT/DB (default: "
                  "$VIGIL_STORE or ~/.local/share/vigil/analysis.sqlite)");
  cmd->add_option("--timeline", flags.timelines,
                  "Timeline CSV (repeatable; default: every testlists/events/*.csv)");
  cmd->add_flag("--no-timeline", flags.no_timeline, "Read no timeline: events and leads only");
  cmd->add_option("--posts", flags.posts,
                  "Post lists' folder: the followed articles' accounts and titles (default: "
                  "testlists/wechat_posts)");
  cmd->add_option("--cc", flags.cc, "Only this probe country");
  cmd->add_option("--asn", flags.asns, "Only these networks (repeatable)")->delimiter(',');
  cmd->add_option("--target", flags.targets, "Only these targets (repeatable)")->delimiter(',');
  cmd->add_option("--layer", flags.layers, "Only these layers: dns, tcp, tls, http, delivery")
      ->delimiter(',');
  cmd->add_option("--test", flags.test, "Only this test (whatsapp, web_connectivity, ...)");
  cmd->add_option("--grain", flags.grain, "minute, hour, day or week")->capture_default_str();
  cmd->add_option("--since", flags.since,
                  "Report what started or ended from this time on, UTC (default: the whole "
                  "store); the series are read from a --before window earlier");
  cmd->add_option("--until", flags.until, "End of the window, UTC (default: after the newest)");
  cmd->add_option("--before", flags.before, "Window before a timeline event (7d, 36h, ...)")
      ->capture_default_str();
  cmd->add_option("--after", flags.after, "Window after a timeline event")->capture_default_str();
  cmd->add_option("--link", flags.link,
                  "Onsets this close form one event (default: 3 cells at day/week grain, "
                  "6 cells otherwise)");
  cmd->add_option("--method", flags.method, "Change points that make events: cusum or pelt")
      ->capture_default_str();
  cmd->add_option("--alpha", flags.alpha, "Significance a finding needs (Holm-adjusted)")
      ->capture_default_str();
  cmd->add_option("--rules-version", flags.rules_version, "Verdicts of this rules version");
}

Result<EventsRun> RunEventsAnalysis(const char* command, const EventsFlags& f, int* status) {
  EventsRun run;
  auto options = BuildEventsOptions(f);
  if (!options.ok()) {
    *status = Fail(command, options.error());
    return Error{options.error()};
  }
  run.options = std::move(*options);
  std::vector<std::string> files = f.timelines;
  if (files.empty() && !f.no_timeline) {
    files = analysis::TimelineFiles(DefaultDataDir() + "/events");
  }
  run.timeline_files = files.size();
  std::vector<analysis::TimelineEvent> timeline;
  if (!files.empty()) {
    auto read = analysis::ReadTimelines(files);
    if (!read.ok()) {
      *status = Fail(command, "--timeline: " + read.error());
      return Error{read.error()};
    }
    timeline = std::move(*read);
  }
  auto listed = ReadListedArticles(command, f.posts);
  if (!listed.ok()) {
    *status = Fail(command, "--posts: " + listed.error());
    return Error{listed.error()};
  }
  run.options.listed_articles = std::move(*listed);
  const auto& o = run.options;
  std::erase_if(timeline, [&](const analysis::TimelineEvent& e) {
    return (o.changed_since && e.start < *o.changed_since) ||
           (o.series.until && e.start >= o.series.until);
  });
  auto store = OpenExistingStore(f.store);
  if (!store.ok()) {
    *status = Fail(command, store.error(), kExitFailed);
    return Error{store.error()};
  }
  run.store = (*store)->Describe();
  auto report = analysis::AnalyzeEvents(**store, timeline, o);
  if (!report.ok()) {
    *status = Fail(command, report.error(), kExitFailed);
    return Error{report.error()};
  }
  run.report = std::move(*report);
  *status = kExitOk;
  return run;
}

}  // namespace vigil::cli
