// `vigil events` on real measurements: the lab comes up with crackdown-late (nothing for
// 90 s, then DNS injection, SNI RSTs and a Telegram blackhole), the messaging experiments
// run side by side from the censored network (vgl-client, CN) and the open one
// (vgl-client2, DE) until minutes after the switch, `vigil analyze` stores them, and
// `vigil events` at minute grain, given a timeline that dates the switch, must find the
// crackdown's onset within two cells of it, by what the censor did, and nothing before it
// nor in the open network.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/lab/verify/lab_environment.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil::test_support {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// crackdown-late.yaml: its second phase, the crackdown, starts this long after the censor.
constexpr double kCleanSeconds = 90;
// No run starts later than this after the switch: the last ones end about three minutes
// after it, which fills the --after window's cells.
constexpr double kProbeAfterSeconds = 160;
// Each vantage runs every experiment at most this often (a clean run takes 0.1 s, a
// blocked one 2-9 s): some seven measurements per target and minute.
constexpr auto kPeriod = 8s;
constexpr int64_t kCell = 60;  // minute grain
const char* const kExperiments[] = {"telegram", "whatsapp", "signal", "facebook_messenger"};

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string FormatUtc(int64_t t) {
  const time_t tt = static_cast<time_t>(t);
  struct tm tm = {};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int64_t ParseUtc(const json& text) {
  struct tm tm = {};
  if (!text.is_string() || !strptime(text.get<std::string>().c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) {
    ADD_FAILURE() << "not a time: " << text.dump();
    return 0;
  }
  return timegm(&tm);
}

// One experiment run over and over from one vantage until the deadline, each run's
// measurements appended to `output`.
struct Probe {
  std::string ns, experiment, output;
  int runs = 0;
  std::string failures;  // what the runs that did not exit 0 printed
};

void RunUntil(const LabEnvironment& lab, Probe& p, double deadline) {
  const std::string state = lab.state_dir();
  while (Now() < deadline) {
    const auto started = std::chrono::steady_clock::now();
    auto r = lab.Exec(p.ns,
                      {VigilBinary(), "run", p.experiment, "--batch", "--timeout", "2", "--ca-file",
                       lab.ca_file(), "--endpoints", state + "/endpoints.csv", "--asn-db",
                       state + "/asn.mmdb", "--country-db", state + "/country.mmdb", "--helper",
                       LabEnvironment::kHelperUrl, "--output", p.output},
                      60s);
    ++p.runs;
    if (r.exit_code != 0) p.failures += r.output.substr(0, 1000) + "\n";
    std::this_thread::sleep_until(started + kPeriod);
  }
}

// The phase_start lines of the censor's truth, by phase.
std::vector<double> PhaseStarts(const LabEnvironment& lab) {
  std::vector<double> starts;
  for (const json& t : lab.Truth()) {
    if (t.value("event", "") == "phase_start") starts.push_back(t["t"].get<double>());
  }
  return starts;
}

// The report without the measurement uids, for failure messages.
std::string Readable(json out) {
  for (json& e : out["events"]) e.erase("measurement_uids");
  return out.dump(1);
}

TEST(LabEvents, TheCrackdownsOnsetIsFoundWithinTwoMinuteCells) {
  if (auto why = LabEnvironment::Unavailable()) GTEST_SKIP() << *why;
  LabEnvironment lab("crackdown-late");
  ASSERT_TRUE(lab.ok()) << lab.error();
  auto helper = lab.StartHelper();
  ASSERT_TRUE(helper->Running()) << ReadFileOrEmpty(lab.state_dir() + "/helper.log");
  const std::vector<double> loaded = PhaseStarts(lab);
  ASSERT_EQ(loaded.size(), 1u) << "the censor announces its first phase when it starts";
  const double expected_switch = loaded[0] + kCleanSeconds;
  ASSERT_GT(expected_switch - Now(), 60) << "too little of the clean phase is left to measure";

  TempDir dir("vigil-lab-events-");
  ASSERT_TRUE(dir.ok()) << dir.error();
  std::vector<Probe> probes;
  for (const char* ns : {"client", "client2"}) {
    for (const char* experiment : kExperiments) {
      Probe p;
      p.ns = ns;
      p.experiment = experiment;
      p.output = dir.Join(std::string(ns) + "-" + experiment + ".jsonl");
      probes.push_back(std::move(p));
    }
  }
  {
    std::vector<std::thread> threads;
    for (Probe& p : probes) {
      threads.emplace_back(RunUntil, std::cref(lab), std::ref(p),
                           expected_switch + kProbeAfterSeconds);
    }
    for (std::thread& t : threads) t.join();
  }
  for (const Probe& p : probes) {
    EXPECT_TRUE(p.failures.empty()) << p.ns << " " << p.experiment << ":\n" << p.failures;
  }
  // The censor recorded the switch where the scenario puts it.
  const std::vector<double> phases = PhaseStarts(lab);
  ASSERT_EQ(phases.size(), 2u) << "the crackdown never began";
  EXPECT_NEAR(phases[1], expected_switch, 1.0);
  const int64_t crackdown = static_cast<int64_t>(phases[1]);

  // Where the measurements say the censored vantage is.
  std::istringstream first(ReadFileOrEmpty(probes.front().output));
  std::string line;
  std::getline(first, line);
  const json m = json::parse(line, nullptr, false);
  ASSERT_TRUE(m.is_object()) << line;
  const std::string cc = m.value("probe_cc", ""), asn = m.value("probe_asn", "");
  ASSERT_EQ(cc, "CN") << line.substr(0, 300);
  ASSERT_EQ(asn, "AS64500") << line.substr(0, 300);

  const std::string store = dir.Join("analysis.sqlite");
  std::vector<std::string> analyze = {VigilBinary(), "analyze"};
  for (const Probe& p : probes) analyze.push_back(p.output);
  analyze.insert(analyze.end(), {"--store", store});
  auto analyzed = RunCommand(analyze, 120s);
  ASSERT_EQ(analyzed.exit_code, 0) << analyzed.output;

  std::string error;
  ASSERT_TRUE(dir.WriteFile(
      "timeline.csv",
      "id,start,end,cc,asns,targets,category,description,source_url\n"
      "lab-crackdown," +
          FormatUtc(crackdown) + ",," + cc + "," + asn +
          ",telegram+whatsapp+signal+facebook_messenger,blocking,"
          "\"The lab's censor starts DNS injection, SNI RSTs and a Telegram blackhole\","
          "https://example.org/lab\n",
      &error))
      << error;
  // PELT's change points make the events: CUSUM with OONI's parameters gains at most
  // 0.65 a cell against a threshold of 3.5, so it needs six cells of blocking to speak,
  // six minutes at minute grain, longer than a lab test may take. Its onsets are not
  // judged here.
  auto events = RunCommand({"sh", "-c",
                            "'" + VigilBinary() + "' events --store '" + store + "' --timeline '" +
                                dir.Join("timeline.csv") +
                                "' --grain minute --before 2m --after 3m --method pelt "
                                "--format json 2>/dev/null"},
                           60s);
  ASSERT_EQ(events.exit_code, 0) << events.output;
  const json out = json::parse(events.output, nullptr, false);
  ASSERT_TRUE(out.is_object()) << events.output;
  const std::string report = Readable(out);
  std::printf("crackdown at %s\n%s\n", FormatUtc(crackdown).c_str(), report.c_str());

  // The finding: blocking followed the crackdown, in CN and not in DE.
  ASSERT_EQ(out["findings"].size(), 1u) << report;
  const json& f = out["findings"][0];
  EXPECT_EQ(f["outcome"], "blocking_followed") << report;
  ASSERT_TRUE(f["lag_seconds"].is_number()) << report;
  EXPECT_LE(std::llabs(f["lag_seconds"].get<int64_t>()), 2 * kCell) << report;
  EXPECT_NE(f["finding"].get<std::string>().find("not seen in DE"), std::string::npos) << report;

  // The blocking events: one starting within two cells of the crackdown, every onset of
  // its start change points as close, named by a technique the censor used; none
  // earlier, none in the open network, none global, none left unexplained.
  bool found = false;
  for (const json& e : out["events"]) {
    const int64_t start = ParseUtc(e["start"]);
    EXPECT_GE(start, crackdown - 2 * kCell) << "blocking before the crackdown:\n" << report;
    EXPECT_EQ(e["cc"], "CN") << report;
    EXPECT_FALSE(e["global"].get<bool>()) << report;
    if (std::llabs(start - crackdown) > 2 * kCell) continue;
    bool onsets_near = true;
    for (const json& c : e["change_points"]) {
      if (c["direction"] == "start") {
        onsets_near = onsets_near && std::llabs(ParseUtc(c["onset"]) - crackdown) <= 2 * kCell;
      }
    }
    std::set<std::string> techniques;
    for (const json& t : e["techniques"]) techniques.insert(t["technique"].get<std::string>());
    const bool by_the_censors_means = techniques.count("dns_injection") ||
                                      techniques.count("tls_sni_rst") ||
                                      techniques.count("tcp_blackhole");
    EXPECT_TRUE(onsets_near) << e["id"] << "\n" << report;
    EXPECT_TRUE(by_the_censors_means) << e["id"] << "\n" << report;
    found = found || (onsets_near && by_the_censors_means);
  }
  EXPECT_TRUE(found) << "no blocking event within two cells of " << FormatUtc(crackdown) << ":\n"
                     << report;
  EXPECT_TRUE(out["leads"].empty()) << report;
}

}  // namespace
}  // namespace vigil::test_support
