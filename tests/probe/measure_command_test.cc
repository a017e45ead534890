// `vigil measure` as a user runs it: the real binary against real servers on
// loopback, its JSON parsed back through the measurement model, and its exit
// statuses (0 for network failures, 2 for bad arguments).
#include <gtest/gtest.h>

#include <chrono>

#include "probe/measurement/measurement_json.h"
#include "tests/support/child_process.h"
#include "tests/support/misbehaving_listeners.h"
#include "tests/support/nginx_server.h"
#include "tests/support/test_pki.h"
#include "tests/support/unbound_server.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

using test_support::NginxServer;
using test_support::RunCommand;
using test_support::TestPki;
using test_support::VigilBinary;

std::vector<std::string> Vigil(std::vector<std::string> args) {
  args.insert(args.begin(), VigilBinary());
  return args;
}

Measurement ParseOutput(const test_support::CommandResult& r) {
  auto m = ParseMeasurement(r.output);
  EXPECT_TRUE(m.ok()) << m.error() << "\n" << r.output;
  return m.ok() ? *m : Measurement{};
}

TEST(MeasureCommandTest, HttpsThroughExplicitResolverFillsEveryExtension) {
  for (auto why : {NginxServer::Unavailable(), test_support::UnboundServer::Unavailable(),
                   TestPki::Unavailable()}) {
    if (why) GTEST_SKIP() << *why;
  }
  NginxServer nginx;
  ASSERT_TRUE(nginx.ok()) << nginx.error();
  test_support::UnboundServer unbound;
  ASSERT_TRUE(unbound.ok()) << unbound.error();
  const std::string url =
      "https://www.example.test:" + std::to_string(nginx.https_port(TestPki::Kind::kValid)) + "/";
  auto r = RunCommand(Vigil({"measure", "http", url, "--resolver", "udp://" + unbound.address(),
                             "--ca-file", TestPki::Get().ca_file()}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Measurement m = ParseOutput(r);
  EXPECT_EQ(m.test_name, "urlgetter");
  EXPECT_EQ(m.input, url);
  EXPECT_EQ(m.probe_ip, "127.0.0.1");
  EXPECT_EQ(m.software_name, "vigil");
  const TestKeys& k = m.test_keys;
  EXPECT_FALSE(k.failure) << *k.failure;
  ASSERT_EQ(k.queries.size(), 2u);
  EXPECT_EQ(k.queries[0].engine, "udp");
  EXPECT_EQ(k.queries[0].resolver_address, unbound.address());
  ASSERT_FALSE(k.tcp_connect.empty());
  EXPECT_TRUE(k.tcp_connect[0].status.success);
  ASSERT_EQ(k.tls_handshakes.size(), 1u);
  EXPECT_FALSE(k.tls_handshakes[0].failure);
  ASSERT_EQ(k.requests.size(), 1u);
  EXPECT_EQ(k.requests[0].response.code, 200);
  EXPECT_FALSE(k.network_events.empty());
  EXPECT_GT(m.test_runtime, 0);
}

TEST(MeasureCommandTest, NetworkFailuresAreDataWithExitZero) {
  test_support::MisbehavingListeners listeners;
  auto r = RunCommand(
      Vigil({"measure", "tcp", "127.0.0.1:" + std::to_string(listeners.refused_port())}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Measurement m = ParseOutput(r);
  EXPECT_EQ(m.test_keys.failure, "connection_refused");
  EXPECT_EQ(m.test_keys.failed_operation, "connect");

  r = RunCommand(Vigil({"measure", "tls", "127.0.0.1:" + std::to_string(listeners.reset_port()),
                        "--sni", "www.example.test", "--timeout", "2"}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  m = ParseOutput(r);
  EXPECT_EQ(m.test_keys.failure, "connection_reset");
  EXPECT_EQ(m.test_keys.failed_operation, "tls_handshake");
  ASSERT_EQ(m.test_keys.tls_handshakes.size(), 1u);
  EXPECT_EQ(m.test_keys.tls_handshakes[0].server_name, "www.example.test");
}

TEST(MeasureCommandTest, DnsStepWithRcodes) {
  if (auto why = test_support::UnboundServer::Unavailable()) GTEST_SKIP() << *why;
  test_support::UnboundServer unbound;
  ASSERT_TRUE(unbound.ok()) << unbound.error();
  auto r = RunCommand(Vigil(
      {"measure", "dns", "servfail.test", "--resolver", "tcp://" + unbound.address(), "--pretty"}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\n  \""), std::string::npos) << "--pretty indents";
  Measurement m = ParseOutput(r);
  ASSERT_EQ(m.test_keys.queries.size(), 1u);
  EXPECT_EQ(m.test_keys.queries[0].engine, "tcp");
  EXPECT_EQ(m.test_keys.queries[0].rcode, 2);
  EXPECT_EQ(m.test_keys.failure, "dns_servfail_error");

  r = RunCommand(Vigil({"measure", "dns", "www.example.test", "--type", "AAAA", "--resolver",
                        "udp://" + unbound.address()}));
  m = ParseOutput(r);
  ASSERT_EQ(m.test_keys.queries.size(), 1u);
  EXPECT_EQ(m.test_keys.queries[0].query_type, "AAAA");
  ASSERT_EQ(m.test_keys.queries[0].answers.size(), 1u);
  EXPECT_EQ(m.test_keys.queries[0].answers[0].ipv6, "::1");
}

TEST(MeasureCommandTest, BadArgumentsExitTwoWithOneLineNamingThem) {
  struct Case {
    std::vector<std::string> args;
    const char* named;
  };
  const Case cases[] = {
      {{"measure", "tcp", "example.test:443"}, "IP:PORT"},
      {{"measure", "tcp", "127.0.0.1:99999"}, "IP:PORT"},
      {{"measure", "tcp", "127.0.0.1"}, "IP:PORT"},
      {{"measure", "tls", "host:443", "--ca-file", "/nonexistent/ca.pem"}, "--ca-file"},
      {{"measure", "http", "ftp://example.test/"}, "URL"},
      {{"measure", "dns", "example.test", "--resolver", "udp://not-an-ip:53"}, "--resolver"},
      {{"measure", "dns", "example.test", "--type", "BOGUS", "--resolver", "udp://127.0.0.1:53"},
       "--type"},
      {{"measure", "dns", "example.test", "--timeout", "-1"}, "--timeout"},
      {{"measure", "dns"}, "NAME"},
      {{"measure", "smtp", "x"}, "smtp"},
  };
  for (const auto& c : cases) {
    auto r = RunCommand(Vigil(c.args));
    SCOPED_TRACE(c.args.back());
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(c.named), std::string::npos) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  }
}

}  // namespace
}  // namespace vigil
