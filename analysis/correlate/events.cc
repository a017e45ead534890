// AnalyzeSeries / AnalyzeEvents (events.h). The steps, in order:
//   1. change points of every series, by both methods (the chosen one makes events);
//   2. blocking intervals per series (a start, and the end that follows, if any);
//   3. intervals linked into events: same country, and the same target or the same
//      network, with onsets within the linking window (union-find over the links);
//   4. an event is global when the same targets start failing in other countries at the
//      same time, or when the in-scope measurements turn down (the controls fail too);
//   5. each timeline event: counts before/after in scope and outside, Fisher, Newcombe,
//      difference in differences, lag to the first onset, one outcome and a summary;
//      Holm over the findings;
//   6. leads: events no finding claims.
// AnalyzeEvents then reads the followed articles (removals.h) and sets each timeline
// event against their removals (removal_findings.h).
#include "analysis/correlate/events.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>

#include "analysis/query/aggregation.h"
#include "analysis/store/store.h"

namespace vigil::analysis {
namespace {

constexpr uint64_t kMinUsable = 10;
constexpr size_t kTechniqueSample =
    5000;  // blocked measurements an event's techniques are counted over          // per window,
           // for a finding to say anything
constexpr double kMinEffect = 0.1;           // a rise in blocked share smaller than this is noise
constexpr double kOutsideShareOfSeen = 0.5;  // of other countries measuring the target

// One blocking interval of one series.
struct Interval {
  const Series* series = nullptr;
  size_t start_cell = 0;
  std::optional<size_t> end_cell;
  const ChangePoint* start_change = nullptr;
  const ChangePoint* end_change = nullptr;
};

struct UnionFind {
  std::vector<size_t> parent;
  explicit UnionFind(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  size_t Find(size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void Join(size_t a, size_t b) { parent[Find(a)] = Find(b); }
};

bool InList(const std::vector<std::string>& list, const std::string& v) {
  return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
}
bool InList(const std::vector<uint32_t>& list, uint32_t v) {
  return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
}

// Sums the cells of [since, until) of a series.
// Sums the cells wholly inside [since, until) of a series: a cell that straddles either
// end (the one holding an event's start, at a grain coarser than the event's time) is
// neither before nor after it.
Counts Sum(const Series& s, int64_t since, int64_t until) {
  Counts c;
  const int64_t step = GrainSeconds(s.grain);
  for (size_t i = 0; i < s.cells.size(); ++i) {
    const int64_t t = s.since + static_cast<int64_t>(i) * step;
    if (t < since || t + step > until) continue;
    c.blocked += s.cells[i].blocked;
    c.usable += s.cells[i].usable;
  }
  return c;
}

uint64_t SumDown(const Series& s, int64_t since, int64_t until, uint64_t* all) {
  uint64_t down = 0;
  const int64_t step = GrainSeconds(s.grain);
  for (size_t i = 0; i < s.cells.size(); ++i) {
    const int64_t t = s.since + static_cast<int64_t>(i) * step;
    if (t < since || t >= until) continue;
    down += s.cells[i].down;
    *all += s.cells[i].measurements;
  }
  return down;
}

std::string Percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * share);
  return buf;
}

std::string PValueText(double p) {
  char buf[32];
  if (p < 0.001) return "p < 0.001";
  std::snprintf(buf, sizeof buf, "p = %.3f", p);
  return buf;
}

std::string Duration(int64_t seconds) {
  char buf[48];
  if (seconds < 120) {
    std::snprintf(buf, sizeof buf, "%" PRId64 " s", seconds);
  } else if (seconds < 3 * 3600) {
    std::snprintf(buf, sizeof buf, "%" PRId64 " min", seconds / 60);
  } else if (seconds < 3 * 86400) {
    std::snprintf(buf, sizeof buf, "%" PRId64 " h", seconds / 3600);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f days", static_cast<double>(seconds) / 86400);
  }
  return buf;
}

// "from 33 h after the event", "from 19 s before the event" (an onset is a cell's start:
// at a coarse grain it may precede the event's time within its cell).
std::string Lag(int64_t seconds) {
  return "from " + Duration(seconds < 0 ? -seconds : seconds) +
         (seconds < 0 ? " before the event" : " after the event");
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

int64_t LinkSeconds(const EventsOptions& o, SeriesGrain grain) {
  if (o.link_seconds > 0) return o.link_seconds;
  return grain == SeriesGrain::kDay || grain == SeriesGrain::kWeek ? 3 * GrainSeconds(grain)
                                                                   : 6 * GrainSeconds(grain);
}

// Steps 1-4, 5 without outcomes and summaries, and 6.
EventsReport Detect(SeriesSet set, const std::vector<TimelineEvent>& timeline,
                    const EventsOptions& options) {
  EventsReport report;
  report.series = std::move(set);
  const std::vector<Series>& all = report.series.series;
  const SeriesGrain grain = report.series.query.grain;
  const int64_t step = GrainSeconds(grain);
  const int64_t link = LinkSeconds(options, grain);

  // 1. Change points, both methods.
  std::vector<std::vector<ChangePoint>> chosen(all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    std::vector<ChangePoint> cusum = DetectCusum(all[i], options.cusum);
    std::vector<ChangePoint> pelt = DetectPelt(all[i], options.pelt);
    for (const ChangePoint& c : cusum) report.changes.push_back({all[i].key, c});
    for (const ChangePoint& c : pelt) report.changes.push_back({all[i].key, c});
    chosen[i] = options.method == ChangeMethod::kCusum ? std::move(cusum) : std::move(pelt);
  }

  // 2. Blocking intervals, from the change points strong enough to claim one.
  const double max_p = options.alpha / static_cast<double>(std::max<size_t>(1, all.size()));
  auto strong = [&](const ChangePoint& c) {
    return c.p_value <= max_p &&
           std::fabs(c.after_share - c.before_share) >= options.min_share_change;
  };
  std::vector<Interval> intervals;
  for (size_t i = 0; i < all.size(); ++i) {
    Interval* open = nullptr;
    for (const ChangePoint& c : chosen[i]) {
      if (!strong(c)) continue;
      if (c.direction == ChangeDirection::kStart) {
        intervals.push_back({&all[i], c.cell, std::nullopt, &c, nullptr});
        open = &intervals.back();
      } else if (open != nullptr) {
        open->end_cell = c.cell;
        open->end_change = &c;
        open = nullptr;
      }
    }
  }

  // 3. Linked into events.
  UnionFind uf(intervals.size());
  for (size_t a = 0; a < intervals.size(); ++a) {
    for (size_t b = a + 1; b < intervals.size(); ++b) {
      const SeriesKey& ka = intervals[a].series->key;
      const SeriesKey& kb = intervals[b].series->key;
      if (ka.probe_cc != kb.probe_cc) continue;
      if (ka.target != kb.target && ka.probe_asn != kb.probe_asn) continue;
      const int64_t ta = intervals[a].start_change->onset;
      const int64_t tb = intervals[b].start_change->onset;
      if (std::llabs(ta - tb) <= link) uf.Join(a, b);
    }
  }
  std::map<size_t, std::vector<size_t>> clusters;
  for (size_t i = 0; i < intervals.size(); ++i) clusters[uf.Find(i)].push_back(i);

  for (const auto& [root, members] : clusters) {
    BlockingEvent e;
    std::set<uint32_t> asns;
    std::set<std::string> targets;
    std::set<SeriesLayer> layers;
    bool ongoing = false;
    int64_t end = 0;
    e.start = INT64_MAX;
    for (size_t m : members) {
      const Interval& iv = intervals[m];
      const SeriesKey& k = iv.series->key;
      e.probe_cc = k.probe_cc;
      asns.insert(k.probe_asn);
      targets.insert(k.target);
      layers.insert(k.layer);
      e.start = std::min(e.start, iv.start_change->onset);
      e.p_value = std::min(e.p_value, iv.start_change->p_value);
      e.changes.push_back({k, *iv.start_change});
      if (iv.end_change != nullptr) {
        e.changes.push_back({k, *iv.end_change});
        end = std::max(end, iv.end_change->onset);
      } else {
        ongoing = true;
      }
    }
    if (!ongoing) e.end = end;
    e.asns.assign(asns.begin(), asns.end());
    e.targets.assign(targets.begin(), targets.end());
    e.layers.assign(layers.begin(), layers.end());
    // Counts in scope over the event, on the whole-measurement series.
    const int64_t until = e.end.value_or(report.series.query.until);
    for (const Series& s : all) {
      if (s.key.layer != SeriesLayer::kAny || s.key.probe_cc != e.probe_cc) continue;
      if (!asns.count(s.key.probe_asn) || !targets.count(s.key.target)) continue;
      const Counts c = Sum(s, e.start, until);
      e.blocked += c.blocked;
      e.usable += c.usable;
      for (size_t i = 0; i < s.cells.size(); ++i) {
        const int64_t t = s.CellTime(i);
        if (t < e.start || t >= until || s.cells[i].measurements == 0) continue;
        ++e.cells;
        if (s.cells[i].flags & kCellBurst) ++e.burst_cells;
        if (s.cells[i].flags & kCellClockSkew) ++e.skew_cells;
      }
    }
    e.id = e.probe_cc + "-" + e.targets.front() + "-" + FormatTime(e.start);
    report.events.push_back(std::move(e));
  }

  // 4. Global: the same targets starting to fail elsewhere, or turning down.
  for (BlockingEvent& e : report.events) {
    std::set<std::string> measured_elsewhere, started_elsewhere;
    for (size_t i = 0; i < all.size(); ++i) {
      const SeriesKey& k = all[i].key;
      if (k.probe_cc == e.probe_cc || k.layer != SeriesLayer::kAny) continue;
      if (std::find(e.targets.begin(), e.targets.end(), k.target) == e.targets.end()) continue;
      const Counts c = Sum(all[i], e.start - link, e.start + link);
      if (c.usable == 0) continue;
      measured_elsewhere.insert(k.probe_cc);
    }
    for (size_t i = 0; i < all.size(); ++i) {
      const SeriesKey& k = all[i].key;
      if (k.probe_cc == e.probe_cc || !measured_elsewhere.count(k.probe_cc)) continue;
      if (std::find(e.targets.begin(), e.targets.end(), k.target) == e.targets.end()) continue;
      for (const ChangePoint& c : chosen[i]) {
        if (c.direction == ChangeDirection::kStart && std::llabs(c.onset - e.start) <= link) {
          started_elsewhere.insert(k.probe_cc);
        }
      }
    }
    if (!started_elsewhere.empty() &&
        static_cast<double>(started_elsewhere.size()) >=
            kOutsideShareOfSeen * static_cast<double>(measured_elsewhere.size())) {
      e.global = true;
      e.global_reason = "seen at the same time in " +
                        Join({started_elsewhere.begin(), started_elsewhere.end()}, ", ");
      continue;
    }
    // Down: the controls failed too (the target's outage, not a censor's block).
    uint64_t down_before = 0, all_before = 0, down_after = 0, all_after = 0;
    for (const Series& s : all) {
      if (s.key.layer != SeriesLayer::kAny || s.key.probe_cc != e.probe_cc) continue;
      if (!std::binary_search(e.asns.begin(), e.asns.end(), s.key.probe_asn)) continue;
      if (!std::binary_search(e.targets.begin(), e.targets.end(), s.key.target)) continue;
      down_before += SumDown(s, e.start - link, e.start, &all_before);
      down_after += SumDown(s, e.start, e.start + link, &all_after);
    }
    const double db = all_before ? static_cast<double>(down_before) / all_before : 0;
    const double da = all_after ? static_cast<double>(down_after) / all_after : 0;
    if (da >= 0.2 && da >= db + 0.2) {
      e.global = true;
      e.global_reason = "the target failed for the controls too (down " + Percent(da) + ")";
    }
  }
  std::sort(report.events.begin(), report.events.end(),
            [](const BlockingEvent& a, const BlockingEvent& b) {
              return a.start != b.start ? a.start < b.start : a.id < b.id;
            });

  // 5. Findings.
  std::set<std::string> claimed;
  std::vector<double> raw;
  for (const TimelineEvent& t : timeline) {
    Finding f;
    f.event = t;
    f.before_since = t.start - options.before_seconds;
    f.after_until = t.start + options.after_seconds;
    std::set<uint32_t> in_networks, all_networks;
    std::set<std::string> outside_countries;
    for (const Series& s : all) {
      if (s.key.layer != SeriesLayer::kAny || !InList(t.targets, s.key.target)) continue;
      const bool in = s.key.probe_cc == t.cc && InList(t.asns, s.key.probe_asn);
      Counts& before = in ? f.before : f.outside_before;
      Counts& after = in ? f.after : f.outside_after;
      const Counts b = Sum(s, f.before_since, t.start);
      const Counts a = Sum(s, t.start, f.after_until);
      before.blocked += b.blocked;
      before.usable += b.usable;
      after.blocked += a.blocked;
      after.usable += a.usable;
      if (in && a.usable > 0) all_networks.insert(s.key.probe_asn);
      if (!in && s.key.probe_cc != t.cc && a.usable + b.usable > 0) {
        outside_countries.insert(s.key.probe_cc);
      }
      f.outside_countries.assign(outside_countries.begin(), outside_countries.end());
    }
    const stats::Table2x2 table{f.before.blocked, f.before.usable - f.before.blocked,
                                f.after.blocked, f.after.usable - f.after.blocked};
    f.p_value = stats::FisherExact(table, stats::Alternative::kGreater);
    f.change_interval = stats::DifferenceInterval(f.before.blocked, f.before.usable,
                                                  f.after.blocked, f.after.usable);
    const double change = f.after.share() - f.before.share();
    const double outside_change = f.outside_after.share() - f.outside_before.share();
    const bool outside_measured = f.outside_before.usable > 0 && f.outside_after.usable > 0;
    f.diff_in_diff = change - (outside_measured ? outside_change : 0);

    // Blocking events inside its scope and window, and the lag to the first onset.
    std::vector<const BlockingEvent*> inside;
    for (const BlockingEvent& e : report.events) {
      if (e.probe_cc != t.cc) continue;
      if (e.start < t.start - step || e.start >= f.after_until) continue;
      bool overlaps = false;
      for (uint32_t a : e.asns) overlaps = overlaps || InList(t.asns, a);
      bool target = false;
      for (const std::string& x : e.targets) target = target || InList(t.targets, x);
      if (!overlaps || !target) continue;
      inside.push_back(&e);
      f.blocking_event_ids.push_back(e.id);
      claimed.insert(e.id);
      for (const SeriesChange& c : e.changes) {
        if (c.change.direction != ChangeDirection::kStart) continue;
        if (!InList(t.asns, c.key.probe_asn) || !InList(t.targets, c.key.target)) continue;
        const int64_t lag = c.change.onset - t.start;
        if (!f.lag_seconds || lag < *f.lag_seconds) f.lag_seconds = lag;
      }
    }
    raw.push_back(f.p_value);
    report.findings.push_back(std::move(f));
  }
  for (size_t i = 0; i < report.findings.size(); ++i) report.findings[i].p_value = raw[i];
  // 6. Leads.
  for (const BlockingEvent& e : report.events) {
    if (!claimed.count(e.id) && !e.global) report.lead_ids.push_back(e.id);
  }
  if (options.changed_since) {
    const int64_t since = *options.changed_since;
    std::erase_if(report.events, [&](const BlockingEvent& e) {
      return e.start < since && (!e.end || *e.end < since);
    });
  }
  return report;
}

// Step 5's end: Holm, outcomes, the one line (after the store named techniques and
// networks).
void Summarize(EventsReport& report, const EventsOptions& options) {
  const std::vector<Series>& all = report.series.series;
  std::vector<double> raw;
  for (const Finding& f : report.findings) raw.push_back(f.p_value);
  const std::vector<double> adjusted = stats::HolmAdjust(raw);
  for (size_t i = 0; i < report.findings.size(); ++i) {
    Finding& f = report.findings[i];
    f.p_adjusted = adjusted[i];
    const TimelineEvent& t = f.event;
    const double change = f.after.share() - f.before.share();
    std::vector<const BlockingEvent*> inside;
    for (const std::string& id : f.blocking_event_ids) {
      for (const BlockingEvent& e : report.events) {
        if (e.id == id) inside.push_back(&e);
      }
    }
    bool local_event = false;
    for (const BlockingEvent* e : inside) local_event = local_event || !e->global;
    if (f.before.usable < kMinUsable || f.after.usable < kMinUsable) {
      f.outcome = "insufficient_data";
      f.summary = "too few usable measurements in scope (" + std::to_string(f.before.usable) +
                  " before, " + std::to_string(f.after.usable) + " after) to say anything";
    } else if (f.p_adjusted < options.alpha && change >= kMinEffect &&
               f.diff_in_diff >= kMinEffect && (inside.empty() || local_event)) {
      f.outcome = "blocking_followed";
    } else if (f.p_adjusted < options.alpha && change >= kMinEffect) {
      f.outcome = "global_change";
    } else {
      f.outcome = "no_change";
    }
    if (f.outcome == "insufficient_data") continue;

    // The one line.
    std::set<uint32_t> measured;
    for (const Series& s : all) {
      if (s.key.layer == SeriesLayer::kAny && s.key.probe_cc == t.cc &&
          InList(t.asns, s.key.probe_asn) && InList(t.targets, s.key.target) &&
          Sum(s, t.start, f.after_until).usable > 0) {
        measured.insert(s.key.probe_asn);
      }
    }
    std::string line;
    const std::string stats_text = Percent(f.before.share()) + " -> " + Percent(f.after.share()) +
                                   " blocked, " + PValueText(f.p_adjusted);
    if (f.outcome == "blocking_followed") {
      // Per target: the networks where it started, how, and how soon.
      struct PerTarget {
        std::set<uint32_t> networks;
        std::map<std::string, uint64_t> techniques;
        std::optional<int64_t> lag;
      };
      std::map<std::string, PerTarget> per_target;
      for (const BlockingEvent* e : inside) {
        if (e->global) continue;
        for (const SeriesChange& c : e->changes) {
          if (c.change.direction != ChangeDirection::kStart) continue;
          if (!InList(t.asns, c.key.probe_asn) || !InList(t.targets, c.key.target)) continue;
          PerTarget& p = per_target[c.key.target];
          p.networks.insert(c.key.probe_asn);
          const int64_t lag = c.change.onset - t.start;
          if (!p.lag || lag < *p.lag) p.lag = lag;
        }
        for (const auto& x : e->targets) {
          auto it = per_target.find(x);
          if (it == per_target.end()) continue;
          for (const auto& [name, n] : e->techniques) it->second.techniques[name] += n;
        }
      }
      std::vector<std::string> parts;
      for (const auto& [target, p] : per_target) {
        std::vector<std::pair<uint64_t, std::string>> by_count;
        for (const auto& [name, n] : p.techniques) by_count.emplace_back(n, name);
        std::sort(by_count.rbegin(), by_count.rend());
        std::vector<std::string> tech;
        for (const auto& [n, name] : by_count) tech.push_back(name);
        std::vector<std::string> named;
        for (uint32_t a : p.networks) {
          auto n = report.network_names.find(a);
          named.push_back(
              "AS" + std::to_string(a) +
              (n != report.network_names.end() && !n->second.empty() ? " " + n->second : ""));
        }
        std::string part = target + " blocked" + (tech.empty() ? "" : " by " + Join(tech, ", ")) +
                           " on " + std::to_string(p.networks.size()) + " of " +
                           std::to_string(measured.size()) + " " + t.cc + " networks (" +
                           Join(named, ", ") + ")";
        if (p.lag) part += " " + Lag(*p.lag);
        parts.push_back(part);
      }
      line = parts.empty() ? "blocking rose in scope" : Join(parts, "; ");
      line += "; " + stats_text;
      if (!f.outside_countries.empty()) {
        const double outside = f.outside_after.share() - f.outside_before.share();
        line += (outside < kMinEffect ? "; not seen in " : "; also rising in ") +
                Join(f.outside_countries, ", ");
      }
    } else if (f.outcome == "global_change") {
      line = "blocked share rose (" + stats_text + ") but as much outside the scope (" +
             Percent(f.outside_before.share()) + " -> " + Percent(f.outside_after.share()) +
             "): an outage or a global change, not attributed to the event";
    } else {
      line = "no change in blocking (" + stats_text + ")";
    }
    f.summary = line;
  }
}

}  // namespace

EventsReport AnalyzeSeries(SeriesSet series, const std::vector<TimelineEvent>& timeline,
                           const EventsOptions& options) {
  EventsReport report = Detect(std::move(series), timeline, options);
  Summarize(report, options);
  return report;
}

namespace {

// The techniques and a sample of the blocked measurements behind each event.
Result<void> Enrich(Store& store, const std::string& version, int64_t window_end,
                    size_t uids_per_event, std::vector<BlockingEvent>& events) {
  const SqlDialect d = store.dialect();
  for (BlockingEvent& e : events) {
    const std::string where = " FROM verdicts WHERE rules_version = " + QuoteSql(d, version) +
                              " AND probe_cc = " + QuoteSql(d, e.probe_cc) + " AND probe_asn IN " +
                              SqlList(e.asns) + " AND target IN " + SqlList(d, e.targets) +
                              " AND start_time >= " + std::to_string(e.start) +
                              " AND start_time < " + std::to_string(e.end.value_or(window_end));
    // Counted over kTechniqueSample of the event's blocked measurements, as the store
    // finds them by network and target (its order, not time: sorting all of a long
    // event's measurements first would read every one of them).
    auto r = store.Select("SELECT technique, count(*) FROM (SELECT technique" + where +
                              " AND verdict IN ('blocked', 'anomaly') AND technique != '' LIMIT " +
                              std::to_string(kTechniqueSample) +
                              ") GROUP BY technique ORDER BY count(*) DESC, technique",
                          [&](const SqlRow& row) {
                            e.techniques.emplace_back(row.values[0], std::stoull(row.values[1]));
                          });
    if (!r.ok()) return r;
    r = store.Select("SELECT measurement_uid" + where + " AND verdict = 'blocked' LIMIT " +
                         std::to_string(uids_per_event),
                     [&](const SqlRow& row) { e.measurement_uids.push_back(row.values[0]); });
    if (!r.ok()) return r;
  }
  return {};
}

// Network names as the probes' measurements give them, for the ASNs a report names.
Result<void> NameNetworks(Store& store, const SeriesQuery& window, EventsReport& report) {
  std::set<uint32_t> asns;
  for (const BlockingEvent& e : report.events) asns.insert(e.asns.begin(), e.asns.end());
  for (const Series& s : report.series.series) {
    if (asns.size() >= 500) break;
    asns.insert(s.key.probe_asn);
  }
  if (asns.empty()) return {};
  // ClickHouse keeps measurements ordered by network: one grouped query. SQLite has no
  // index by network: a query per network that stops at its first row.
  if (store.dialect() == SqlDialect::kClickHouse) {
    return store.Select(
        "SELECT probe_asn, any(probe_network_name) FROM measurements WHERE probe_asn IN " +
            SqlList(std::vector<uint32_t>(asns.begin(), asns.end())) +
            " AND probe_network_name != '' AND start_time >= " + std::to_string(window.since) +
            " AND start_time < " + std::to_string(window.until) + " GROUP BY probe_asn",
        [&](const SqlRow& row) {
          report.network_names[static_cast<uint32_t>(std::stoul(row.values[0]))] = row.values[1];
        });
  }
  for (uint32_t asn : asns) {
    auto r = store.Select(
        "SELECT probe_network_name FROM measurements WHERE probe_asn = " + std::to_string(asn) +
            " AND probe_network_name != '' AND start_time >= " + std::to_string(window.since) +
            " AND start_time < " + std::to_string(window.until) + " LIMIT 1",
        [&](const SqlRow& row) { report.network_names[asn] = row.values[0]; });
    if (!r.ok()) return r;
  }
  return {};
}

// The followed articles' histories over the series' window (and its country and networks,
// when filtered; a --test or --target filter that names no article leaves none), and the
// removals around each timeline event.
Result<void> FindRemovals(Store& store, const SeriesQuery& window, const EventsOptions& options,
                          EventsReport& report) {
  const SeriesQuery& filters = options.series;
  if (!filters.test_name.empty() && filters.test_name != kPostsTestName) return {};
  PostQuery q;
  q.since = window.since;
  q.until = window.until;
  q.probe_cc = filters.probe_cc;
  q.probe_asns = filters.probe_asns;
  auto posts = ListPosts(store, q);
  if (!posts.ok()) return Error{posts.error()};
  report.articles = TraceArticles(std::move(*posts), options.listed_articles);
  std::erase_if(report.articles,
                [&](const ArticleHistory& a) { return !NamesArticle(filters.targets, a); });
  std::vector<RemovalFinding*> found;
  for (Finding& f : report.findings) {
    f.removals =
        CountRemovals(f.event, options.before_seconds, options.after_seconds, report.articles);
    if (f.removals) found.push_back(&*f.removals);
  }
  SummarizeRemovals(found, options.alpha);
  return {};
}

}  // namespace

Result<EventsReport> AnalyzeEvents(Store& store, const std::vector<TimelineEvent>& timeline,
                                   const EventsOptions& options) {
  SeriesQuery query = options.series;
  auto version = RulesVersionOrNewest(store, query.rules_version);
  if (!version.ok()) return Error{version.error()};
  query.rules_version = *version;
  // By default the window is the data's whole span.
  if (query.since == 0 || query.until == 0) {
    int64_t oldest = 0, newest = 0;
    auto r = store.Select(
        "SELECT min(start_time), max(start_time) FROM verdicts WHERE "
        "rules_version = " +
            QuoteSql(store.dialect(), query.rules_version),
        [&](const SqlRow& row) {
          if (!row.null[0]) oldest = std::stoll(row.values[0]);
          if (!row.null[1]) newest = std::stoll(row.values[1]);
        });
    if (!r.ok()) return Error{r.error()};
    if (query.since == 0) query.since = oldest;
    if (query.until == 0) query.until = newest + 1;
    // A window after the newest measurement (watching for what changed since a time
    // nothing was measured yet) is empty, not an error.
    if (query.until <= query.since) query.until = query.since + GrainSeconds(query.grain);
  }
  auto series = BuildSeries(store, query);
  if (!series.ok()) return Error{series.error()};
  const int64_t window_end = series->query.until;
  const SeriesQuery resolved = series->query;
  EventsReport report = Detect(std::move(*series), timeline, options);
  if (auto e =
          Enrich(store, resolved.rules_version, window_end, options.uids_per_event, report.events);
      !e) {
    return Error{e.error()};
  }
  if (auto n = NameNetworks(store, resolved, report); !n) return Error{n.error()};
  Summarize(report, options);
  if (auto r = FindRemovals(store, resolved, options, report); !r) return Error{r.error()};
  return report;
}

}  // namespace vigil::analysis
