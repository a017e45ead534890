// The messaging experiments' control: the helper is asked about every failed step (the
// names whose lookup failed, the addresses the probe contacted on the ports that
// failed, TLS with the probe's server name), each step is judged against its answer,
// and a service whose every failed step failed for the control too is down, not
// blocked. First as pure functions over synthetic records, then real runs against our
// helper on loopback: a server down for both, one the helper reaches but the probe
// does not, and a helper that cannot be reached.
#include "probe/experiments/common/messaging_control.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "probe/experiments/common/service_verdict.h"
#include "probe/experiments/messaging/messaging.h"
#include "probe/experiments/registry.h"
#include "probe/measurement/measurement_json.h"
#include "tests/support/misbehaving_listeners.h"
#include "tests/support/nginx_server.h"
#include "tests/support/run_experiment.h"
#include "tests/support/running_helper.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/unbound_server.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using test_support::NginxServer;
using test_support::TestPki;
using test_support::UnboundServer;

// ---- The request and the judgement ----

DnsQuery Answered(const std::string& host, std::vector<std::string> ips) {
  DnsQuery q;
  q.hostname = host;
  for (const auto& ip : ips) {
    DnsAnswer a;
    if (ip.find(':') == std::string::npos) {
      a.answer_type = "A";
      a.ipv4 = ip;
    } else {
      a.answer_type = "AAAA";
      a.ipv6 = ip;
    }
    q.answers.push_back(a);
  }
  return q;
}

TEST(MessagingControlRequest, AsksAboutEachFailedStepWhereTheProbeWent) {
  TestKeys keys;
  keys.queries = {Answered("e2.whatsapp.net", {"157.240.1.1"}),
                  Answered("web.whatsapp.com", {"157.240.2.2", "2a03:2880::1"})};
  TlsHandshake h;
  h.address = "157.240.2.2:443";
  h.server_name = "web.whatsapp.com";
  keys.tls_handshakes = {h};
  ExperimentContext context;
  context.address_map["149.154.175.50"] = "198.18.64.1";
  const std::vector<StepFailure> failures = {
      {"e1.whatsapp.net", 0, "resolve", "dns_nxdomain_error"},
      {"e2.whatsapp.net", 443, "connect", "connection_refused"},
      {"e2.whatsapp.net", 5222, "connect", "generic_timeout_error"},
      {"web.whatsapp.com", 443, "tls_handshake", "connection_reset"},
      {"149.154.175.50", 80, "http_round_trip", "connection_reset"},
      {"forged.example.test", 0, "resolve", "dns_inconsistent"},
  };
  const auto endpoints = ControlEndpointsFor(failures, keys, context);
  ASSERT_EQ(endpoints.size(), 4u) << "an inconsistent answer is nothing to ask about";
  ControlRequest request;
  request.x_endpoints = endpoints;
  EXPECT_EQ(ToJson(request), Json::parse(R"({"x_endpoints": [
      {"host": "e1.whatsapp.net", "addrs": [], "ports": []},
      {"host": "e2.whatsapp.net", "addrs": ["157.240.1.1"], "ports": [443, 5222]},
      {"host": "web.whatsapp.com", "addrs": ["157.240.2.2", "2a03:2880::1"], "ports": [443],
       "tls_ports": [443]},
      {"host": "149.154.175.50", "addrs": ["198.18.64.1"], "ports": [80]}]})"));
  // What the probe sends, the helper accepts.
  auto back = ControlRequestFromJson(ToJson(request));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->x_endpoints.size(), 4u);

  // A server name other than the host is sent.
  keys.tls_handshakes[0].server_name = "other.example.test";
  EXPECT_EQ(ControlEndpointsFor(failures, keys, context)[2].sni, "other.example.test");
}

TEST(MessagingControlSteps, EachFailedStepAsTheControlSawIt) {
  const std::vector<ControlEndpoint> asked = {
      {"nx.example.test", {}, {}, {}, ""},
      {"up.example.test", {}, {}, {}, ""},
      {"a.example.test", {"192.0.2.1"}, {443, 5222}, {443}, ""},
      {"b.example.test", {"192.0.2.2"}, {443}, {443}, ""},
      {"192.0.2.9", {"198.18.64.9"}, {80}, {}, ""},
  };
  ControlEndpointsAnswer answer;
  answer.dns["nx.example.test"] = ControlDns{"dns_name_error", {}};
  answer.dns["up.example.test"] = ControlDns{std::nullopt, {"192.0.2.7"}};
  answer.dns["a.example.test"] = ControlDns{std::nullopt, {"192.0.2.3"}};
  answer.dns["b.example.test"] = ControlDns{std::nullopt, {}};
  answer.tcp_connect["192.0.2.1:443"] = {false, "connection_refused_error"};
  // The helper's own address for the name answered on 5222: the control got through.
  answer.tcp_connect["192.0.2.1:5222"] = {false, "generic_timeout_error"};
  answer.tcp_connect["192.0.2.3:5222"] = {true, std::nullopt};
  answer.tcp_connect["192.0.2.3:443"] = {false, "connection_refused_error"};
  answer.tcp_connect["192.0.2.2:443"] = {true, std::nullopt};
  answer.tls_handshake["192.0.2.2:443"]["b.example.test"] = {"b.example.test", false,
                                                             "connection_reset"};
  answer.tcp_connect["198.18.64.9:80"] = {true, std::nullopt};
  const std::vector<StepFailure> failures = {
      {"nx.example.test", 0, "resolve", "dns_nxdomain_error"},
      {"up.example.test", 0, "resolve", "dns_nxdomain_error"},
      {"a.example.test", 443, "tls_handshake", "connection_reset"},
      {"a.example.test", 5222, "connect", "generic_timeout_error"},
      {"b.example.test", 443, "http_round_trip", "connection_reset"},
      {"192.0.2.9", 80, "http_round_trip", "connection_reset"},
      {"192.0.2.9", 443, "connect", "connection_refused"},
      {"forged.example.test", 0, "resolve", "dns_inconsistent"},
  };
  const Json steps = ControlSteps(failures, asked, answer);
  ASSERT_EQ(steps.size(), failures.size());
  auto control = [&steps](size_t i) { return steps[i]["control"].get<std::string>(); };
  EXPECT_EQ(steps[0], (Json{{"host", "nx.example.test"},
                            {"port", 0},
                            {"operation", "resolve"},
                            {"failure", "dns_nxdomain_error"},
                            {"control", "failed_too"},
                            {"control_failure", "dns_name_error"}}));
  EXPECT_EQ(control(1), "ok") << "the name resolves for the control";
  EXPECT_EQ(control(2), "failed_too") << "no connect got through, so no handshake either";
  EXPECT_EQ(steps[2]["control_failure"], "connection_refused_error");
  EXPECT_EQ(control(3), "ok") << "the helper's own address answered";
  EXPECT_EQ(control(4), "failed_too") << "the control's handshake failed before any request";
  EXPECT_EQ(steps[4]["control_failure"], "connection_reset");
  EXPECT_EQ(control(5), "ok") << "the control got as far as it measures";
  EXPECT_EQ(control(6), "not_measured") << "a port not asked about";
  EXPECT_EQ(control(7), "not_measured");
}

// Failing "the same way": a forged NXDOMAIN is not explained by a helper whose own
// lookup merely failed, nor a reset handshake by a certificate the helper could not
// verify (the server answered it); the same certificate failure on both sides is.
TEST(MessagingControlSteps, TheSameWayMeansTheSameKindOfFailure) {
  const std::vector<ControlEndpoint> asked = {
      {"lost.example.test", {}, {}, {}, ""},
      {"c.example.test", {"192.0.2.5"}, {443}, {443}, ""},
  };
  ControlEndpointsAnswer answer;
  answer.dns["lost.example.test"] = ControlDns{"unknown_error", {}};
  answer.dns["c.example.test"] = ControlDns{std::nullopt, {}};
  answer.tcp_connect["192.0.2.5:443"] = {true, std::nullopt};
  answer.tls_handshake["192.0.2.5:443"]["c.example.test"] = {"c.example.test", false,
                                                             "ssl_unknown_authority"};
  const Json steps = ControlSteps(
      {
          {"lost.example.test", 0, "resolve", "dns_nxdomain_error"},
          {"lost.example.test", 0, "resolve", "generic_timeout_error"},
          {"c.example.test", 443, "tls_handshake", "connection_reset"},
          {"c.example.test", 443, "tls_handshake", "ssl_unknown_authority"},
          {"c.example.test", 443, "http_round_trip", "connection_reset"},
      },
      asked, answer);
  EXPECT_EQ(steps[0]["control"], "ok") << "a forged NXDOMAIN stays unexplained";
  EXPECT_EQ(steps[0]["control_failure"], "unknown_error");
  EXPECT_EQ(steps[1]["control"], "failed_too");
  EXPECT_EQ(steps[2]["control"], "ok") << "the server answered the helper";
  EXPECT_EQ(steps[2]["control_failure"], "ssl_unknown_authority");
  EXPECT_EQ(steps[3]["control"], "failed_too") << "the same certificate for everyone";
  EXPECT_EQ(steps[4]["control"], "ok");
}

// The service's verdict: down only when every failed step failed for the control too.
TEST(MessagingControlVerdict, DownOnlyWhenTheControlFailedEveryFailedStep) {
  const Json failures =
      Json::array({ToJson(StepFailure{"a.example.test", 443, "connect", "connection_refused"}),
                   ToJson(StepFailure{"b.example.test", 0, "resolve", "dns_nxdomain_error"})});
  auto keys = [&failures](std::vector<std::string> controls, bool partial = false) {
    Json steps = Json::array();
    for (size_t i = 0; i < controls.size(); ++i) {
      Json s = failures[i];
      s["control"] = controls[i];
      steps.push_back(s);
    }
    return Json{{"x_failures", failures},
                {"x_partial_blocking", partial},
                {"x_control", {{"steps", steps}}}};
  };
  EXPECT_EQ(ServiceVerdict(keys({"failed_too", "failed_too"}), true), RunVerdict::kDown);
  EXPECT_EQ(ServiceVerdict(keys({"failed_too", "failed_too"}, true), false), RunVerdict::kDown);
  EXPECT_EQ(ServiceVerdict(keys({"failed_too", "ok"}), true), RunVerdict::kBlocked)
      << "a step that worked for the control still counts as failed";
  EXPECT_EQ(ServiceVerdict(keys({"failed_too", "not_measured"}), true), RunVerdict::kBlocked);
  EXPECT_EQ(ServiceVerdict(keys({"failed_too", "ok"}, true), false), RunVerdict::kAnomaly);
  EXPECT_EQ(ServiceVerdict(keys({"failed_too"}), true), RunVerdict::kBlocked)
      << "a failed step the control was not asked about";
  Json no_control = keys({"failed_too", "failed_too"});
  no_control.erase("x_control");
  EXPECT_EQ(ServiceVerdict(no_control, true), RunVerdict::kBlocked);
  Json forged = keys({"failed_too", "failed_too"});
  forged["x_dns_inconsistent"] = {"c.example.test"};
  EXPECT_EQ(ServiceVerdict(forged, true), RunVerdict::kBlocked) << "forged answers are blocking";

  // The summary of a down service names no blocking type.
  const RunSummary s =
      SummarizeFailures("Example", RunVerdict::kDown, StepFailuresFromJson(failures));
  EXPECT_EQ(s.blocking, "");
  EXPECT_EQ(s.evidence,
            "b.example.test resolve dns_nxdomain_error; a.example.test:443 connect "
            "connection_refused");
}

// ---- Real runs against our helper ----

constexpr char kHeader[] = "service,endpoint,port,steps,expected_asn,notes\n";

// A listener on 127.0.0.2 (where the probe's answers never point): what only the
// helper's resolver leads to.
class SecondLoopbackListener {
 public:
  SecondLoopbackListener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.2", &addr.sin_addr);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(fd_, 64) != 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
  }
  ~SecondLoopbackListener() {
    if (fd_ >= 0) close(fd_);
  }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

std::vector<std::string> ServiceRecords(const std::string& ip) {
  std::vector<std::string> records;
  for (const char* h : {"v.whatsapp.net", "web.whatsapp.com", "web.telegram.org"}) {
    records.push_back(std::string(h) + ". 300 IN A " + ip);
  }
  for (int i = 1; i <= 16; ++i) {
    records.push_back("e" + std::to_string(i) + ".whatsapp.net. 300 IN A " + ip);
  }
  return records;
}

class MessagingControlRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto why : {UnboundServer::Unavailable(), NginxServer::Unavailable()}) {
      if (why) GTEST_SKIP() << *why;
    }
    ASSERT_TRUE(listeners_.ok()) << listeners_.error();
    ASSERT_NE(second_.port(), 0);
    std::vector<std::string> records = ServiceRecords("127.0.0.1");
    records.push_back("moved.example.test. 300 IN A 127.0.0.1");
    unbound_ = std::make_unique<UnboundServer>(records);
    ASSERT_TRUE(unbound_->ok()) << unbound_->error();
    nginx_ = std::make_unique<NginxServer>();
    ASSERT_TRUE(nginx_->ok()) << nginx_->error();
    ASSERT_TRUE(dir_.ok()) << dir_.error();
    context_.resolver = *ParseResolverSpec("udp://" + unbound_->address());
    context_.timeout = 2000ms;
    context_.ca_file = TestPki::Get().ca_file();
    context_.data_dir = dir_.path();
    // The stand-ins play the services' networks, as the lab's endpoints file says.
    context_.extra_asn_addresses["AS32934"] = {"127.0.0.1"};
    for (const auto& dc : {"149.154.175.50", "149.154.167.51", "149.154.175.100", "149.154.167.91",
                           "149.154.171.5", "95.161.76.100"}) {
      context_.address_map[dc] = "127.0.0.1";
    }
    for (const auto& dc : {"2001:b28:f23d:f001::a", "2001:67c:4e8:f002::a", "2001:b28:f23d:f003::a",
                           "2001:67c:4e8:f004::a", "2001:b28:f23f:f005::a"}) {
      context_.address_map[dc] = "::1";
    }
  }

  // Our helper with its own resolver: the same as the probe's unless `records` are
  // given (then a second unbound serving them).
  void StartHelper(std::vector<std::string> records = {}) {
    std::string resolver = unbound_->address();
    if (!records.empty()) {
      helper_unbound_ = std::make_unique<UnboundServer>(records);
      ASSERT_TRUE(helper_unbound_->ok()) << helper_unbound_->error();
      resolver = helper_unbound_->address();
    }
    HelperConfig config;
    config.measurement.resolver = *ParseResolverSpec("udp://" + resolver);
    config.measurement.ca_file = TestPki::Get().ca_file();
    config.measurement.timeout = 1500ms;
    config.measurement.allow_bogons = true;  // its servers are on loopback
    helper_ = std::make_unique<test_support::RunningHelper>(config);
    ASSERT_NE(helper_->port(), 0);
    context_.helper_url = helper_->url();
  }

  void WriteList(const std::string& rows) {
    std::string error;
    ASSERT_TRUE(dir_.WriteFile("messaging/services.csv", kHeader + rows, &error)) << error;
  }

  // Runs experiment `name` (with `input`) and returns its test_keys; `verdict_` is
  // what `vigil run` would print.
  Json Run(const std::string& name, const Json& input = nullptr) {
    auto m = test_support::RunExperiment(name, context_, input);
    EXPECT_TRUE(m.ok()) << m.error();
    if (!m.ok()) return Json();
    summary_ = MakeExperiment(name)->Summarize(*m);
    return ToJson(*m)["test_keys"];
  }

  static std::string Port(uint16_t port) { return std::to_string(port); }

  test_support::MisbehavingListeners listeners_;
  SecondLoopbackListener second_;
  std::unique_ptr<UnboundServer> unbound_;
  std::unique_ptr<UnboundServer> helper_unbound_;
  std::unique_ptr<NginxServer> nginx_;
  std::unique_ptr<test_support::RunningHelper> helper_;
  test_support::TempDir dir_{"vigil-messaging-control-"};
  ExperimentContext context_;
  RunSummary summary_;
};

// Every endpoint refuses the probe and the helper alike: the services are down, and
// OONI's own keys still say what OONI says.
TEST_F(MessagingControlRunTest, AServerDownForTheControlTooIsDown) {
  StartHelper();
  Json k = Run("whatsapp");
  EXPECT_EQ(k["whatsapp_endpoints_status"], "blocked") << "OONI's keys as OONI computes them";
  EXPECT_EQ(k["registration_server_status"], "blocked");
  ASSERT_TRUE(k["x_control"].is_object()) << k["x_control_failure"];
  EXPECT_TRUE(k["x_control_failure"].is_null());
  EXPECT_EQ(k["x_control"]["tcp_connect"]["127.0.0.1:5222"],
            (Json{{"status", false}, {"failure", "connection_refused_error"}}));
  EXPECT_EQ(k["x_control"]["dns"]["e7.whatsapp.net"]["addrs"], Json{"127.0.0.1"});
  ASSERT_EQ(k["x_control"]["steps"].size(), k["x_failures"].size());
  for (const auto& step : k["x_control"]["steps"]) {
    EXPECT_EQ(step["control"], "failed_too") << step.dump();
    EXPECT_EQ(step["control_failure"], "connection_refused_error") << step.dump();
  }
  EXPECT_EQ(summary_.verdict, RunVerdict::kDown) << summary_.evidence;
  EXPECT_EQ(summary_.blocking, "");

  context_.extra_asn_addresses = {{"AS62041", {"127.0.0.1"}}};
  k = Run("telegram");
  EXPECT_EQ(k["telegram_tcp_blocking"], true);
  EXPECT_EQ(k["x_control"]["tcp_connect"]["127.0.0.1:80"]["failure"], "connection_refused_error")
      << "the DCs' stand-in, as the probe contacted it";
  EXPECT_EQ(summary_.verdict, RunVerdict::kDown) << k["x_control"]["steps"].dump();

  k = Run("wechat");
  EXPECT_EQ(summary_.verdict, RunVerdict::kDown) << k["x_control"]["steps"].dump();
}

// The list-driven experiment: a name that does not exist, a refused port and a
// certificate for another name fail the control as they fail the probe.
TEST_F(MessagingControlRunTest, EveryLayerDownForBothIsDown) {
  StartHelper();
  const std::string wrong_host = Port(nginx_->https_port(TestPki::Kind::kWrongHost));
  WriteList(
      "gone,nx.example.test,443,dns|tcp,,\n"
      "gone,www.example.test," +
      Port(listeners_.refused_port()) + ",dns|tcp,,\n" + "gone,www.example.test," + wrong_host +
      ",tcp|tls,,\n");
  Json k = Run("messaging", "gone");
  EXPECT_EQ(k["service_status"], "blocked");
  ASSERT_EQ(k["x_control"]["steps"].size(), 3u) << k["x_control"].dump();
  for (const auto& step : k["x_control"]["steps"]) {
    EXPECT_EQ(step["control"], "failed_too") << step.dump();
  }
  EXPECT_EQ(
      k["x_control"]["tls_handshake"]["127.0.0.1:" + wrong_host]["www.example.test"]["failure"],
      "ssl_invalid_hostname");
  EXPECT_EQ(summary_.verdict, RunVerdict::kDown) << summary_.evidence;
}

// The probe's resolver points the name where nothing answers; the helper's own lookup
// finds the server, which accepts it: blocked, as without a control. So is a service
// whose other failed step failed for the control too.
TEST_F(MessagingControlRunTest, AServerTheControlReachesIsBlocked) {
  StartHelper({"moved.example.test. 300 IN A 127.0.0.2"});
  const std::string port = Port(second_.port());
  WriteList("moved,moved.example.test," + port + ",dns|tcp,,\n" + "half,moved.example.test," +
            port + ",dns|tcp,,\n" + "half,nx.example.test,443,dns,,\n");
  Json k = Run("messaging", "moved");
  ASSERT_EQ(k["x_control"]["steps"].size(), 1u) << k.dump();
  EXPECT_EQ(k["x_control"]["steps"][0]["control"], "ok");
  EXPECT_EQ(k["x_control"]["tcp_connect"]["127.0.0.2:" + port]["status"], true);
  EXPECT_EQ(k["x_control"]["tcp_connect"]["127.0.0.1:" + port]["status"], false)
      << "the probe's address was tried too";
  EXPECT_EQ(summary_.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(summary_.blocking, "tcp_ip");

  k = Run("messaging", "half");
  ASSERT_EQ(k["x_control"]["steps"].size(), 2u) << k.dump();
  EXPECT_EQ(summary_.verdict, RunVerdict::kBlocked) << k["x_control"]["steps"].dump();
}

// Nothing failed: nothing to ask. No helper: no control keys at all. A helper that
// cannot be reached: recorded, and the measurement stands.
TEST_F(MessagingControlRunTest, ControlsOnlyWhatFailedAndSurvivesAMissingHelper) {
  const std::string https = Port(nginx_->https_port(TestPki::Kind::kValid));
  WriteList("fine,www.example.test," + https + ",dns|tcp|tls|http,,\n" + "gone,www.example.test," +
            Port(listeners_.refused_port()) + ",dns|tcp,,\n");
  Json k = Run("messaging", "gone");
  EXPECT_FALSE(k.contains("x_control")) << "no helper configured";
  EXPECT_FALSE(k.contains("x_control_failure"));
  EXPECT_EQ(summary_.verdict, RunVerdict::kBlocked);

  context_.helper_url = "http://127.0.0.1:" + Port(listeners_.refused_port()) + "/";
  k = Run("messaging", "gone");
  EXPECT_TRUE(k["x_control"].is_null());
  EXPECT_EQ(k["x_control_failure"], "connection_refused");
  EXPECT_EQ(k["service_status"], "blocked");
  EXPECT_EQ(summary_.verdict, RunVerdict::kBlocked);

  StartHelper();
  k = Run("messaging", "fine");
  EXPECT_EQ(summary_.verdict, RunVerdict::kOk);
  EXPECT_FALSE(k.contains("x_control")) << "nothing failed, nothing to ask";
}

}  // namespace
}  // namespace vigil
