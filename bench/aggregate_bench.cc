// vigil_aggregate_bench: the 10-million-measurement aggregation and event analysis of the
// analyzer's store. Writes N synthetic verdict rows (ten networks in seven countries, 24
// targets, six tests, 180 days, a realistic mix of outcomes and blocking types, one
// report per network, test and day, and a crackdown: telegram blocked on both CN
// networks from day 120) into each store given, through the store's own write path,
// then times `vigil query --axis time,cc,target` (day grain, the whole 180 days) and
// `vigil events`' analysis (series, change points by both methods, events, a timeline
// event scored; day grain, the whole store) on each, printing the best and median of
// --runs beside the targets (query: 2 s ClickHouse, 10 s SQLite; events: 3 s and 10 s),
// and the series scan alone beside the whole analysis.
//
//   vigil_aggregate_bench --rows 10000000 --sqlite /tmp/a.sqlite
//       --clickhouse clickhouse://127.0.0.1:8123/bench
// (bench/aggregate_bench.sh starts a ClickHouse server for it.)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "analysis/correlate/events.h"
#include "analysis/model/verdict_class.h"
#include "analysis/store/store.h"

namespace {

using vigil::analysis::AggregationQuery;
using vigil::analysis::Axis;
using vigil::analysis::ExtractedMeasurement;
using vigil::analysis::Grain;
using vigil::analysis::VerdictRow;

constexpr int64_t kStart = 1704067200;  // 2024-01-01
constexpr int kDays = 180;
constexpr int kCrackdownDay = 120;

struct Network {
  const char* cc;
  uint32_t asn;
  double blocking;  // share of measurements that are anomalies
};
constexpr Network kNetworks[] = {{"IR", 197207, 0.45}, {"IR", 44244, 0.40}, {"RU", 12389, 0.20},
                                 {"RU", 8359, 0.15},   {"CN", 4134, 0.60},  {"CN", 4837, 0.55},
                                 {"TR", 9121, 0.10},   {"EG", 8452, 0.12},  {"PK", 17557, 0.08},
                                 {"US", 7922, 0.01}};
constexpr const char* kTests[] = {"web_connectivity", "whatsapp",           "telegram",
                                  "signal",           "facebook_messenger", "messaging"};
constexpr const char* kTargets[] = {"web.whatsapp.com",
                                    "web.telegram.org",
                                    "signal.org",
                                    "www.messenger.com",
                                    "web.wechat.com",
                                    "www.viber.com",
                                    "line.me",
                                    "threema.ch",
                                    "element.io",
                                    "getsession.org",
                                    "teams.microsoft.com",
                                    "discord.com",
                                    "www.skype.com",
                                    "www.icq.com",
                                    "www.kakaocorp.com",
                                    "www.imo.im",
                                    "zoom.us",
                                    "slack.com",
                                    "www.snapchat.com",
                                    "www.instagram.com",
                                    "twitter.com",
                                    "www.facebook.com",
                                    "www.youtube.com",
                                    "www.tiktok.com"};
constexpr const char* kServices[] = {"whatsapp",           "telegram", "signal",
                                     "facebook_messenger", "viber",    "line"};
constexpr const char* kBlocking[] = {"dns", "tcp_ip", "tls", "http-failure", "http-diff"};

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

void Make(uint64_t i, std::mt19937_64& rng, ExtractedMeasurement* m, VerdictRow* v) {
  std::uniform_real_distribution<double> u(0, 1);
  const Network& net = kNetworks[rng() % std::size(kNetworks)];
  const size_t test = rng() % std::size(kTests);
  const int day = static_cast<int>(rng() % kDays);
  auto& row = m->measurement;
  char uid[40];
  std::snprintf(uid, sizeof uid, "20240101b%016llx", static_cast<unsigned long long>(i));
  row.measurement_uid = uid;
  row.start_time = kStart + day * 86400 + static_cast<int64_t>(rng() % 86400);
  row.probe_cc = net.cc;
  row.probe_asn = net.asn;
  row.test_name = kTests[test];
  char report[96];
  std::snprintf(report, sizeof report, "2024%03dT000000Z_%s_%s_AS%u", day, kTests[test], net.cc,
                net.asn);
  row.report_id = report;
  if (test == 0) {
    row.target = kTargets[rng() % std::size(kTargets)];
    row.input = "https://" + row.target + "/";
    row.category_code = "COMT";
  } else {
    row.target = test == 5 ? kServices[rng() % std::size(kServices)] : kTests[test];
    row.category_code = "";
  }
  row.source_file = "bench.jsonl";
  row.source_line = i + 1;
  v->measurement_uid = row.measurement_uid;
  v->rules_version = "v1";
  const double x = u(rng);
  v->anomaly = v->confirmed = v->failure = false;
  v->blocking_type.clear();
  const bool crackdown =
      row.target == "telegram" && std::strcmp(net.cc, "CN") == 0 && day >= kCrackdownDay;
  v->verdict = vigil::analysis::VerdictClass::kOk;
  v->blocked_layers = 0;
  v->technique.clear();
  for (auto& l : v->layers) l = {};
  for (size_t k = 0; k < 4; ++k) v->layers[k].measured = true;
  if (x < 0.03) {
    v->failure = true;
    v->verdict = vigil::analysis::VerdictClass::kError;
  } else if (crackdown ? x < 0.95 : x < 0.03 + net.blocking) {
    const bool confirmed = u(rng) < 0.2;
    v->confirmed = confirmed;
    v->anomaly = !confirmed;
    const size_t b = crackdown ? 1 : rng() % std::size(kBlocking);
    v->blocking_type = kBlocking[b];
    v->score = 0.9;
    v->verdict = vigil::analysis::VerdictClass::kBlocked;
    const size_t layer = std::min<size_t>(b, 3);
    v->blocked_layers = static_cast<uint8_t>(1u << layer);
    for (size_t k = layer + 1; k < 4; ++k) v->layers[k].masked = true;
    v->technique = crackdown ? "tcp_blackhole" : kBlocking[b];
  }
}

bool Load(vigil::analysis::Store& store, uint64_t rows) {
  std::mt19937_64 rng(42);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<ExtractedMeasurement> facts(10000);
  std::vector<VerdictRow> verdicts(10000);
  for (uint64_t i = 0; i < rows;) {
    const uint64_t n = std::min<uint64_t>(facts.size(), rows - i);
    facts.resize(n);
    verdicts.resize(n);
    for (uint64_t k = 0; k < n; ++k) Make(i + k, rng, &facts[k], &verdicts[k]);
    if (auto w = store.WriteVerdicts(facts, verdicts); !w) {
      std::fprintf(stderr, "write: %s\n", w.error().c_str());
      return false;
    }
    i += n;
    // Committed a million at a time, as `vigil analyze` commits as it goes: one
    // transaction of ten million rows grows SQLite's write-ahead log past the disk.
    if (i % 1000000 == 0) {
      if (auto c = store.Commit(); !c) {
        std::fprintf(stderr, "commit: %s\n", c.error().c_str());
        return false;
      }
    }
  }
  if (auto c = store.Commit(); !c) {
    std::fprintf(stderr, "commit: %s\n", c.error().c_str());
    return false;
  }
  const double s = Seconds(std::chrono::steady_clock::now() - t0);
  std::printf("  %-44s loaded %llu rows in %.1f s (%.0f rows/s)\n", store.Describe().c_str(),
              static_cast<unsigned long long>(rows), s, static_cast<double>(rows) / s);
  return true;
}

// `vigil events` over the whole store: the series scan alone, then the whole analysis.
int BenchEvents(vigil::analysis::Store& store, uint64_t rows, int runs, double target) {
  vigil::analysis::EventsOptions options;
  options.series.grain = vigil::analysis::SeriesGrain::kDay;
  options.series.since = kStart;
  options.series.until = kStart + kDays * 86400;
  vigil::analysis::TimelineEvent event;
  event.id = "crackdown";
  event.start = kStart + kCrackdownDay * 86400;
  event.cc = "CN";
  event.targets = {"telegram"};
  event.category = "announcement";
  event.source_url = "https://example.org/synthetic";
  std::vector<double> scan, whole;
  std::string finding;
  size_t series = 0, events = 0;
  for (int r = 0; r < runs; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    auto set = vigil::analysis::BuildSeries(store, options.series);
    scan.push_back(Seconds(std::chrono::steady_clock::now() - t0));
    if (!set.ok()) {
      std::fprintf(stderr, "series: %s\n", set.error().c_str());
      return 1;
    }
    if (set->rows_read != rows) {
      std::fprintf(stderr, "series read %llu rows of %llu\n",
                   static_cast<unsigned long long>(set->rows_read),
                   static_cast<unsigned long long>(rows));
      return 1;
    }
    t0 = std::chrono::steady_clock::now();
    auto report = vigil::analysis::AnalyzeEvents(store, {event}, options);
    whole.push_back(Seconds(std::chrono::steady_clock::now() - t0));
    if (!report.ok()) {
      std::fprintf(stderr, "events: %s\n", report.error().c_str());
      return 1;
    }
    series = report->series.series.size();
    events = report->events.size();
    finding = report->findings.empty() ? "" : report->findings[0].outcome;
  }
  std::sort(scan.begin(), scan.end());
  std::sort(whole.begin(), whole.end());
  const double median = whole[whole.size() / 2];
  std::printf(
      "  %-44s events (day grain, 180 days): best %.2f s, median %.2f s, target < %.0f s (%s); "
      "series scan alone median %.2f s; %zu series, %zu events, the crackdown: %s\n",
      store.Describe().c_str(), whole.front(), median, target, median < target ? "met" : "NOT met",
      scan[scan.size() / 2], series, events, finding.c_str());
  return finding == "blocking_followed" ? 0 : 1;
}

int Bench(const std::string& spec, uint64_t rows, int runs, double target) {
  auto store = vigil::analysis::OpenStore(spec);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.error().c_str());
    return 1;
  }
  auto counts = vigil::analysis::CountRows(**store);
  if (!counts.ok()) {
    std::fprintf(stderr, "%s\n", counts.error().c_str());
    return 1;
  }
  const bool loaded = counts->verdicts.size() == 1 && counts->verdicts[0].second == rows;
  if (!loaded && !counts->verdicts.empty()) {
    std::fprintf(stderr, "%s holds other data; give an empty store\n", spec.c_str());
    return 1;
  }
  if (!loaded && !Load(**store, rows)) return 1;
  AggregationQuery q;
  q.axes = {Axis::kTime, Axis::kCc, Axis::kTarget};
  q.grain = Grain::kDay;
  q.since = kStart;
  q.until = kStart + kDays * 86400;
  std::vector<double> times;
  size_t cells = 0;
  uint64_t total = 0;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    auto result = vigil::analysis::Aggregate(**store, q);
    times.push_back(Seconds(std::chrono::steady_clock::now() - t0));
    if (!result.ok()) {
      std::fprintf(stderr, "query: %s\n", result.error().c_str());
      return 1;
    }
    cells = result->cells.size();
    total = 0;
    for (const auto& c : result->cells) total += c.measurement_count;
  }
  std::sort(times.begin(), times.end());
  std::printf(
      "  %-44s day x cc x target: best %.2f s, median %.2f s, target < %.0f s (%s); "
      "%zu cells, %llu measurements counted%s\n",
      (*store)->Describe().c_str(), times.front(), times[times.size() / 2], target,
      times[times.size() / 2] < target ? "met" : "NOT met", cells,
      static_cast<unsigned long long>(total), total == rows ? "" : " (WRONG TOTAL)");
  if (total != rows) return 1;
  return BenchEvents(**store, rows, runs, target == 2.0 ? 3.0 : 10.0);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t rows = 10000000;
  int runs = 5;
  std::vector<std::pair<std::string, double>> stores;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const char* next = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--rows" && next) {
      rows = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--runs" && next) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--sqlite" && next) {
      stores.emplace_back(argv[++i], 10.0);
    } else if (a == "--clickhouse" && next) {
      stores.emplace_back(argv[++i], 2.0);
    } else {
      std::fprintf(stderr,
                   "usage: vigil_aggregate_bench [--rows N] [--runs N] [--sqlite PATH] "
                   "[--clickhouse clickhouse://HOST:PORT/DB]\n");
      return 2;
    }
  }
  std::printf("aggregate benchmark: %llu measurements over %d days, 10 networks, 24 targets\n",
              static_cast<unsigned long long>(rows), kDays);
  int status = 0;
  for (const auto& [spec, target] : stores) status |= Bench(spec, rows, runs, target);
  return status;
}
