// The runner in-process, as `vigil run` drives it: a toy experiment defined here
// registers through its descriptor alone and is planned, run, stamped with the
// network, scrubbed, written, spooled and recorded; the time budget leaves jobs for
// the next run; a refused connect after a TLS reset at the same address:port is the
// reset's residual block; the analyzer recognises the toy by its descriptor. A real
// experiment over loopback, with no network, goes through the same path.
#include "vantage/runner/runner.h"

#include <gtest/gtest.h>

#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "analysis/ingest/ingest.h"
#include "analysis/verdict/rules.h"
#include "probe/experiments/catalog.h"
#include "probe/experiments/registry.h"
#include "probe/measurement/envelope.h"
#include "probe/measurement/measurement_json.h"
#include "tests/support/silent_resolver.h"
#include "tests/support/temp_dir.h"
#include "tests/support/unbound_server.h"
#include "tests/support_paths.h"
#include "vantage/geo/scrub.h"
#include "vantage/runner/run_plan.h"
#include "vantage/spool/results_db.h"
#include "vantage/spool/spool.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;

constexpr const char* kProbeIp = "203.0.113.7";
constexpr const char* kResetAt = "192.0.2.1:443";

// The toy: its input says what it meets. "slow..." takes 300 ms, "reset" has its TLS
// handshake reset at kResetAt, "refused" has its connect there refused, "down" finds
// the target down, "broken" cannot run; every measurement carries the probe's address where a
// server echoed it (a header, and a body that is not UTF-8) and a failure the STUN scorer knows.
class ToyExperiment : public Experiment {
 public:
  std::string_view name() const override { return "toy"; }
  std::string_view version() const override { return "0.0.1"; }
  InputPolicy input_policy() const override { return InputPolicy::kRequired; }

  asio::awaitable<Result<Measurement>> Run(const ExperimentContext& context,
                                           const Json& input) const override {
    const std::string in = input.get<std::string>();
    if (in == "broken") co_return Error{"the toy cannot measure 'broken'"};
    if (in.starts_with("slow")) {
      asio::steady_timer timer(context.executor, 300ms);
      co_await timer.async_wait(asio::use_awaitable);
    }
    Measurement m = NewMeasurement("toy", "0.0.1", input);
    m.test_keys.failure = "generic_timeout_error";
    HttpTransaction t;
    t.response.code = 200;
    t.response.headers_list = {{"X-Seen-From", kProbeIp}};
    t.response.headers["X-Seen-From"] = kProbeIp;
    t.response.body.bytes = std::string("\xff\xfe you are ") + kProbeIp;
    m.test_keys.requests.push_back(t);
    if (in == "reset") {
      TlsHandshake h;
      h.address = kResetAt;
      h.failure = "connection_reset";
      m.test_keys.tls_handshakes.push_back(h);
    } else if (in == "refused") {
      TcpConnect c;
      c.ip = "192.0.2.1";
      c.port = 443;
      c.status.failure = "connection_refused";
      m.test_keys.tcp_connect.push_back(c);
    }
    co_return m;
  }

  RunSummary Summarize(const Measurement& m) const override {
    const std::string in = m.input.get<std::string>();
    if (in == "reset")
      return {in, RunVerdict::kBlocked, "tls", kResetAt + std::string(" tls_handshake")};
    if (in == "refused")
      return {in, RunVerdict::kBlocked, "tcp_ip", kResetAt + std::string(" connect")};
    if (in == "down") return {in, RunVerdict::kDown, "", ""};
    return {in, RunVerdict::kOk, "", ""};
  }
};

// The toy's one line in a registry: its descriptor (the STUN scorer judges it; OONI
// would call it toy_reachability too) and how to make it.
ExperimentDescriptor ToyDescriptor() {
  return {"toy",
          "0.0.1",
          {"toy_reachability"},
          {"toys"},
          {"toyservice"},
          InputPolicy::kRequired,
          DefaultInputSource::kNone,
          ScorerKind::kStun};
}

ExperimentCatalog CatalogWithToy() {
  std::vector<ExperimentDescriptor> all = ExperimentCatalog::Builtin().descriptors();
  all.push_back(ToyDescriptor());
  return ExperimentCatalog(std::move(all));
}

ExperimentRegistry RegistryWithToy() {
  return ExperimentRegistry(CatalogWithToy(),
                            {{"toy", [] { return std::make_unique<ToyExperiment>(); }}});
}

GeoInfo ToyNetwork() {
  GeoInfo geo;
  geo.probe_ips = {kProbeIp};
  geo.probe_asn = "AS64500";
  geo.probe_cc = "XY";
  geo.probe_network_name = "Toy Net";
  geo.resolver_asn = "AS64501";
  return geo;
}

// What the run told its observer.
struct Recorder : RunObserver {
  std::vector<std::string> notes;
  std::vector<GeoInfo> located;
  std::vector<JobOutcome> done;
  void OnNote(const std::string& text) override { notes.push_back(text); }
  void OnLocated(const GeoInfo& where) override { located.push_back(where); }
  void OnJobDone(const JobOutcome& job) override { done.push_back(job); }
};

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()) << dir_.error(); }

  RunSettings Settings() const {
    RunSettings s;
    s.data_dir = test_support::SourceDir() + "/testlists";
    s.spool_dir = dir_.Join("spool");
    s.results_db = dir_.Join("results.sqlite");
    s.output = dir_.Join("out/run.jsonl");
    s.geolocate = [](const GeoOptions&) { return ToyNetwork(); };
    // The network check asks the system's resolver: tests that want it say so.
    s.network_check = false;
    return s;
  }

  RunPlan Plan(const ExperimentRegistry& registry, std::string target,
               std::vector<std::string> inputs) {
    PlanRequest request;
    request.target = std::move(target);
    request.inputs = std::move(inputs);
    request.data_dir = test_support::SourceDir() + "/testlists";
    auto plan = PlanRun(request, registry);
    EXPECT_TRUE(plan.ok()) << plan.error();
    return plan.ok() ? std::move(*plan) : RunPlan{};
  }

  RunOutcome RunToEnd(RunPlan plan, const RunSettings& settings) {
    auto runner = Runner::Open(std::move(plan), settings, recorder_);
    EXPECT_TRUE(runner.ok()) << runner.error();
    if (!runner.ok()) return {};
    return (*runner)->Run();
  }

  std::vector<std::string> Spooled() const {
    std::vector<std::string> lines;
    auto spool = Spool::Open(dir_.Join("spool"));
    EXPECT_TRUE(spool.ok()) << spool.error();
    auto pending = spool->Pending();
    EXPECT_TRUE(pending.ok()) << pending.error();
    for (const auto& e : *pending) {
      auto text = spool->Read(e);
      EXPECT_TRUE(text.ok()) << text.error();
      if (text.ok()) lines.push_back(*text);
    }
    return lines;
  }

  std::vector<std::string> Written() const {
    std::istringstream in(test_support::ReadFileOrEmpty(dir_.Join("out/run.jsonl")));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  test_support::TempDir dir_{"vigil-runner-"};
  Recorder recorder_;
};

TEST_F(RunnerTest, AToyExperimentRegisteredByItsDescriptorIsMeasuredStampedScrubbedAndKept) {
  const ExperimentRegistry registry = RegistryWithToy();
  // Its group names it, as `vigil run toys` would.
  const RunOutcome outcome = RunToEnd(Plan(registry, "toys", {"a", "b", "c"}), Settings());
  ASSERT_FALSE(outcome.error) << *outcome.error;
  ASSERT_EQ(outcome.jobs.size(), 3u);
  for (const auto& job : outcome.jobs) {
    EXPECT_EQ(job.test, "toy");
    EXPECT_EQ(job.summary.verdict, RunVerdict::kOk);
  }
  EXPECT_EQ(recorder_.done.size(), 3u);
  ASSERT_EQ(recorder_.located.size(), 1u);
  EXPECT_EQ(recorder_.located[0].probe_cc, "XY");

  const auto written = Written();
  ASSERT_EQ(written.size(), 3u);
  std::multiset<std::string> inputs;
  for (const auto& line : written) {
    EXPECT_FALSE(ContainsProbeIp(line, {kProbeIp})) << line;
    auto m = ParseMeasurement(line);
    ASSERT_TRUE(m.ok()) << m.error();
    EXPECT_EQ(m->test_name, "toy");
    EXPECT_EQ(m->probe_asn, "AS64500");
    EXPECT_EQ(m->probe_cc, "XY");
    EXPECT_EQ(m->probe_network_name, "Toy Net");
    EXPECT_EQ(m->resolver_asn, "AS64501");
    ASSERT_EQ(m->test_keys.requests.size(), 1u);
    EXPECT_EQ(m->test_keys.requests[0].response.body.bytes.find(kProbeIp), std::string::npos);
    inputs.insert(m->input.get<std::string>());
  }
  EXPECT_EQ(inputs, (std::multiset<std::string>{"a", "b", "c"}));

  // The spool holds exactly the lines written, and the results database their rows.
  const auto spooled = Spooled();
  EXPECT_EQ(std::multiset<std::string>(spooled.begin(), spooled.end()),
            std::multiset<std::string>(written.begin(), written.end()));
  auto db = ResultsDb::Open(dir_.Join("results.sqlite"));
  ASSERT_TRUE(db.ok()) << db.error();
  auto run = (*db)->GetRun(outcome.run_id);
  ASSERT_TRUE(run.ok()) << run.error();
  ASSERT_TRUE(run->has_value());
  EXPECT_EQ((*run)->run.target, "toys");
  EXPECT_EQ((*run)->run.probe_cc, "XY");
  EXPECT_EQ((*run)->run.probe_asn, "AS64500");
  EXPECT_TRUE((*run)->run.finished_at.has_value());
  EXPECT_EQ((*run)->run.counts.measurements, 3);
  ASSERT_EQ((*run)->measurements.size(), 3u);
  for (const auto& row : (*run)->measurements) {
    EXPECT_EQ(row.test_name, "toy");
    EXPECT_EQ(row.upload_state, UploadState::kDisabled);
  }
}

TEST_F(RunnerTest, TheTimeBudgetLeavesJobsForTheNextRun) {
  const ExperimentRegistry registry = RegistryWithToy();
  RunSettings settings = Settings();
  settings.parallel = 1;
  settings.max_runtime = 500ms;
  const auto start = std::chrono::steady_clock::now();
  const RunOutcome outcome = RunToEnd(
      Plan(registry, "toy", {"slow1", "slow2", "slow3", "slow4", "slow5", "slow6"}), settings);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(outcome.error) << *outcome.error;
  // 300 ms each, one at a time: two start within the budget, the rest do not.
  EXPECT_EQ(outcome.not_started, 4u);
  EXPECT_LT(elapsed, 1500ms);
  size_t skipped = 0;
  for (const auto& job : outcome.jobs) {
    if (job.summary.verdict != RunVerdict::kSkipped) continue;
    ++skipped;
    EXPECT_EQ(job.summary.evidence, "not run: the run's --max-runtime was reached");
  }
  EXPECT_EQ(skipped, 4u);
  EXPECT_EQ(Spooled().size(), 2u);
  EXPECT_EQ(Written().size(), 2u);
}

TEST_F(RunnerTest, ARefusedConnectWhereATlsHandshakeWasResetIsTheResetsResidualBlock) {
  const ExperimentRegistry registry = RegistryWithToy();
  RunSettings settings = Settings();
  settings.parallel = 1;
  const RunOutcome outcome = RunToEnd(Plan(registry, "toy", {"reset", "refused"}), settings);
  ASSERT_FALSE(outcome.error) << *outcome.error;
  ASSERT_EQ(outcome.jobs.size(), 2u);
  EXPECT_EQ(outcome.jobs[0].summary.blocking, "tls");
  EXPECT_EQ(outcome.jobs[1].summary.blocking, "tls");
  EXPECT_NE(outcome.jobs[1].summary.evidence.find("residual block"), std::string::npos)
      << outcome.jobs[1].summary.evidence;

  // Without the reset, a refused connect stays TCP/IP blocking.
  test_support::TempDir other("vigil-runner-");
  ASSERT_TRUE(other.ok());
  settings.spool_dir = other.Join("spool");
  settings.results_db = other.Join("results.sqlite");
  settings.output = "";
  const RunOutcome alone = RunToEnd(Plan(registry, "toy", {"refused"}), settings);
  ASSERT_EQ(alone.jobs.size(), 1u);
  EXPECT_EQ(alone.jobs[0].summary.blocking, "tcp_ip");
}

TEST_F(RunnerTest, AnExperimentThatCannotRunIsCountedAndSaysWhy) {
  const ExperimentRegistry registry = RegistryWithToy();
  const RunOutcome outcome = RunToEnd(Plan(registry, "toy", {"a", "broken"}), Settings());
  ASSERT_FALSE(outcome.error) << *outcome.error;
  EXPECT_EQ(outcome.could_not_run, 1u);
  ASSERT_EQ(outcome.jobs.size(), 2u);
  EXPECT_EQ(outcome.jobs[1].summary.verdict, RunVerdict::kError);
  ASSERT_EQ(recorder_.notes.size(), 1u);
  EXPECT_EQ(recorder_.notes[0], "toy: the toy cannot measure 'broken'");
  EXPECT_EQ(Spooled().size(), 1u);
}

TEST_F(RunnerTest, TheResultsDatabaseKeepsEachVerdictsWordAndCountsAnomaliesAndFailures) {
  const ExperimentRegistry registry = RegistryWithToy();
  RunSettings settings = Settings();
  settings.parallel = 1;
  const RunOutcome outcome = RunToEnd(Plan(registry, "toy", {"a", "reset", "down"}), settings);
  ASSERT_FALSE(outcome.error) << *outcome.error;
  auto db = ResultsDb::Open(dir_.Join("results.sqlite"));
  ASSERT_TRUE(db.ok()) << db.error();
  auto run = (*db)->GetRun(outcome.run_id);
  ASSERT_TRUE(run.ok()) << run.error();
  ASSERT_TRUE(run->has_value());
  std::map<std::string, std::pair<std::string, bool>> rows;  // input → verdict, anomaly
  for (const auto& row : (*run)->measurements) rows[row.input] = {row.verdict, row.anomaly};
  EXPECT_EQ(rows,
            (std::map<std::string, std::pair<std::string, bool>>{
                {"a", {"ok", false}}, {"reset", {"blocked", true}}, {"down", {"down", false}}}));
  EXPECT_EQ((*run)->run.counts.measurements, 3);
  EXPECT_EQ((*run)->run.counts.anomalies, 1);
  EXPECT_EQ((*run)->run.counts.failures, 1);
}

TEST_F(RunnerTest, PlanningRefusesWhatCannotRunWithAPreciseError) {
  const ExperimentRegistry registry = RegistryWithToy();
  PlanRequest request;
  request.target = "nosuchtest";
  auto unknown = PlanRun(request, registry);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().find("unknown experiment or group 'nosuchtest' (im, websites, toys, "
                                 "all, censor_hop, delivery, dns_injection, dnscheck"),
            std::string::npos)
      << unknown.error();
  request.target = "toy";
  auto no_inputs = PlanRun(request, registry);
  ASSERT_FALSE(no_inputs.ok());
  EXPECT_EQ(no_inputs.error(), "toy needs inputs: --input or --input-file");
  // Its alias names it too.
  request.target = "toy_reachability";
  request.inputs = {"a"};
  auto alias = PlanRun(request, registry);
  ASSERT_TRUE(alias.ok()) << alias.error();
  ASSERT_EQ(alias->jobs.size(), 1u);
  EXPECT_EQ(alias->jobs[0].experiment->name(), "toy");
}

TEST_F(RunnerTest, TheAnalyzerJudgesTheToyByItsDescriptor) {
  const ExperimentRegistry registry = RegistryWithToy();
  ASSERT_FALSE(RunToEnd(Plan(registry, "toy", {"a"}), Settings()).error);
  const auto spooled = Spooled();
  ASSERT_EQ(spooled.size(), 1u);
  // OONI's other spelling of its name, as another probe might upload it.
  std::string text = spooled[0];
  const std::string name = "\"test_name\":\"toy\"";
  ASSERT_NE(text.find(name), std::string::npos);
  text.replace(text.find(name), name.size(), "\"test_name\":\"toy_reachability\"");

  auto engine =
      analysis::VerdictEngine::Load(test_support::SourceDir() + "/testlists/verdict/rules.json",
                                    test_support::SourceDir() + "/testlists/fingerprints");
  ASSERT_TRUE(engine.ok()) << engine.error();
  auto judge = [&](analysis::ExtractedMeasurement* facts) {
    analysis::MeasurementExtractor extractor{analysis::IngestOptions{}};
    auto extracted = extractor.Extract(text, facts);
    EXPECT_TRUE(extracted.ok()) << extracted.error();
    return engine->Score(*facts, static_cast<int64_t>(std::time(nullptr)));
  };
  const auto tcp = static_cast<size_t>(analysis::Layer::kTcp);

  analysis::ExtractedMeasurement unknown;
  const analysis::VerdictRow generic = judge(&unknown);
  EXPECT_EQ(unknown.measurement.test_name, "toy_reachability");
  EXPECT_NE(generic.layers[tcp].rule_id, "tcp.stun_no_response");

  const ExperimentCatalog catalog = CatalogWithToy();
  const ScopedCatalog with_toy(catalog);
  analysis::ExtractedMeasurement known;
  const analysis::VerdictRow row = judge(&known);
  EXPECT_EQ(known.measurement.test_name, "toy");
  EXPECT_EQ(row.layers[tcp].rule_id, "tcp.stun_no_response");
}

// A real experiment over loopback: no resolver answers, so WhatsApp is blocked at
// DNS, and the measurement goes the same way as the toy's.
TEST_F(RunnerTest, ARealExperimentWithoutANetworkIsRunAndKept) {
  test_support::SilentResolver resolver;
  ASSERT_TRUE(resolver.ok());
  RunSettings settings = Settings();
  settings.resolver = resolver.url();
  settings.timeout = 500ms;
  const RunOutcome outcome =
      RunToEnd(Plan(ExperimentRegistry::Builtin(), "whatsapp", {}), settings);
  ASSERT_FALSE(outcome.error) << *outcome.error;
  ASSERT_EQ(outcome.jobs.size(), 1u);
  EXPECT_EQ(outcome.jobs[0].summary.service, "WhatsApp");
  EXPECT_EQ(outcome.jobs[0].summary.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(outcome.jobs[0].summary.blocking, "dns");
  const auto spooled = Spooled();
  ASSERT_EQ(spooled.size(), 1u);
  auto m = ParseMeasurement(spooled[0]);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->test_name, "whatsapp");
  EXPECT_EQ(m->probe_cc, "XY");
}

TEST_F(RunnerTest, TheJudgesVerdictIsWhatTheProgressTheTableAndTheResultsDatabaseShow) {
  const ExperimentRegistry registry = RegistryWithToy();
  RunSettings settings = Settings();
  std::vector<std::string> judged;
  settings.judge = [&judged](const std::string& line, RunSummary& summary) {
    judged.push_back(line);
    summary.verdict = summary.service == "b" ? RunVerdict::kNoNetwork : RunVerdict::kAnomaly;
    summary.blocking = summary.service == "b" ? "" : "judged";
  };
  const RunOutcome outcome = RunToEnd(Plan(registry, "toy", {"a", "b", "broken"}), settings);
  ASSERT_FALSE(outcome.error) << *outcome.error;
  // The judge reads the line as it is kept: stamped with the network, scrubbed.
  ASSERT_EQ(judged.size(), 2u);
  for (const auto& line : judged) {
    EXPECT_NE(line.find("\"probe_cc\":\"XY\""), std::string::npos) << line;
    EXPECT_EQ(line.find(kProbeIp), std::string::npos) << line;
  }
  ASSERT_EQ(outcome.jobs.size(), 3u);
  EXPECT_EQ(outcome.jobs[0].summary.verdict, RunVerdict::kAnomaly);
  EXPECT_EQ(outcome.jobs[0].summary.blocking, "judged");
  EXPECT_EQ(outcome.jobs[1].summary.verdict, RunVerdict::kNoNetwork);
  EXPECT_EQ(outcome.jobs[2].summary.verdict, RunVerdict::kError);  // could not run: not judged
  // The progress line heard every job once, with the judged verdicts.
  ASSERT_EQ(recorder_.done.size(), 3u);
  std::map<std::string, RunVerdict> progress;
  for (const auto& d : recorder_.done) progress[d.summary.service] = d.summary.verdict;
  EXPECT_EQ(progress["a"], RunVerdict::kAnomaly);
  EXPECT_EQ(progress["b"], RunVerdict::kNoNetwork);
  EXPECT_EQ(progress["broken"], RunVerdict::kError);
  auto db = ResultsDb::Open(dir_.Join("results.sqlite"));
  ASSERT_TRUE(db.ok()) << db.error();
  auto run = (*db)->GetRun(outcome.run_id);
  ASSERT_TRUE(run.ok()) << run.error();
  ASSERT_TRUE(run->has_value());
  std::map<std::string, std::string> kept;
  for (const auto& m : (*run)->measurements) kept[m.input] = m.verdict;
  EXPECT_EQ(kept["a"], "anomaly");
  EXPECT_EQ(kept["b"], "no_network");
  // no_network is a failure of the run, not an anomaly of the network.
  EXPECT_EQ((*run)->run.counts.anomalies, 1);
  EXPECT_EQ((*run)->run.counts.failures, 1);
}

TEST_F(RunnerTest, EveryMeasurementSaysWhetherTheNetworkWorked) {
  const ExperimentRegistry registry = RegistryWithToy();
  // A resolver that never answers and a canary on loopback (which proves nothing):
  // no way out.
  test_support::SilentResolver silent;
  ASSERT_TRUE(silent.ok());
  RunSettings settings = Settings();
  settings.network_check = true;
  settings.resolver = silent.url();
  settings.timeout = 300ms;
  settings.canaries = {"127.0.0.1:9", "http://[::1]:9/"};
  RunOutcome outcome = RunToEnd(Plan(registry, "toy", {"a"}), settings);
  ASSERT_FALSE(outcome.error) << *outcome.error;
  auto lines = Written();
  ASSERT_EQ(lines.size(), 1u);
  auto m = ParseMeasurement(lines[0]);
  ASSERT_TRUE(m.ok()) << m.error();
  const Json& network = m->test_keys.extra["x_network"];
  ASSERT_TRUE(network.is_object()) << lines[0];
  EXPECT_EQ(network["usable"], false);
  ASSERT_EQ(network["checks"].size(), 3u) << network.dump();  // the names; loopback left out
  for (const auto& c : network["checks"]) {
    EXPECT_EQ(c["kind"], "dns");
    EXPECT_EQ(c["failure"], "generic_timeout_error");
  }

  // A resolver that answers for a canary name: the network works.
  if (auto why = test_support::UnboundServer::Unavailable()) GTEST_SKIP() << *why;
  test_support::UnboundServer unbound({"example.org. 300 IN A 127.0.0.1"});
  ASSERT_TRUE(unbound.ok()) << unbound.error();
  test_support::TempDir other("vigil-runner-");
  ASSERT_TRUE(other.ok());
  settings.resolver = "udp://127.0.0.1:" + std::to_string(unbound.port());
  settings.spool_dir = other.Join("spool");
  settings.results_db = other.Join("results.sqlite");
  settings.output = other.Join("run.jsonl");
  outcome = RunToEnd(Plan(registry, "toy", {"a"}), settings);
  ASSERT_FALSE(outcome.error) << *outcome.error;
  auto again = ParseMeasurement(test_support::ReadFileOrEmpty(settings.output));
  ASSERT_TRUE(again.ok()) << again.error();
  const Json& works = again->test_keys.extra["x_network"];
  EXPECT_EQ(works["usable"], true) << works.dump();
  size_t answered = 0;
  for (const auto& c : works["checks"]) answered += c["failure"].is_null() ? 1 : 0;
  EXPECT_EQ(answered, 1u) << works.dump();  // example.org; the others are REFUSED
}

}  // namespace
}  // namespace vigil
