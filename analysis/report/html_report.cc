#include "analysis/report/html_report.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "base/base64.h"
#include "base/utc_time.h"
#include "base/utf8.h"

namespace vigil::analysis {

namespace {

// Ten colours that stay apart on white (D3's category10, reordered so that the first
// few, which small charts use, differ most).
constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                    "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};
constexpr size_t kColours = sizeof kPalette / sizeof kPalette[0];

// The chart's frame, in SVG user units; the plot's width is the options'.
constexpr double kMarginLeft = 48;
constexpr double kMarginRight = 18;
constexpr double kLabelRow = 14;  // one row of timeline event labels above the plot
constexpr double kPlotHeight = 200;
constexpr double kMarginBottom = 34;
constexpr double kStripRow = 5;  // a network's coverage strip under the plot
constexpr size_t kMaxLabelRows = 3;
constexpr size_t kMaxTicks = 8;
constexpr size_t kMaxLabelChars = 40;  // of a timeline event's id above a chart
constexpr double kCharWidth = 6.2;     // of 11px text, for placing labels apart

constexpr std::string_view kStyle = R"css(
:root{--fg:#1b1f24;--muted:#5c6670;--line:#d8dde3;--head:#f3f5f7;color-scheme:light}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--fg);background:#fff;margin:0}
main{max-width:1320px;margin:0 auto;padding:12px 24px 48px}
h1{font-size:22px;margin:8px 0 2px}
h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:0 0 4px}
a{color:#0b57d0}
nav a{margin-right:14px}
.meta{color:var(--muted);margin:2px 0}
.muted{color:var(--muted)}
.note{color:var(--muted);font-size:13px;margin:4px 0}
small{font-size:12px}
code,pre{font:12px/1.5 ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace}
.cards{display:flex;flex-wrap:wrap;gap:8px;margin:14px 0}
.card{border:1px solid var(--line);border-radius:6px;padding:6px 12px;min-width:112px}
.card b{display:block;font-size:20px;font-variant-numeric:tabular-nums}
.card span{color:var(--muted);font-size:12px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:5px 6px;text-align:left;vertical-align:top}
th{background:var(--head);font-weight:600}
td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.when{white-space:nowrap;font-variant-numeric:tabular-nums}
tr:target{background:#fff8d6}
td.what{min-width:16em}
.nowrap,td b{white-space:nowrap}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;white-space:nowrap;background:#eef0f2;color:#3a424a}
.o-blocking_followed{background:#fde2e1;color:#8a1c16}
.o-global_change,.global{background:#fff1d6;color:#7a4a00}
.o-no_change{background:#e6f4ea;color:#1e5b2f}
.lead{background:#e3ecfb;color:#1b3d7a}
figure.chart{margin:14px 0 24px;border:1px solid var(--line);border-radius:6px;padding:10px 12px 8px}
figure.chart:target{border-color:#0b57d0}
figure.chart svg{width:100%;height:auto;display:block}
svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;fill:#3a424a}
svg text.muted{fill:var(--muted)}
.grid line{stroke:#e9ecef}
.axis line,.axis path{stroke:#8a939c;fill:none}
.coverage{fill:none;stroke:currentColor;stroke-width:3}
.nodata{fill:#eceef1}
.nodata-label{fill:#8a939c}
.tl line{stroke:#5c6670;stroke-width:1.2;stroke-dasharray:5 3}
.tl text{fill:#1b1f24}
.series{fill:none;stroke:currentColor;stroke-width:1.8;stroke-linejoin:round}
.cp{stroke:currentColor;stroke-width:1.6}
.cp.cusum{fill:currentColor}
.cp.pelt{fill:#fff}
.hidden{display:none}
.legend{list-style:none;padding:0;margin:6px 0 0;display:flex;flex-wrap:wrap;gap:2px 18px;font-size:13px}
.legend button{font:inherit;border:0;background:none;padding:1px 2px;cursor:pointer;color:var(--fg)}
.legend button[aria-pressed=false]{opacity:.45;text-decoration:line-through}
.sw{display:inline-block;width:20px;height:3px;margin:0 6px 3px 0;vertical-align:middle;background:currentColor}
.key{font-size:12px;color:var(--muted);margin:4px 0 0}
.uidlist{margin:10px 0}
.uidlist pre{background:#f6f8fa;border:1px solid var(--line);border-radius:4px;padding:6px 10px;margin:4px 0;max-height:16em;overflow:auto;user-select:all}
)css";

// Runs first: any later error, or anything the policy refused, is written on <html> where
// a reader (or a test reading the DOM) sees it.
constexpr std::string_view kHeadScript =
    "window.onerror=function(m){document.documentElement.setAttribute('data-js-error',String(m));"
    "};document.addEventListener('securitypolicyviolation',function(e){document.documentElement."
    "setAttribute('data-csp-violation',e.violatedDirective+' '+e.blockedURI);});";

// Legend entries switch their network's line and markers; the last act marks the page ready.
constexpr std::string_view kBodyScript =
    "document.querySelectorAll('.legend button[data-series]').forEach(function(b){"
    "b.addEventListener('click',function(){var on=b.getAttribute('aria-pressed')!=='false';"
    "b.setAttribute('aria-pressed',on?'false':'true');"
    "b.closest('figure').querySelectorAll('svg [data-series=\"'+b.getAttribute('data-series')+"
    "'\"]').forEach(function(e){e.classList.toggle('hidden',on);});});});"
    "document.body.setAttribute('data-report','ready');";

// The style sheet, with a class per colour of the palette (lines, markers and swatches draw
// in currentColor).
const std::string& Style() {
  static const std::string style = [] {
    std::string out(kStyle);
    for (size_t i = 0; i < kColours; ++i) {
      out += ".c" + std::to_string(i) + "{color:" + kPalette[i] + "}\n";
    }
    return out;
  }();
  return style;
}

std::string Sha256Base64(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

template <typename... Args>
std::string Printf(const char* format, Args... args) {
  char out[96];
  const int n = std::snprintf(out, sizeof out, format, args...);
  return std::string(out, n < 0 ? 0 : std::min<size_t>(n, sizeof out - 1));
}

// A coordinate: one decimal, without a trailing ".0".
std::string Coord(double v) {
  std::string s = Printf("%.1f", std::round(v * 10) / 10);
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  if (s == "-0") s = "0";
  return s;
}

std::string Thousands(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// "2024-05-28" at midnight, "2024-05-28 09:00" otherwise (seconds when there are any).
std::string When(int64_t t) {
  if (t % 86400 == 0) return FormatUtc(static_cast<std::time_t>(t), "%Y-%m-%d");
  if (t % 60 == 0) return FormatUtc(static_cast<std::time_t>(t), "%Y-%m-%d %H:%M");
  return FormatUtc(static_cast<std::time_t>(t), "%Y-%m-%d %H:%M:%S");
}

std::string Percent(double share) { return Printf("%.1f%%", share * 100); }

std::string Points(double difference) {
  return std::isfinite(difference) ? Printf("%+.1f pp", difference * 100) : "-";
}

std::string PValue(double p) {
  if (!std::isfinite(p)) return "-";
  if (p >= 0.001) return Printf("%.3g", p);
  if (p <= 0) return "0";
  return Printf("%.1e", p);
}

// "+2 d 3 h", "+45 min", "-1 h"; the two largest units.
std::string Duration(int64_t seconds) {
  const char sign = seconds < 0 ? '-' : '+';
  uint64_t s = seconds < 0 ? -static_cast<uint64_t>(seconds) : static_cast<uint64_t>(seconds);
  const uint64_t days = s / 86400, hours = s % 86400 / 3600, minutes = s % 3600 / 60;
  std::string out(1, sign);
  if (days)
    return out + std::to_string(days) + " d" + (hours ? " " + std::to_string(hours) + " h" : "");
  if (hours) {
    return out + std::to_string(hours) + " h" +
           (minutes ? " " + std::to_string(minutes) + " min" : "");
  }
  if (minutes) return out + std::to_string(minutes) + " min";
  return s ? out + std::to_string(s) + " s" : "0";
}

// Only http(s) links leave the page; anything else (javascript:, data:) is not a link.
bool IsWebUrl(std::string_view url) {
  auto starts = [&](std::string_view prefix) {
    if (url.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(url[i])) != prefix[i]) return false;
    }
    return true;
  };
  return starts("http://") || starts("https://");
}

// A word usable in a class name: letters, digits, '_' and '-' only.
std::string ClassWord(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') out += c;
  }
  return out;
}

std::string Words(std::string_view outcome) {
  std::string out(outcome);
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

// UTC calendar arithmetic for axis ticks (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

struct Ticks {
  std::vector<int64_t> at;
  const char* format = "%Y-%m-%d";
};

// At most kMaxTicks round times in [since, until]: minutes and hours on the clock, days
// at midnight, weeks on Mondays, months on the 1st.
Ticks TimeTicks(int64_t since, int64_t until) {
  Ticks ticks;
  const int64_t span = until - since;
  if (span <= 0) return ticks;
  static constexpr int64_t kSteps[] = {60,        300,       900,       1800,      3600,
                                       2 * 3600,  3 * 3600,  6 * 3600,  12 * 3600, 86400,
                                       2 * 86400, 7 * 86400, 14 * 86400};
  for (int64_t step : kSteps) {
    if (span / step > static_cast<int64_t>(kMaxTicks)) continue;
    const int64_t origin = step >= 7 * 86400 ? 4 * 86400 : 0;  // 1970-01-05 was a Monday
    for (int64_t t = origin - FloorDiv(origin - since, step) * step; t <= until; t += step) {
      ticks.at.push_back(t);
    }
    ticks.format = step < 86400 ? "%m-%d %H:%M" : "%Y-%m-%d";
    return ticks;
  }
  std::tm tm{};
  const std::time_t start = since;
  ::gmtime_r(&start, &tm);
  for (int64_t months : {1, 2, 3, 6, 12, 24, 60, 120, 600}) {
    if (span / (months * 2629746) > static_cast<int64_t>(kMaxTicks)) continue;
    for (int64_t index = (tm.tm_year + 1900) * 12LL + tm.tm_mon;; ++index) {
      const int64_t t = DaysFromCivil(index / 12, static_cast<unsigned>(index % 12) + 1, 1) * 86400;
      if (t > until) break;
      if (t >= since && index % months == 0) ticks.at.push_back(t);
    }
    ticks.format = months >= 12 ? "%Y" : "%Y-%m";
    return ticks;
  }
  return ticks;
}

// Cells summed into at most one bucket per horizontal unit of the plot.
struct Bucket {
  int64_t from = 0, to = 0;
  uint64_t blocked = 0, usable = 0;
};

struct ChartLine {
  const Series* series = nullptr;
  size_t index = 0;  // in the chart, for the legend's switch
  size_t colour = 0;
  uint64_t measurements = 0, usable = 0, blocked = 0;
  size_t changes = 0;
  size_t cells_per_bucket = 1;
  std::vector<Bucket> buckets;
};

struct Chart {
  std::string target;
  std::vector<ChartLine> lines;
  std::set<std::string> countries;
  size_t networks = 0;  // with usable measurements, drawn or not
  uint64_t usable = 0;
  size_t changes = 0;
  bool has_events = false;
};

class Renderer {
 public:
  Renderer(const EventsReport& report, const HtmlReportOptions& options)
      : report_(report), options_(options) {
    plot_width_ = std::max(options.plot_width, 100);
    for (size_t i = 0; i < report.events.size(); ++i) event_index_[report.events[i].id] = i;
    leads_.insert(report.lead_ids.begin(), report.lead_ids.end());
    for (size_t i = 0; i < report.findings.size(); ++i) {
      for (const std::string& id : report.findings[i].blocking_event_ids) {
        explained_by_[id].push_back(i);
      }
    }
    for (const SeriesChange& c : report.changes) ++changes_per_series_[c.key];
    WindowOfSeries();
  }

  std::string Render() {
    std::string body;
    Header(body);
    Findings(body);
    Leads(body);
    Events(body);
    Charts(body);
    Uids(body);
    body += "<footer class=\"note\">All times are UTC. Generated by vigil report";
    if (options_.generated_at) body += " at " + HtmlEscape(When(options_.generated_at));
    body += ".</footer>\n";

    std::string page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    // The policy comes first, so that it governs everything after it: nothing may load,
    // and only this page's own style and scripts (by their hashes) apply.
    page +=
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
        "'sha256-" +
        Sha256Base64(Style()) + "'; script-src 'sha256-" + Sha256Base64(kHeadScript) +
        "' 'sha256-" + Sha256Base64(kBodyScript) +
        "'; img-src 'none'; base-uri 'none'; form-action 'none'\">\n";
    page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    page += "<meta name=\"referrer\" content=\"no-referrer\">\n";
    page += "<title>" + HtmlEscape(options_.title) + "</title>\n";
    page += "<script>" + std::string(kHeadScript) + "</script>\n";
    page += "<style>" + Style() + "</style>\n</head>\n<body>\n<main>\n";
    page += body;
    page += "</main>\n<script>" + std::string(kBodyScript) + "</script>\n</body>\n</html>\n";
    return page;
  }

 private:
  std::string Network(uint32_t asn) const {
    std::string label = "AS" + std::to_string(asn);
    auto it = report_.network_names.find(asn);
    if (it != report_.network_names.end() && !it->second.empty()) label += " " + it->second;
    return label;
  }

  // A blocking event's id, linked to its row when the table lists it (and, with `uids`, to
  // its measurement uids too).
  std::string EventLink(const std::string& id, bool uids = false) const {
    auto it = event_index_.find(id);
    if (it == event_index_.end() || it->second >= options_.max_events) return HtmlEscape(id);
    const std::string i = std::to_string(it->second);
    std::string link = "<a href=\"#event-" + i + "\">" + HtmlEscape(id) + "</a>";
    if (uids && !report_.events[it->second].measurement_uids.empty()) {
      link += " <small><a href=\"#uids-" + i + "\">uids</a></small>";
    }
    return link;
  }

  // The window the charts span: the query's, else the series' own extent.
  void WindowOfSeries() {
    since_ = report_.series.query.since;
    until_ = report_.series.query.until;
    if (until_ > since_) return;
    bool first = true;
    for (const Series& s : report_.series.series) {
      const int64_t from = s.since, to = s.CellTime(s.cells.size());
      since_ = first ? from : std::min(since_, from);
      until_ = first ? to : std::max(until_, to);
      first = false;
    }
  }

  void Header(std::string& out) const {
    const SeriesQuery& q = report_.series.query;
    out += "<header>\n<h1>" + HtmlEscape(options_.title) + "</h1>\n";
    out += "<p class=\"meta\">Window " + HtmlEscape(When(since_)) + " .. " +
           HtmlEscape(When(until_)) + " (UTC, end exclusive), " + SeriesGrainName(q.grain) +
           " cells";
    if (!q.rules_version.empty()) out += ", rules " + HtmlEscape(q.rules_version);
    out += "</p>\n";
    std::string filters;
    auto add = [&](const std::string& what) { filters += (filters.empty() ? "" : "; ") + what; };
    if (!q.probe_cc.empty()) add("country " + HtmlEscape(q.probe_cc));
    if (!q.probe_asns.empty()) {
      std::string asns;
      for (uint32_t asn : q.probe_asns)
        asns += (asns.empty() ? "" : ", ") + HtmlEscape(Network(asn));
      add("networks " + asns);
    }
    if (!q.targets.empty()) {
      std::string targets;
      for (const auto& t : q.targets) targets += (targets.empty() ? "" : ", ") + HtmlEscape(t);
      add("targets " + targets);
    }
    if (!q.test_name.empty()) add("test " + HtmlEscape(q.test_name));
    if (!filters.empty()) out += "<p class=\"meta\">Only " + filters + "</p>\n";
    if (!options_.source.empty() || options_.generated_at) {
      out += "<p class=\"meta\">";
      if (!options_.source.empty()) out += "From " + HtmlEscape(options_.source);
      if (options_.generated_at) {
        out += std::string(options_.source.empty() ? "Generated " : ", generated ") +
               HtmlEscape(When(options_.generated_at));
      }
      out += "</p>\n";
    }

    // Whole measurements are counted once, in the series of layer any.
    std::set<std::pair<std::string, uint32_t>> networks;
    std::set<std::string> targets;
    uint64_t measurements = 0;
    for (const Series& s : report_.series.series) {
      networks.insert({s.key.probe_cc, s.key.probe_asn});
      targets.insert(s.key.target);
      if (s.key.layer != SeriesLayer::kAny) continue;
      for (const SeriesCell& c : s.cells) measurements += c.measurements;
    }
    size_t cusum = 0, pelt = 0, global = 0, followed = 0;
    for (const SeriesChange& c : report_.changes) {
      (c.change.method == ChangeMethod::kCusum ? cusum : pelt)++;
    }
    for (const BlockingEvent& e : report_.events) global += e.global;
    for (const Finding& f : report_.findings) followed += f.outcome == "blocking_followed";
    auto card = [&](const std::string& value, const std::string& what) {
      out += "<div class=\"card\"><b>" + value + "</b><span>" + what + "</span></div>";
    };
    out += "<div class=\"cards\">";
    card(Thousands(measurements), "measurements");
    card(Thousands(networks.size()), "networks");
    card(Thousands(targets.size()), "targets");
    card(Thousands(report_.changes.size()),
         "change points (" + std::to_string(cusum) + " CUSUM, " + std::to_string(pelt) + " PELT)");
    card(Thousands(report_.events.size()),
         "blocking events" + (global ? " (" + std::to_string(global) + " global)" : std::string()));
    card(Thousands(report_.findings.size()),
         "timeline events (" + std::to_string(followed) + " followed by blocking)");
    card(Thousands(report_.lead_ids.size()), "leads");
    out += "</div>\n";
    out +=
        "<nav><a href=\"#findings\">Findings</a><a href=\"#leads\">Leads</a><a "
        "href=\"#events\">Blocking events</a><a href=\"#charts\">Charts</a><a "
        "href=\"#measurements\">Measurements</a></nav>\n</header>\n";
  }

  std::string CountsCell(const Counts& c) const {
    if (!c.usable) return "<span class=\"muted\">no data</span>";
    return Percent(c.share()) + " <small>(" + Thousands(c.blocked) + "/" + Thousands(c.usable) +
           ")</small>";
  }

  void Findings(std::string& out) const {
    out += "<section id=\"findings\">\n<h2>Findings: timeline events against the data</h2>\n";
    if (report_.findings.empty()) {
      out +=
          "<p class=\"note\">No timeline events were scored (give timeline files with "
          "--timeline).</p>\n</section>\n";
      return;
    }
    out +=
        "<p class=\"note\">Blocked share within each event's scope in the windows before and "
        "after its start; Fisher's exact test (one-sided), p adjusted by Holm over the run; the "
        "change's 95% interval (Newcombe); difference-in-differences against the same targets "
        "outside the scope; lag from the event to the first onset in scope.</p>\n";
    out +=
        "<table class=\"findings\">\n<thead><tr><th>Start</th><th>Timeline event</th>"
        "<th>Scope</th><th>Outcome</th><th>Finding</th><th>Blocked before &rarr; after</th>"
        "<th>Change [95% CI]</th><th>Diff-in-diff</th><th>p (adjusted)</th><th>Lag</th>"
        "<th>Blocking events</th></tr></thead>\n<tbody>\n";
    for (size_t i = 0; i < report_.findings.size(); ++i) {
      const Finding& f = report_.findings[i];
      const TimelineEvent& e = f.event;
      out += "<tr id=\"finding-" + std::to_string(i) + "\" class=\"finding\">";
      out += "<td class=\"when\">" + HtmlEscape(When(e.start));
      if (e.end) out += "<br><small>to " + HtmlEscape(When(e.end)) + "</small>";
      out += "</td><td class=\"what\"><b>" + HtmlEscape(e.id) + "</b> <span class=\"badge\">" +
             HtmlEscape(e.category) + "</span><br><small>" + HtmlEscape(e.description) + "</small>";
      if (IsWebUrl(e.source_url)) {
        out += "<br><small><a class=\"source\" href=\"" + HtmlEscape(e.source_url) +
               "\" rel=\"noopener noreferrer\">source</a></small>";
      } else if (!e.source_url.empty()) {
        out += "<br><small class=\"muted\">source: " + HtmlEscape(e.source_url) + "</small>";
      }
      out += "</td><td class=\"nowrap\">" + HtmlEscape(e.cc) + "<br><small>";
      if (e.asns.empty()) {
        out += "all networks";
      } else {
        for (size_t k = 0; k < e.asns.size(); ++k)
          out += (k ? ", " : "") + HtmlEscape(Network(e.asns[k]));
      }
      out += "<br>";
      if (e.targets.empty()) {
        out += "all targets";
      } else {
        for (size_t k = 0; k < e.targets.size(); ++k)
          out += (k ? ", " : "") + HtmlEscape(e.targets[k]);
      }
      out += "</small></td>";
      out += "<td><span class=\"badge o-" + ClassWord(f.outcome) + "\">" +
             HtmlEscape(Words(f.outcome)) + "</span></td>";
      out += "<td>" + HtmlEscape(f.summary) + "</td>";
      out += "<td class=\"num\" title=\"before " + HtmlEscape(When(f.before_since)) + " .. " +
             HtmlEscape(When(e.start)) + ", after " + HtmlEscape(When(e.start)) + " .. " +
             HtmlEscape(When(f.after_until)) + "\">" + CountsCell(f.before) + "<br>&rarr; " +
             CountsCell(f.after) + "<br><small class=\"muted\">outside " +
             Percent(f.outside_before.share()) + " &rarr; " + Percent(f.outside_after.share()) +
             "</small></td>";
      out += "<td class=\"num\">" + Points(f.after.share() - f.before.share()) + "<br><small>[" +
             Printf("%+.1f, %+.1f", f.change_interval.low * 100, f.change_interval.high * 100) +
             "]</small></td>";
      out += "<td class=\"num\">" + Points(f.diff_in_diff) + "</td>";
      out += "<td class=\"num\">" + PValue(f.p_value) + "<br><small>adj. " + PValue(f.p_adjusted) +
             "</small></td>";
      out += "<td class=\"num\">" + (f.lag_seconds ? Duration(*f.lag_seconds) : std::string("-")) +
             "</td><td>";
      for (size_t k = 0; k < f.blocking_event_ids.size(); ++k) {
        out += (k ? "<br>" : "") + EventLink(f.blocking_event_ids[k], true);
      }
      if (f.blocking_event_ids.empty()) out += "<span class=\"muted\">none</span>";
      out += "</td></tr>\n";
    }
    out += "</tbody>\n</table>\n</section>\n";
  }

  void Leads(std::string& out) const {
    out += "<section id=\"leads\">\n<h2>Leads: blocking no timeline event explains</h2>\n";
    if (report_.lead_ids.empty()) {
      out += "<p class=\"note\">None.</p>\n</section>\n";
      return;
    }
    out += "<ul class=\"leads\">\n";
    for (const std::string& id : report_.lead_ids) {
      out += "<li>" + EventLink(id);
      auto it = event_index_.find(id);
      if (it != event_index_.end()) {
        const BlockingEvent& e = report_.events[it->second];
        out += " <span class=\"muted\">" + HtmlEscape(e.probe_cc) + ", from " +
               HtmlEscape(When(e.start)) + ", " + std::to_string(e.asns.size()) +
               (e.asns.size() == 1 ? " network" : " networks") + (e.global ? ", global" : "") +
               "</span>";
      }
      out += "</li>\n";
    }
    out += "</ul>\n</section>\n";
  }

  void Events(std::string& out) const {
    out += "<section id=\"events\">\n<h2>Blocking events</h2>\n";
    if (report_.events.empty()) {
      out +=
          "<p class=\"note\">No change points started blocking in this window.</p>\n</section>\n";
      return;
    }
    out +=
        "<p class=\"note\">Change points that started blocking, grouped by country and "
        "target. Global: seen outside the country at the same time, or with the target down "
        "for the controls &mdash; an outage, not censorship.</p>\n";
    out +=
        "<table class=\"events\">\n<thead><tr><th>Event</th><th>Country</th><th>Networks</th>"
        "<th>Targets</th><th>Layers</th><th>Technique</th><th>Start</th><th>End</th>"
        "<th>Blocked</th><th>p</th><th>Global</th><th>Measurements</th></tr></thead>\n<tbody>\n";
    const size_t shown = std::min(report_.events.size(), options_.max_events);
    for (size_t i = 0; i < shown; ++i) {
      const BlockingEvent& e = report_.events[i];
      out += "<tr id=\"event-" + std::to_string(i) + "\" class=\"event\"><td><b>" +
             HtmlEscape(e.id) + "</b>";
      if (leads_.count(e.id)) out += " <span class=\"badge lead\">lead</span>";
      auto explained = explained_by_.find(e.id);
      if (explained != explained_by_.end()) {
        out += "<br><small>after ";
        for (size_t k = 0; k < explained->second.size(); ++k) {
          const size_t f = explained->second[k];
          out += (k ? ", " : "") + std::string("<a href=\"#finding-") + std::to_string(f) + "\">" +
                 HtmlEscape(report_.findings[f].event.id) + "</a>";
        }
        out += "</small>";
      }
      out += "</td><td>" + HtmlEscape(e.probe_cc) + "</td><td class=\"nowrap\">";
      for (size_t k = 0; k < e.asns.size(); ++k) {
        out += (k ? "<br>" : "") + HtmlEscape(Network(e.asns[k]));
      }
      out += "</td><td>";
      for (size_t k = 0; k < e.targets.size(); ++k)
        out += (k ? "<br>" : "") + HtmlEscape(e.targets[k]);
      out += "</td><td>";
      for (size_t k = 0; k < e.layers.size(); ++k) {
        out += std::string(k ? ", " : "") + SeriesLayerName(e.layers[k]);
      }
      out += "</td><td>";
      for (size_t k = 0; k < e.techniques.size(); ++k) {
        out += (k ? "<br>" : "") + HtmlEscape(e.techniques[k].first) + " <small class=\"muted\">(" +
               Thousands(e.techniques[k].second) + ")</small>";
      }
      out += "</td><td class=\"when\">" + HtmlEscape(When(e.start)) + "</td><td class=\"when\">" +
             (e.end ? HtmlEscape(When(*e.end)) : std::string("<i>ongoing</i>")) + "</td>";
      out += "<td class=\"num\">" + CountsCell(Counts{e.blocked, e.usable}) + "</td>";
      out += "<td class=\"num\">" + PValue(e.p_value) + "</td><td>";
      if (e.global) {
        out += "<span class=\"badge global\">global</span><br><small>" +
               HtmlEscape(e.global_reason) + "</small>";
      } else {
        out += "<span class=\"muted\">no</span>";
      }
      out += "</td><td>";
      if (e.measurement_uids.empty()) {
        out += "<span class=\"muted\">none</span>";
      } else {
        const size_t listed = std::min(e.measurement_uids.size(), options_.max_uids_per_event);
        out += "<a href=\"#uids-" + std::to_string(i) + "\">" + std::to_string(listed) +
               (listed == 1 ? " uid" : " uids") + "</a>";
      }
      out += "</td></tr>\n";
    }
    out += "</tbody>\n</table>\n";
    if (shown < report_.events.size()) {
      out += "<p class=\"note\">" + Thousands(report_.events.size() - shown) +
             " later blocking events are not listed (at most " + Thousands(options_.max_events) +
             ").</p>\n";
    }
    out += "</section>\n";
  }

  // The targets to chart, with the networks to draw in each.
  std::vector<Chart> PlanCharts() const {
    std::map<std::string, Chart> by_target;
    for (const Series& s : report_.series.series) {
      if (s.key.layer != options_.chart_layer) continue;
      ChartLine line;
      line.series = &s;
      for (const SeriesCell& c : s.cells) {
        line.measurements += c.measurements;
        line.usable += c.usable;
        line.blocked += c.blocked;
      }
      if (!line.usable) continue;
      auto changes = changes_per_series_.find(s.key);
      line.changes = changes == changes_per_series_.end() ? 0 : changes->second;
      Chart& chart = by_target[s.key.target];
      chart.target = s.key.target;
      chart.usable += line.usable;
      chart.changes += line.changes;
      chart.lines.push_back(std::move(line));
    }
    std::set<std::string> event_targets;
    for (const BlockingEvent& e : report_.events)
      event_targets.insert(e.targets.begin(), e.targets.end());
    std::vector<Chart> charts;
    for (auto& [target, chart] : by_target) {
      chart.has_events = event_targets.count(target) > 0;
      chart.networks = chart.lines.size();
      std::stable_sort(chart.lines.begin(), chart.lines.end(),
                       [](const ChartLine& a, const ChartLine& b) {
                         if ((a.changes > 0) != (b.changes > 0)) return a.changes > 0;
                         return a.usable > b.usable;
                       });
      if (chart.lines.size() > options_.max_series_per_chart)
        chart.lines.resize(options_.max_series_per_chart);
      std::sort(chart.lines.begin(), chart.lines.end(), [](const ChartLine& a, const ChartLine& b) {
        return a.series->key < b.series->key;
      });
      for (ChartLine& line : chart.lines) chart.countries.insert(line.series->key.probe_cc);
      charts.push_back(std::move(chart));
    }
    std::stable_sort(charts.begin(), charts.end(), [](const Chart& a, const Chart& b) {
      if (a.has_events != b.has_events) return a.has_events;
      if (a.changes != b.changes) return a.changes > b.changes;
      return a.usable > b.usable;
    });
    // One colour per network across every chart when the palette allows it.
    std::set<std::pair<std::string, uint32_t>> drawn;
    for (const Chart& chart : charts) {
      for (const ChartLine& line : chart.lines)
        drawn.insert({line.series->key.probe_cc, line.series->key.probe_asn});
    }
    std::map<std::pair<std::string, uint32_t>, size_t> colour;
    for (const auto& network : drawn) colour.emplace(network, colour.size());
    for (Chart& chart : charts) {
      for (size_t i = 0; i < chart.lines.size(); ++i) {
        ChartLine& line = chart.lines[i];
        line.index = i;
        line.colour = drawn.size() <= kColours
                          ? colour[{line.series->key.probe_cc, line.series->key.probe_asn}]
                          : i % kColours;
      }
    }
    return charts;
  }

  double X(int64_t t) const {
    const double span = static_cast<double>(until_ - since_);
    const double at = span > 0 ? static_cast<double>(t - since_) / span : 0;
    return kMarginLeft + std::clamp(at, 0.0, 1.0) * plot_width_;
  }

  void Charts(std::string& out) const {
    out += "<section id=\"charts\">\n<h2>Blocked share per network</h2>\n";
    std::vector<Chart> charts = PlanCharts();
    if (charts.empty() || until_ <= since_) {
      out += "<p class=\"note\">No series with usable measurements at layer " +
             std::string(SeriesLayerName(options_.chart_layer)) + ".</p>\n</section>\n";
      return;
    }
    out += "<p class=\"note\">Layer " + std::string(SeriesLayerName(options_.chart_layer)) +
           ": the share of usable measurements that were blocked, per " +
           SeriesGrainName(report_.series.query.grain) +
           " (cells merged where there are more than the chart is wide). A gap in a line is a "
           "cell without usable measurements; the strips under a chart show when each network "
           "had some, and grey bands when none had. &#9650; blocking started, &#9660; it ended "
           "(filled: CUSUM, outlined: PELT); dashed lines are timeline events. Click a network "
           "in a legend to hide it.</p>\n";
    const size_t shown = std::min(charts.size(), options_.max_charts);
    for (size_t i = 0; i < shown; ++i) Chart1(out, charts[i], i);
    if (shown < charts.size()) {
      out += "<p class=\"note\">" + Thousands(charts.size() - shown) +
             " more targets are not charted (at most " + Thousands(options_.max_charts) +
             "; targets with blocking events first, then those with the most change points, then "
             "the most "
             "measured).</p>\n";
    }
    out += "</section>\n";
  }

  void Chart1(std::string& out, Chart& chart, size_t number) const {
    const bool many_countries = chart.countries.size() > 1;
    auto label = [&](const SeriesKey& key) {
      return (many_countries ? key.probe_cc + " " : std::string()) + Network(key.probe_asn);
    };
    // Buckets, and the times no drawn network has a usable measurement.
    std::vector<std::pair<int64_t, int64_t>> covered;
    for (ChartLine& line : chart.lines) {
      const Series& s = *line.series;
      const size_t n = s.cells.size();
      line.cells_per_bucket = std::max<size_t>(1, (n + plot_width_ - 1) / plot_width_);
      for (size_t i = 0; i < n; i += line.cells_per_bucket) {
        const size_t end = std::min(n, i + line.cells_per_bucket);
        Bucket b{s.CellTime(i), s.CellTime(end), 0, 0};
        for (size_t k = i; k < end; ++k) {
          b.blocked += s.cells[k].blocked;
          b.usable += s.cells[k].usable;
        }
        if (b.usable) covered.push_back({b.from, b.to});
        line.buckets.push_back(b);
      }
    }
    std::sort(covered.begin(), covered.end());
    std::vector<std::pair<int64_t, int64_t>> gaps;
    int64_t reached = since_;
    for (const auto& [from, to] : covered) {
      if (from > reached) gaps.push_back({reached, from});
      reached = std::max(reached, to);
    }
    if (reached < until_) gaps.push_back({reached, until_});

    // Timeline events in the chart's countries and scope, their labels in rows apart.
    struct Mark {
      size_t finding;
      double x;
      size_t row = 0;
      bool left = false;  // label to the left of the line (near the right edge)
    };
    std::vector<Mark> marks;
    for (size_t i = 0; i < report_.findings.size(); ++i) {
      const TimelineEvent& e = report_.findings[i].event;
      if (!chart.countries.count(e.cc) || e.start < since_ || e.start > until_) continue;
      if (!e.targets.empty() &&
          std::find(e.targets.begin(), e.targets.end(), chart.target) == e.targets.end()) {
        continue;
      }
      marks.push_back({i, X(e.start)});
    }
    std::sort(marks.begin(), marks.end(), [](const Mark& a, const Mark& b) { return a.x < b.x; });
    std::vector<double> row_end;
    const double right = kMarginLeft + plot_width_;
    for (Mark& m : marks) {
      const double width =
          8 + kCharWidth *
                  std::min<size_t>(report_.findings[m.finding].event.id.size(), kMaxLabelChars);
      m.left = m.x + width > right + kMarginRight;
      const double from = m.left ? m.x - width : m.x, to = m.left ? m.x : m.x + width;
      size_t row = 0;
      while (row < row_end.size() && row_end[row] > from) ++row;
      if (row == row_end.size() && row_end.size() == kMaxLabelRows) {
        row = std::min_element(row_end.begin(), row_end.end()) - row_end.begin();
      }
      if (row == row_end.size()) row_end.push_back(0);
      row_end[row] = to;
      m.row = row;
    }
    const double top = 8 + kLabelRow * std::max<size_t>(1, row_end.size());
    const double bottom = top + kPlotHeight;
    const double width = kMarginLeft + plot_width_ + kMarginRight;
    // Under the plot, a strip per network: where it had usable measurements. A drought shows
    // there even where lines overlap.
    const double strips = bottom + 4, strips_end = strips + kStripRow * chart.lines.size() + 2;
    const double height = strips_end + kMarginBottom;
    auto y = [&](double share) { return std::round((top + (1 - share) * kPlotHeight) * 10) / 10; };

    out += "<figure class=\"chart\" id=\"chart-" + std::to_string(number) + "\" data-target=\"" +
           HtmlEscape(chart.target) + "\">\n<h3>" + HtmlEscape(chart.target) + "</h3>\n";
    out += "<svg viewBox=\"0 0 " + Coord(width) + " " + Coord(height) +
           "\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"Blocked share of " +
           HtmlEscape(chart.target) + " per network over time\">\n";
    // Grid and the share axis.
    out += "<g class=\"grid\">";
    for (int q = 0; q <= 4; ++q) {
      const std::string yy = Coord(y(q / 4.0));
      out += "<line x1=\"" + Coord(kMarginLeft) + "\" x2=\"" + Coord(right) + "\" y1=\"" + yy +
             "\" y2=\"" + yy + "\"/>";
    }
    const Ticks ticks = TimeTicks(since_, until_);
    for (int64_t t : ticks.at) {
      const std::string tx = Coord(X(t));
      out += "<line x1=\"" + tx + "\" x2=\"" + tx + "\" y1=\"" + Coord(top) + "\" y2=\"" +
             Coord(strips_end + 4) + "\"/>";
    }
    out += "</g>\n";
    // No measurements anywhere: grey bands under everything.
    out += "<g class=\"nodata\">";
    for (const auto& [from, to] : gaps) {
      const double x0 = X(from), x1 = X(to);
      if (x1 - x0 < 0.05) continue;
      out += "<rect x=\"" + Coord(x0) + "\" y=\"" + Coord(top) + "\" width=\"" + Coord(x1 - x0) +
             "\" height=\"" + Coord(kPlotHeight) + "\"><title>no usable measurements " +
             HtmlEscape(When(from)) + " .. " + HtmlEscape(When(to)) + "</title></rect>";
    }
    out += "</g>\n";
    // Timeline events.
    for (const Mark& m : marks) {
      const TimelineEvent& e = report_.findings[m.finding].event;
      std::string id = e.id;
      if (id.size() > kMaxLabelChars) id = id.substr(0, kMaxLabelChars - 1) + "\u2026";
      const double text_y = 8 + kLabelRow * (m.row + 1) - 3;
      out += "<g class=\"tl\" data-event=\"" + HtmlEscape(e.id) + "\"><title>" + HtmlEscape(e.id) +
             " (" + HtmlEscape(When(e.start)) +
             (e.end ? " .. " + HtmlEscape(When(e.end)) : std::string()) +
             "): " + HtmlEscape(e.description) + "</title><line x1=\"" + Coord(m.x) + "\" x2=\"" +
             Coord(m.x) + "\" y1=\"" + Coord(text_y - 8) + "\" y2=\"" + Coord(bottom) +
             "\"/><a href=\"#finding-" + std::to_string(m.finding) + "\"><text x=\"" +
             Coord(m.left ? m.x - 4 : m.x + 4) + "\" y=\"" + Coord(text_y) + "\"" +
             (m.left ? " text-anchor=\"end\"" : "") + ">" + HtmlEscape(id) + "</text></a></g>\n";
    }
    // One path per network: a step per bucket, a new subpath after every empty bucket, so a
    // drought is a gap. Runs of the same share are one segment.
    for (const ChartLine& line : chart.lines) {
      std::string d;
      bool open = false;
      double run_y = 0, run_end = 0;
      for (const Bucket& b : line.buckets) {
        if (!b.usable) {
          if (open) d += "H" + Coord(run_end);
          open = false;
          continue;
        }
        const double yy = y(static_cast<double>(b.blocked) / b.usable);
        if (!open) {
          d += "M" + Coord(X(b.from)) + " " + Coord(yy);
          open = true;
        } else if (yy != run_y) {
          d += "H" + Coord(run_end) + "V" + Coord(yy);
        }
        run_y = yy;
        run_end = X(b.to);
      }
      if (open) d += "H" + Coord(run_end);
      out += "<path class=\"series c" + std::to_string(line.colour) + "\" data-series=\"" +
             std::to_string(line.index) + "\" d=\"" + d + "\"><title>" +
             HtmlEscape(label(line.series->key)) + "</title></path>\n";
      std::string strip;
      const std::string strip_y = Coord(strips + kStripRow * (line.index + 0.5));
      for (size_t i = 0; i < line.buckets.size();) {
        if (!line.buckets[i].usable) {
          ++i;
          continue;
        }
        const size_t from = i;
        while (i < line.buckets.size() && line.buckets[i].usable) ++i;
        strip += "M" + Coord(X(line.buckets[from].from)) + " " + strip_y + "H" +
                 Coord(X(line.buckets[i - 1].to));
      }
      out += "<path class=\"coverage c" + std::to_string(line.colour) + "\" data-series=\"" +
             std::to_string(line.index) + "\" d=\"" + strip + "\"><title>" +
             HtmlEscape(label(line.series->key)) + ": usable measurements</title></path>\n";
    }
    // Change points of the drawn series, on their line.
    std::map<SeriesKey, const ChartLine*> line_of;
    for (const ChartLine& line : chart.lines) line_of[line.series->key] = &line;
    // PELT's hollow marker is larger and drawn first, so that where both methods agree the
    // filled CUSUM marker sits inside it.
    std::vector<const SeriesChange*> marked;
    for (const SeriesChange& c : report_.changes) {
      if (line_of.count(c.key)) marked.push_back(&c);
    }
    std::stable_sort(marked.begin(), marked.end(),
                     [](const SeriesChange* a, const SeriesChange* b) {
                       return (a->change.method == ChangeMethod::kPelt) >
                              (b->change.method == ChangeMethod::kPelt);
                     });
    for (const SeriesChange* change : marked) {
      const SeriesChange& c = *change;
      auto it = line_of.find(c.key);
      const ChartLine& line = *it->second;
      const ChangePoint& p = c.change;
      const size_t bucket = p.cell / line.cells_per_bucket;
      double share = p.after_share;
      if (bucket < line.buckets.size() && line.buckets[bucket].usable) {
        share = static_cast<double>(line.buckets[bucket].blocked) / line.buckets[bucket].usable;
      }
      const double mx = X(p.onset), my = y(share);
      const bool start = p.direction == ChangeDirection::kStart;
      const double size = p.method == ChangeMethod::kPelt ? 14 : 9;
      out += "<path class=\"cp " + std::string(ChangeDirectionName(p.direction)) + " " +
             ChangeMethodName(p.method) + " c" + std::to_string(line.colour) + "\" data-series=\"" +
             std::to_string(line.index) + "\" d=\"M" + Coord(mx) + " " +
             Coord(start ? my - 2 * size / 3 : my + 2 * size / 3) + "l" + Coord(size / 2) + " " +
             Coord(start ? size : -size) + "h" + Coord(-size) + "z\"><title>" +
             HtmlEscape(label(c.key)) + ": blocking " + (start ? "started " : "ended ") +
             HtmlEscape(When(p.onset)) + " (" + ChangeMethodName(p.method) + "), " +
             Percent(p.before_share) + " &rarr; " + Percent(p.after_share) + ", p " +
             PValue(p.p_value) + "</title></path>\n";
    }
    // Axes.
    out += "<g class=\"axis\"><path d=\"M" + Coord(kMarginLeft) + " " + Coord(top) + "V" +
           Coord(bottom) + "H" + Coord(right) + "\"/>";
    for (int q = 0; q <= 4; ++q) {
      out += "<text x=\"" + Coord(kMarginLeft - 6) + "\" y=\"" + Coord(y(q / 4.0) + 4) +
             "\" text-anchor=\"end\">" + std::to_string(q * 25) + "%</text>";
    }
    for (int64_t t : ticks.at) {
      const double tx = X(t);
      out += "<text x=\"" + Coord(tx) + "\" y=\"" + Coord(strips_end + 16) + "\" text-anchor=\"" +
             (tx > right - 30         ? "end"
              : tx < kMarginLeft + 30 ? "start"
                                      : "middle") +
             "\">" + HtmlEscape(FormatUtc(static_cast<std::time_t>(t), ticks.format)) + "</text>";
    }
    out += "<text x=\"" + Coord(right) + "\" y=\"" + Coord(strips_end + 29) +
           "\" text-anchor=\"end\" class=\"muted\">UTC</text>";
    out += "<text x=\"12\" y=\"" + Coord(top + kPlotHeight / 2) + "\" transform=\"rotate(-90 12 " +
           Coord(top + kPlotHeight / 2) + ")\" text-anchor=\"middle\">blocked share</text>";
    out += "</g>\n</svg>\n";
    // The legend: networks and their totals over the window.
    out += "<ul class=\"legend\">";
    for (const ChartLine& line : chart.lines) {
      out +=
          "<li><button type=\"button\" data-series=\"" + std::to_string(line.index) +
          "\" aria-pressed=\"true\"><span class=\"sw c" + std::to_string(line.colour) +
          "\"></span>" + HtmlEscape(label(line.series->key)) + "</button> <small class=\"muted\">" +
          Thousands(line.measurements) + " measurements, " +
          Percent(static_cast<double>(line.blocked) / line.usable) + " blocked" +
          (line.changes ? ", " + std::to_string(line.changes) + " change points" : std::string()) +
          "</small></li>";
    }
    out += "</ul>\n";
    if (chart.networks > chart.lines.size()) {
      out += "<p class=\"note\">" + Thousands(chart.networks - chart.lines.size()) +
             " more networks not drawn (at most " + Thousands(options_.max_series_per_chart) +
             " per chart; networks with change points first, then the most measured).</p>\n";
    }
    out += "</figure>\n";
  }

  void Uids(std::string& out) const {
    out += "<section id=\"measurements\">\n<h2>Measurements behind the blocking events</h2>\n";
    const size_t shown = std::min(report_.events.size(), options_.max_events);
    bool any = false;
    for (size_t i = 0; i < shown; ++i) {
      const BlockingEvent& e = report_.events[i];
      if (e.measurement_uids.empty()) continue;
      if (!any) {
        out +=
            "<p class=\"note\">Uids of blocked measurements behind each event (a sample), "
            "one per line, to copy.</p>\n";
        any = true;
      }
      const size_t listed = std::min(e.measurement_uids.size(), options_.max_uids_per_event);
      out += "<div class=\"uidlist\" id=\"uids-" + std::to_string(i) + "\"><h3><a href=\"#event-" +
             std::to_string(i) + "\">" + HtmlEscape(e.id) + "</a> <small class=\"muted\">" +
             std::to_string(listed) + " of " + std::to_string(e.measurement_uids.size()) +
             "</small></h3><pre>";
      for (size_t k = 0; k < listed; ++k) out += HtmlEscape(e.measurement_uids[k]) + "\n";
      out += "</pre></div>\n";
    }
    if (!any) out += "<p class=\"note\">None listed.</p>\n";
    out += "</section>\n";
  }

  const EventsReport& report_;
  const HtmlReportOptions& options_;
  size_t plot_width_ = 960;
  int64_t since_ = 0, until_ = 0;
  std::map<std::string, size_t> event_index_;
  std::set<std::string> leads_;
  std::map<std::string, std::vector<size_t>> explained_by_;
  std::map<SeriesKey, size_t> changes_per_series_;
};

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string valid;
  if (!IsValidUtf8(text)) {
    valid = ToValidUtf8(text);
    text = valid;
  }
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RenderHtmlReport(const EventsReport& report, const HtmlReportOptions& options) {
  return Renderer(report, options).Render();
}

}  // namespace vigil::analysis
