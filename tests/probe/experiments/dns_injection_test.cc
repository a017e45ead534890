// The dns_injection experiment on loopback sockets: a resolver that answers twice (a
// forged answer, then the genuine one 50 ms later) is caught, one that answers once is
// clean, a sink where nothing listens stays silent, and a sink that answers is
// injection. The responders are asio UDP servers on their own threads.
#include "probe/experiments/dns_injection/dns_injection.h"

#include <gtest/gtest.h>

#include <array>
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <thread>

#include "base/host_port.h"
#include "probe/experiments/dns_injection/dns_probe.h"
#include "tests/support/loopback_port.h"
#include "tests/support/run_coroutine.h"
#include "tests/support/run_experiment.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;

// A UDP responder on 127.0.0.1 that answers each query with one reply per entry of
// `answers` (an A record for that address), each after its delay, on a thread of its own.
class UdpResponder {
 public:
  struct Answer {
    std::chrono::milliseconds delay;
    std::string ipv4;
  };

  explicit UdpResponder(std::vector<Answer> answers)
      : answers_(std::move(answers)), socket_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    Receive();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~UdpResponder() {
    io_.stop();
    thread_.join();
  }

  uint16_t port() const { return socket_.local_endpoint().port(); }
  int queries() const { return queries_; }

 private:
  void Receive() {
    socket_.async_receive_from(asio::buffer(buffer_), peer_, [this](std::error_code ec, size_t n) {
      if (ec) return;
      ++queries_;
      const std::string query(buffer_.data(), n);
      for (const auto& a : answers_) Reply(query, peer_, a);
      Receive();
    });
  }

  // The query with QR, RD and RA set, one answer (a pointer to the question's name).
  void Reply(const std::string& query, asio::ip::udp::endpoint to, const Answer& a) {
    auto reply = std::make_shared<std::string>(query);
    (*reply)[2] = static_cast<char>(0x81);
    (*reply)[3] = static_cast<char>(0x80);
    (*reply)[7] = 1;  // ANCOUNT
    const auto bytes = asio::ip::make_address_v4(a.ipv4).to_bytes();
    *reply += std::string("\xc0\x0c\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04", 12);
    reply->append(reinterpret_cast<const char*>(bytes.data()), 4);
    auto timer = std::make_shared<asio::steady_timer>(io_, a.delay);
    timer->async_wait([this, timer, reply, to](std::error_code) {
      std::error_code ignored;
      socket_.send_to(asio::buffer(*reply), to, 0, ignored);
    });
  }

  std::vector<Answer> answers_;
  asio::io_context io_;
  asio::ip::udp::socket socket_;
  std::array<char, 1500> buffer_{};
  asio::ip::udp::endpoint peer_;
  std::atomic<int> queries_{0};
  std::thread thread_;
};

class DnsInjectionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()) << dir_.error(); }

  // dns_injection for web.whatsapp.com against the resolver at 127.0.0.1:resolver_port,
  // the sink at 127.0.0.1:sink_port; the test keys.
  Json Measure(uint16_t resolver_port, uint16_t sink_port) {
    ExperimentContext context;
    context.timeout = 1000ms;
    context.injection.dns_listen = 300ms;
    context.injection.dns_sink = "127.0.0.1:" + std::to_string(sink_port);
    context.data_dir = dir_.path();  // no fingerprints: the pool is empty
    const Json input = {{"input", "web.whatsapp.com"},
                        {"resolvers", {"udp://127.0.0.1:" + std::to_string(resolver_port)}}};
    auto m = test_support::RunExperiment("dns_injection", context, input);
    EXPECT_TRUE(m.ok()) << m.error();
    if (!m.ok()) return Json();
    summary_ = DnsInjectionExperiment().Summarize(*m);
    return m->test_keys.extra;
  }

  test_support::TempDir dir_{"dns-injection"};
  RunSummary summary_;
};

TEST_F(DnsInjectionTest, AResolverAnsweringTwiceToOneQueryIsInjected) {
  UdpResponder resolver({{0ms, "198.18.240.3"}, {50ms, "198.18.71.3"}});
  const uint16_t nothing = test_support::FreeLoopbackPort();
  const Json k = Measure(resolver.port(), nothing);
  ASSERT_TRUE(k.is_object());
  EXPECT_EQ(k["sink"], "127.0.0.1:" + std::to_string(nothing));
  EXPECT_EQ(k["listen_ms"], 300);
  const Json& name = k["names"][0];
  EXPECT_EQ(name["hostname"], "web.whatsapp.com");
  EXPECT_EQ(name["query_type"], "A");
  EXPECT_EQ(name["verdict"], "injected") << name.dump(1);
  const Json& sink = name["probes"][0];
  EXPECT_EQ(sink["kind"], "sink");
  EXPECT_EQ(sink["failure"], "connection_refused") << sink.dump();
  EXPECT_TRUE(sink["replies"].empty());
  const Json& probe = name["probes"][1];
  EXPECT_EQ(probe["kind"], "resolver");
  EXPECT_EQ(probe["queries_sent"], 1);
  ASSERT_EQ(probe["replies"].size(), 2u) << probe.dump(1);
  EXPECT_EQ(probe["replies"][0]["answers"][0]["ipv4"], "198.18.240.3");
  EXPECT_EQ(probe["replies"][0]["accepted"], true);
  EXPECT_EQ(probe["replies"][1]["accepted"], false);
  EXPECT_EQ(probe["replies"][0]["ip_ttl"], 64) << "the loopback's default TTL, from IP_RECVTTL";
  EXPECT_GE(probe["replies"][1]["t"].get<double>() - probe["replies"][0]["t"].get<double>(), 0.04);
  EXPECT_EQ(probe["flags"], Json::array({"multiple_answers"}));
  ASSERT_EQ(k["x_injection"].size(), 1u);
  EXPECT_EQ(k["x_injection"][0]["flags"], Json::array({"multiple_answers"}));
  EXPECT_EQ(summary_.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(summary_.blocking, "dns");
  EXPECT_EQ(summary_.service, "web.whatsapp.com");
  EXPECT_NE(summary_.evidence.find("multiple_answers"), std::string::npos) << summary_.evidence;
}

TEST_F(DnsInjectionTest, AResolverAnsweringOnceAndASilentSinkAreClean) {
  UdpResponder resolver({{0ms, "198.18.71.3"}});
  const auto start = std::chrono::steady_clock::now();
  const Json k = Measure(resolver.port(), test_support::FreeLoopbackPort());
  ASSERT_TRUE(k.is_object());
  EXPECT_EQ(k["names"][0]["verdict"], "clean") << k.dump(1);
  EXPECT_FALSE(k.contains("x_injection"));
  EXPECT_EQ(k["names"][0]["probes"][1]["replies"].size(), 1u);
  EXPECT_EQ(summary_.verdict, RunVerdict::kOk);
  // ICMP port unreachable from the sink shortens its wait to the listening window.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 900ms);
}

TEST_F(DnsInjectionTest, ASinkThatAnswersIsInjection) {
  UdpResponder resolver({{0ms, "198.18.71.3"}});
  UdpResponder sink({{0ms, "198.18.240.9"}});
  const Json k = Measure(resolver.port(), sink.port());
  ASSERT_TRUE(k.is_object());
  const Json& name = k["names"][0];
  EXPECT_EQ(name["verdict"], "injected");
  EXPECT_EQ(name["probes"][0]["flags"], Json::array({"answer_from_non_resolver"}));
  EXPECT_EQ(name["probes"][1]["flags"], Json::array());
  ASSERT_EQ(k["x_injection"].size(), 1u);
  EXPECT_EQ(k["x_injection"][0]["forged_addresses"], Json::array({"198.18.240.9"}));
  EXPECT_EQ(k["x_injection"][0]["address"], "127.0.0.1:" + std::to_string(sink.port()));
}

TEST_F(DnsInjectionTest, ASilentResolverIsRetriedOnceThenTimesOut) {
  // A bound socket that never answers: no ICMP, so the probe waits its whole timeout.
  asio::io_context io;
  asio::ip::udp::socket silent(io, {asio::ip::make_address("127.0.0.1"), 0});
  const DnsProbeObservation p = test_support::RunCoroutine<DnsProbeObservation>(
      [&](asio::io_context&) -> asio::awaitable<DnsProbeObservation> {
        DnsProbeTarget target{DnsProbeKind::kResolver, "127.0.0.1", silent.local_endpoint().port(),
                              "web.whatsapp.com", 1};
        DnsProbeTiming timing{std::chrono::steady_clock::now(), 400ms, 200ms};
        co_return co_await SendDnsProbe(std::move(target), timing);
      });
  EXPECT_EQ(p.queries_sent, 2);
  EXPECT_TRUE(p.datagrams.empty());
  EXPECT_EQ(p.failure, "generic_timeout_error");
}

TEST(DnsInjectionInputs, OneHostNamePerServiceOfTheMessagingLists) {
  auto names = DnsInjectionExperiment().DefaultInputs(test_support::SourceDir() + "/testlists");
  ASSERT_TRUE(names.ok()) << names.error();
  std::set<std::string> unique(names->begin(), names->end());
  EXPECT_EQ(unique.size(), names->size());
  EXPECT_TRUE(unique.contains("e1.whatsapp.net"));
  EXPECT_FALSE(unique.contains("e2.whatsapp.net")) << "one name per service";
  for (const auto& n : *names) EXPECT_FALSE(IsIpLiteral(n)) << n;
}

TEST(DnsInjectionInputs, TheSystemResolversAreResolvConfsNameservers) {
  test_support::TempDir dir("resolv-conf");
  std::string error;
  ASSERT_TRUE(dir.WriteFile("resolv.conf",
                            "# comment\nsearch lab.test\nnameserver 198.18.1.1\n"
                            "nameserver fe80::1%eth0\nnameserver 198.18.1.1\noptions ndots:1\n",
                            &error));
  EXPECT_EQ(ResolvConfNameservers(dir.Join("resolv.conf")),
            (std::vector<std::string>{"198.18.1.1", "fe80::1"}));
  EXPECT_TRUE(ResolvConfNameservers(dir.Join("missing")).empty());
}

}  // namespace
}  // namespace vigil
