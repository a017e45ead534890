// web_connectivity end to end on loopback: the probe's own unbound, a second unbound
// for our control helper (running in this process), nginx as the website and a
// block-page server standing in for a censor's, for a site that works, a name the
// probe's resolver answers wrongly, a closed port, a different page and an
// unreachable helper; each measurement carries every test_keys key real OONI
// web_connectivity measurements carry, with OONI's JSON types.
#include "probe/experiments/web_connectivity/web_connectivity.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "probe/experiments/registry.h"
#include "probe/measurement/measurement_json.h"
#include "tests/support/misbehaving_listeners.h"
#include "tests/support/nginx_server.h"
#include "tests/support/run_coroutine.h"
#include "tests/support/running_helper.h"
#include "tests/support/test_pki.h"
#include "tests/support/unbound_server.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using test_support::NginxServer;
using test_support::TestPki;
using test_support::UnboundServer;

// What a censor's block-page server answers: a short page, and only headers OONI
// counts as common (so nothing but the page itself can match the real site's).
constexpr std::string_view kBlockPage =
    "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n"
    "<html><head><title>Blocked</title></head><body>Denied.</body></html>\n";

// Answers kBlockPage to every connection on ip:port, from a thread of its own.
class BlockPageServer {
 public:
  BlockPageServer(const std::string& ip, uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
    const int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd_, 16) != 0) {
      error_ = "cannot listen on " + ip + ":" + std::to_string(port);
      return;
    }
    thread_ = std::thread([this] { Run(); });
  }
  ~BlockPageServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) close(fd_);
  }
  const std::string& error() const { return error_; }

 private:
  void Run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        pollfd q{c, POLLIN, 0};
        if (poll(&q, 1, 1000) <= 0) break;
        const ssize_t n = recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      send(c, kBlockPage.data(), kBlockPage.size(), MSG_NOSIGNAL);
      close(c);
    }
  }

  int fd_ = -1;
  std::string error_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string JsonType(const Json& j) { return j.is_number() ? "number" : j.type_name(); }

// Every key of every real OONI web_connectivity measurement (the field sample and
// OONI's own QA runs) is in ours, with a JSON type OONI used for it (null only where
// OONI wrote null; any type where OONI only ever wrote null).
void ExpectOoniKeys(const Json& ours) {
  const std::string dir = test_support::ReferenceDir() + "/ooni-measurements";
  std::map<std::string, std::set<std::string>> ooni_types;
  int measurements = 0;
  for (const char* file : {"web_connectivity.jsonl", "web_connectivity_qa_netem.jsonl"}) {
    std::ifstream in(dir + "/" + file);
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      Json ref = Json::parse(line);
      ASSERT_EQ(ref["test_name"], "web_connectivity");
      if (!ref["test_keys"].is_object()) continue;  // an old probe's empty measurement
      for (const auto& [key, value] : ref["test_keys"].items()) {
        ooni_types[key].insert(JsonType(value));
      }
      ++measurements;
    }
  }
  if (measurements == 0) {
    std::cerr << "no reference measurements under " << dir
              << " (set VIGIL_REFERENCE_DIR): key-set check skipped\n";
    return;
  }
  const Json& keys = ours["test_keys"];
  for (const auto& [key, types] : ooni_types) {
    ASSERT_TRUE(keys.contains(key)) << "missing test_keys." << key;
    if (types == std::set<std::string>{"null"}) continue;
    EXPECT_TRUE(types.contains(JsonType(keys[key])))
        << "test_keys." << key << " is " << JsonType(keys[key]) << "; OONI's is one of "
        << Json(types).dump();
  }
}

class WebConnectivityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto why :
         {NginxServer::Unavailable(), UnboundServer::Unavailable(), TestPki::Unavailable()}) {
      if (why) GTEST_SKIP() << *why;
    }
    nginx_ = std::make_unique<NginxServer>();
    ASSERT_TRUE(nginx_->ok()) << nginx_->error();
    // The probe's resolver lies about wrong.example.test and sends diff.example.test
    // to the block-page server (while sharing an address with the truth, so the
    // lookup itself looks consistent); the helper's tells the truth.
    probe_dns_ = std::make_unique<UnboundServer>(std::vector<std::string>{
        "wrong.example.test. 300 IN A 127.0.0.2", "diff.example.test. 300 IN A 127.0.0.3",
        "diff.example.test. 300 IN AAAA ::1"});
    ASSERT_TRUE(probe_dns_->ok()) << probe_dns_->error();
    helper_dns_ = std::make_unique<UnboundServer>(std::vector<std::string>{
        "wrong.example.test. 300 IN A 127.0.0.1", "diff.example.test. 300 IN A 127.0.0.1",
        "diff.example.test. 300 IN AAAA ::1"});
    ASSERT_TRUE(helper_dns_->ok()) << helper_dns_->error();
    HelperConfig config;
    config.measurement.resolver = *ParseResolverSpec("udp://" + helper_dns_->address());
    config.measurement.ca_file = TestPki::Get().ca_file();
    config.measurement.timeout = 2000ms;
    config.measurement.allow_bogons = true;
    helper_ = std::make_unique<test_support::RunningHelper>(config);
    ASSERT_NE(helper_->port(), 0);

    context_.resolver = *ParseResolverSpec("udp://" + probe_dns_->address());
    context_.ca_file = TestPki::Get().ca_file();
    context_.timeout = 2000ms;
    context_.helper_url = helper_->url();
  }

  Result<Measurement> Run(const std::string& url) {
    auto result = test_support::RunCoroutine<std::optional<Result<Measurement>>>(
        [&](asio::io_context& io) -> asio::awaitable<std::optional<Result<Measurement>>> {
          ExperimentContext context = context_;
          context.executor = io.get_executor();
          auto e = MakeExperiment("web_connectivity");
          if (!e) co_return Error{"web_connectivity is not registered"};
          co_return co_await e->Run(context, Json(url));
        });
    return std::move(*result);
  }

  // Runs the experiment on `url`; the measurement as a reader sees it, and its summary.
  Json Measure(const std::string& url, RunSummary* summary = nullptr) {
    auto m = Run(url);
    EXPECT_TRUE(m.ok()) << m.error();
    if (!m.ok()) return Json();
    EXPECT_EQ(m->test_name, "web_connectivity");
    EXPECT_EQ(m->test_version, kWebConnectivityVersion);
    EXPECT_EQ(m->input, url);
    Json j = ToJson(*m);
    auto back = ParseMeasurement(j.dump());
    EXPECT_TRUE(back.ok()) << back.error();
    if (summary && back.ok()) *summary = WebConnectivityExperiment().Summarize(*back);
    return j;
  }

  std::string HttpUrl(const std::string& host) const {
    return "http://" + host + ":" + std::to_string(nginx_->http_port()) + "/";
  }

  std::unique_ptr<NginxServer> nginx_;
  std::unique_ptr<UnboundServer> probe_dns_;
  std::unique_ptr<UnboundServer> helper_dns_;
  std::unique_ptr<test_support::RunningHelper> helper_;
  ExperimentContext context_;
};

TEST_F(WebConnectivityTest, AccessibleSite) {
  RunSummary summary;
  const std::string url = HttpUrl("www.example.test");
  Json m = Measure(url, &summary);
  ASSERT_TRUE(m.is_object());
  const Json& k = m["test_keys"];
  EXPECT_EQ(k["blocking"], false) << k.dump();
  EXPECT_EQ(k["accessible"], true);
  EXPECT_EQ(k["dns_consistency"], "consistent");
  EXPECT_TRUE(k["dns_experiment_failure"].is_null());
  EXPECT_TRUE(k["http_experiment_failure"].is_null());
  EXPECT_TRUE(k["control_failure"].is_null());
  EXPECT_EQ(k["status_code_match"], true);
  EXPECT_EQ(k["body_length_match"], true);
  EXPECT_EQ(k["body_proportion"], 1.0);
  EXPECT_EQ(k["headers_match"], true);
  EXPECT_EQ(k["title_match"], true);
  EXPECT_EQ(k["x_blocking_rule"], "http_match");
  EXPECT_EQ(k["x_dns_verdict"], "ok");
  EXPECT_EQ(k["x_tcp_verdict"], "ok");
  EXPECT_TRUE(k["x_tls_verdict"].is_null());
  EXPECT_EQ(k["x_http_verdict"], "ok");
  EXPECT_EQ(k["x_blocking_flags"], 32);
  // What we asked the helper, and what it said.
  const std::string endpoint = "127.0.0.1:" + std::to_string(nginx_->http_port());
  EXPECT_EQ(k["x_control_request"]["http_request"], url);
  const Json& asked = k["x_control_request"]["tcp_connect"];
  EXPECT_NE(std::find(asked.begin(), asked.end(), endpoint), asked.end()) << asked.dump();
  EXPECT_EQ(k["control"]["tcp_connect"][endpoint]["status"], true) << k["control"].dump();
  EXPECT_EQ(k["control"]["http_request"]["title"], NginxServer::kPageTitle);
  EXPECT_EQ(k["control"]["dns"]["addrs"], (Json{"127.0.0.1", "::1"}));
  // Every connect the control also measured says whether it was blocked.
  bool seen = false;
  for (const auto& c : k["tcp_connect"]) {
    if (c["ip"] == "127.0.0.1") {
      EXPECT_EQ(c["status"]["blocked"], false) << c.dump();
      seen = true;
    }
  }
  EXPECT_TRUE(seen);
  EXPECT_EQ(k["requests"][0]["response"]["code"], 200);
  EXPECT_EQ(m["test_helpers"]["backend"]["address"], helper_->url());
  EXPECT_EQ(summary.verdict, RunVerdict::kOk);
  EXPECT_EQ(summary.service, url);
  ExpectOoniKeys(m);
}

TEST_F(WebConnectivityTest, AccessibleOverHttps) {
  const std::string url =
      "https://www.example.test:" + std::to_string(nginx_->https_port(TestPki::Kind::kValid)) + "/";
  Json m = Measure(url);
  ASSERT_TRUE(m.is_object());
  const Json& k = m["test_keys"];
  EXPECT_EQ(k["blocking"], false) << k.dump();
  EXPECT_EQ(k["accessible"], true);
  EXPECT_EQ(k["x_blocking_rule"], "https_success");
  EXPECT_EQ(k["x_tls_verdict"], "ok");
  ASSERT_FALSE(k["tls_handshakes"].empty());
  EXPECT_TRUE(k["tls_handshakes"][0]["failure"].is_null()) << k["tls_handshakes"][0].dump();
  EXPECT_EQ(k["tls_handshakes"][0]["server_name"], "www.example.test");
  const std::string endpoint =
      "127.0.0.1:" + std::to_string(nginx_->https_port(TestPki::Kind::kValid));
  EXPECT_EQ(k["control"]["tls_handshake"][endpoint]["status"], true) << k["control"].dump();
  ExpectOoniKeys(m);
}

TEST_F(WebConnectivityTest, WrongAnswerFromTheProbesResolverIsDnsBlocking) {
  RunSummary summary;
  Json m = Measure(HttpUrl("wrong.example.test"), &summary);
  ASSERT_TRUE(m.is_object());
  const Json& k = m["test_keys"];
  EXPECT_EQ(k["dns_consistency"], "inconsistent") << k.dump();
  EXPECT_EQ(k["blocking"], "dns");
  EXPECT_EQ(k["accessible"], false);
  EXPECT_EQ(k["x_dns_verdict"], "blocked");
  EXPECT_EQ(k["x_dns_flags"], 4);
  EXPECT_EQ(k["control"]["dns"]["addrs"], Json{"127.0.0.1"});
  EXPECT_EQ(k["x_control_request"]["tcp_connect"],
            Json{"127.0.0.2:" + std::to_string(nginx_->http_port())});
  EXPECT_EQ(summary.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(summary.blocking, "dns");
  EXPECT_NE(summary.evidence.find("127.0.0.2"), std::string::npos) << summary.evidence;
  ExpectOoniKeys(m);
}

TEST_F(WebConnectivityTest, AnswersInTheSameAsAreConsistent) {
  // The lab's way of saying which addresses belong to which network: here both
  // answers belong to one AS, so the probe's is not a lie, only unreachable.
  context_.extra_asn_addresses["AS64500"] = {"127.0.0.1", "127.0.0.2"};
  Json m = Measure(HttpUrl("wrong.example.test"));
  ASSERT_TRUE(m.is_object());
  const Json& k = m["test_keys"];
  EXPECT_EQ(k["dns_consistency"], "consistent") << k.dump();
  // Nothing listens on 127.0.0.2 for the control either: the site is down.
  EXPECT_EQ(k["blocking"], false);
  EXPECT_EQ(k["accessible"], false);
  EXPECT_EQ(k["x_dns_flags"], 0);
}

TEST_F(WebConnectivityTest, ClosedPortThatTheControlCannotReachEitherIsDown) {
  test_support::MisbehavingListeners listeners;
  ASSERT_TRUE(listeners.ok());
  RunSummary summary;
  const std::string port = std::to_string(listeners.refused_port());
  Json m = Measure("http://www.example.test:" + port + "/", &summary);
  ASSERT_TRUE(m.is_object());
  const Json& k = m["test_keys"];
  EXPECT_EQ(k["dns_consistency"], "consistent") << k.dump();
  // ts-017 said tcp_ip; the control could not connect either, so, as OONI 0.5 says,
  // the site is down: not reached, and not blocked.
  EXPECT_EQ(k["blocking"], false);
  EXPECT_EQ(k["accessible"], false);
  EXPECT_EQ(k["x_blocking_rule"], "connect_failed_down");
  EXPECT_EQ(k["x_blocking_flags"], 0);
  EXPECT_TRUE(k["http_experiment_failure"].is_string()) << "every address refused";
  EXPECT_EQ(k["control"]["tcp_connect"]["127.0.0.1:" + port]["failure"],
            "connection_refused_error");
  EXPECT_EQ(k["x_tcp_verdict"], "down");
  for (const auto& c : k["tcp_connect"]) {
    if (c["ip"] == "127.0.0.1") {
      EXPECT_EQ(c["status"]["blocked"], false) << c.dump();
    }
  }
  EXPECT_EQ(summary.blocking, "");
  EXPECT_EQ(summary.verdict, RunVerdict::kDown);
  EXPECT_NE(summary.evidence.find("127.0.0.1:" + port + " connection_refused"), std::string::npos)
      << summary.evidence;
  EXPECT_NE(summary.evidence.find("the control could not connect either"), std::string::npos)
      << summary.evidence;
  ExpectOoniKeys(m);
}

TEST_F(WebConnectivityTest, DifferentPageIsHttpDiff) {
  BlockPageServer block("127.0.0.3", nginx_->http_port());
  ASSERT_TRUE(block.error().empty()) << block.error();
  RunSummary summary;
  Json m = Measure(HttpUrl("diff.example.test"), &summary);
  ASSERT_TRUE(m.is_object());
  const Json& k = m["test_keys"];
  EXPECT_EQ(k["dns_consistency"], "consistent") << k.dump();
  EXPECT_EQ(k["blocking"], "http-diff");
  EXPECT_EQ(k["accessible"], false);
  EXPECT_EQ(k["status_code_match"], true);
  EXPECT_EQ(k["body_length_match"], false);
  EXPECT_EQ(k["headers_match"], false);
  EXPECT_EQ(k["title_match"], false);
  EXPECT_LT(k["body_proportion"].get<double>(), 0.7);
  EXPECT_EQ(k["x_http_verdict"], "blocked");
  EXPECT_EQ(k["requests"][0]["response"]["x_title"], "Blocked");
  EXPECT_EQ(k["control"]["http_request"]["title"], NginxServer::kPageTitle);
  EXPECT_EQ(summary.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(summary.blocking, "http-diff");
  ExpectOoniKeys(m);
}

TEST_F(WebConnectivityTest, UnreachableHelperLeavesBlockingNull) {
  test_support::MisbehavingListeners listeners;
  ASSERT_TRUE(listeners.ok());
  context_.helper_url = "http://127.0.0.1:" + std::to_string(listeners.refused_port()) + "/";
  RunSummary summary;
  Json m = Measure(HttpUrl("www.example.test"), &summary);
  ASSERT_TRUE(m.is_object());
  const Json& k = m["test_keys"];
  EXPECT_EQ(k["control_failure"], "connection_refused") << k.dump();
  EXPECT_TRUE(k["control"].is_null());
  EXPECT_TRUE(k["blocking"].is_null());
  EXPECT_TRUE(k["accessible"].is_null());
  EXPECT_TRUE(k["dns_consistency"].is_null());
  EXPECT_EQ(k["x_status"], 8);
  // The probe's side is measured all the same.
  EXPECT_EQ(k["requests"][0]["response"]["code"], 200);
  EXPECT_EQ(summary.verdict, RunVerdict::kError);
  EXPECT_NE(summary.evidence.find("connection_refused"), std::string::npos);
  ExpectOoniKeys(m);
}

// The summary line of a measurement whose control got a server error says so, not
// that the control's fetch failed.
TEST(WebConnectivitySummary, AControlThatGotA5xxIsNothingToCompareWith) {
  Measurement m;
  m.input = "http://www.example.test/";
  m.test_keys.extra = {
      {"blocking", "http-diff"},  // OONI's key, as OONI computes it
      {"accessible", false},
      {"control_failure", nullptr},
      {"x_blocking_rule", "control_http_5xx"},
      {"control", {{"http_request", {{"status_code", 503}, {"failure", nullptr}}}}}};
  RunSummary s = WebConnectivityExperiment().Summarize(m);
  EXPECT_EQ(s.verdict, RunVerdict::kError);
  EXPECT_EQ(s.evidence, "the control got HTTP 503: nothing to compare with");

  m.test_keys.extra["control"]["http_request"] = {{"status_code", -1},
                                                  {"failure", "connection_reset"}};
  s = WebConnectivityExperiment().Summarize(m);
  EXPECT_EQ(s.evidence, "the control could not fetch it either: connection_reset");
}

TEST_F(WebConnectivityTest, InputMustBeAUrl) {
  EXPECT_FALSE(Run("not a url").ok());
  EXPECT_FALSE(Run("ftp://www.example.test/").ok());
}

}  // namespace
}  // namespace vigil
