// Events from synthetic series with a known truth: a crackdown on two of three networks
// after a timeline event, a neighbouring country left alone, a global outage (the
// controls fail too), a drought, and a quiet timeline event nothing followed. The
// findings must say what happened, and nothing where nothing happened.
#include "analysis/correlate/events.h"

#include <gtest/gtest.h>

#include <random>

#include "analysis/model/verdict_class.h"

namespace vigil::analysis {
namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kT0 = 1399939200;     // 2014-05-13T00:00:00Z
constexpr int64_t kEvent = 1401148800;  // 2014-05-27T00:00:00Z

struct Network {
  const char* cc;
  uint32_t asn;
};

// Hourly measurements of `target` on a network from kT0 for 28 days: blocked with
// probability `blocked(t)`, down with `down(t)`, nothing in droughts.
template <typename Blocked, typename Down, typename Drought>
void Measure(SeriesBuilder& b, std::mt19937& rng, Network n, const char* target, Blocked blocked,
             Down down, Drought drought) {
  std::uniform_real_distribution<double> u(0, 1);
  for (int64_t t = kT0; t < kT0 + 28 * kDay; t += 3600) {
    if (drought(t)) continue;
    for (int k = 0; k < 3; ++k) {
      SeriesRow r;
      r.start_time = t + k * 600;
      r.probe_cc = n.cc;
      r.probe_asn = n.asn;
      r.target = target;
      const std::string report = "r" + std::to_string(t) + std::to_string(k);
      r.report_id = report;
      r.software_name = "vigil";
      r.measured_layers = 0b0111;
      const double x = u(rng);
      if (x < down(t)) {
        r.verdict = static_cast<uint8_t>(VerdictClass::kDown);
      } else if (u(rng) < blocked(t)) {
        r.verdict = static_cast<uint8_t>(VerdictClass::kBlocked);
        r.blocked_layers = 0b0010;  // TCP
        r.masked_layers = 0b0100;
      } else {
        r.verdict = static_cast<uint8_t>(VerdictClass::kOk);
      }
      b.Add(r);
    }
  }
}

TimelineEvent Timeline(const std::string& id, int64_t start, const std::string& cc,
                       std::vector<std::string> targets) {
  TimelineEvent e;
  e.id = id;
  e.start = start;
  e.cc = cc;
  e.targets = std::move(targets);
  e.category = "announcement";
  e.description = id;
  e.source_url = "https://example.org/" + id;
  return e;
}

EventsReport Crackdown() {
  SeriesQuery q;
  q.grain = SeriesGrain::kHour;
  q.since = kT0;
  q.until = kT0 + 28 * kDay;
  q.layers = {SeriesLayer::kTcp};
  SeriesBuilder b(q);
  std::mt19937 rng(7);
  auto never = [](int64_t) { return false; };
  auto noise = [](int64_t) { return 0.02; };
  auto none = [](int64_t) { return 0.0; };
  const int64_t onset = kEvent + 33 * 3600;
  auto crackdown = [&](int64_t t) { return t >= onset ? 0.97 : 0.01; };
  // Telegram blocked on two CN networks from 33 h after the announcement; a drought on
  // the second one a day later must not read as unblocking.
  Measure(b, rng, {"CN", 4134}, "telegram", crackdown, noise, never);
  Measure(b, rng, {"CN", 4837}, "telegram", crackdown, noise,
          [&](int64_t t) { return t >= onset + 2 * kDay && t < onset + 3 * kDay; });
  Measure(
      b, rng, {"CN", 9808}, "telegram", [](int64_t) { return 0.01; }, noise, never);
  Measure(
      b, rng, {"HK", 4760}, "telegram", [](int64_t) { return 0.01; }, noise, never);
  // Signal: a global outage for six hours on day 20, everywhere; the controls fail too.
  const int64_t outage = kT0 + 20 * kDay;
  auto outage_down = [&](int64_t t) { return t >= outage && t < outage + 6 * 3600 ? 0.97 : 0.02; };
  for (Network n : {Network{"CN", 4134}, Network{"CN", 4837}, Network{"HK", 4760}}) {
    Measure(b, rng, n, "signal", none, outage_down, never);
  }
  auto set = b.Finish();
  EXPECT_TRUE(set.ok()) << set.error();
  std::vector<TimelineEvent> timeline = {
      Timeline("crackdown", kEvent, "CN", {"telegram", "signal"}),
      Timeline("quiet", kT0 + 7 * kDay, "CN", {}),
      Timeline("outage-day", outage - 3600, "CN", {"signal"}),
  };
  EventsOptions o;
  o.series = q;
  o.before_seconds = 5 * kDay;
  o.after_seconds = 5 * kDay;
  return AnalyzeSeries(std::move(*set), timeline, o);
}

const Finding* FindingOf(const EventsReport& r, const std::string& id) {
  for (const Finding& f : r.findings) {
    if (f.event.id == id) return &f;
  }
  return nullptr;
}

TEST(Events, ACrackdownIsFoundWithItsScopeLagAndStatistics) {
  const EventsReport r = Crackdown();
  const Finding* f = FindingOf(r, "crackdown");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->outcome, "blocking_followed") << f->summary;
  EXPECT_LT(f->p_adjusted, 0.001);
  EXPECT_GT(f->change_interval.low, 0.2);
  EXPECT_GT(f->diff_in_diff, 0.2);  // signal, in scope too, stayed open
  std::printf("%s\n", f->summary.c_str());
  ASSERT_TRUE(f->lag_seconds.has_value());
  EXPECT_NEAR(static_cast<double>(*f->lag_seconds), 33 * 3600.0, 2 * 3600.0);
  EXPECT_NE(f->summary.find("telegram"), std::string::npos) << f->summary;
  EXPECT_NE(f->summary.find("2 of 3 CN networks"), std::string::npos) << f->summary;
  EXPECT_NE(f->summary.find("not seen in HK"), std::string::npos) << f->summary;
  ASSERT_FALSE(f->blocking_event_ids.empty());

  // One event for the two networks (not a change point per network), still ongoing
  // through the drought.
  const BlockingEvent* telegram = nullptr;
  for (const BlockingEvent& e : r.events) {
    if (std::find(e.targets.begin(), e.targets.end(), "telegram") != e.targets.end()) {
      EXPECT_EQ(telegram, nullptr) << "telegram's blocking split into two events";
      telegram = &e;
    }
  }
  ASSERT_NE(telegram, nullptr);
  EXPECT_EQ(telegram->probe_cc, "CN");
  EXPECT_EQ(telegram->asns, (std::vector<uint32_t>{4134, 4837}));
  EXPECT_FALSE(telegram->end.has_value()) << "the drought read as the end of blocking";
  EXPECT_FALSE(telegram->global);
  EXPECT_TRUE(r.lead_ids.empty());
}

TEST(Events, NothingIsFoundWhereNothingHappened) {
  const EventsReport r = Crackdown();
  const Finding* quiet = FindingOf(r, "quiet");
  ASSERT_NE(quiet, nullptr);
  EXPECT_EQ(quiet->outcome, "no_change") << quiet->summary;
  // The outage: signal down everywhere, never blocked.
  const Finding* outage = FindingOf(r, "outage-day");
  ASSERT_NE(outage, nullptr);
  EXPECT_NE(outage->outcome, "blocking_followed") << outage->summary;
  for (const BlockingEvent& e : r.events) {
    EXPECT_EQ(std::find(e.targets.begin(), e.targets.end(), "signal"), e.targets.end())
        << "the global outage became blocking event " << e.id;
    EXPECT_NE(e.probe_cc, "HK") << e.id;
  }
}

TEST(Events, AGlobalRiseIsNotAttributedToTheEvent) {
  // The same target starts failing in three countries at once.
  SeriesQuery q;
  q.grain = SeriesGrain::kHour;
  q.since = kT0;
  q.until = kT0 + 28 * kDay;
  q.layers = {SeriesLayer::kTcp};
  SeriesBuilder b(q);
  std::mt19937 rng(11);
  auto never = [](int64_t) { return false; };
  auto noise = [](int64_t) { return 0.01; };
  auto rise = [](int64_t t) { return t >= kEvent + 6 * 3600 ? 0.9 : 0.01; };
  for (Network n : {Network{"CN", 4134}, Network{"HK", 4760}, Network{"TW", 3462}}) {
    Measure(b, rng, n, "whatsapp", rise, noise, never);
  }
  auto set = b.Finish();
  ASSERT_TRUE(set.ok()) << set.error();
  EventsOptions o;
  o.series = q;
  o.before_seconds = 5 * kDay;
  o.after_seconds = 5 * kDay;
  const EventsReport r =
      AnalyzeSeries(std::move(*set), {Timeline("ban", kEvent, "CN", {"whatsapp"})}, o);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].outcome, "global_change") << r.findings[0].summary;
  ASSERT_FALSE(r.events.empty());
  for (const BlockingEvent& e : r.events) {
    EXPECT_TRUE(e.global) << e.id;
    EXPECT_NE(e.global_reason.find("seen at the same time in"), std::string::npos);
  }
  EXPECT_TRUE(r.lead_ids.empty()) << "a global change is no lead";
}

TEST(Events, AnEventMadeOfABurstFromOneSourceSaysSo) {
  // Quiet hourly measurements, then one source sends 300 "blocked" results in a minute,
  // every hour for a day: the event is there, and it carries the burst flags.
  SeriesQuery q;
  q.grain = SeriesGrain::kHour;
  q.since = kT0;
  q.until = kT0 + 14 * kDay;
  SeriesBuilder b(q);
  std::mt19937 rng(3);
  auto never = [](int64_t) { return false; };
  auto ok = [](int64_t) { return 0.0; };
  Measure(b, rng, {"CN", 4134}, "signal", ok, ok, never);
  for (int64_t h = 0; h < 24; ++h) {
    for (int i = 0; i < 300; ++i) {
      SeriesRow r;
      r.start_time = kT0 + 7 * kDay + h * 3600 + 5;
      r.probe_cc = "CN";
      r.probe_asn = 4134;
      r.target = "signal";
      r.software_name = "flood";
      r.verdict = static_cast<uint8_t>(VerdictClass::kBlocked);
      r.measured_layers = 0b0111;
      r.blocked_layers = 0b0010;
      b.Add(r);
    }
  }
  auto set = b.Finish();
  ASSERT_TRUE(set.ok()) << set.error();
  EventsOptions o;
  o.series = q;
  const EventsReport r = AnalyzeSeries(std::move(*set), {}, o);
  ASSERT_FALSE(r.events.empty());
  EXPECT_GE(r.events[0].burst_cells, 20u) << r.events[0].id;
  EXPECT_GT(r.events[0].cells, 0u);
}

TEST(Events, TooFewMeasurementsSayNothing) {
  SeriesQuery q;
  q.grain = SeriesGrain::kDay;
  q.since = kT0;
  q.until = kT0 + 28 * kDay;
  SeriesBuilder b(q);
  SeriesRow r;
  r.start_time = kEvent + 3600;
  r.probe_cc = "CN";
  r.probe_asn = 4134;
  r.target = "telegram";
  r.verdict = static_cast<uint8_t>(VerdictClass::kBlocked);
  b.Add(r);
  auto set = b.Finish();
  ASSERT_TRUE(set.ok()) << set.error();
  EventsOptions o;
  o.series = q;
  const EventsReport rep = AnalyzeSeries(std::move(*set), {Timeline("x", kEvent, "CN", {})}, o);
  ASSERT_EQ(rep.findings.size(), 1u);
  EXPECT_EQ(rep.findings[0].outcome, "insufficient_data");
}

}  // namespace
}  // namespace vigil::analysis
