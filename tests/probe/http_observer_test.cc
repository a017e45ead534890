// The HTTP observer against real nginx (plain and TLS) and real unbound on
// loopback: records per hop, redirects, bodies, caps, and failures at each stage.
#include "probe/http/http_observer.h"

#include <gtest/gtest.h>

#include <chrono>

#include "probe/measurement/measurement_json.h"
#include "tests/support/misbehaving_listeners.h"
#include "tests/support/nginx_server.h"
#include "tests/support/run_coroutine.h"
#include "tests/support/test_pki.h"
#include "tests/support/unbound_server.h"

namespace vigil {
namespace {

using test_support::NginxServer;
using test_support::RunCoroutine;
using test_support::TestPki;
using namespace std::chrono_literals;

class HttpObserverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto why : {NginxServer::Unavailable(), test_support::UnboundServer::Unavailable(),
                     TestPki::Unavailable()}) {
      if (why) GTEST_SKIP() << *why;
    }
    nginx_ = std::make_unique<NginxServer>();
    ASSERT_TRUE(nginx_->ok()) << nginx_->error();
    unbound_ = std::make_unique<test_support::UnboundServer>();
    ASSERT_TRUE(unbound_->ok()) << unbound_->error();
  }

  std::string HttpUrl(const std::string& path, const std::string& host = "www.example.test") {
    return "http://" + host + ":" + std::to_string(nginx_->http_port()) + path;
  }
  std::string HttpsUrl(const std::string& path, TestPki::Kind kind = TestPki::Kind::kValid) {
    return "https://www.example.test:" + std::to_string(nginx_->https_port(kind)) + path;
  }

  HttpOutcome Fetch(const std::string& url_text, HttpOptions options = {}) {
    auto url = ParseUrl(url_text);
    EXPECT_TRUE(url.ok()) << url.error();
    options.ca_file = TestPki::Get().ca_file();
    if (options.timeout == HttpOptions{}.timeout) options.timeout = 3000ms;
    auto resolver = ParseResolverSpec("udp://" + unbound_->address());
    trace_ = Trace();
    return RunCoroutine<HttpOutcome>([&](asio::io_context& io) {
      return [](asio::io_context& io_, Trace& tr, ResolverSpec r, Url u,
                HttpOptions o) -> asio::awaitable<HttpOutcome> {
        DnsObserver dns(io_.get_executor(), r, 2000ms);
        co_return co_await ObserveHttp(tr, dns, u, o);
      }(io, trace_, *resolver, *url, options);
    });
  }

  const std::vector<HttpTransaction>& requests() { return trace_.keys().requests; }

  Trace trace_;
  std::unique_ptr<NginxServer> nginx_;
  std::unique_ptr<test_support::UnboundServer> unbound_;
};

TEST_F(HttpObserverTest, PlainGetRecordsEveryLayer) {
  HttpOutcome o = Fetch(HttpUrl("/"));
  EXPECT_EQ(o.failure, "");
  EXPECT_EQ(o.status_code, 200);
  const TestKeys& k = trace_.keys();
  EXPECT_EQ(k.queries.size(), 2u) << "A and AAAA through the explicit resolver";
  EXPECT_GE(k.tcp_connect.size(), 1u);
  EXPECT_TRUE(k.tls_handshakes.empty());
  ASSERT_EQ(requests().size(), 1u);
  const HttpTransaction& tx = requests()[0];
  EXPECT_FALSE(tx.failure);
  EXPECT_EQ(tx.request.method, "GET");
  EXPECT_EQ(tx.request.url, HttpUrl("/"));
  ASSERT_FALSE(tx.request.headers_list.empty());
  EXPECT_EQ(tx.request.headers_list[0].first, "Host");
  EXPECT_EQ(tx.request.headers_list[0].second,
            "www.example.test:" + std::to_string(nginx_->http_port()));
  EXPECT_EQ(tx.response.code, 200);
  EXPECT_EQ(tx.response.body.bytes, NginxServer::kIndexHtml);
  EXPECT_FALSE(tx.response.body_is_truncated);
  EXPECT_EQ(tx.response.x_title, std::string(NginxServer::kPageTitle));
  ASSERT_FALSE(tx.response.headers_list.empty());
  EXPECT_EQ(tx.response.headers_list[0].first, "Server") << "wire order is kept";
  // Network events bracket the transaction.
  EXPECT_EQ(k.network_events.front().operation, "http_transaction_start");
  EXPECT_EQ(k.network_events.back().operation, "http_transaction_done");
}

TEST_F(HttpObserverTest, HttpsFillsTlsHandshakes) {
  HttpOutcome o = Fetch(HttpsUrl("/"));
  EXPECT_EQ(o.failure, "");
  ASSERT_EQ(trace_.keys().tls_handshakes.size(), 1u);
  EXPECT_EQ(trace_.keys().tls_handshakes[0].server_name, "www.example.test");
  ASSERT_EQ(requests().size(), 1u);
  EXPECT_EQ(requests()[0].alpn, "http/1.1");
  EXPECT_EQ(requests()[0].response.x_title, std::string(NginxServer::kPageTitle));
}

TEST_F(HttpObserverTest, RedirectsAreFollowedAndEveryHopRecordedNewestFirst) {
  HttpOutcome o = Fetch(HttpUrl("/redirect/3"));
  EXPECT_EQ(o.failure, "");
  EXPECT_EQ(o.status_code, 200);
  ASSERT_EQ(requests().size(), 5u);  // /redirect/3, 2, 1, 0, then /
  EXPECT_EQ(requests()[0].request.url, HttpUrl("/"));
  EXPECT_EQ(requests()[0].response.code, 200);
  EXPECT_EQ(requests()[4].request.url, HttpUrl("/redirect/3"));
  EXPECT_EQ(requests()[4].response.code, 302);
  EXPECT_NE(requests()[0].timing.transaction_id, requests()[4].timing.transaction_id);
}

TEST_F(HttpObserverTest, AbsoluteRedirectChangesHost) {
  HttpOutcome o = Fetch(HttpsUrl("/abs-redirect"));
  EXPECT_EQ(o.failure, "");
  ASSERT_EQ(requests().size(), 2u);
  EXPECT_EQ(requests()[0].request.url, HttpUrl("/"));
  EXPECT_EQ(o.final_url, HttpUrl("/"));
}

TEST_F(HttpObserverTest, MoreThanTenRedirectsStops) {
  HttpOutcome o = Fetch(HttpUrl("/redirect/12"));
  EXPECT_EQ(o.failure, "unknown_failure: stopped after too many redirects");
  EXPECT_EQ(requests().size(), 11u);  // the first request and ten redirects
}

TEST_F(HttpObserverTest, ChunkedBinaryAndCappedBodies) {
  Fetch(HttpUrl("/chunked"));
  ASSERT_EQ(requests().size(), 1u);
  EXPECT_EQ(requests()[0].response.body.bytes, NginxServer::ChunkedBody());
  bool chunked = false;
  for (const auto& [k, v] : requests()[0].response.headers_list) {
    chunked |= k == "Transfer-Encoding" && v == "chunked";
  }
  EXPECT_TRUE(chunked);

  Fetch(HttpUrl("/binary"));
  EXPECT_EQ(requests()[0].response.body.bytes, NginxServer::kBinaryBody);
  const Json j = ToJson(requests()[0]);
  EXPECT_EQ(j["response"]["body"]["format"], "base64") << "non-UTF-8 body goes out as base64";

  HttpOptions capped;
  capped.body_cap = 1000;
  HttpOutcome o = Fetch(HttpUrl("/big"), capped);
  EXPECT_EQ(o.failure, "");
  EXPECT_TRUE(requests()[0].response.body_is_truncated);
  EXPECT_EQ(requests()[0].response.body.bytes, NginxServer::BigBody().substr(0, 1000));
}

TEST_F(HttpObserverTest, PostHostOverrideAndStatus) {
  HttpOptions post;
  post.method = "POST";
  post.body = "hello";
  post.host_override = "other.example.test";
  HttpOutcome o = Fetch(HttpUrl("/post"), post);
  EXPECT_EQ(o.failure, "");
  ASSERT_EQ(requests().size(), 1u);
  EXPECT_EQ(requests()[0].request.method, "POST");
  EXPECT_EQ(requests()[0].request.body.bytes, "hello");
  EXPECT_EQ(requests()[0].request.headers_list[0].second, "other.example.test");
  EXPECT_EQ(requests()[0].response.body.bytes, NginxServer::kPostedBody);

  o = Fetch(HttpUrl("/status/404"));
  EXPECT_EQ(o.failure, "") << "an HTTP status is an answer, not a failure";
  EXPECT_EQ(o.status_code, 404);
}

TEST_F(HttpObserverTest, FailuresAtEachStage) {
  HttpOutcome o = Fetch(HttpUrl("/", "nx.example.test"));
  EXPECT_EQ(o.failure, "dns_nxdomain_error");
  EXPECT_EQ(o.failed_operation, "resolve");
  ASSERT_EQ(requests().size(), 1u);
  EXPECT_EQ(requests()[0].failure, "dns_nxdomain_error");

  o = Fetch(HttpsUrl("/", TestPki::Kind::kExpired));
  EXPECT_EQ(o.failure, "ssl_invalid_certificate");
  EXPECT_EQ(o.failed_operation, "tls_handshake");

  test_support::MisbehavingListeners listeners;
  o = Fetch("http://127.0.0.1:" + std::to_string(listeners.refused_port()) + "/");
  EXPECT_EQ(o.failure, "connection_refused");
  EXPECT_EQ(o.failed_operation, "connect");
  EXPECT_TRUE(trace_.keys().queries.empty()) << "an IP literal needs no lookup";

  HttpOptions quick;
  quick.timeout = 300ms;
  o = Fetch("http://127.0.0.1:" + std::to_string(listeners.silent_port()) + "/", quick);
  EXPECT_EQ(o.failure, "generic_timeout_error");
  EXPECT_EQ(o.failed_operation, "http_round_trip");

  o = Fetch("http://127.0.0.1:" + std::to_string(listeners.reset_port()) + "/");
  EXPECT_EQ(o.failure, "connection_reset");

  o = Fetch("http://127.0.0.1:" + std::to_string(listeners.eof_port()) + "/");
  EXPECT_EQ(o.failure, "eof_error");

  o = Fetch("http://127.0.0.1:" + std::to_string(listeners.http_garbage_port()) + "/");
  EXPECT_EQ(o.failure.rfind("unknown_failure: malformed HTTP response", 0), 0u) << o.failure;
}

}  // namespace
}  // namespace vigil
