// The DNS observer against a real unbound on loopback: every engine, every
// response code, timeouts, and the records it leaves in the trace.
#include "probe/dns/dns_observer.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "base/base64.h"
#include "probe/dns/dns_message.h"
#include "tests/support/loopback_port.h"
#include "tests/support/run_coroutine.h"
#include "tests/support/unbound_server.h"

namespace vigil {
namespace {

using test_support::RunCoroutine;
using namespace std::chrono_literals;

class DnsObserverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = test_support::UnboundServer::Unavailable()) GTEST_SKIP() << *why;
    unbound_ = std::make_unique<test_support::UnboundServer>();
    ASSERT_TRUE(unbound_->ok()) << unbound_->error();
  }

  ResolverSpec Spec(const std::string& engine) {
    auto spec = ParseResolverSpec(engine + "://" + unbound_->address());
    EXPECT_TRUE(spec.ok()) << spec.error();
    return *spec;
  }

  DnsQuery Query(const std::string& engine, const std::string& name, int qtype, Trace& trace,
                 std::chrono::milliseconds timeout = 3000ms) {
    const ResolverSpec spec = Spec(engine);
    return RunCoroutine<DnsQuery>([&](asio::io_context& io) {
      return [](asio::io_context& io_, ResolverSpec s, std::string n, int t, Trace& tr,
                std::chrono::milliseconds to) -> asio::awaitable<DnsQuery> {
        DnsObserver dns(io_.get_executor(), s, to);
        co_return co_await dns.Query(tr, n, t);
      }(io, spec, name, qtype, trace, timeout);
    });
  }

  std::unique_ptr<test_support::UnboundServer> unbound_;
};

TEST_F(DnsObserverTest, UdpAnswerIsRecordedWithTtlRcodeAndRawResponse) {
  Trace trace;
  DnsQuery q = Query("udp", "www.example.test", 1, trace);
  EXPECT_FALSE(q.failure) << *q.failure;
  EXPECT_EQ(q.engine, "udp");
  EXPECT_EQ(q.query_type, "A");
  EXPECT_EQ(q.resolver_address, unbound_->address());
  EXPECT_EQ(q.rcode, 0);
  ASSERT_EQ(q.answers.size(), 1u);
  EXPECT_EQ(q.answers[0].answer_type, "A");
  EXPECT_EQ(q.answers[0].ipv4, "127.0.0.1");
  EXPECT_GT(*q.answers[0].ttl, 0);
  EXPECT_LE(*q.answers[0].ttl, 300);
  ASSERT_TRUE(q.raw_response);
  auto raw = Base64Decode(*q.raw_response);
  ASSERT_TRUE(raw);
  auto parsed = ParseDnsResponse(*raw);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->question_name, "www.example.test");
  ASSERT_TRUE(q.timing.t0);
  EXPECT_LE(*q.timing.t0, q.timing.t);
  EXPECT_TRUE(q.timing.transaction_id);
  ASSERT_EQ(trace.keys().queries.size(), 1u);
  ASSERT_EQ(trace.keys().network_events.size(), 2u);
  EXPECT_EQ(trace.keys().network_events[0].operation, "resolve_start");
  EXPECT_EQ(trace.keys().network_events[1].operation, "resolve_done");
}

TEST_F(DnsObserverTest, TcpEngineAndAaaa) {
  Trace trace;
  DnsQuery q = Query("tcp", "www.example.test", 28, trace);
  EXPECT_FALSE(q.failure) << *q.failure;
  EXPECT_EQ(q.engine, "tcp");
  ASSERT_EQ(q.answers.size(), 1u);
  EXPECT_EQ(q.answers[0].answer_type, "AAAA");
  EXPECT_EQ(q.answers[0].ipv6, "::1");
}

TEST_F(DnsObserverTest, ResponseCodesBecomeOoniFailures) {
  struct Case {
    const char* engine;
    const char* name;
    int qtype;
    int rcode;
    const char* failure;
  };
  const Case cases[] = {
      {"udp", "nx.example.test", 1, 3, "dns_nxdomain_error"},
      {"tcp", "nx.example.test", 1, 3, "dns_nxdomain_error"},
      {"udp", "servfail.test", 1, 2, "dns_servfail_error"},
      {"udp", "refused.test", 1, 5, "dns_refused_error"},
      {"tcp", "refused.test", 1, 5, "dns_refused_error"},
      {"udp", "v4only.example.test", 28, 0, "dns_no_answer"},
  };
  for (const auto& c : cases) {
    Trace trace;
    DnsQuery q = Query(c.engine, c.name, c.qtype, trace);
    EXPECT_EQ(q.failure.value_or("(none)"), c.failure) << c.engine << " " << c.name;
    EXPECT_EQ(q.rcode, c.rcode) << c.name;
    EXPECT_TRUE(q.raw_response) << "the response that carried the error is kept: " << c.name;
    EXPECT_EQ(trace.keys().network_events.back().failure, q.failure);
  }
}

TEST_F(DnsObserverTest, CnameChainIsRecorded) {
  Trace trace;
  DnsQuery q = Query("udp", "alias.example.test", 1, trace);
  EXPECT_FALSE(q.failure);
  ASSERT_GE(q.answers.size(), 2u);
  EXPECT_EQ(q.answers[0].answer_type, "CNAME");
  EXPECT_EQ(q.answers[0].hostname, "www.example.test");
  EXPECT_EQ(q.answers[1].ipv4, "127.0.0.1");
}

TEST_F(DnsObserverTest, LookupAsksAAndAaaaOnTheExplicitResolver) {
  Trace trace;
  const ResolverSpec spec = Spec("udp");
  LookupResult r = RunCoroutine<LookupResult>([&](asio::io_context& io) {
    return [](asio::io_context& io_, ResolverSpec s, Trace& tr) -> asio::awaitable<LookupResult> {
      DnsObserver dns(io_.get_executor(), s, 3000ms);
      co_return co_await dns.Lookup(tr, "multi.example.test");
    }(io, spec, trace);
  });
  EXPECT_EQ(r.failure, "");
  std::vector<std::string> sorted = r.addresses;  // unbound rotates the RRset
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<std::string>{"127.0.0.1", "127.0.0.2"}));
  ASSERT_EQ(trace.keys().queries.size(), 2u);
  EXPECT_EQ(trace.keys().queries[0].timing.transaction_id,
            trace.keys().queries[1].timing.transaction_id);
}

TEST(DnsObserverTimeoutTest, SilentUdpResolverTimesOut) {
  // A bound UDP socket that never answers.
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(test_support::FreeLoopbackPort());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  auto spec = ParseResolverSpec("udp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)));
  ASSERT_TRUE(spec.ok());
  Trace trace;
  const auto start = std::chrono::steady_clock::now();
  DnsQuery q = RunCoroutine<DnsQuery>([&](asio::io_context& io) {
    return [](asio::io_context& io_, ResolverSpec s, Trace& tr) -> asio::awaitable<DnsQuery> {
      DnsObserver dns(io_.get_executor(), s, 300ms);
      co_return co_await dns.Query(tr, "www.example.test", 1);
    }(io, *spec, trace);
  });
  close(fd);
  EXPECT_EQ(q.failure, "generic_timeout_error");
  EXPECT_FALSE(q.raw_response);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(DnsObserverTimeoutTest, TcpResolverThatRefusesIsConnectionRefused) {
  auto spec =
      ParseResolverSpec("tcp://127.0.0.1:" + std::to_string(test_support::FreeLoopbackPort()));
  ASSERT_TRUE(spec.ok());
  Trace trace;
  DnsQuery q = RunCoroutine<DnsQuery>([&](asio::io_context& io) {
    return [](asio::io_context& io_, ResolverSpec s, Trace& tr) -> asio::awaitable<DnsQuery> {
      DnsObserver dns(io_.get_executor(), s, 1000ms);
      co_return co_await dns.Query(tr, "www.example.test", 1);
    }(io, *spec, trace);
  });
  EXPECT_EQ(q.failure, "connection_refused");
}

TEST(DnsObserverSystemTest, GetaddrinfoEngineIsOneAnyEntry) {
  // "localhost" comes from the hosts file: nothing leaves the machine.
  Trace trace;
  DnsQuery q = RunCoroutine<DnsQuery>([&](asio::io_context& io) {
    return [](asio::io_context& io_, Trace& tr) -> asio::awaitable<DnsQuery> {
      DnsObserver dns(io_.get_executor(), ResolverSpec{}, 2000ms);
      co_return co_await dns.Query(tr, "localhost", 0);
    }(io, trace);
  });
  EXPECT_FALSE(q.failure) << *q.failure;
  EXPECT_EQ(q.engine, "getaddrinfo");
  EXPECT_EQ(q.query_type, "ANY");
  bool has_loopback = false;
  for (const auto& a : q.answers) has_loopback |= a.ipv4 == "127.0.0.1" || a.ipv6 == "::1";
  EXPECT_TRUE(has_loopback);
}

TEST(ResolverSpecTest, ParsesAndRejects) {
  auto udp = ParseResolverSpec("udp://127.0.0.1:5353");
  ASSERT_TRUE(udp.ok());
  EXPECT_EQ(udp->engine, "udp");
  EXPECT_EQ(udp->port, 5353);
  auto v6 = ParseResolverSpec("tcp://[::1]");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->port, 53);
  EXPECT_EQ(v6->Address(), "[::1]:53");
  EXPECT_EQ(ParseResolverSpec("system")->engine, "getaddrinfo");
  for (const char* bad : {"udp://", "dot://1.1.1.1", "udp://name.example:53", "udp://1.2.3.4:0",
                          "udp://1.2.3.4:70000", "udp://::1:53", "1.2.3.4"}) {
    auto r = ParseResolverSpec(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().find(bad), std::string::npos) << r.error();
  }
}

}  // namespace
}  // namespace vigil
