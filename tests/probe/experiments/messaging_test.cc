// The data-driven messaging experiment: its verdict rules table-driven from synthetic
// observations, then real runs of services written as CSV into a temporary data
// directory, against a loopback unbound (example.test) and nginx (valid and
// wrong-host certificates), with refused, silent and blackholed ports; and `vigil run
// messaging` making one measurement per service.
#include "probe/experiments/messaging/messaging.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>

#include "probe/measurement/measurement_json.h"
#include "tests/support/child_process.h"
#include "tests/support/misbehaving_listeners.h"
#include "tests/support/nginx_server.h"
#include "tests/support/run_experiment.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/unbound_server.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using test_support::NginxServer;
using test_support::TestPki;

// ---- Verdicts ----

MessagingStepOutcome StepOk(MessagingStep step) { return MessagingStepOutcome{step, std::nullopt}; }
MessagingStepOutcome StepFailed(MessagingStep step, StepFailure f) {
  return MessagingStepOutcome{step, std::move(f)};
}

// A web front: dns|tcp|tls|http, all fine.
MessagingRowOutcome Web(const std::string& host) {
  return MessagingRowOutcome{host,
                             443,
                             {StepOk(MessagingStep::kDns), StepOk(MessagingStep::kTcp),
                              StepOk(MessagingStep::kTls), StepOk(MessagingStep::kHttp)},
                             200};
}

// An endpoint whose lookup failed: dns|tcp both fail at resolve.
MessagingRowOutcome Unresolved(const std::string& host, uint16_t port) {
  const StepFailure f{host, 0, "resolve", "dns_nxdomain_error"};
  return MessagingRowOutcome{
      host, port, {StepFailed(MessagingStep::kDns, f), StepFailed(MessagingStep::kTcp, f)}, {}};
}

MessagingRowOutcome Refused(const std::string& host, uint16_t port) {
  return MessagingRowOutcome{
      host,
      port,
      {StepFailed(MessagingStep::kTcp, StepFailure{host, port, "connect", "connection_refused"})},
      {}};
}

struct MessagingCase {
  const char* name;
  std::vector<MessagingRowOutcome> rows;
  const char* service_status;
  bool partial;
  size_t failures;
  RunVerdict verdict;
};

TEST(MessagingVerdicts, Table) {
  MessagingRowOutcome reset_web = Web("web.example.test");
  reset_web.steps[2] =
      StepFailed(MessagingStep::kTls,
                 StepFailure{"web.example.test", 443, "tls_handshake", "connection_reset"});
  reset_web.steps[3] =
      StepFailed(MessagingStep::kHttp,
                 StepFailure{"web.example.test", 443, "tls_handshake", "connection_reset"});
  reset_web.http_status.reset();
  MessagingRowOutcome forbidden = Web("api.example.test");
  forbidden.http_status = 403;

  const std::vector<MessagingCase> cases = {
      {"all fine", {Web("a.example.test"), Web("b.example.test")}, "ok", false, 0, RunVerdict::kOk},
      {"a status code is a response", {forbidden}, "ok", false, 0, RunVerdict::kOk},
      {"one row fails: partial",
       {Web("a.example.test"), Refused("192.0.2.1", 5222)},
       "ok",
       true,
       1,
       RunVerdict::kAnomaly},
      {"every row fails",
       {Refused("192.0.2.1", 80), reset_web},
       "blocked",
       false,
       2,
       RunVerdict::kBlocked},
      // One failed lookup fails every port and the fetch: x_failures says so once.
      {"a name that does not resolve",
       {Unresolved("chat.example.test", 443), Unresolved("chat.example.test", 5222),
        MessagingRowOutcome{
            "chat.example.test",
            8443,
            {StepFailed(MessagingStep::kHttp,
                        StepFailure{"chat.example.test", 8443, "resolve", "dns_nxdomain_error"})},
            {}}},
       "blocked",
       false,
       1,
       RunVerdict::kBlocked},
      {"nothing measured", {}, "blocked", false, 0, RunVerdict::kBlocked},
      // A name the list only resolves (a STUN server) says nothing of the service
      // working: the connects that failed decide.
      {"only a name that is just resolved works",
       {MessagingRowOutcome{"stun.example.test", 3478, {StepOk(MessagingStep::kDns)}, {}},
        Refused("192.0.2.1", 443)},
       "blocked",
       false,
       1,
       RunVerdict::kBlocked},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Json k = MessagingTestKeys(MessagingObservations{"chat", c.rows, {"services.csv"}});
    EXPECT_EQ(k["service"], "chat");
    EXPECT_EQ(k["service_status"], c.service_status);
    EXPECT_EQ(k["x_partial_blocking"], c.partial);
    EXPECT_EQ(k["x_failures"].size(), c.failures) << k["x_failures"].dump();
    EXPECT_EQ(k["x_list_files"], Json::array({"services.csv"}));
    EXPECT_EQ(MessagingVerdict(k), c.verdict);
  }
}

TEST(MessagingVerdicts, SomeRowsWorkingIsNeverBlocked) {
  // The failing row's name got forged answers: still a service that works through
  // another row.
  Json k = MessagingTestKeys(MessagingObservations{
      "chat", {Web("a.example.test"), Unresolved("b.example.test", 443)}, {}});
  k["x_dns_inconsistent"] = Json::array({"b.example.test"});
  EXPECT_EQ(k["x_partial_blocking"], true);
  EXPECT_EQ(MessagingVerdict(k), RunVerdict::kAnomaly);

  // A row whose name lies did not work, even when its steps went through (a forged
  // address may answer): nothing worked.
  MessagingObservations forged{"chat", {Web("a.example.test"), Refused("192.0.2.1", 5222)}, {}};
  forged.dns_inconsistent = {"a.example.test"};
  k = MessagingTestKeys(forged);
  k["x_dns_inconsistent"] = Json::array({"a.example.test"});
  EXPECT_EQ(k["x_partial_blocking"], false);
  EXPECT_EQ(MessagingVerdict(k), RunVerdict::kBlocked);
}

TEST(MessagingVerdicts, AStepWithoutAnIpv6RouteIsNotMeasured) {
  MessagingStepOutcome no_route{MessagingStep::kTcp,
                                StepFailure{"2001:db8::1", 5222, "connect", "network_unreachable"},
                                true};
  Json k = MessagingTestKeys(MessagingObservations{
      "chat",
      {Web("a.example.test"), MessagingRowOutcome{"2001:db8::1", 5222, {no_route}, {}}},
      {}});
  EXPECT_EQ(k["x_endpoint_status"]["2001:db8::1"]["5222"], (Json{{"tcp", "no_ipv6"}}));
  EXPECT_EQ(k["x_endpoint_failures"]["2001:db8::1"]["5222"]["tcp"], "network_unreachable");
  EXPECT_EQ(k["x_failures"], Json::array());
  EXPECT_EQ(k["x_partial_blocking"], false);
  EXPECT_EQ(MessagingVerdict(k), RunVerdict::kOk);
}

TEST(MessagingVerdicts, PerStepStatusAndTheFirstFailureOfARow) {
  MessagingRowOutcome reset_web = Web("web.example.test");
  const StepFailure reset{"web.example.test", 443, "tls_handshake", "connection_reset"};
  reset_web.steps[2] = StepFailed(MessagingStep::kTls, reset);
  reset_web.steps[3] = StepFailed(MessagingStep::kHttp, reset);
  reset_web.http_status.reset();
  Json k =
      MessagingTestKeys(MessagingObservations{"chat", {reset_web, Web("api.example.test")}, {}});
  EXPECT_EQ(k["x_endpoint_status"]["web.example.test"]["443"],
            (Json{{"dns", "ok"}, {"tcp", "ok"}, {"tls", "blocked"}, {"http", "blocked"}}));
  EXPECT_EQ(k["x_endpoint_failures"],
            (Json{{"web.example.test",
                   {{"443", {{"tls", "connection_reset"}, {"http", "connection_reset"}}}}}}));
  EXPECT_EQ(k["x_http_status"], (Json{{"api.example.test", {{"443", 200}}}}));
  // The handshake failed: the fetch failing at the same handshake is not news.
  EXPECT_EQ(k["x_failures"], Json::array({ToJson(reset)}));

  // An inconsistent DNS answer blocks, whatever the steps said — unless some row still
  // works: then it is partial blocking.
  k["x_dns_inconsistent"] = Json::array({"api.example.test"});
  EXPECT_EQ(MessagingVerdict(k), RunVerdict::kAnomaly);
  k["x_partial_blocking"] = false;
  EXPECT_EQ(MessagingVerdict(k), RunVerdict::kBlocked);
}

TEST(MessagingVerdicts, HttpUrls) {
  MessagingEndpoint row;
  row.endpoint = "chat.example.test";
  row.port = 443;
  row.steps = {MessagingStep::kTcp, MessagingStep::kTls, MessagingStep::kHttp};
  EXPECT_EQ(MessagingHttpUrl(row), "https://chat.example.test/");
  row.port = 8443;
  EXPECT_EQ(MessagingHttpUrl(row), "https://chat.example.test:8443/");
  row.steps = {MessagingStep::kHttp};
  EXPECT_EQ(MessagingHttpUrl(row), "http://chat.example.test:8443/");
  row.port = 80;
  EXPECT_EQ(MessagingHttpUrl(row), "http://chat.example.test/");
  row.endpoint = "2001:db8::1";
  row.port = 443;
  EXPECT_EQ(MessagingHttpUrl(row), "http://[2001:db8::1]:443/") << "plain HTTP on 443, as OONI";
}

// ---- Real runs ----

constexpr char kHeader[] = "service,endpoint,port,steps,expected_asn,notes\n";

class MessagingExperimentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto why : {test_support::UnboundServer::Unavailable(), NginxServer::Unavailable()}) {
      if (why) GTEST_SKIP() << *why;
    }
    nginx_ = std::make_unique<NginxServer>();
    ASSERT_TRUE(nginx_->ok()) << nginx_->error();
    ASSERT_TRUE(listeners_.ok()) << listeners_.error();
    unbound_ = std::make_unique<test_support::UnboundServer>();
    ASSERT_TRUE(unbound_->ok()) << unbound_->error();
    ASSERT_TRUE(dir_.ok()) << dir_.error();
    context_.resolver = *ParseResolverSpec("udp://" + unbound_->address());
    context_.timeout = 2000ms;
    context_.ca_file = TestPki::Get().ca_file();
    context_.data_dir = dir_.path();
    context_.address_map["192.0.2.10"] = "127.0.0.1";

    const std::string https = Port(nginx_->https_port(TestPki::Kind::kValid));
    const std::string wrong_host = Port(nginx_->https_port(TestPki::Kind::kWrongHost));
    const std::string http = Port(nginx_->http_port());
    WriteList("services.csv",
              // Every step of every row succeeds.
              "clean,www.example.test," + https + ",dns|tcp|tls|http,,valid certificate\n" +
                  "clean,www.example.test," + http + ",dns|tcp|http,,plain HTTP\n" +
                  "clean,127.0.0.1," + https +
                  ",tcp|tls|http,,\"an IP literal, verified as such\"\n" +
                  // A real literal that the context sends to loopback.
                  "mapped,192.0.2.10," + http + ",tcp|http,,mapped\n" + "mapped,192.0.2.10," +
                  https + ",tcp|tls|http,,mapped\n" +
                  // Some rows fail, each at its own layer.
                  "mixed,www.example.test," + https + ",dns|tcp|tls|http,,fine\n" +
                  "mixed,www.example.test," + wrong_host + ",tcp|tls,,wrong host\n" +
                  "mixed,nx.example.test,443,dns|tcp,,NXDOMAIN\n" + "mixed,127.0.0.1," +
                  Port(listeners_.refused_port()) + ",tcp,,refused\n" + "mixed,www.example.test," +
                  http + ",http,,http alone\n" +
                  // Loopback answers are nobody's network.
                  "asn,www.example.test," + https + ",dns|tcp|tls|http,AS64496,\"bogon, so\"\n" +
                  "down,nx.example.test," + http + ",dns|tcp|http,,NXDOMAIN\n");
  }

  static std::string Port(uint16_t port) { return std::to_string(port); }

  void WriteList(const std::string& name, const std::string& rows) {
    std::string error;
    ASSERT_TRUE(dir_.WriteFile("messaging/" + name, kHeader + rows, &error)) << error;
  }

  Json Run(const std::string& service) {
    auto m = test_support::RunExperiment("messaging", context_, Json(service));
    EXPECT_TRUE(m.ok()) << m.error();
    if (!m.ok()) return Json();
    EXPECT_EQ(m->test_name, "messaging");
    EXPECT_EQ(m->test_version, "0.1.0");
    EXPECT_EQ(m->input, service);
    Json j = ToJson(*m);
    auto back = ParseMeasurement(j.dump());
    EXPECT_TRUE(back.ok()) << back.error();
    summary_ = MessagingExperiment().Summarize(*m);
    return j;
  }

  std::unique_ptr<NginxServer> nginx_;
  test_support::MisbehavingListeners listeners_;
  std::unique_ptr<test_support::UnboundServer> unbound_;
  test_support::TempDir dir_{"vigil-messaging-"};
  ExperimentContext context_;
  RunSummary summary_;
};

TEST_F(MessagingExperimentTest, EveryStepOfACleanServiceSucceeds) {
  Json m = Run("clean");
  const Json& k = m["test_keys"];
  const std::string https = Port(nginx_->https_port(TestPki::Kind::kValid));
  const std::string http = Port(nginx_->http_port());
  EXPECT_EQ(k["service"], "clean");
  EXPECT_EQ(k["service_status"], "ok");
  EXPECT_EQ(k["x_partial_blocking"], false);
  EXPECT_EQ(k["x_endpoint_status"],
            (Json{{"www.example.test",
                   {{https, {{"dns", "ok"}, {"tcp", "ok"}, {"tls", "ok"}, {"http", "ok"}}},
                    {http, {{"dns", "ok"}, {"tcp", "ok"}, {"http", "ok"}}}}},
                  {"127.0.0.1", {{https, {{"tcp", "ok"}, {"tls", "ok"}, {"http", "ok"}}}}}}));
  EXPECT_EQ(k["x_endpoint_failures"], Json::object());
  EXPECT_EQ(k["x_http_status"], (Json{{"www.example.test", {{https, 200}, {http, 200}}},
                                      {"127.0.0.1", {{https, 200}}}}));
  EXPECT_EQ(k["x_failures"], Json::array());
  EXPECT_EQ(k["x_list_files"], Json::array({"services.csv"}));
  // No expected AS: nothing judged.
  EXPECT_EQ(k["x_dns_inconsistent"], Json::array());
  // One lookup of www.example.test for its dns/tcp/tls steps (A and AAAA), and one per fetch.
  EXPECT_FALSE(k["queries"].empty());
  EXPECT_FALSE(k["tls_handshakes"].empty());
  for (const auto& h : k["tls_handshakes"]) EXPECT_TRUE(h["failure"].is_null()) << h.dump();
  EXPECT_EQ(summary_.service, "clean");
  EXPECT_EQ(summary_.verdict, RunVerdict::kOk);
  EXPECT_EQ(summary_.blocking, "");
}

TEST_F(MessagingExperimentTest, MappedLiteralsKeepTheirRealName) {
  Json k = Run("mapped")["test_keys"];
  EXPECT_EQ(k["service_status"], "ok");
  ASSERT_TRUE(k["x_endpoint_status"].contains("192.0.2.10")) << k["x_endpoint_status"].dump();
  ASSERT_FALSE(k["tcp_connect"].empty());
  for (const auto& c : k["tcp_connect"]) {
    EXPECT_EQ(c["ip"], "127.0.0.1") << "the real address was contacted";
    EXPECT_EQ(c["x_mapped_from"], "192.0.2.10") << c.dump();
  }
  EXPECT_TRUE(k["queries"].empty()) << "a literal is never looked up";
}

TEST_F(MessagingExperimentTest, PartialFailuresAreAnAnomalyNamingEachLayer) {
  Json k = Run("mixed")["test_keys"];
  const std::string https = Port(nginx_->https_port(TestPki::Kind::kValid));
  const std::string wrong_host = Port(nginx_->https_port(TestPki::Kind::kWrongHost));
  const std::string refused = Port(listeners_.refused_port());
  EXPECT_EQ(k["service_status"], "ok");
  EXPECT_EQ(k["x_partial_blocking"], true);
  EXPECT_EQ(k["x_endpoint_status"]["www.example.test"][wrong_host],
            (Json{{"tcp", "ok"}, {"tls", "blocked"}}));
  EXPECT_EQ(k["x_endpoint_failures"],
            (Json{{"www.example.test", {{wrong_host, {{"tls", "ssl_invalid_hostname"}}}}},
                  {"nx.example.test",
                   {{"443", {{"dns", "dns_nxdomain_error"}, {"tcp", "dns_nxdomain_error"}}}}},
                  {"127.0.0.1", {{refused, {{"tcp", "connection_refused"}}}}}}));
  EXPECT_EQ(k["x_endpoint_status"]["www.example.test"][https]["http"], "ok");
  EXPECT_EQ(summary_.verdict, RunVerdict::kAnomaly);
  // One failure at each layer: the tie goes to the lowest.
  EXPECT_EQ(summary_.blocking, "dns");
  EXPECT_EQ(summary_.evidence, "nx.example.test resolve dns_nxdomain_error; 127.0.0.1:" + refused +
                                   " connect connection_refused; www.example.test:" + wrong_host +
                                   " tls_handshake ssl_invalid_hostname");
}

TEST_F(MessagingExperimentTest, AnswersOutsideTheExpectedAsBlockByDns) {
  Json k = Run("asn")["test_keys"];
  EXPECT_EQ(k["service_status"], "ok") << "every step completed";
  EXPECT_EQ(k["x_dns_consistency"]["www.example.test"]["consistent"], false);
  EXPECT_EQ(k["x_dns_consistency"]["www.example.test"]["addresses"]["127.0.0.1"], "bogon");
  EXPECT_EQ(k["x_dns_inconsistent"], Json::array({"www.example.test"}));
  EXPECT_EQ(summary_.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(summary_.blocking, "dns");
  EXPECT_EQ(summary_.evidence, "www.example.test resolve dns_inconsistent");

  // The lab's endpoints file says which stand-ins play which network.
  context_.extra_asn_addresses["AS64496"] = {"127.0.0.1", "::1"};
  k = Run("asn")["test_keys"];
  EXPECT_EQ(k["x_dns_consistency"]["www.example.test"]["consistent"], true);
  EXPECT_EQ(summary_.verdict, RunVerdict::kOk);
}

TEST_F(MessagingExperimentTest, AServiceThatIsGoneIsBlocked) {
  Json k = Run("down")["test_keys"];
  EXPECT_EQ(k["service_status"], "blocked");
  EXPECT_EQ(k["x_partial_blocking"], false);
  const std::string http = Port(nginx_->http_port());
  EXPECT_EQ(k["x_endpoint_status"]["nx.example.test"][http],
            (Json{{"dns", "blocked"}, {"tcp", "blocked"}, {"http", "blocked"}}));
  EXPECT_EQ(k["x_failures"].size(), 1u) << k["x_failures"].dump();
  EXPECT_EQ(summary_.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(summary_.blocking, "dns");
  EXPECT_EQ(summary_.evidence, "nx.example.test resolve dns_nxdomain_error");
}

TEST_F(MessagingExperimentTest, InputsAndListsThatCannotBeMeasured) {
  MessagingExperiment e;
  auto services = e.DefaultInputs(dir_.path());
  ASSERT_TRUE(services.ok()) << services.error();
  EXPECT_EQ(*services, (std::vector<std::string>{"clean", "mapped", "mixed", "asn", "down"}));

  auto unknown = test_support::RunExperiment("messaging", context_, Json("nosuch"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error(),
            "messaging: no service \"nosuch\" in the lists (clean, mapped, mixed, asn, down)");
  auto none = test_support::RunExperiment("messaging", context_, nullptr);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error(), "messaging: name a service (clean, mapped, mixed, asn, down)");

  WriteList("broken.csv", "chat,a.example.test,443,tcp|quic,,\n");
  auto broken = test_support::RunExperiment("messaging", context_, Json("clean"));
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error(), "messaging: " + dir_.Join("messaging/broken.csv") +
                                ":2: steps: unknown step \"quic\" (known: dns, tcp, tls, http)");
  EXPECT_FALSE(e.DefaultInputs(dir_.path()).ok());
}

TEST_F(MessagingExperimentTest, UnreachablePortsEndWithinTheDeadline) {
  WriteList("slow.csv", "slow,127.0.0.1," + Port(listeners_.blackhole_port()) +
                            ",tcp|tls|http,,SYNs dropped\n" + "slow,www.example.test," +
                            Port(listeners_.silent_port()) + ",dns|tcp|tls,,never answers\n");
  context_.timeout = 500ms;
  const auto start = std::chrono::steady_clock::now();
  Json k = Run("slow")["test_keys"];
  const auto elapsed = std::chrono::steady_clock::now() - start;
  // Three tasks side by side (two endpoints, one fetch), each waiting out one deadline
  // (www.example.test's ::1 refuses at once).
  EXPECT_LT(elapsed, 3 * context_.timeout);
  EXPECT_GE(elapsed, context_.timeout - 50ms);
  const std::string blackhole = Port(listeners_.blackhole_port());
  const std::string silent = Port(listeners_.silent_port());
  EXPECT_EQ(k["x_endpoint_failures"]["127.0.0.1"][blackhole],
            (Json{{"tcp", "generic_timeout_error"},
                  {"tls", "generic_timeout_error"},
                  {"http", "generic_timeout_error"}}));
  EXPECT_EQ(k["x_endpoint_status"]["www.example.test"][silent],
            (Json{{"dns", "ok"}, {"tcp", "ok"}, {"tls", "blocked"}}));
  EXPECT_EQ(k["x_endpoint_failures"]["www.example.test"][silent]["tls"], "generic_timeout_error");
  EXPECT_EQ(k["service_status"], "blocked");
  EXPECT_EQ(summary_.verdict, RunVerdict::kBlocked);
}

// `vigil run messaging` measures every service of the lists, one measurement each.
TEST_F(MessagingExperimentTest, VigilRunMakesOneMeasurementPerService) {
  test_support::TempDir data("vigil-messaging-run-");
  std::string error;
  const std::string https = Port(nginx_->https_port(TestPki::Kind::kValid));
  ASSERT_TRUE(data.WriteFile("messaging/services.csv",
                             std::string(kHeader) + "one,www.example.test," + https +
                                 ",dns|tcp|tls|http,,\n" + "two,nx.example.test," + https +
                                 ",dns|tcp,,\n",
                             &error))
      << error;
  // The verdict rules `vigil run` judges by, as shipped.
  for (const char* dir : {"verdict", "fingerprints"}) {
    std::error_code ec;
    std::filesystem::copy(test_support::SourceDir() + "/testlists/" + dir, data.Join(dir),
                          std::filesystem::copy_options::recursive, ec);
    ASSERT_FALSE(ec) << dir << ": " << ec.message();
  }
  const std::vector<std::string> base = {test_support::VigilBinary(),
                                         "run",
                                         "messaging",
                                         "--batch",
                                         "--timeout",
                                         "2",
                                         "--resolver",
                                         "udp://" + unbound_->address(),
                                         "--ca-file",
                                         TestPki::Get().ca_file(),
                                         "--data-dir",
                                         data.path()};
  auto r = test_support::RunCommand(base, 60s);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::map<std::string, RunVerdict> verdicts;  // service → verdict
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '{') continue;
    auto m = ParseMeasurement(line);
    ASSERT_TRUE(m.ok()) << m.error();
    EXPECT_EQ(m->test_name, "messaging");
    verdicts[m->input.get<std::string>()] = MessagingExperiment().Summarize(*m).verdict;
  }
  EXPECT_EQ(verdicts, (std::map<std::string, RunVerdict>{{"one", RunVerdict::kOk},
                                                         {"two", RunVerdict::kBlocked}}));

  // --input picks services; one that is not listed could not run.
  std::vector<std::string> argv = base;
  argv.insert(argv.end(), {"--input", "two", "--input", "three"});
  r = test_support::RunCommand(argv, 60s);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("no service \"three\" in the lists (one, two)"), std::string::npos)
      << r.output;

  // A broken list stops the run before anything is measured.
  ASSERT_TRUE(
      data.WriteFile("messaging/services.csv", std::string(kHeader) + "one,x,1,tcp,,\n", &error))
      << error;
  r = test_support::RunCommand(base, 60s);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(data.Join("messaging/services.csv") +
                          ":2: endpoint: \"x\" is not a fully qualified host name"),
            std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace vigil
