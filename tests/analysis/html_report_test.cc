// The events report's HTML page, read as a reader's browser reads it: Debian's headless
// Chromium loads the page and dumps its DOM, and the tests check the charts drew a line per
// network with gaps for droughts, the change points and timeline events are marked, the
// tables have their rows, the script ran without error, nothing was refused by the page's
// policy, and strings from measurements stayed text. The size bounds are checked on the
// page itself. Set VIGIL_REPORT_HTML_OUT=FILE to keep the sample page (docs/report.png is a
// screenshot of it).
#include "analysis/report/html_report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/read_file.h"
#include "tests/support/temp_dir.h"

namespace vigil::analysis {
namespace {

int64_t Utc(int year, int month, int day, int hour = 0) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  return static_cast<int64_t>(::timegm(&tm));
}

// The same pseudo-random counts on every run.
class Lcg {
 public:
  explicit Lcg(uint64_t seed) : state_(seed) {}
  double Next() {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state_ >> 11) / 9007199254740992.0;
  }

 private:
  uint64_t state_;
};

const int64_t kSince = Utc(2024, 5, 1);
const int64_t kUntil = Utc(2024, 6, 12);
const int64_t kHour = 3600;

size_t Cell(int64_t t) { return static_cast<size_t>((t - kSince) / kHour); }

// An hourly series whose blocked share is `share(t)`; no measurements where it is negative.
template <typename ShareAt>
Series MakeSeries(const std::string& target, uint32_t asn, SeriesLayer layer, uint64_t seed,
                  ShareAt share) {
  Series s;
  s.key = {"CN", asn, target, layer};
  s.grain = SeriesGrain::kHour;
  s.since = kSince;
  Lcg random(seed);
  for (int64_t t = kSince; t < kUntil; t += kHour) {
    SeriesCell cell;
    const double p = share(t);
    if (p >= 0) {
      cell.measurements = 40 + static_cast<uint32_t>(random.Next() * 40);
      cell.usable = cell.measurements;
      for (uint32_t i = 0; i < cell.usable; ++i) cell.blocked += random.Next() < p;
      cell.probes = 2;
    }
    s.cells.push_back(cell);
  }
  return s;
}

bool CollectorDown(int64_t t) { return t >= Utc(2024, 6, 1, 6) && t < Utc(2024, 6, 2, 18); }

SeriesChange Change(const std::string& target, uint32_t asn, ChangeMethod method,
                    ChangeDirection direction, int64_t onset, double before, double after) {
  SeriesChange c;
  c.key = {"CN", asn, target, SeriesLayer::kAny};
  c.change.method = method;
  c.change.direction = direction;
  c.change.cell = Cell(onset);
  c.change.onset = onset;
  c.change.alarm_cell = c.change.cell + 3;
  c.change.alarm = onset + 3 * kHour;
  c.change.before_share = before;
  c.change.after_share = after;
  c.change.p_value = 1e-12;
  c.change.confidence = 1 - 1e-12;
  return c;
}

// Two targets in three Chinese networks over six weeks of hours: telegram blocked in all
// three after an announcement (AS9808 has a drought before), whatsapp blocked briefly in one
// network with no event to explain it (a lead), and a day and a half when nothing arrived.
EventsReport SampleReport() {
  EventsReport r;
  r.series.query.probe_cc = "CN";
  r.series.query.since = kSince;
  r.series.query.until = kUntil;
  r.series.query.grain = SeriesGrain::kHour;
  r.series.query.rules_version = "v2";
  r.network_names = {{4134, "Chinanet"}, {4837, "China Unicom"}, {9808, "China Mobile"}};

  const int64_t t4134 = Utc(2024, 5, 20, 9), t4837 = Utc(2024, 5, 21, 3),
                e4837 = Utc(2024, 6, 4, 12), t9808 = Utc(2024, 5, 24);
  const int64_t drought_from = Utc(2024, 5, 6), drought_to = Utc(2024, 5, 10, 12);
  const int64_t lead_from = Utc(2024, 5, 27), lead_to = Utc(2024, 5, 29, 12);
  auto& series = r.series.series;
  series.push_back(MakeSeries("telegram", 4134, SeriesLayer::kAny, 1, [&](int64_t t) {
    return CollectorDown(t) ? -1 : t < t4134 ? 0.02 : 0.86;
  }));
  series.push_back(MakeSeries("telegram", 4837, SeriesLayer::kAny, 2, [&](int64_t t) {
    return CollectorDown(t) ? -1 : t >= t4837 && t < e4837 ? 0.78 : 0.03;
  }));
  series.push_back(MakeSeries("telegram", 9808, SeriesLayer::kAny, 3, [&](int64_t t) {
    if (CollectorDown(t) || (t >= drought_from && t < drought_to)) return -1.0;
    return t < t9808 ? 0.01 : 0.64;
  }));
  // Another layer of the same target: not drawn (the charts draw layer any).
  series.push_back(MakeSeries("telegram", 4134, SeriesLayer::kDns, 4, [&](int64_t t) {
    return CollectorDown(t) ? -1 : t < t4134 ? 0.0 : 0.8;
  }));
  for (uint32_t asn : {4134u, 4837u, 9808u}) {
    series.push_back(MakeSeries("whatsapp", asn, SeriesLayer::kAny, 10 + asn, [&](int64_t t) {
      if (CollectorDown(t)) return -1.0;
      return asn == 4837 && t >= lead_from && t < lead_to ? 0.6 : 0.015;
    }));
  }
  std::sort(series.begin(), series.end(),
            [](const Series& a, const Series& b) { return a.key < b.key; });

  for (ChangeMethod m : {ChangeMethod::kCusum, ChangeMethod::kPelt}) {
    r.changes.push_back(Change("telegram", 4134, m, ChangeDirection::kStart, t4134, 0.02, 0.86));
    r.changes.push_back(Change("telegram", 4837, m, ChangeDirection::kStart, t4837, 0.03, 0.78));
    r.changes.push_back(Change("telegram", 4837, m, ChangeDirection::kEnd, e4837, 0.78, 0.03));
  }
  r.changes.push_back(
      Change("telegram", 9808, ChangeMethod::kCusum, ChangeDirection::kStart, t9808, 0.01, 0.64));
  r.changes.push_back(Change("whatsapp", 4837, ChangeMethod::kCusum, ChangeDirection::kStart,
                             lead_from, 0.015, 0.6));
  r.changes.push_back(
      Change("whatsapp", 4837, ChangeMethod::kCusum, ChangeDirection::kEnd, lead_to, 0.6, 0.015));

  BlockingEvent telegram;
  telegram.id = "CN-telegram-2024-05-20T09";
  telegram.probe_cc = "CN";
  telegram.asns = {4134, 4837, 9808};
  telegram.targets = {"telegram"};
  telegram.layers = {SeriesLayer::kDns, SeriesLayer::kTls, SeriesLayer::kAny};
  telegram.start = t4134;
  telegram.techniques = {{"dns", 4210}, {"tls", 388}};
  for (int i = 0; i < 20; ++i) {
    telegram.measurement_uids.push_back("20240520T0930" + std::to_string(10 + i) +
                                        "Z_telegram_CN_4134_n1_" + std::string(16, 'a' + i % 26));
  }
  telegram.blocked = 5020;
  telegram.usable = 6580;
  telegram.p_value = 1e-300;
  BlockingEvent lead;
  lead.id = "CN-whatsapp-2024-05-27T00";
  lead.probe_cc = "CN";
  lead.asns = {4837};
  lead.targets = {"whatsapp"};
  lead.layers = {SeriesLayer::kTcp, SeriesLayer::kAny};
  lead.start = lead_from;
  lead.end = lead_to;
  lead.techniques = {{"tcp", 250}};
  lead.measurement_uids = {"20240527T031500Z_whatsapp_CN_4837_n1_q8Zb2cLm0TmVh3kK"};
  lead.blocked = 251;
  lead.usable = 412;
  lead.p_value = 2e-40;
  r.events = {telegram, lead};
  r.lead_ids = {lead.id};

  Finding order;
  order.event.id = "cn-2024-05-20-telegram-order";
  order.event.start = Utc(2024, 5, 20);
  order.event.cc = "CN";
  order.event.targets = {"telegram"};
  order.event.category = "announcement";
  order.event.description = "Regulator orders providers to block Telegram";
  order.event.source_url = "https://example.org/news/telegram-order";
  order.before_since = order.event.start - 7 * 86400;
  order.after_until = order.event.start + 7 * 86400;
  order.before = {28, 1410};
  order.after = {1002, 1395};
  order.outside_before = {3, 610};
  order.outside_after = {5, 598};
  order.p_value = 3.1e-250;
  order.p_adjusted = 6.2e-250;
  order.change_interval = {0.668, 0.724};
  order.diff_in_diff = 0.693;
  order.lag_seconds = 9 * 3600;
  order.blocking_event_ids = {telegram.id};
  order.outcome = "blocking_followed";
  order.summary = "Blocking followed in CN (3 networks) after 9 h: 2.0% -> 71.8% blocked";
  Finding rumour;
  rumour.event.id = "cn-2024-05-08-whatsapp-rumour";
  rumour.event.start = Utc(2024, 5, 8);
  rumour.event.cc = "CN";
  rumour.event.targets = {"whatsapp"};
  rumour.event.category = "other";
  rumour.event.description = "Reports that WhatsApp will be blocked";
  rumour.event.source_url = "https://example.org/news/whatsapp-rumour";
  rumour.before_since = rumour.event.start - 7 * 86400;
  rumour.after_until = rumour.event.start + 7 * 86400;
  rumour.before = {14, 980};
  rumour.after = {16, 1012};
  rumour.outside_before = {2, 400};
  rumour.outside_after = {2, 410};
  rumour.p_value = 0.41;
  rumour.p_adjusted = 0.41;
  rumour.change_interval = {-0.009, 0.012};
  rumour.diff_in_diff = 0.001;
  rumour.outcome = "no_change";
  rumour.summary = "No change in CN after the event: 1.4% -> 1.6% blocked";
  r.findings = {rumour, order};
  return r;
}

std::string Chromium() {
  const std::string path = test_support::FindExecutable("chromium");
  return test_support::IsExecutable(path) ? path : "";
}

// The DOM after the page loaded and its scripts ran, as headless Chromium dumps it.
std::string BrowserDom(const test_support::TempDir& dir, const std::string& html) {
  std::string error;
  EXPECT_TRUE(dir.WriteFile("report.html", html, &error)) << error;
  // A profile of its own: Chromiums run in parallel by other suites do not share a lock.
  const std::string command =
      "'" + Chromium() + "' --headless=new --no-sandbox --disable-gpu --user-data-dir='" +
      dir.Join("profile") + "' --dump-dom 'file://" + dir.Join("report.html") + "' >'" +
      dir.Join("dom.html") + "' 2>'" + dir.Join("chromium.log") + "'";
  const auto run = test_support::RunCommand({"sh", "-c", command}, std::chrono::seconds(90));
  EXPECT_EQ(run.exit_code, 0) << run.output
                              << test_support::ReadFileOrEmpty(dir.Join("chromium.log"));
  return test_support::ReadFileOrEmpty(dir.Join("dom.html"));
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The <figure> of each chart, by its target.
std::map<std::string, std::string> Charts(const std::string& dom) {
  std::map<std::string, std::string> charts;
  const std::regex target("data-target=\"([^\"]*)\"");
  for (size_t at = dom.find("<figure class=\"chart\""); at != std::string::npos;
       at = dom.find("<figure class=\"chart\"", at + 1)) {
    const std::string figure = dom.substr(at, dom.find("</figure>", at) - at);
    std::smatch m;
    if (std::regex_search(figure, m, target)) charts[m[1]] = figure;
  }
  return charts;
}

// The lines of a chart: network label -> the d attribute of its path.
std::map<std::string, std::string> Lines(const std::string& chart) {
  std::map<std::string, std::string> lines;
  const std::string open = "<path class=\"series ";
  for (size_t at = chart.find(open); at != std::string::npos; at = chart.find(open, at + 1)) {
    const size_t d = chart.find(" d=\"", at) + 4;
    const size_t d_end = chart.find('"', d);
    const size_t title = chart.find("<title>", d_end) + 7;
    lines[chart.substr(title, chart.find("</title>", title) - title)] = chart.substr(d, d_end - d);
  }
  return lines;
}

TEST(HtmlReport, ChromiumDrawsALinePerNetworkWithDroughtsAsGaps) {
  if (Chromium().empty()) GTEST_SKIP() << "no chromium on PATH (Debian: apt-get install chromium)";
  test_support::TempDir dir("vigil-html-report-");
  HtmlReportOptions options;
  options.title = "CN, May 2024";
  options.generated_at = Utc(2024, 6, 12, 8);
  options.source = "sqlite:/data/analysis.sqlite";
  const std::string html = RenderHtmlReport(SampleReport(), options);
  if (const char* keep = std::getenv("VIGIL_REPORT_HTML_OUT")) std::ofstream(keep) << html;
  const std::string dom = BrowserDom(dir, html);
  ASSERT_NE(dom.find("</html>"), std::string::npos) << dom;

  // The scripts ran, nothing failed and the policy refused nothing.
  EXPECT_NE(dom.find("data-report=\"ready\""), std::string::npos);
  EXPECT_EQ(dom.find("data-js-error=\""), std::string::npos) << dom.substr(0, 600);
  EXPECT_EQ(dom.find("data-csp-violation=\""), std::string::npos) << dom.substr(0, 600);

  const auto charts = Charts(dom);
  ASSERT_EQ(charts.size(), 2u);
  ASSERT_TRUE(charts.count("telegram") && charts.count("whatsapp"));
  const std::string& telegram = charts.at("telegram");
  const std::string& whatsapp = charts.at("whatsapp");
  // One line per network (the dns layer's series is not drawn), named in the legend.
  EXPECT_EQ(Count(telegram, "<path class=\"series "), 3u);
  EXPECT_EQ(Count(whatsapp, "<path class=\"series "), 3u);
  for (const char* network : {"AS4134 Chinanet", "AS4837 China Unicom", "AS9808 China Mobile"}) {
    EXPECT_NE(telegram.find("aria-pressed=\"true\"><span class=\"sw c"), std::string::npos);
    EXPECT_NE(telegram.find(std::string("</span>") + network + "</button>"), std::string::npos)
        << network;
  }
  // A drought is a gap: AS9808's line breaks there and where nothing arrived at all; the
  // others break only at the latter, which is also a grey band.
  const auto lines = Lines(telegram);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(Count(lines.at("AS9808 China Mobile"), "M"), 3u);
  EXPECT_EQ(Count(lines.at("AS4134 Chinanet"), "M"), 2u);
  EXPECT_EQ(Count(telegram, "<title>no usable measurements 2024-06-01 06:00 .. 2024-06-02 18:00"),
            1u);
  // Change points: starts of three networks by CUSUM, two by PELT, an end by each.
  EXPECT_EQ(Count(telegram, "class=\"cp start cusum"), 3u);
  EXPECT_EQ(Count(telegram, "class=\"cp start pelt"), 2u);
  EXPECT_EQ(Count(telegram, "class=\"cp end "), 2u);
  EXPECT_EQ(Count(whatsapp, "class=\"cp start cusum"), 1u);
  // Each timeline event in its target's chart only, linked to its finding.
  EXPECT_NE(telegram.find("data-event=\"cn-2024-05-20-telegram-order\""), std::string::npos);
  EXPECT_EQ(telegram.find("cn-2024-05-08-whatsapp-rumour"), std::string::npos);
  EXPECT_NE(whatsapp.find("data-event=\"cn-2024-05-08-whatsapp-rumour\""), std::string::npos);
  EXPECT_NE(telegram.find("<a href=\"#finding-1\"><text"), std::string::npos);
  // Axes in UTC.
  EXPECT_NE(telegram.find(">2024-05-13</text>"), std::string::npos);
  EXPECT_NE(telegram.find(">UTC</text>"), std::string::npos);
  EXPECT_NE(telegram.find(">100%</text>"), std::string::npos);

  // The tables: a row per finding and per blocking event, linked to each other and to uids.
  EXPECT_EQ(Count(dom, "<tr id=\"finding-"), 2u);
  EXPECT_EQ(Count(dom, "<tr id=\"event-"), 2u);
  EXPECT_NE(dom.find("<span class=\"badge o-blocking_followed\">blocking followed</span>"),
            std::string::npos);
  EXPECT_NE(dom.find("+69.8 pp<br><small>[+66.8, +72.4]</small>"), std::string::npos);
  EXPECT_NE(dom.find(">+9 h</td>"), std::string::npos);
  EXPECT_NE(dom.find("<a href=\"#event-0\">CN-telegram-2024-05-20T09</a> <small><a "
                     "href=\"#uids-0\">uids</a></small>"),
            std::string::npos);
  EXPECT_NE(dom.find("<a href=\"#uids-0\">20 uids</a>"), std::string::npos);
  EXPECT_NE(dom.find("<i>ongoing</i>"), std::string::npos);
  EXPECT_NE(dom.find("AS4837 China Unicom<br>AS9808 China Mobile"), std::string::npos);
  EXPECT_NE(dom.find("<span class=\"badge lead\">lead</span>"), std::string::npos);
  EXPECT_NE(dom.find("id=\"uids-1\""), std::string::npos);
  EXPECT_NE(dom.find("20240527T031500Z_whatsapp_CN_4837_n1_q8Zb2cLm0TmVh3kK\n"), std::string::npos);
}

TEST(HtmlReport, StringsFromMeasurementsStayText) {
  EventsReport report = SampleReport();
  const std::string payload =
      "<script>document.documentElement.setAttribute('data-pwned','1')</script>";
  for (Series& s : report.series.series) {
    if (s.key.target == "whatsapp") s.key.target = payload;
  }
  report.events[1].targets = {payload};
  report.events[1].measurement_uids = {"\"><img src=x onerror=alert(1)>"};
  report.network_names[4837] = "Unicom\"><svg onload=alert(1)>";
  report.findings[0].event.targets = {payload};
  report.findings[0].event.description = "<b>bold</b> & <i>claims</i>";
  report.findings[0].event.source_url = "javascript:document.body.setAttribute('data-pwned','2')";
  report.findings[1].summary = "</td></tr></table><script>alert(1)</script>";
  const std::string html = RenderHtmlReport(report, {});

  EXPECT_EQ(html.find("<script>document.documentElement"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<svg onload"), std::string::npos);
  EXPECT_EQ(html.find("<b>bold"), std::string::npos);
  EXPECT_EQ(html.find("href=\"javascript:"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;document.documentElement.setAttribute(&#39;data-pwned&#39;"),
            std::string::npos);
  EXPECT_NE(html.find("source: javascript:document.body"), std::string::npos);

  if (Chromium().empty()) GTEST_SKIP() << "no chromium on PATH (Debian: apt-get install chromium)";
  test_support::TempDir dir("vigil-html-escape-");
  const std::string dom = BrowserDom(dir, html);
  EXPECT_NE(dom.find("data-report=\"ready\""), std::string::npos);
  EXPECT_EQ(dom.find("data-pwned=\""), std::string::npos);
  EXPECT_EQ(dom.find("data-js-error=\""), std::string::npos);
  EXPECT_EQ(dom.find("data-csp-violation=\""), std::string::npos);
  // The target's name is the chart's heading, as text.
  EXPECT_NE(dom.find("<h3>&lt;script&gt;document.documentElement"), std::string::npos);
  EXPECT_EQ(Count(dom, "<figure class=\"chart\""), 2u);
  EXPECT_EQ(Count(dom, "<script>"), 2u);  // the page's own two
}

TEST(HtmlReport, NothingLoadsFromElsewhere) {
  const std::string html = RenderHtmlReport(SampleReport(), {});
  // Every reference: no src at all, hrefs within the page except the events' sources.
  const std::regex reference("(src|href|xlink:href|action|srcset|poster|data)\\s*=\\s*\"([^\"]*)\"",
                             std::regex::icase);
  std::set<std::string> outside;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), reference);
       it != std::sregex_iterator(); ++it) {
    const std::string attribute = (*it)[1], value = (*it)[2];
    EXPECT_EQ(attribute, "href") << value;
    if (value.rfind('#', 0) != 0) outside.insert(value);
  }
  EXPECT_EQ(outside, (std::set<std::string>{"https://example.org/news/telegram-order",
                                            "https://example.org/news/whatsapp-rumour"}));
  for (const std::string& url : outside) {
    EXPECT_NE(html.find("<a class=\"source\" href=\"" + url + "\""), std::string::npos) << url;
  }
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  // And the page forbids loading anything itself.
  EXPECT_NE(html.find("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"),
            std::string::npos);
}

TEST(HtmlReport, BigInputsStayBounded) {
  // A month of minutes (43,200 cells) in twelve networks, an event with 10,000 uids.
  EventsReport report;
  report.series.query.since = kSince;
  report.series.query.until = kSince + 30 * 86400;
  report.series.query.grain = SeriesGrain::kMinute;
  for (uint32_t asn = 1; asn <= 12; ++asn) {
    Series s;
    s.key = {"IR", asn, "signal", SeriesLayer::kAny};
    s.grain = SeriesGrain::kMinute;
    s.since = kSince;
    Lcg random(asn);
    s.cells.resize(30 * 1440);
    for (SeriesCell& c : s.cells) {
      c.measurements = c.usable = 3;
      c.blocked = static_cast<uint32_t>(random.Next() * 4);
    }
    report.series.series.push_back(std::move(s));
  }
  BlockingEvent e;
  e.id = "IR-signal";
  e.probe_cc = "IR";
  for (int i = 0; i < 10000; ++i) e.measurement_uids.push_back("uid-" + std::to_string(i));
  report.events.push_back(e);
  HtmlReportOptions options;
  const std::string html = RenderHtmlReport(report, options);

  const auto charts = Charts(html);
  ASSERT_EQ(charts.size(), 1u);
  // Ten lines of the twelve, each at most two commands per unit of the plot's width.
  EXPECT_EQ(Count(charts.at("signal"), "<path class=\"series "), 10u);
  EXPECT_NE(html.find("2 more networks not drawn"), std::string::npos);
  for (const auto& [network, d] : Lines(charts.at("signal"))) {
    EXPECT_LE(Count(d, "H") + Count(d, "V"), 2u * options.plot_width) << network;
    EXPECT_EQ(Count(d, "M"), 1u) << network;
  }
  EXPECT_EQ(Count(html, "\nuid-"), options.max_uids_per_event - 1);
  EXPECT_NE(html.find(">50 of 10000</small>"), std::string::npos);
  EXPECT_LT(html.size(), 400'000u);
}

TEST(HtmlReport, AnEmptyReportSaysSo) {
  const std::string html = RenderHtmlReport(EventsReport{}, {});
  EXPECT_NE(html.find("No timeline events were scored"), std::string::npos);
  EXPECT_NE(html.find("No change points started blocking"), std::string::npos);
  EXPECT_NE(html.find("No series with usable measurements"), std::string::npos);
  EXPECT_NE(html.find("</html>"), std::string::npos);
}

}  // namespace
}  // namespace vigil::analysis
