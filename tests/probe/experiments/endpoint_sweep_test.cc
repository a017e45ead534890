// EndpointSweep against real servers on loopback (names from a local unbound): on the
// ports named for TLS each connection is handshaken with the host's name as SNI and
// verified against the context's CA file; a handshake reset or left unanswered after
// a connect that worked fails the endpoint; the handshakes go to x_tls_handshakes and
// never into OONI's tls_handshakes or network_events; other ports and IP literals are
// only connected to.
#include "probe/experiments/common/endpoint_sweep.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "probe/dns/dns_observer.h"
#include "probe/experiments/common/test_keys.h"
#include "probe/net/concurrency.h"
#include "probe/net/trace.h"
#include "tests/support/misbehaving_listeners.h"
#include "tests/support/nginx_server.h"
#include "tests/support/run_coroutine.h"
#include "tests/support/test_pki.h"
#include "tests/support/unbound_server.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using test_support::TestPki;

// What one sweep left behind.
struct Swept {
  std::map<std::string, std::map<uint16_t, PortOutcome>> outcomes;
  std::vector<SweepHandshake> handshakes;
  Json x_tls_handshakes;
  TestKeys trace;  // what went to the measurement's own keys
};

// host → (ports, tls ports)
using Plan = std::map<std::string, std::pair<std::vector<uint16_t>, std::vector<uint16_t>>>;

class EndpointSweepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = test_support::UnboundServer::Unavailable()) GTEST_SKIP() << *why;
    if (auto why = test_support::NginxServer::Unavailable()) GTEST_SKIP() << *why;
    unbound_ = std::make_unique<test_support::UnboundServer>(std::vector<std::string>{
        "tls.example.test. 300 IN A 127.0.0.1", "reset.example.test. 300 IN A 127.0.0.1",
        "silent.example.test. 300 IN A 127.0.0.1"});
    ASSERT_TRUE(unbound_->ok()) << unbound_->error();
    nginx_ = std::make_unique<test_support::NginxServer>();
    ASSERT_TRUE(nginx_->ok()) << nginx_->error();
    ASSERT_TRUE(listeners_.ok()) << listeners_.error();
    context_.resolver = *ParseResolverSpec("udp://" + unbound_->address());
    context_.timeout = 2000ms;
    context_.parallelism = 4;
    context_.ca_file = TestPki::Get().ca_file();
  }

  Swept Sweep(const Plan& plan) {
    return test_support::RunCoroutine<Swept>([&](asio::io_context& io) -> asio::awaitable<Swept> {
      context_.executor = io.get_executor();
      Trace trace;
      DnsObserver dns(io.get_executor(), context_.resolver, context_.timeout);
      EndpointSweep sweep(trace, dns, context_);
      std::vector<Task> tasks;
      for (const auto& [host, ports] : plan) {
        tasks.push_back(sweep.Probe(host, ports.first, ports.second));
      }
      co_await RunBounded(std::move(tasks), context_.parallelism);
      co_return Swept{sweep.Outcomes(), sweep.handshakes(), sweep.TlsHandshakesJson(),
                      trace.keys()};
    });
  }

  uint16_t https(TestPki::Kind kind = TestPki::Kind::kValid) const {
    return nginx_->https_port(kind);
  }

  std::unique_ptr<test_support::UnboundServer> unbound_;
  std::unique_ptr<test_support::NginxServer> nginx_;
  test_support::MisbehavingListeners listeners_;
  ExperimentContext context_;
};

TEST_F(EndpointSweepTest, AHandshakeNamesTheHostAndIsKeptApartFromOonisKeys) {
  const uint16_t port = https();
  Swept s = Sweep({{"tls.example.test", {{port}, {port}}}});
  const PortOutcome& o = s.outcomes["tls.example.test"][port];
  EXPECT_TRUE(o.ok);
  EXPECT_TRUE(o.tls);
  EXPECT_TRUE(o.tls_ok) << o.tls_failure;
  EXPECT_TRUE(o.worked());
  ASSERT_EQ(s.handshakes.size(), 1u);
  EXPECT_EQ(s.handshakes[0].failure, "");

  ASSERT_EQ(s.x_tls_handshakes.size(), 1u) << s.x_tls_handshakes.dump();
  const Json& h = s.x_tls_handshakes[0];
  EXPECT_EQ(h["server_name"], "tls.example.test");
  EXPECT_EQ(h["address"], "127.0.0.1:" + std::to_string(port));
  EXPECT_TRUE(h["failure"].is_null()) << h["failure"];
  EXPECT_EQ(h["no_tls_verify"], false);
  EXPECT_FALSE(h["tls_version"].get<std::string>().empty());
  EXPECT_FALSE(h["peer_certificates"].empty());
  // OONI's keys hold the connect, not the handshake.
  ASSERT_EQ(s.trace.tcp_connect.size(), 1u);
  EXPECT_EQ(h["transaction_id"], *s.trace.tcp_connect[0].timing.transaction_id);
  EXPECT_TRUE(s.trace.tls_handshakes.empty());
  for (const auto& e : s.trace.network_events) {
    EXPECT_EQ(e.operation.rfind("tls_", 0), std::string::npos) << e.operation;
  }
}

TEST_F(EndpointSweepTest, AHandshakeResetOrUnansweredAfterAWorkingConnectFailsTheEndpoint) {
  context_.timeout = 500ms;
  const uint16_t reset = listeners_.reset_port(), silent = listeners_.silent_port();
  const auto started = std::chrono::steady_clock::now();
  Swept s = Sweep(
      {{"reset.example.test", {{reset}, {reset}}}, {"silent.example.test", {{silent}, {silent}}}});
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s) << "bounded by context.timeout";

  const PortOutcome& r = s.outcomes["reset.example.test"][reset];
  EXPECT_TRUE(r.ok) << "the connect itself worked";
  EXPECT_FALSE(r.worked());
  EXPECT_EQ(r.tls_failure, "connection_reset");
  const PortOutcome& t = s.outcomes["silent.example.test"][silent];
  EXPECT_TRUE(t.ok);
  EXPECT_FALSE(t.worked());
  EXPECT_EQ(t.tls_failure, "generic_timeout_error");

  const auto failures = FailuresOf(s.outcomes);
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_EQ(failures[0].host, "reset.example.test");
  EXPECT_EQ(failures[0].operation, "tls_handshake");
  EXPECT_EQ(failures[0].failure, "connection_reset");
  EXPECT_EQ(failures[1].operation, "tls_handshake");
  EXPECT_EQ(failures[1].failure, "generic_timeout_error");
  Json status, port_failures;
  WritePortStatus(s.outcomes, &status, &port_failures);
  EXPECT_EQ(status["reset.example.test"][std::to_string(reset)], "blocked");
  EXPECT_EQ(port_failures["reset.example.test"][std::to_string(reset)], "connection_reset");

  ASSERT_EQ(s.x_tls_handshakes.size(), 2u);
  for (const auto& h : s.x_tls_handshakes) {
    EXPECT_TRUE(h["failure"] == "connection_reset" || h["failure"] == "generic_timeout_error")
        << h.dump();
  }
}

TEST_F(EndpointSweepTest, CertificatesAreVerifiedAgainstTheContextsCaFile) {
  const uint16_t wrong_host = https(TestPki::Kind::kWrongHost);
  const uint16_t expired = https(TestPki::Kind::kExpired);
  Swept s = Sweep({{"tls.example.test", {{wrong_host, expired}, {wrong_host, expired}}}});
  // A certificate for other names still came from the server: the name passed, the
  // endpoint worked, and the handshake keeps its failure as data.
  EXPECT_TRUE(s.outcomes["tls.example.test"][wrong_host].worked());
  bool recorded = false;
  for (const auto& h : s.x_tls_handshakes)
    recorded = recorded || h["failure"] == "ssl_invalid_hostname";
  EXPECT_TRUE(recorded) << s.x_tls_handshakes.dump();
  EXPECT_EQ(s.outcomes["tls.example.test"][expired].tls_failure, "ssl_invalid_certificate");
  EXPECT_FALSE(s.outcomes["tls.example.test"][expired].worked());

  context_.ca_file.clear();  // the system store, which knows nothing of the test CA
  const uint16_t valid = https();
  s = Sweep({{"tls.example.test", {{valid}, {valid}}}});
  EXPECT_EQ(s.outcomes["tls.example.test"][valid].tls_failure, "ssl_unknown_authority");
}

TEST_F(EndpointSweepTest, OtherPortsAndIpLiteralsAreOnlyConnectedTo) {
  const uint16_t plain = nginx_->http_port(), tls = https();
  Swept s = Sweep({{"tls.example.test", {{plain, tls}, {tls}}}, {"127.0.0.1", {{tls}, {tls}}}});
  EXPECT_FALSE(s.outcomes["tls.example.test"][plain].tls);
  EXPECT_TRUE(s.outcomes["tls.example.test"][plain].worked());
  EXPECT_TRUE(s.outcomes["tls.example.test"][tls].tls_ok);
  // An address has no name to send as SNI.
  EXPECT_FALSE(s.outcomes["127.0.0.1"][tls].tls);
  EXPECT_TRUE(s.outcomes["127.0.0.1"][tls].worked());
  ASSERT_EQ(s.handshakes.size(), 1u);
  EXPECT_EQ(s.handshakes[0].host, "tls.example.test");
  EXPECT_EQ(s.handshakes[0].port, tls);
}

}  // namespace
}  // namespace vigil
