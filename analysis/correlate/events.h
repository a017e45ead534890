// Events: change points clustered into blocking events, and timeline events correlated
// with what the measurements show — the analyst's question ("what changed after the
// announcement, where, how, how soon?") answered with statistics.
//
// - Change points of the series (series/, changepoint/) that start blocking are grouped
//   by (cc, target) and (cc, asn) when their onsets lie within a linking window: one
//   national event is one BlockingEvent, not a change point per network and layer.
//   A rise seen in the same target in other countries at the same time, or one that
//   comes with the target failing for the controls (down), is marked global: an outage,
//   never censorship.
// - Each timeline event is scored: blocked share in windows before and after its start
//   within its scope (cc, asns, targets), Fisher's exact test, a confidence interval of
//   the change, a difference-in-differences contrast with networks and countries outside
//   the scope over the same windows, the lag to the first onset in scope; one finding.
// - BlockingEvents no timeline event explains are leads.
// - Followed public-account articles (the wechat_posts measurements): each one's history
//   (removals.h), and per timeline event that names them, the removals after it against
//   those before it (removal_findings.h). Removals are the platform's doing: they are
//   never blocking, and no series counts them.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "analysis/changepoint/changepoint.h"
#include "analysis/correlate/removal_findings.h"
#include "analysis/correlate/removals.h"
#include "analysis/correlate/timeline.h"
#include "analysis/series/series.h"
#include "analysis/stats/stats.h"
#include "base/result.h"

namespace vigil::analysis {

/// One change point and the series it was found in.
struct SeriesChange {
  SeriesKey key;
  ChangePoint change;
};

/// Blocking seen in the data: change points clustered into one event.
struct BlockingEvent {
  std::string id;  // "CN-telegram-2014-05-28T09" (cc, first target, onset)
  std::string probe_cc;
  std::vector<uint32_t> asns;        // networks where it was seen, sorted
  std::vector<std::string> targets;  // sorted
  std::vector<SeriesLayer> layers;   // sorted
  int64_t start = 0;                 // earliest onset
  std::optional<int64_t> end;        // latest end, when every network's blocking ended
  // Most common first, counted over up to 5,000 of its blocked measurements.
  std::vector<std::pair<std::string, uint64_t>> techniques;
  std::vector<std::string> measurement_uids;  // blocked measurements behind it (a sample)
  uint64_t blocked = 0, usable = 0;           // in scope from start to end (or the window's end)
  double p_value = 1;                         // the strongest change's
  bool global = false;        // seen outside the country too, or with the target down
  std::string global_reason;  // why, when global
  // Data quality over its scope and span (kAny cells with measurements): cells where one
  // source sent 200 or more measurements a minute, and cells with clock skew.
  uint32_t cells = 0, burst_cells = 0, skew_cells = 0;
  std::vector<SeriesChange> changes;  // the change points it groups (starts and ends)
};

struct Counts {
  uint64_t blocked = 0;
  uint64_t usable = 0;
  double share() const { return usable ? static_cast<double>(blocked) / usable : 0; }
};

/// One timeline event scored against the data.
struct Finding {
  TimelineEvent event;
  int64_t before_since = 0,
          after_until = 0;               // windows: [before_since, start), [start, after_until)
  Counts before, after;                  // in scope
  Counts outside_before, outside_after;  // out of scope (other networks/countries, same targets)
  double p_value = 1;                    // Fisher, one-sided (blocking rose)
  double p_adjusted = 1;                 // Holm over all findings of the run
  stats::Interval change_interval;       // 95% CI of after - before share
  double diff_in_diff = 0;               // (after - before) in scope - the same outside
  std::optional<int64_t> lag_seconds;    // event start -> first onset in scope
  std::vector<std::string> blocking_event_ids;  // BlockingEvents inside its window and scope
  std::vector<std::string> outside_countries;   // countries measuring its targets, outside it
  // "blocking_followed", "no_change", "global_change", "insufficient_data"
  std::string outcome;
  std::string summary;  // the one-line finding
  // The followed articles' removals around it, when it names them and any was seen in
  // its windows.
  std::optional<RemovalFinding> removals;
};

struct EventsOptions {
  SeriesQuery series;  // window, grain, filters
  CusumParams cusum;
  PeltParams pelt;
  ChangeMethod method = ChangeMethod::kCusum;  // which method's change points make events
  int64_t link_seconds =
      0;  // onsets this close form one event; 0: 3 days (day grain), 6 cells otherwise
  int64_t before_seconds = 7 * 86400;  // the windows around a timeline event
  int64_t after_seconds = 7 * 86400;
  int64_t lead_margin_seconds =
      0;  // a BlockingEvent this close after a timeline event is explained; 0: the after window
  size_t uids_per_event = 20;
  double alpha = 0.01;  // a finding's adjusted p must be below this
  // A change point makes (or ends) a blocking event only if its share moves by at least
  // this much and its p-value is below alpha / (series analysed): with thousands of
  // series, noise alone crosses p < 0.01 somewhere (Bonferroni keeps the run's chance of
  // one false event below alpha). Weaker change points are still listed.
  double min_share_change = 0.3;
  std::optional<int64_t> changed_since;  // only events starting or ending at or after this
  // What the post lists say of the followed articles (accounts, titles), for their
  // histories (AnalyzeEvents).
  ArticleList listed_articles;
};

struct EventsReport {
  SeriesSet series;
  std::vector<SeriesChange> changes;              // every change point, both methods
  std::vector<BlockingEvent> events;              // sorted by start
  std::vector<Finding> findings;                  // one per timeline event, sorted by start
  std::vector<std::string> lead_ids;              // BlockingEvents no timeline event explains
  std::map<uint32_t, std::string> network_names;  // ASN -> name, from the stored measurements
  std::vector<ArticleHistory> articles;  // followed articles measured in the window, by URL
};

/// The whole analysis over a store: series, change points, events, findings.
Result<EventsReport> AnalyzeEvents(Store& store, const std::vector<TimelineEvent>& timeline,
                                   const EventsOptions& options);

/// The same over series built elsewhere (tests, synthetic data); no uids, techniques or names.
EventsReport AnalyzeSeries(SeriesSet series, const std::vector<TimelineEvent>& timeline,
                           const EventsOptions& options);

}  // namespace vigil::analysis
