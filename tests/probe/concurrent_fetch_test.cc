// 500 TLS+HTTP measurements at once against the local nginx, in one process on
// one thread: concurrency comes from coroutines, and every record must be whole.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <thread>

#include "probe/http/http_observer.h"
#include "probe/net/concurrency.h"
#include "tests/support/nginx_server.h"
#include "tests/support/test_pki.h"
#include "tests/support/unbound_server.h"

namespace vigil {
namespace {

using test_support::NginxServer;
using test_support::TestPki;
using namespace std::chrono_literals;

TEST(ConcurrentFetchTest, FiveHundredTlsHttpMeasurementsInOneThread) {
  for (auto why : {NginxServer::Unavailable(), test_support::UnboundServer::Unavailable(),
                   TestPki::Unavailable()}) {
    if (why) GTEST_SKIP() << *why;
  }
  constexpr int kMeasurements = 500;
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  if (files.rlim_cur < 4 * kMeasurements) {
    files.rlim_cur = std::min<rlim_t>(files.rlim_max, 8 * kMeasurements);
    setrlimit(RLIMIT_NOFILE, &files);
  }
  NginxServer nginx;
  ASSERT_TRUE(nginx.ok()) << nginx.error();
  test_support::UnboundServer unbound;
  ASSERT_TRUE(unbound.ok()) << unbound.error();
  auto resolver = ParseResolverSpec("udp://" + unbound.address());
  ASSERT_TRUE(resolver.ok());
  auto url = ParseUrl(
      "https://www.example.test:" + std::to_string(nginx.https_port(TestPki::Kind::kValid)) + "/");
  ASSERT_TRUE(url.ok());

  asio::io_context io;
  DnsObserver dns(io.get_executor(), *resolver, 10s);
  HttpOptions options;
  options.ca_file = TestPki::Get().ca_file();
  options.timeout = 30s;
  std::vector<Trace> traces(kMeasurements);
  std::vector<HttpOutcome> outcomes(kMeasurements);
  std::vector<std::thread::id> threads(kMeasurements);
  int started = 0;
  int finished = 0;
  int started_before_first_finish = -1;
  std::vector<Task> tasks;
  for (int i = 0; i < kMeasurements; ++i) {
    tasks.push_back([&, i]() -> asio::awaitable<void> {
      ++started;
      outcomes[i] = co_await ObserveHttp(traces[i], dns, *url, options);
      threads[i] = std::this_thread::get_id();
      if (finished++ == 0) started_before_first_finish = started;
    });
  }
  std::exception_ptr error;
  asio::co_spawn(io, RunBounded(std::move(tasks), kMeasurements),
                 [&](std::exception_ptr e) { error = e; });
  io.run();
  ASSERT_FALSE(error);
  EXPECT_EQ(finished, kMeasurements);
  EXPECT_EQ(started_before_first_finish, kMeasurements)
      << "all measurements were in flight together";
  for (int i = 0; i < kMeasurements; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(threads[i], std::this_thread::get_id());
    EXPECT_EQ(outcomes[i].failure, "");
    const TestKeys& k = traces[i].keys();
    ASSERT_EQ(k.queries.size(), 2u);
    EXPECT_FALSE(k.queries[0].failure);
    ASSERT_GE(k.tcp_connect.size(), 1u);
    EXPECT_TRUE(k.tcp_connect.back().status.success);
    ASSERT_EQ(k.tls_handshakes.size(), 1u);
    EXPECT_FALSE(k.tls_handshakes[0].failure);
    EXPECT_FALSE(k.tls_handshakes[0].peer_certificates.empty());
    ASSERT_EQ(k.requests.size(), 1u);
    EXPECT_EQ(k.requests[0].response.code, 200);
    EXPECT_EQ(k.requests[0].response.body.bytes, NginxServer::kIndexHtml);
    EXPECT_EQ(k.requests[0].response.x_title, std::string(NginxServer::kPageTitle));
  }
}

}  // namespace
}  // namespace vigil
