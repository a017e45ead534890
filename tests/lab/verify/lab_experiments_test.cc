// `vigil run im` from the censored network of the lab, scenario by scenario: each
// messaging experiment's verdict and blocking type must agree with what the censor
// did (its ground truth), and the clean scenario must yield no anomaly at all. The
// open network sees no blocking whatever the scenario.
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "analysis/ingest/ingest.h"
#include "analysis/verdict/rules.h"
#include "probe/experiments/registry.h"
#include "probe/measurement/measurement_json.h"
#include "tests/lab/verify/lab_environment.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil::test_support {
namespace {

using nlohmann::json;

LabEnvironment* g_lab = nullptr;
ChildProcess* g_helper = nullptr;  // `vigil helper` in vgl-control, the uncensored vantage
constexpr const char* kHelperUrl = LabEnvironment::kHelperUrl;

// The analyzer's engine with the shipped rules, as `vigil run` loads it.
const analysis::VerdictEngine& Engine() {
  static const analysis::VerdictEngine* engine = [] {
    auto e = analysis::VerdictEngine::Load(SourceDir() + "/testlists/verdict/rules.json",
                                           SourceDir() + "/testlists/fingerprints");
    EXPECT_TRUE(e.ok()) << e.error();
    return e.ok() ? new analysis::VerdictEngine(std::move(*e)) : new analysis::VerdictEngine();
  }();
  return *engine;
}

struct Verdict {
  std::string verdict;
  std::string blocking;
  std::string evidence;
  json test_keys;
};

class LabExperimentsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (LabEnvironment::Unavailable()) return;
    g_lab = new LabEnvironment("clean");
    if (!g_lab->ok()) return;
    g_helper = g_lab
                   ->StartHelper(
                       {"--whoami-dns", "198.18.30.2:5353", "--whoami-zone", "whoami.vigil.test"})
                   .release();
  }
  static void TearDownTestSuite() {
    delete g_helper;
    g_helper = nullptr;
    delete g_lab;
    g_lab = nullptr;
  }

  void SetUp() override {
    if (auto why = LabEnvironment::Unavailable()) GTEST_SKIP() << *why;
    ASSERT_TRUE(g_lab && g_lab->ok()) << (g_lab ? g_lab->error() : "no lab");
  }

  void Use(const std::string& scenario) {
    std::string error;
    ASSERT_TRUE(g_lab->SwitchScenario(scenario, &error)) << error;
  }

  std::vector<std::string> RunArgs(std::vector<std::string> extra,
                                   const std::string& target = "im") const {
    std::vector<std::string> argv = {VigilBinary(), "run", target, "--timeout", "2", "--ca-file",
                                     g_lab->ca_file(), "--endpoints",
                                     g_lab->state_dir() + "/endpoints.csv", "--asn-db",
                                     g_lab->state_dir() + "/asn.mmdb",
                                     // late forged DNS replies: the lab's come within 320 ms
                                     "--dns-listen", "0.5"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  // test name → verdict, from `vigil run im --batch` in vgl-<ns>, judged as the table
  // judges them: by the analyzer's rules (apps/vigil/run_judge), the evidence line from
  // the experiment's own summary.
  std::map<std::string, Verdict> RunIm(const std::string& ns = "client",
                                       const std::string& target = "im",
                                       std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), "--batch");
    auto r = g_lab->Exec(ns, RunArgs(extra, target), std::chrono::seconds(60));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::map<std::string, Verdict> out;
    analysis::IngestOptions ingest;
    analysis::MeasurementExtractor extractor(ingest);
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line[0] != '{') continue;
      auto m = ParseMeasurement(line);
      EXPECT_TRUE(m.ok()) << line.substr(0, 200);
      if (!m.ok()) continue;
      auto e = MakeExperiment(m->test_name);
      EXPECT_NE(e, nullptr) << m->test_name;
      if (!e) continue;
      RunSummary s = e->Summarize(*m);
      analysis::ExtractedMeasurement facts;
      auto extracted = extractor.Extract(line, &facts);
      EXPECT_TRUE(extracted.ok()) << extracted.error();
      if (!extracted.ok()) continue;
      const analysis::VerdictRow row = Engine().Score(facts, std::time(nullptr));
      const bool flagged = row.verdict == analysis::VerdictClass::kBlocked ||
                           row.verdict == analysis::VerdictClass::kAnomaly;
      // The list-driven `messaging` experiment measures each service on its own.
      const std::string key =
          m->input.is_string() ? m->test_name + "/" + m->input.get<std::string>() : m->test_name;
      out[key] = {
          std::string(analysis::VerdictClassName(row.verdict)), flagged ? row.blocking_type : "",
          s.evidence + " [" + analysis::VerdictEngine::RulesFired(row) + "]", ToJson(m->test_keys)};
    }
    if (target != "im") return out;
    for (const auto& name : ExperimentGroup("im")) {
      if (name != "messaging") {
        EXPECT_EQ(out.count(name), 1u) << name << "\n" << r.output;
      }
    }
    EXPECT_EQ(out.count("messaging/whatsapp"), 1u) << r.output;
    EXPECT_EQ(out.count("messaging/telegram"), 1u) << r.output;
    return out;
  }

  // The rules of the truth file that acted, with how many times.
  std::map<std::string, int> RulesThatActed() {
    std::map<std::string, int> rules;
    for (auto& a : g_lab->Actions()) ++rules[a.value("rule", "")];
    return rules;
  }

  static std::string Describe(const std::map<std::string, Verdict>& v) {
    std::string s;
    for (const auto& [test, x] : v)
      s += test + ": " + x.verdict + " " + x.blocking + " " + x.evidence + "\n";
    return s;
  }
};

TEST_F(LabExperimentsTest, CleanYieldsNoAnomalyAtAll) {
  Use("clean");
  auto v = RunIm();
  for (const auto& [test, x] : v) {
    EXPECT_EQ(x.verdict, "ok") << Describe(v);
    EXPECT_EQ(x.blocking, "") << Describe(v);
  }
  EXPECT_TRUE(g_lab->Actions().empty());
  // OONI's keys agree.
  EXPECT_EQ(v["whatsapp"].test_keys["whatsapp_endpoints_status"], "ok");
  EXPECT_EQ(v["telegram"].test_keys["telegram_tcp_blocking"], false);
  EXPECT_EQ(v["signal"].test_keys["signal_backend_status"], "ok");
  EXPECT_EQ(v["facebook_messenger"].test_keys["facebook_tcp_blocking"], false);
  EXPECT_EQ(v["facebook_messenger"].test_keys["facebook_dns_blocking"], false);
  // Every Messenger name handshakes with the lab's certificate, verified by the lab CA.
  const json& handshakes = v["facebook_messenger"].test_keys["x_tls_handshakes"];
  EXPECT_GE(handshakes.size(), 6u) << handshakes.dump();
  for (const auto& h : handshakes) EXPECT_TRUE(h["failure"].is_null()) << h.dump();
}

TEST_F(LabExperimentsTest, GfwDnsIsBlockingByDnsForEveryService) {
  Use("gfw-dns");
  auto v = RunIm();
  // Telegram's data centres are addresses, which DNS injection cannot touch: Telegram
  // still works through them, so it is partial blocking (anomaly), never blocked.
  for (const char* test : {"whatsapp", "telegram", "signal", "facebook_messenger"}) {
    EXPECT_EQ(v[test].verdict, std::string(test) == "telegram" ? "anomaly" : "blocked")
        << Describe(v);
    EXPECT_EQ(v[test].blocking, "dns") << Describe(v);
  }
  for (const char* service : {"whatsapp", "telegram", "signal", "facebook_messenger"}) {
    const auto& x = v[std::string("messaging/") + service];
    EXPECT_EQ(x.verdict, std::string(service) == "telegram" ? "anomaly" : "blocked")
        << service << "\n"
        << Describe(v);
    EXPECT_EQ(x.blocking, "dns") << service << "\n" << Describe(v);
  }
  EXPECT_EQ(v["wechat"].verdict, "ok") << Describe(v);
  EXPECT_EQ(v["messaging/wechat"].verdict, "ok") << Describe(v);
  EXPECT_FALSE(v["whatsapp"].test_keys["whatsapp_endpoints_dns_inconsistent"].empty());
  EXPECT_EQ(v["facebook_messenger"].test_keys["facebook_dns_blocking"], true);
  EXPECT_GT(RulesThatActed()["messaging-dns"], 0);

  // The same run from the open network sees nothing.
  auto open = RunIm("client2");
  for (const auto& [test, x] : open) EXPECT_EQ(x.verdict, "ok") << Describe(open);
}

TEST_F(LabExperimentsTest, GfwSniRstIsBlockingByTls) {
  // One experiment per fresh censor: after a reset the censor blocks the same
  // (client, server, port) for 20 s whatever the content, so a second experiment
  // to the same server would meet the residual block (RSTs to its SYNs) instead.
  std::map<std::string, Verdict> v;
  auto rules = std::map<std::string, int>();
  for (const char* test : {"whatsapp", "telegram", "signal", "facebook_messenger"}) {
    Use("gfw-sni-rst");
    auto one = RunIm("client", test);
    v[test] = one[test];
    for (const auto& [rule, n] : RulesThatActed()) rules[rule] += n;
  }
  // WhatsApp's chat endpoints and Telegram's data centres carry no SNI and still work:
  // only their web fronts are reset, which is partial blocking (anomaly), never blocked.
  // Every Signal backend speaks TLS with a signal.org name: Signal is blocked.
  EXPECT_EQ(v["whatsapp"].verdict, "anomaly") << Describe(v);
  EXPECT_EQ(v["telegram"].verdict, "anomaly") << Describe(v);
  EXPECT_EQ(v["signal"].verdict, "blocked") << Describe(v);
  for (const char* test : {"whatsapp", "telegram", "signal"}) {
    EXPECT_EQ(v[test].blocking, "tls") << Describe(v);
  }
  EXPECT_NE(v["telegram"].evidence.find("connection_reset"), std::string::npos) << Describe(v);
  // facebook_messenger's connects (all OONI makes) go through; the handshakes that follow
  // them name facebook.com and fbcdn.net, and every one is reset: blocked by TLS, though
  // OONI's own keys still say reachable.
  EXPECT_EQ(v["facebook_messenger"].verdict, "blocked") << Describe(v);
  EXPECT_EQ(v["facebook_messenger"].blocking, "tls") << Describe(v);
  EXPECT_NE(v["facebook_messenger"].evidence.find("connection_reset"), std::string::npos)
      << Describe(v);
  EXPECT_EQ(v["facebook_messenger"].test_keys["facebook_tcp_blocking"], false);
  EXPECT_EQ(v["facebook_messenger"].test_keys["facebook_b_api_reachable"], true);
  EXPECT_TRUE(v["facebook_messenger"].test_keys["tls_handshakes"].empty());
  EXPECT_FALSE(v["facebook_messenger"].test_keys["x_tls_handshakes"].empty());
  // The list-driven experiment makes the same handshakes for Messenger.
  Use("gfw-sni-rst");
  auto listed = RunIm("client", "messaging");
  EXPECT_EQ(listed["messaging/facebook_messenger"].verdict, "blocked") << Describe(listed);
  EXPECT_EQ(listed["messaging/facebook_messenger"].blocking, "tls") << Describe(listed);
  EXPECT_GT(rules["telegram-sni-gfw1"], 0);

  // All at once, as a volunteer runs them: whichever experiment reaches a server
  // second meets the residual block (its connect refused); the table still names
  // the technique, TLS, and says why.
  Use("gfw-sni-rst");
  auto table = g_lab->Exec("client", RunArgs({"--output", g_lab->state_dir() + "/sni.jsonl"}),
                           std::chrono::seconds(60));
  ASSERT_EQ(table.exit_code, 0) << table.output;
  std::istringstream lines(table.output);
  int rows = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("Telegram ", 0) != 0 && line.rfind("WhatsApp ", 0) != 0) continue;
    ++rows;
    EXPECT_NE(line.find(" anomaly  tls "), std::string::npos) << line;
  }
  EXPECT_EQ(rows, 2) << table.output;
  EXPECT_GT(rules["whatsapp-sni-gfw2"], 0);
  EXPECT_GT(rules["signal-facebook-sni-gfw3"], 0);
}

TEST_F(LabExperimentsTest, BlackholedDataCentresAreTcpBlocking) {
  Use("blackhole-ips");
  auto v = RunIm();
  EXPECT_EQ(v["telegram"].verdict, "blocked") << Describe(v);
  EXPECT_EQ(v["telegram"].blocking, "tcp_ip") << Describe(v);
  EXPECT_EQ(v["telegram"].test_keys["telegram_tcp_blocking"], true);
  EXPECT_NE(v["telegram"].evidence.find("generic_timeout_error"), std::string::npos);
  EXPECT_EQ(v["messaging/telegram"].verdict, "blocked") << Describe(v);
  EXPECT_EQ(v["messaging/telegram"].blocking, "tcp_ip") << Describe(v);
  EXPECT_EQ(v["messaging/whatsapp"].verdict, "ok") << Describe(v);
  for (const char* test : {"whatsapp", "signal", "facebook_messenger"}) {
    EXPECT_EQ(v[test].verdict, "ok") << Describe(v);
  }
  EXPECT_GT(RulesThatActed()["telegram-dc-blackhole"], 0);
}

TEST_F(LabExperimentsTest, PartialTelegramBlockingIsReportedNotHidden) {
  Use("telegram-partial");
  auto v = RunIm();
  const json& k = v["telegram"].test_keys;
  // OONI's key: one reachable DC means "not blocked"...
  EXPECT_EQ(k["telegram_tcp_blocking"], false);
  // ...ours name the DCs that are not reachable.
  EXPECT_EQ(v["telegram"].verdict, "anomaly") << Describe(v);
  EXPECT_EQ(v["telegram"].blocking, "tcp_ip") << Describe(v);
  EXPECT_EQ(k["x_partial_blocking"], true);
  EXPECT_EQ(k["x_dc_status"]["149.154.175.50"]["443"], "blocked") << k["x_dc_status"].dump();
  EXPECT_EQ(k["x_dc_status"]["149.154.167.91"]["443"], "ok") << k["x_dc_status"].dump();
  for (const char* test : {"whatsapp", "signal", "facebook_messenger"}) {
    EXPECT_EQ(v[test].verdict, "ok") << Describe(v);
  }
  EXPECT_GT(RulesThatActed()["telegram-dc1-dc3-blackhole"], 0);
}

TEST_F(LabExperimentsTest, HttpBlockPagesDoNotTouchTheHttpsOnlyServices) {
  Use("blockpage-http");
  auto v = RunIm();
  // The messaging experiments speak HTTPS (and plain HTTP only to Telegram's DC
  // addresses, which the rules do not name): the censor had nothing to act on.
  for (const auto& [test, x] : v) EXPECT_EQ(x.verdict, "ok") << Describe(v);
  EXPECT_TRUE(g_lab->Actions().empty()) << g_lab->Actions().front().dump();
}

TEST_F(LabExperimentsTest, TheTableNamesServiceVerdictAndBlockingType) {
  Use("blackhole-ips");
  auto r = g_lab->Exec("client", RunArgs({"--output", g_lab->state_dir() + "/run.jsonl"}),
                       std::chrono::seconds(60));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("SERVICE"), std::string::npos) << r.output;
  bool telegram_row = false;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("Telegram ", 0) == 0) {
      telegram_row = true;
      EXPECT_NE(line.find("blocked"), std::string::npos) << line;
      EXPECT_NE(line.find("tcp_ip"), std::string::npos) << line;
    }
    if (line.rfind("WhatsApp ", 0) == 0) {
      EXPECT_NE(line.find(" ok "), std::string::npos) << line;
    }
  }
  EXPECT_TRUE(telegram_row) << r.output;
  // Telegram, by its own experiment and by the list-driven one; nothing else.
  EXPECT_NE(r.output.find(" ok, 2 blocked, 0 anomaly"), std::string::npos) << r.output;
}

// The messaging experiments with our helper in vgl-control as their control: a data
// centre the censor blackholes answers the helper, so Telegram stays blocked; a port
// that no server of the lab listens on refuses the helper too, so that service is down.
TEST_F(LabExperimentsTest, TheMessagingControlTellsBlockedFromDown) {
  ASSERT_TRUE(g_helper && g_helper->Running())
      << ReadFileOrEmpty(g_lab->state_dir() + "/helper.log");
  Use("blackhole-ips");
  auto v = RunIm("client", "telegram", {"--helper", kHelperUrl});
  const json& k = v["telegram"].test_keys;
  EXPECT_EQ(v["telegram"].verdict, "blocked") << Describe(v);
  EXPECT_EQ(v["telegram"].blocking, "tcp_ip") << Describe(v);
  ASSERT_TRUE(k["x_control"].is_object()) << k["x_control_failure"];
  for (const auto& step : k["x_control"]["steps"]) {
    if (step["host"] == "149.154.175.50") {
      EXPECT_EQ(step["control"], "ok") << step.dump();
    }
  }
  EXPECT_EQ(k["x_control"]["tcp_connect"]["198.18.70.1:443"]["status"], true)
      << "the DC's stand-in, reached from the uncensored side";

  Use("clean");
  test_support::TempDir data("vigil-lab-control-");
  std::string error;
  ASSERT_TRUE(data.WriteFile("messaging/services.csv",
                             "service,endpoint,port,steps,expected_asn,notes\n"
                             "gone,e1.whatsapp.net,4444,dns|tcp,,nothing listens there\n",
                             &error))
      << error;
  v = RunIm("client", "messaging", {"--helper", kHelperUrl, "--data-dir", data.path()});
  const Verdict& gone = v["messaging/gone"];
  EXPECT_EQ(gone.verdict, "down") << Describe(v) << gone.test_keys.dump();
  EXPECT_EQ(gone.test_keys["x_control"]["steps"][0]["control"], "failed_too")
      << gone.test_keys["x_control"].dump();
  EXPECT_EQ(gone.test_keys["x_control"]["steps"][0]["control_failure"], "connection_refused_error");
}

// web_connectivity from the censored network with our helper as the control:
// URL → (verdict, blocking) for each scenario.
TEST_F(LabExperimentsTest, WebConnectivityAgainstTheHelperNamesTheTechnique) {
  ASSERT_TRUE(g_helper && g_helper->Running())
      << ReadFileOrEmpty(g_lab->state_dir() + "/helper.log");
  std::map<std::string, json> last_keys;  // URL → test_keys of the latest run
  auto websites = [&last_keys](const std::string& scenario) {
    std::map<std::string, std::pair<std::string, std::string>> out;
    auto r =
        g_lab->Exec("client",
                    {VigilBinary(), "run", "websites", "--batch", "--helper", kHelperUrl,
                     "--ca-file", g_lab->ca_file(), "--asn-db", g_lab->state_dir() + "/asn.mmdb",
                     "--timeout", "3", "--input", "http://web.whatsapp.com/", "--input",
                     "https://web.telegram.org/", "--input", "http://www.qq.com/"},
                    std::chrono::seconds(90));
    EXPECT_EQ(r.exit_code, 0) << scenario << ": " << r.output;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
      auto m = ParseMeasurement(line);
      if (!m.ok()) continue;
      RunSummary s = MakeExperiment("web_connectivity")->Summarize(*m);
      const std::string url = m->input.is_string() ? m->input.get<std::string>() : "";
      out[url] = {std::string(RunVerdictName(s.verdict)), s.blocking};
      last_keys[url] = ToJson(m->test_keys);
    }
    EXPECT_EQ(out.size(), 3u) << scenario << ": " << r.output;
    return out;
  };
  using V = std::pair<std::string, std::string>;
  const V ok{"ok", ""};

  Use("clean");
  auto clean = websites("clean");
  for (const auto& [url, v] : clean) EXPECT_EQ(v, ok) << "clean: " << url;
  // The helper (given the lab's ASN database) says whose addresses these are.
  const json& info = last_keys["http://web.whatsapp.com/"]["control"]["ip_info"];
  EXPECT_EQ(info["198.18.71.3"]["asn"], 32934) << info.dump();

  Use("gfw-dns");
  auto dns = websites("gfw-dns");
  EXPECT_EQ(dns["http://web.whatsapp.com/"], V("blocked", "dns"));
  EXPECT_EQ(dns["https://web.telegram.org/"], V("blocked", "dns"));
  EXPECT_EQ(dns["http://www.qq.com/"], ok);

  Use("blockpage-http");
  auto page = websites("blockpage-http");
  EXPECT_EQ(page["http://web.whatsapp.com/"], V("blocked", "http-diff"));
  EXPECT_EQ(page["https://web.telegram.org/"], ok) << "HTTPS hides the Host";
  EXPECT_EQ(page["http://www.qq.com/"], ok);
  EXPECT_GT(RulesThatActed()["messaging-host-blockpage"], 0);

  Use("blackhole-ips");
  auto hole = websites("blackhole-ips");
  EXPECT_EQ(hole["https://web.telegram.org/"], V("blocked", "tcp_ip"));
  EXPECT_EQ(hole["http://web.whatsapp.com/"], ok);

  Use("gfw-sni-rst");
  auto sni = websites("gfw-sni-rst");
  EXPECT_EQ(sni["https://web.telegram.org/"], V("blocked", "http-failure"));
  EXPECT_EQ(sni["http://www.qq.com/"], ok);
}

// dnscheck, sni_blocking and stunreachability from the censored network: what each
// records must match what the censor did in each scenario.
TEST_F(LabExperimentsTest, ResolverSniAndStunExperimentsAcrossScenarios) {
  auto run = [](const std::string& test, const std::string& input) {
    auto r = g_lab->Exec("client",
                         {VigilBinary(), "run", test, "--batch", "--timeout", "2", "--ca-file",
                          g_lab->ca_file(), "--input", input},
                         std::chrono::seconds(60));
    EXPECT_EQ(r.exit_code, 0) << test << ": " << r.output;
    auto m = ParseMeasurement(r.output.substr(0, r.output.find('\n')));
    EXPECT_TRUE(m.ok()) << test << ": " << r.output;
    return m.ok() ? ToJson(m->test_keys) : json::object();
  };
  const std::string sni =
      R"({"input":"web.whatsapp.com","endpoint":"198.18.71.3:443","control_sni":"www.qq.com"})";
  const std::string udp = R"({"input":"udp://198.18.20.53:53","domain":"web.whatsapp.com"})";
  const std::string tcp = R"({"input":"tcp://198.18.20.53:53","domain":"web.whatsapp.com"})";
  const std::string stun = "stun://198.18.64.12:3478";
  // The first A answer of a dnscheck measurement's only lookup.
  auto first_a = [](const json& k) -> std::string {
    for (const auto& [where, lookup] : k["lookups"].items()) {
      for (const auto& q : lookup["queries"]) {
        for (const auto& a : q["answers"]) {
          if (a.value("answer_type", "") == "A") return a.value("ipv4", "");
        }
      }
    }
    return "";
  };

  for (const std::string scenario :
       {"clean", "blockpage-http", "blackhole-ips", "telegram-partial"}) {
    Use(scenario);
    EXPECT_EQ(run("sni_blocking", sni)["result"], "success.got_server_hello") << scenario;
    EXPECT_EQ(first_a(run("dnscheck", udp)), "198.18.71.3") << scenario;
    EXPECT_TRUE(run("stunreachability", stun)["failure"].is_null()) << scenario;
  }

  Use("gfw-sni-rst");
  json reset = run("sni_blocking", sni);
  EXPECT_EQ(reset["result"], "interference.reset") << reset.dump();
  EXPECT_GT(RulesThatActed()["whatsapp-sni-gfw2"], 0);

  Use("henan-rst");
  EXPECT_EQ(run("sni_blocking", sni)["result"], "interference.reset");

  Use("gfw-dns");
  // Over UDP the forged answer wins the race; over TCP the censor does not inject.
  EXPECT_EQ(first_a(run("dnscheck", udp)).rfind("198.18.240.", 0), 0u);
  EXPECT_EQ(first_a(run("dnscheck", tcp)), "198.18.71.3");
  EXPECT_EQ(run("sni_blocking", sni)["result"], "success.got_server_hello")
      << "the endpoint is an address: DNS injection cannot touch it";

  // A scenario of our own: STUN dropped.
  const std::string file = g_lab->state_dir() + "/stun-drop.yaml";
  std::ofstream(file) << "name: stun-drop\ndescription: STUN silently dropped.\nphases:\n"
                         "  - start: 0s\n    rules:\n      - id: stun-drop\n"
                         "        match: {proto: udp, dst_port: [3478]}\n        action: drop\n";
  Use(file);
  EXPECT_EQ(run("stunreachability", stun)["failure"], "generic_timeout_error");
  EXPECT_GT(RulesThatActed()["stun-drop"], 0);
}

// A volunteer in the censored network: the helper tells the probe the address it is
// seen at, the lab's mmdb files give its network and country, and that address is in
// no measurement (probe_ip is 127.0.0.1).
TEST_F(LabExperimentsTest, GeolocationThroughTheHelperAndNoTraceOfTheProbesAddress) {
  ASSERT_TRUE(g_helper && g_helper->Running())
      << ReadFileOrEmpty(g_lab->state_dir() + "/helper.log");
  Use("clean");
  auto r =
      g_lab->Exec("client",
                  {VigilBinary(), "run", "websites", "--batch", "--helper", kHelperUrl, "--ca-file",
                   g_lab->ca_file(), "--asn-db", g_lab->state_dir() + "/asn.mmdb", "--country-db",
                   g_lab->state_dir() + "/country.mmdb", "--timeout", "3", "--resolver-whoami",
                   "probe.whoami.vigil.test", "--input", "http://www.qq.com/"},
                  std::chrono::seconds(60));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The address the helper sees the client at, as curl learns it.
  auto whoami = g_lab->Exec("client", {"curl", "-s", std::string(kHelperUrl) + "x/whoami"},
                            std::chrono::seconds(10));
  const auto seen = json::parse(whoami.output, nullptr, false);
  ASSERT_TRUE(seen.is_object() && seen["ip"].is_string()) << whoami.output;
  const std::string address = seen["ip"].get<std::string>();
  ASSERT_EQ(address.rfind("198.18.1.", 0), 0u) << address;
  // As a whole address (not a prefix of another one).
  const std::regex client_address(std::regex_replace(address, std::regex(R"(\.)"), R"(\.)") +
                                  "(?![0-9])");
  EXPECT_FALSE(std::regex_search(r.output, client_address)) << address << "\n"
                                                            << r.output.substr(0, 2000);
  size_t measurements = 0;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    auto m = ParseMeasurement(line);
    if (!m.ok()) continue;
    ++measurements;
    EXPECT_EQ(m->probe_ip, "127.0.0.1");
    EXPECT_EQ(m->probe_cc, "CN");
    EXPECT_EQ(m->probe_asn, "AS64500");
    EXPECT_EQ(m->probe_network_name, "LAB-ISP-CN Censored Telecom");
    // The resolver as the helper's name server saw it recurse: the ISP resolver's
    // egress address (its end of the r1-r2 link, not the 198.18.1.1 the client's
    // resolv.conf names), in the ISP's network.
    EXPECT_EQ(m->resolver_ip, "198.18.11.1");
    EXPECT_EQ(m->resolver_asn, "AS64500") << m->resolver_ip;
  }
  EXPECT_EQ(measurements, 1u) << r.output;
}

}  // namespace
}  // namespace vigil::test_support
