#include "apps/vigil/events_output.h"

#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "analysis/query/aggregation.h"
#include "base/csv.h"

namespace vigil::cli {
namespace {

using analysis::ArticleHistory;
using analysis::BlockingEvent;
using analysis::EventsReport;
using analysis::Finding;
using analysis::RemovalCounts;
using analysis::RemovalFinding;

std::string Network(const EventsReport& r, uint32_t asn) {
  auto n = r.network_names.find(asn);
  std::string s = "AS" + std::to_string(asn);
  if (n != r.network_names.end() && !n->second.empty()) s += " " + n->second;
  return s;
}

std::string Networks(const EventsReport& r, const std::vector<uint32_t>& asns) {
  std::string s;
  for (size_t i = 0; i < asns.size(); ++i) s += (i ? "; " : "") + Network(r, asns[i]);
  return s;
}

std::string Joined(const std::vector<std::string>& v, const char* sep = "+") {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

std::string Layers(const std::vector<analysis::SeriesLayer>& layers) {
  std::vector<std::string> names;
  for (auto l : layers) names.push_back(analysis::SeriesLayerName(l));
  return Joined(names);
}

std::string Techniques(const BlockingEvent& e) {
  std::vector<std::string> out;
  for (const auto& [name, n] : e.techniques) out.push_back(name + " (" + std::to_string(n) + ")");
  return Joined(out, ", ");
}

std::string Number(double v, const char* format = "%.3g") {
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string Time(int64_t t) { return analysis::FormatTime(t); }
std::string Time(const std::optional<int64_t>& t) { return t ? Time(*t) : ""; }

// A window's length as given: "7d", "36h", "90m", "45s".
std::string Span(int64_t seconds) {
  if (seconds % 86400 == 0) return std::to_string(seconds / 86400) + "d";
  if (seconds % 3600 == 0) return std::to_string(seconds / 3600) + "h";
  if (seconds % 60 == 0) return std::to_string(seconds / 60) + "m";
  return std::to_string(seconds) + "s";
}

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// A note when many of an event's cells are suspect (bursts from one source, clock skew).
std::string Quality(const BlockingEvent& e) {
  if (e.cells == 0 || (e.burst_cells * 4 < e.cells && e.skew_cells * 4 < e.cells)) return "";
  return " data quality: " + std::to_string(e.burst_cells) + " burst and " +
         std::to_string(e.skew_cells) + " clock-skew cells of " + std::to_string(e.cells);
}

// Whether any measurement of its targets fell in a finding's windows, in scope or out,
// or any followed article it names was seen in them.
bool Measured(const Finding& f) {
  return f.before.usable + f.after.usable + f.outside_before.usable + f.outside_after.usable > 0 ||
         f.removals.has_value();
}

// "3/20": removed of followed.
std::string Removed(const RemovalCounts& c) {
  return std::to_string(c.removed) + "/" + std::to_string(c.followed);
}

Table FindingsTable(const EventsReport& r) {
  Table t{{"event", "start", "cc", "asns", "targets", "outcome", "before", "after", "p",
           "p_adjusted", "change_low", "change_high", "diff_in_diff", "lag", "blocking_events",
           "finding", "source_url"},
          {}};
  for (const char* column : {"removals_outcome", "removals_before", "removals_after",
                             "removals_straddling", "removals_p_adjusted", "removals_finding"}) {
    t.header.push_back(column);
  }
  for (const Finding& f : r.findings) {
    if (!Measured(f)) continue;  // no measurement near it at all: said once in the table's header
    std::vector<std::string> asns;
    for (uint32_t a : f.event.asns) asns.push_back("AS" + std::to_string(a));
    t.rows.push_back(
        {f.event.id, Time(f.event.start), f.event.cc, Joined(asns), Joined(f.event.targets),
         f.outcome, std::to_string(f.before.blocked) + "/" + std::to_string(f.before.usable),
         std::to_string(f.after.blocked) + "/" + std::to_string(f.after.usable), Number(f.p_value),
         Number(f.p_adjusted), Number(f.change_interval.low, "%.3f"),
         Number(f.change_interval.high, "%.3f"), Number(f.diff_in_diff, "%.3f"),
         f.lag_seconds ? std::to_string(*f.lag_seconds) + "s" : "",
         Joined(f.blocking_event_ids, " "), f.summary, f.event.source_url});
    std::vector<std::string>& row = t.rows.back();
    if (const auto& x = f.removals) {
      row.insert(row.end(),
                 {x->outcome, Removed(x->before), Removed(x->after),
                  std::to_string(x->straddling.removed), Number(x->p_adjusted), x->summary});
    }
    row.resize(t.header.size());
  }
  return t;
}

// The followed articles, one row each.
Table RemovalsTable(const EventsReport& r) {
  Table t{{"url", "account", "title", "state", "removal", "last_available", "first_removed",
           "flaps", "measurements", "unreachable", "unknown"},
          {}};
  for (const ArticleHistory& a : r.articles) {
    t.rows.push_back({a.url, a.account, a.title, std::string(analysis::ArticleStateName(a.state)),
                      a.removal ? std::string(PostStatusName(*a.removal)) : "",
                      Time(a.last_available), Time(a.first_removed), std::to_string(a.flaps.size()),
                      std::to_string(a.measurements), std::to_string(a.unreachable),
                      std::to_string(a.unknown)});
  }
  return t;
}

Table EventsTable(const EventsReport& r, const std::vector<std::string>* only = nullptr) {
  Table t{{"event", "cc", "networks", "targets", "layers", "techniques", "start", "end", "blocked",
           "usable", "p", "notes", "uids"},
          {}};
  for (const BlockingEvent& e : r.events) {
    if (only && std::find(only->begin(), only->end(), e.id) == only->end()) continue;
    t.rows.push_back({e.id, e.probe_cc, Networks(r, e.asns), Joined(e.targets), Layers(e.layers),
                      Techniques(e), Time(e.start), e.end ? Time(*e.end) : "ongoing",
                      std::to_string(e.blocked), std::to_string(e.usable), Number(e.p_value),
                      (e.global ? "global: " + e.global_reason : "") + Quality(e),
                      Joined(e.measurement_uids, " ")});
  }
  return t;
}

Table ChangesTable(const EventsReport& r) {
  Table t{{"method", "cc", "asn", "target", "layer", "direction", "onset", "alarm", "before_share",
           "after_share", "p"},
          {}};
  for (const auto& c : r.changes) {
    t.rows.push_back({analysis::ChangeMethodName(c.change.method), c.key.probe_cc,
                      std::to_string(c.key.probe_asn), c.key.target,
                      analysis::SeriesLayerName(c.key.layer),
                      analysis::ChangeDirectionName(c.change.direction), Time(c.change.onset),
                      Time(c.change.alarm), Number(c.change.before_share, "%.3f"),
                      Number(c.change.after_share, "%.3f"), Number(c.change.p_value)});
  }
  return t;
}

void PrintCsv(const Table& t) {
  for (size_t i = 0; i < t.header.size(); ++i)
    std::printf("%s%s", i ? "," : "", t.header[i].c_str());
  std::printf("\n");
  for (const auto& row : t.rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      std::printf("%s%s", i ? "," : "", CsvField(row[i]).c_str());
    }
    std::printf("\n");
  }
}

nlohmann::json CountsJson(const RemovalCounts& c) {
  nlohmann::json classes = nlohmann::json::object();
  for (const auto& [status, n] : c.by_class) classes[std::string(PostStatusName(status))] = n;
  nlohmann::json accounts = nlohmann::json::object();
  for (const auto& [account, n] : c.by_account) accounts[account] = n;
  return {{"followed", c.followed},
          {"removed", c.removed},
          {"by_class", classes},
          {"by_account", accounts},
          {"urls", c.urls}};
}

nlohmann::json RemovalFindingJson(const RemovalFinding& x) {
  nlohmann::json straddling = CountsJson(x.straddling);
  straddling.erase("followed");
  straddling["interval_seconds"] = x.straddling_widths;
  return {{"window_before", {Time(x.since), Time(x.start)}},
          {"window_after", {Time(x.start), Time(x.until)}},
          {"before", CountsJson(x.before)},
          {"after", CountsJson(x.after)},
          {"straddling", straddling},
          {"imprecise", x.imprecise},
          {"unmeasured", x.unmeasured},
          {"flapped", x.flapped},
          {"never_available", x.never_available},
          {"p_value", x.p_value},
          {"p_adjusted", x.p_adjusted},
          {"outcome", x.outcome},
          {"finding", x.summary}};
}

nlohmann::json ArticleJson(const ArticleHistory& a) {
  using nlohmann::json;
  auto time = [](const std::optional<int64_t>& t) { return t ? json(Time(*t)) : json(nullptr); };
  json flaps = json::array();
  for (const analysis::Flap& f : a.flaps) {
    flaps.push_back({{"last_available", time(f.last_available)},
                     {"first_removed", Time(f.first_removed)},
                     {"removal", PostStatusName(f.removal)},
                     {"available_again", Time(f.available_again)}});
  }
  return {{"url", a.url},
          {"account", a.account},
          {"title", a.title},
          {"state", analysis::ArticleStateName(a.state)},
          {"removal", a.removal ? json(PostStatusName(*a.removal)) : json(nullptr)},
          {"first_available", time(a.first_available)},
          {"last_available", time(a.last_available)},
          {"first_removed", time(a.first_removed)},
          {"flaps", flaps},
          {"first_seen", time(a.first_seen)},
          {"last_seen", time(a.last_seen)},
          {"measurements", a.measurements},
          {"unreachable", a.unreachable},
          {"unknown", a.unknown}};
}

}  // namespace

nlohmann::json EventsReportJson(const EventsReport& r, const std::string& store) {
  using nlohmann::json;
  const auto& q = r.series.query;
  json out = {{"store", store},
              {"since", Time(q.since)},
              {"until", Time(q.until)},
              {"grain", analysis::SeriesGrainName(q.grain)},
              {"rules_version", q.rules_version},
              {"measurements", r.series.rows_read},
              {"series", r.series.series.size()}};
  json names = json::object();
  for (const auto& [asn, name] : r.network_names) names[std::to_string(asn)] = name;
  out["network_names"] = names;
  json findings = json::array();
  for (const Finding& f : r.findings) {
    json x = {{"event", f.event.id},
              {"start", Time(f.event.start)},
              {"cc", f.event.cc},
              {"asns", f.event.asns},
              {"targets", f.event.targets},
              {"category", f.event.category},
              {"description", f.event.description},
              {"source_url", f.event.source_url},
              {"window_before", {Time(f.before_since), Time(f.event.start)}},
              {"window_after", {Time(f.event.start), Time(f.after_until)}},
              {"before", {{"blocked", f.before.blocked}, {"usable", f.before.usable}}},
              {"after", {{"blocked", f.after.blocked}, {"usable", f.after.usable}}},
              {"outside_before",
               {{"blocked", f.outside_before.blocked}, {"usable", f.outside_before.usable}}},
              {"outside_after",
               {{"blocked", f.outside_after.blocked}, {"usable", f.outside_after.usable}}},
              {"outside_countries", f.outside_countries},
              {"p_value", f.p_value},
              {"p_adjusted", f.p_adjusted},
              {"change_interval", {f.change_interval.low, f.change_interval.high}},
              {"diff_in_diff", f.diff_in_diff},
              {"lag_seconds", f.lag_seconds ? json(*f.lag_seconds) : json(nullptr)},
              {"blocking_events", f.blocking_event_ids},
              {"outcome", f.outcome},
              {"finding", f.summary},
              {"removals", f.removals ? RemovalFindingJson(*f.removals) : json(nullptr)}};
    findings.push_back(std::move(x));
  }
  out["findings"] = std::move(findings);
  json events = json::array();
  for (const BlockingEvent& e : r.events) {
    json techniques = json::array();
    for (const auto& [name, n] : e.techniques)
      techniques.push_back({{"technique", name}, {"count", n}});
    std::vector<std::string> layers;
    for (auto l : e.layers) layers.push_back(analysis::SeriesLayerName(l));
    json changes = json::array();
    for (const auto& c : e.changes) {
      changes.push_back({{"asn", c.key.probe_asn},
                         {"target", c.key.target},
                         {"layer", analysis::SeriesLayerName(c.key.layer)},
                         {"method", analysis::ChangeMethodName(c.change.method)},
                         {"direction", analysis::ChangeDirectionName(c.change.direction)},
                         {"onset", Time(c.change.onset)},
                         {"alarm", Time(c.change.alarm)},
                         {"before_share", c.change.before_share},
                         {"after_share", c.change.after_share},
                         {"p_value", c.change.p_value}});
    }
    events.push_back(
        {{"id", e.id},
         {"cc", e.probe_cc},
         {"asns", e.asns},
         {"targets", e.targets},
         {"layers", layers},
         {"start", Time(e.start)},
         {"end", e.end ? json(Time(*e.end)) : json(nullptr)},
         {"ongoing", !e.end.has_value()},
         {"techniques", techniques},
         {"blocked", e.blocked},
         {"usable", e.usable},
         {"p_value", e.p_value},
         {"global", e.global},
         {"global_reason", e.global_reason},
         {"data_quality",
          {{"cells", e.cells}, {"burst_cells", e.burst_cells}, {"clock_skew_cells", e.skew_cells}}},
         {"measurement_uids", e.measurement_uids},
         {"change_points", changes}});
  }
  out["events"] = std::move(events);
  out["leads"] = r.lead_ids;
  json removals = json::array();
  for (const ArticleHistory& a : r.articles) removals.push_back(ArticleJson(a));
  out["removals"] = std::move(removals);
  return out;
}

void PrintEventsReport(const EventsReport& r, const std::string& store, const std::string& format,
                       const std::string& list, const analysis::EventsOptions& options) {
  if (format == "json") {
    nlohmann::json j = EventsReportJson(r, store);
    if (list == "changes") {
      j = nlohmann::json::parse(nlohmann::json::array().dump());
      for (const auto& row : ChangesTable(r).rows) {
        nlohmann::json o;
        const auto header = ChangesTable(r).header;
        for (size_t i = 0; i < row.size(); ++i) o[header[i]] = row[i];
        j.push_back(o);
      }
    } else if (!list.empty()) {
      j = list == "leads" ? nlohmann::json(r.lead_ids) : j[list];
    }
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  const std::string which =
      !list.empty() ? list : (format == "csv" ? (r.findings.empty() ? "events" : "findings") : "");
  if (format == "csv") {
    if (which == "findings") PrintCsv(FindingsTable(r));
    if (which == "events") PrintCsv(EventsTable(r));
    if (which == "leads") PrintCsv(EventsTable(r, &r.lead_ids));
    if (which == "changes") PrintCsv(ChangesTable(r));
    if (which == "removals") PrintCsv(RemovalsTable(r));
    return;
  }
  const auto& q = r.series.query;
  std::printf("%s: %s .. %s, %s grain, rules %s; %" PRIu64 " measurements in %zu series\n",
              store.c_str(), Time(q.since).c_str(), Time(q.until).c_str(),
              analysis::SeriesGrainName(q.grain), q.rules_version.c_str(), r.series.rows_read,
              r.series.series.size());
  if (which.empty() || which == "findings") {
    size_t without = 0;
    std::printf("\nTimeline events (%zu; windows %s before, %s after):\n", r.findings.size(),
                Span(options.before_seconds).c_str(), Span(options.after_seconds).c_str());
    for (const Finding& f : r.findings) {
      if (!Measured(f)) {
        ++without;
        continue;
      }
      std::printf("  %s  %s  %-18s %s\n      %s\n", Time(f.event.start).c_str(), f.event.cc.c_str(),
                  f.outcome.c_str(), f.event.id.c_str(), f.summary.c_str());
      if (f.removals) {
        std::printf("      removals (%s): %s\n", f.removals->outcome.c_str(),
                    f.removals->summary.c_str());
      }
    }
    if (without > 0)
      std::printf("  (%zu more without measurements of their targets in their windows)\n", without);
  }
  if (which.empty() || which == "events" || which == "leads") {
    const Table t = which == "leads" ? EventsTable(r, &r.lead_ids) : EventsTable(r);
    std::printf("\nBlocking events (%zu):\n", t.rows.size());
    for (const auto& row : t.rows) {
      std::printf("  %s  %s .. %s  %s  [%s]  %s%s\n      networks: %s\n", row[0].c_str(),
                  row[6].c_str(), row[7].c_str(), row[3].c_str(), row[4].c_str(), row[5].c_str(),
                  row[11].empty() ? "" : ("  (" + row[11] + ")").c_str(), row[2].c_str());
    }
    if (which.empty()) {
      std::printf("\nLeads (blocking events no timeline event explains): %s\n",
                  r.lead_ids.empty() ? "none" : Joined(r.lead_ids, ", ").c_str());
    }
  }
  if (which == "removals" || (which.empty() && !r.articles.empty())) {
    std::printf("\nFollowed articles (%zu):\n", r.articles.size());
    for (const ArticleHistory& a : r.articles) {
      std::string seen;
      if (a.last_available) seen = "last available " + Time(*a.last_available);
      if (a.first_removed) {
        seen += (seen.empty() ? "" : "; ") + std::string("first removed ") +
                Time(*a.first_removed) + " (" + std::string(PostStatusName(*a.removal)) + ")";
      }
      if (!a.flaps.empty()) {
        seen += "; removed and available again " + std::to_string(a.flaps.size()) + "x";
      }
      std::printf("  %-15s %s  %s%s\n      %s%s%u measurements (%u unreachable, %u unknown)\n",
                  std::string(analysis::ArticleStateName(a.state)).c_str(), a.url.c_str(),
                  a.account.empty() ? "(account unknown)" : a.account.c_str(),
                  a.title.empty() ? "" : ("  \"" + a.title + "\"").c_str(), seen.c_str(),
                  seen.empty() ? "" : "; ", a.measurements, a.unreachable, a.unknown);
    }
  }
  if (which == "changes") {
    const Table t = ChangesTable(r);
    std::printf("\nChange points (%zu):\n", t.rows.size());
    for (const auto& row : t.rows) {
      std::printf("  %-5s %s AS%s %s %s %s %s  %s -> %s  p=%s\n", row[0].c_str(), row[1].c_str(),
                  row[2].c_str(), row[3].c_str(), row[4].c_str(), row[5].c_str(), row[6].c_str(),
                  row[8].c_str(), row[9].c_str(), row[10].c_str());
    }
  }
}

}  // namespace vigil::cli
