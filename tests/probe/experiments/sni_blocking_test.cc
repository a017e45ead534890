// sni_blocking against a real nginx serving the test CA's certificates on loopback,
// against misbehaving listeners (where the control fails too), and through an SNI
// filter of our own — a relay to nginx that resets, drops or closes connections whose
// ClientHello names the target, as a censor would — asserting OONI's result classes,
// our control-aware refinement, and the verdicts.
#include "probe/experiments/sni_blocking/sni_blocking.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "probe/experiments/common/residual_block.h"
#include "probe/experiments/registry.h"
#include "probe/measurement/measurement_json.h"
#include "tests/support/misbehaving_listeners.h"
#include "tests/support/nginx_server.h"
#include "tests/support/run_coroutine.h"
#include "tests/support/test_pki.h"
#include "tests/support/unbound_server.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using test_support::RunCoroutine;

// A TCP relay on 127.0.0.1 to an upstream port that acts on connections whose first
// bytes (the ClientHello) contain `name`. Connections are served one at a time, which
// is how sni_blocking makes them (control, then target). kResetResidual resets the
// trigger, then every later connection whatever its content, as the GFW's residual
// block of the (client, server, port) 3-tuple does.
class SniFilter {
 public:
  enum class Action { kReset, kDrop, kClose, kResetResidual };

  SniFilter(uint16_t upstream, std::string name, Action action)
      : upstream_(upstream), name_(std::move(name)), action_(action) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) ||
        listen(listen_fd_, 16) ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length)) {
      ADD_FAILURE() << "SniFilter: cannot listen";
      return;
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~SniFilter() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (int fd : held_) close(fd);
    if (listen_fd_ >= 0) close(listen_fd_);
  }
  uint16_t port() const { return port_; }
  int triggered() const { return triggered_; }

 private:
  void Run() {
    while (!stop_) {
      pollfd pfd{listen_fd_, POLLIN, 0};
      if (poll(&pfd, 1, 20) != 1) continue;
      const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) Serve(client);
    }
  }

  // Reads until the first TLS record is complete (or 1 s passes).
  std::string FirstRecord(int fd) {
    std::string bytes;
    const auto deadline = std::chrono::steady_clock::now() + 1s;
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      if (bytes.size() >= 5) {
        const size_t record = 5 + ((static_cast<unsigned char>(bytes[3]) << 8) |
                                   static_cast<unsigned char>(bytes[4]));
        if (bytes.size() >= record) break;
      }
      pollfd pfd{fd, POLLIN, 0};
      if (poll(&pfd, 1, 20) != 1) continue;
      char buffer[4096];
      const ssize_t n = read(fd, buffer, sizeof buffer);
      if (n <= 0) break;
      bytes.append(buffer, n);
    }
    return bytes;
  }

  void Serve(int client) {
    const std::string hello = FirstRecord(client);
    if (residual_ || hello.find(name_) != std::string::npos) {
      ++triggered_;
      switch (action_) {
        case Action::kResetResidual:
          residual_ = true;
          [[fallthrough]];
        case Action::kReset: {
          linger reset{1, 0};
          setsockopt(client, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
          close(client);
          return;
        }
        case Action::kDrop:
          held_.push_back(client);  // never answered, closed at the end of the test
          return;
        case Action::kClose:
          close(client);
          return;
      }
    }
    const int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(upstream_);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (server >= 0 &&
        connect(server, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        write(server, hello.data(), hello.size()) == static_cast<ssize_t>(hello.size())) {
      Splice(client, server);
    }
    if (server >= 0) close(server);
    close(client);
  }

  void Splice(int a, int b) {
    while (!stop_) {
      pollfd pfds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
      if (poll(pfds, 2, 20) <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buffer[16384];
        const ssize_t n = read(pfds[i].fd, buffer, sizeof buffer);
        if (n <= 0 || write(pfds[1 - i].fd, buffer, n) != n) return;
      }
    }
  }

  uint16_t upstream_;
  std::string name_;
  Action action_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::vector<int> held_;  // owned by the thread until it is joined
  std::atomic<int> triggered_{0};
  bool residual_ = false;  // the thread's own
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(SniBlockingResult, OonisClassesAndTheControlAwareOne) {
  using F = std::optional<std::string>;
  const F none;
  EXPECT_EQ(SniBlockingResult(none, none), "success.got_server_hello");
  EXPECT_EQ(SniBlockingResult(F("ssl_invalid_hostname"), none), "success.got_server_hello");
  EXPECT_EQ(SniBlockingResult(F("connection_reset"), none), "interference.reset");
  EXPECT_EQ(SniBlockingResult(F("eof_error"), none), "interference.closed");
  EXPECT_EQ(SniBlockingResult(F("ssl_invalid_certificate"), none),
            "interference.invalid_certificate");
  EXPECT_EQ(SniBlockingResult(F("ssl_unknown_authority"), none), "interference.unknown_authority");
  EXPECT_EQ(SniBlockingResult(F("generic_timeout_error"), none), "anomaly.timeout");
  EXPECT_EQ(SniBlockingResult(F("generic_timeout_error"), F("generic_timeout_error")),
            "anomaly.test_helper_unreachable");
  EXPECT_EQ(SniBlockingResult(F("connection_refused"), none), "anomaly.test_helper_unreachable");
  EXPECT_EQ(SniBlockingResult(F("dns_nxdomain_error"), none), "anomaly.test_helper_unreachable");
  EXPECT_EQ(SniBlockingResult(F("ssl_failed_handshake"), none), "anomaly.unexpected_failure");
  EXPECT_EQ(SniBlockingExtendedResult(F("connection_reset"), F("connection_reset")),
            "anomaly.control.connection_reset");
  EXPECT_EQ(SniBlockingExtendedResult(F("connection_reset"), F("ssl_invalid_hostname")),
            "interference.reset");
}

class SniBlockingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = test_support::NginxServer::Unavailable()) GTEST_SKIP() << *why;
    nginx_ = std::make_unique<test_support::NginxServer>();
    ASSERT_TRUE(nginx_->ok()) << nginx_->error();
    context_.ca_file = test_support::TestPki::Get().ca_file();
    context_.timeout = 1000ms;
  }

  uint16_t NginxPort(test_support::TestPki::Kind kind = test_support::TestPki::Kind::kValid) {
    return nginx_->https_port(kind);
  }

  Result<Measurement> Run(const Json& input) {
    auto result = RunCoroutine<std::optional<Result<Measurement>>>(
        [&](asio::io_context& io) -> asio::awaitable<std::optional<Result<Measurement>>> {
          ExperimentContext context = context_;
          context.executor = io.get_executor();
          auto e = MakeExperiment("sni_blocking");
          if (!e) co_return Error{"sni_blocking is not registered"};
          co_return co_await e->Run(context, input);
        });
    return std::move(*result);
  }

  // Measures `target` at 127.0.0.1:port with control SNI example.test.
  Json Measure(const std::string& target, uint16_t port) {
    auto m = Run(Json{{"input", target},
                      {"control_sni", "example.test"},
                      {"endpoint", "127.0.0.1:" + std::to_string(port)}});
    EXPECT_TRUE(m.ok()) << m.error();
    if (!m.ok()) return Json();
    last_ = *m;
    Json j = ToJson(*m);
    EXPECT_TRUE(ParseMeasurement(j.dump()).ok());
    EXPECT_EQ(j["test_name"], "sni_blocking");
    EXPECT_EQ(j["input"], target);
    const Json& k = j["test_keys"];
    EXPECT_EQ(k["control"]["sni"], "example.test");
    EXPECT_EQ(k["target"]["sni"], target);
    EXPECT_EQ(k["target"]["th_address"], "127.0.0.1:" + std::to_string(port));
    return k;
  }

  RunSummary Summary() { return MakeExperiment("sni_blocking")->Summarize(last_); }

  std::unique_ptr<test_support::NginxServer> nginx_;
  ExperimentContext context_;
  Measurement last_;
};

TEST_F(SniBlockingTest, ServerHelloForAForeignNameIsSuccess) {
  Json k = Measure("blocked.example.org", NginxPort());
  EXPECT_TRUE(k["control"]["failure"].is_null()) << k["control"]["failure"];
  EXPECT_EQ(k["target"]["failure"], "ssl_invalid_hostname");
  EXPECT_EQ(k["result"], "success.got_server_hello");
  EXPECT_EQ(k["x_result"], "success.got_server_hello");
  ASSERT_EQ(k["target"]["tcp_connect"].size(), 1u);
  ASSERT_EQ(k["target"]["tls_handshakes"].size(), 1u);
  EXPECT_EQ(k["target"]["tls_handshakes"][0]["server_name"], "blocked.example.org");
  EXPECT_EQ(k["control"]["tls_handshakes"][0]["server_name"], "example.test");
  // The control went first.
  EXPECT_LT(k["control"]["tcp_connect"][0]["t"].get<double>(),
            k["target"]["tcp_connect"][0]["t"].get<double>());
  EXPECT_EQ(Summary().verdict, RunVerdict::kOk);
}

TEST_F(SniBlockingTest, ServedNameIsSuccessWithoutFailure) {
  Json k = Measure("www.example.test", NginxPort());
  EXPECT_TRUE(k["target"]["failure"].is_null());
  EXPECT_EQ(k["result"], "success.got_server_hello");
}

TEST_F(SniBlockingTest, SniFilterResetIsInterference) {
  SniFilter filter(NginxPort(), "blocked.example.org", SniFilter::Action::kReset);
  Json k = Measure("blocked.example.org", filter.port());
  EXPECT_TRUE(k["control"]["failure"].is_null()) << k["control"]["failure"];
  EXPECT_EQ(k["target"]["failure"], "connection_reset");
  EXPECT_EQ(k["target"]["failed_operation"], "tls_handshake");
  EXPECT_EQ(k["result"], "interference.reset");
  EXPECT_EQ(k["x_result"], "interference.reset");
  EXPECT_EQ(filter.triggered(), 1);
  auto s = Summary();
  EXPECT_EQ(s.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(s.blocking, "tls");
  EXPECT_NE(s.evidence.find("interference.reset"), std::string::npos) << s.evidence;
}

TEST_F(SniBlockingTest, SniFilterDropIsATimeout) {
  SniFilter filter(NginxPort(), "blocked.example.org", SniFilter::Action::kDrop);
  Json k = Measure("blocked.example.org", filter.port());
  EXPECT_TRUE(k["control"]["failure"].is_null());
  EXPECT_EQ(k["target"]["failure"], "generic_timeout_error");
  EXPECT_EQ(k["result"], "anomaly.timeout");
  EXPECT_EQ(Summary().verdict, RunVerdict::kBlocked);
}

TEST_F(SniBlockingTest, SniFilterCloseIsInterferenceClosed) {
  SniFilter filter(NginxPort(), "blocked.example.org", SniFilter::Action::kClose);
  Json k = Measure("blocked.example.org", filter.port());
  EXPECT_TRUE(k["control"]["failure"].is_null());
  EXPECT_EQ(k["target"]["failure"], "eof_error");
  EXPECT_EQ(k["result"], "interference.closed");
  EXPECT_EQ(Summary().verdict, RunVerdict::kBlocked);
}

TEST_F(SniBlockingTest, WhenTheControlFailsTooNothingIsBlamedOnTheSni) {
  test_support::MisbehavingListeners listeners;
  ASSERT_TRUE(listeners.ok()) << listeners.error();
  struct Case {
    uint16_t port;
    std::string failure;
    std::string result;
    // A name the certificate covers where it matters: OpenSSL reports a name mismatch
    // before an expiry.
    std::string target = "blocked.example.org";
  };
  const std::vector<Case> cases = {
      {listeners.reset_port(), "connection_reset", "interference.reset"},
      {listeners.eof_port(), "eof_error", "interference.closed"},
      {listeners.silent_port(), "generic_timeout_error", "anomaly.test_helper_unreachable"},
      {listeners.refused_port(), "connection_refused", "anomaly.test_helper_unreachable"},
      {NginxPort(test_support::TestPki::Kind::kExpired), "ssl_invalid_certificate",
       "interference.invalid_certificate", "www.example.test"},
      {NginxPort(test_support::TestPki::Kind::kSelfSigned), "ssl_unknown_authority",
       "interference.unknown_authority"},
  };
  for (const auto& c : cases) {
    Json k = Measure(c.target, c.port);
    EXPECT_EQ(k["control"]["failure"], c.failure) << c.port;
    EXPECT_EQ(k["target"]["failure"], c.failure) << c.port;
    EXPECT_EQ(k["result"], c.result) << c.port;
    EXPECT_EQ(k["x_result"], "anomaly.control." + c.failure);
    EXPECT_FALSE(k.contains("x_residual_block"));
    // The control failed on its own: no verdict about the SNI, not an anomaly of it.
    const RunSummary s = Summary();
    EXPECT_EQ(s.verdict, RunVerdict::kError) << c.port;
    EXPECT_EQ(s.blocking, "") << c.port;
  }
}

TEST_F(SniBlockingTest, AControlFailingInTheResidualBlockOfItsTargetIsSniBlocking) {
  context_.sni_triggers = std::make_shared<SniTriggerLog>();
  SniFilter filter(NginxPort(), "blocked.example.org", SniFilter::Action::kResetResidual);
  Json first = Measure("blocked.example.org", filter.port());
  EXPECT_TRUE(first["control"]["failure"].is_null());
  EXPECT_EQ(first["x_result"], "interference.reset");
  EXPECT_EQ(Summary().verdict, RunVerdict::kBlocked);

  // Measured again while the censor holds the address:port: the control is reset too.
  Json again = Measure("blocked.example.org", filter.port());
  EXPECT_EQ(again["control"]["failure"], "connection_reset");
  EXPECT_EQ(again["result"], "interference.reset") << "OONI's class is kept";
  EXPECT_EQ(again["x_result"], "interference.residual_block");
  EXPECT_EQ(again["x_residual_block"]["sni"], "blocked.example.org");
  EXPECT_EQ(again["x_residual_block"]["address"], "127.0.0.1:" + std::to_string(filter.port()));
  EXPECT_EQ(again["x_residual_block"]["failure"], "connection_reset");
  auto s = Summary();
  EXPECT_EQ(s.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(s.blocking, "tls");
  EXPECT_NE(s.evidence.find("residual block"), std::string::npos) << s.evidence;

  // Another name measured there meets the same residual block: it leaves that name
  // without a control, which says nothing about its own SNI.
  Json other = Measure("innocent.example.org", filter.port());
  EXPECT_EQ(other["x_result"], "anomaly.control.connection_reset");
  EXPECT_EQ(other["x_residual_block"]["sni"], "blocked.example.org");
  s = Summary();
  EXPECT_EQ(s.verdict, RunVerdict::kError);
  EXPECT_EQ(s.blocking, "");
  EXPECT_NE(s.evidence.find("residual block"), std::string::npos) << s.evidence;
}

TEST_F(SniBlockingTest, EndpointByNameIsResolvedOnce) {
  if (auto why = test_support::UnboundServer::Unavailable()) GTEST_SKIP() << *why;
  test_support::UnboundServer unbound({"helper.example.test. 300 IN A 127.0.0.1"});
  ASSERT_TRUE(unbound.ok()) << unbound.error();
  context_.resolver = *ParseResolverSpec("udp://" + unbound.address());
  const std::string endpoint = "helper.example.test:" + std::to_string(NginxPort());
  auto m = Run(Json{{"input", "https://blocked.example.org/path"},
                    {"control_sni", "example.test"},
                    {"endpoint", endpoint}});
  ASSERT_TRUE(m.ok()) << m.error();
  Json k = ToJson(*m)["test_keys"];
  EXPECT_EQ(k["target"]["sni"], "blocked.example.org");
  EXPECT_EQ(k["target"]["th_address"], endpoint);
  EXPECT_GE(k["queries"].size(), 1u);
  EXPECT_EQ(k["queries"][0]["hostname"], "helper.example.test");
  EXPECT_EQ(k["result"], "success.got_server_hello");

  auto nx = Run(Json{{"input", "blocked.example.org"}, {"endpoint", "nx.example.test:443"}});
  ASSERT_TRUE(nx.ok()) << nx.error();
  k = ToJson(*nx)["test_keys"];
  EXPECT_EQ(k["target"]["failure"], "dns_nxdomain_error");
  EXPECT_EQ(k["target"]["failed_operation"], "resolve");
  EXPECT_EQ(k["result"], "anomaly.test_helper_unreachable");
}

TEST_F(SniBlockingTest, BadInputsAreErrors) {
  EXPECT_FALSE(Run(Json("")).ok());
  EXPECT_FALSE(Run(Json("has space")).ok());
  EXPECT_FALSE(Run(Json{{"input", "x.org"}, {"endpoint", "no-port"}}).ok());
  EXPECT_FALSE(Run(Json{{"input", "x.org"}, {"control_sni", 3}}).ok());
  EXPECT_FALSE(Run(Json("{not json")).ok());
}

TEST_F(SniBlockingTest, SubresultsCarryOonisKeys) {
  const std::string path = test_support::ReferenceDir() + "/ooni-measurements/sni_blocking.jsonl";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no reference measurement at " << path;
  std::ifstream in(path);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const Json ref = Json::parse(line)["test_keys"];
  Json k = Measure("blocked.example.org", NginxPort());
  for (const char* side : {"control", "target"}) {
    for (const auto& [key, value] : ref[side].items()) {
      EXPECT_TRUE(k[side].contains(key)) << side << " lacks " << key;
    }
  }
}

}  // namespace
}  // namespace vigil
