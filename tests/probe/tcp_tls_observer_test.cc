// TCP connect and TLS handshake observers against real listeners on loopback:
// nginx with valid, wrong-host, expired and self-signed certificates, and sockets
// that refuse, reset, close, stay silent, or never accept.
#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <chrono>

#include "base/base64.h"
#include "probe/tcp/tcp_observer.h"
#include "probe/tls/tls_observer.h"
#include "tests/support/misbehaving_listeners.h"
#include "tests/support/nginx_server.h"
#include "tests/support/run_coroutine.h"
#include "tests/support/test_pki.h"

namespace vigil {
namespace {

using test_support::RunCoroutine;
using test_support::TestPki;
using namespace std::chrono_literals;

TcpConnect Connect(const std::string& ip, uint16_t port, std::chrono::milliseconds timeout) {
  Trace trace;
  RunCoroutine<bool>([&](asio::io_context&) {
    return [](Trace& tr, std::string i, uint16_t p,
              std::chrono::milliseconds t) -> asio::awaitable<bool> {
      auto outcome = co_await ObserveTcpConnect(tr, i, p, 1, t);
      co_return outcome.socket.has_value();
    }(trace, ip, port, timeout);
  });
  EXPECT_EQ(trace.keys().tcp_connect.size(), 1u);
  EXPECT_EQ(trace.keys().network_events.size(), 1u);
  EXPECT_EQ(trace.keys().network_events.at(0).operation, "connect");
  return trace.keys().tcp_connect.at(0);
}

struct Handshake {
  TlsHandshake entry;
  bool has_stream = false;
};

Handshake Tls(uint16_t port, TlsOptions options, const std::string& ip = "127.0.0.1") {
  Trace trace;
  const bool ok = RunCoroutine<bool>([&](asio::io_context&) {
    return [](Trace& tr, std::string i, uint16_t p, TlsOptions o) -> asio::awaitable<bool> {
      auto tcp = co_await ObserveTcpConnect(tr, i, p, 1, 2000ms);
      if (!tcp.socket) co_return false;
      auto tls = co_await ObserveTlsHandshake(tr, std::move(*tcp.socket), JoinHostPort(i, p), o, 1);
      co_return tls.stream != nullptr;
    }(trace, ip, port, options);
  });
  EXPECT_EQ(trace.keys().tls_handshakes.size(), 1u);
  Handshake h;
  h.has_stream = ok;
  if (!trace.keys().tls_handshakes.empty()) h.entry = trace.keys().tls_handshakes[0];
  return h;
}

TEST(TcpObserverTest, ConnectRefusedAndTimeout) {
  test_support::MisbehavingListeners listeners;
  TcpConnect refused = Connect("127.0.0.1", listeners.refused_port(), 2000ms);
  EXPECT_FALSE(refused.status.success);
  EXPECT_EQ(refused.status.failure, "connection_refused");
  EXPECT_EQ(refused.ip, "127.0.0.1");
  EXPECT_EQ(refused.port, listeners.refused_port());

  const auto start = std::chrono::steady_clock::now();
  TcpConnect blackholed = Connect("127.0.0.1", listeners.blackhole_port(), 300ms);
  EXPECT_EQ(blackholed.status.failure, "generic_timeout_error");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);

  TcpConnect ok = Connect("127.0.0.1", listeners.silent_port(), 2000ms);
  EXPECT_TRUE(ok.status.success);
  EXPECT_FALSE(ok.status.failure);
}

class TlsObserverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = test_support::NginxServer::Unavailable()) GTEST_SKIP() << *why;
    if (auto why = TestPki::Unavailable()) GTEST_SKIP() << *why;
    nginx_ = std::make_unique<test_support::NginxServer>();
    ASSERT_TRUE(nginx_->ok()) << nginx_->error();
  }

  TlsOptions Options(const std::string& sni = "www.example.test") {
    TlsOptions o;
    o.sni = sni;
    o.alpn = {"h2", "http/1.1"};
    o.ca_file = TestPki::Get().ca_file();
    o.timeout = 2000ms;
    return o;
  }

  std::unique_ptr<test_support::NginxServer> nginx_;
};

TEST_F(TlsObserverTest, ValidCertificateRecordsVersionCipherAlpnAndChain) {
  Handshake h = Tls(nginx_->https_port(TestPki::Kind::kValid), Options());
  EXPECT_TRUE(h.has_stream);
  EXPECT_FALSE(h.entry.failure) << *h.entry.failure;
  EXPECT_EQ(h.entry.server_name, "www.example.test");
  EXPECT_EQ(h.entry.address,
            "127.0.0.1:" + std::to_string(nginx_->https_port(TestPki::Kind::kValid)));
  EXPECT_EQ(h.entry.tls_version, "TLSv1.3");
  EXPECT_EQ(h.entry.cipher_suite.rfind("TLS_", 0), 0u) << h.entry.cipher_suite;
  EXPECT_EQ(h.entry.negotiated_protocol, "http/1.1");  // nginx without http2 picks 1.1
  ASSERT_FALSE(h.entry.peer_certificates.empty());
  auto der = Base64Decode(h.entry.peer_certificates[0]);
  ASSERT_TRUE(der);
  const auto* p = reinterpret_cast<const unsigned char*>(der->data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der->size()));
  ASSERT_NE(cert, nullptr) << "peer certificate is DER";
  X509_free(cert);
}

TEST_F(TlsObserverTest, CertificateProblemsAreNamedPrecisely) {
  struct Case {
    TestPki::Kind kind;
    const char* failure;
  };
  for (const Case& c : {Case{TestPki::Kind::kWrongHost, "ssl_invalid_hostname"},
                        Case{TestPki::Kind::kExpired, "ssl_invalid_certificate"},
                        Case{TestPki::Kind::kSelfSigned, "ssl_unknown_authority"}}) {
    Handshake h = Tls(nginx_->https_port(c.kind), Options());
    EXPECT_FALSE(h.has_stream);
    EXPECT_EQ(h.entry.failure.value_or("(none)"), c.failure) << TestPki::KindName(c.kind);
    EXPECT_FALSE(h.entry.peer_certificates.empty()) << "the offending chain is evidence";
  }
}

TEST_F(TlsObserverTest, SniOverrideIsVerifiedAgainstTheCertificate) {
  Handshake h = Tls(nginx_->https_port(TestPki::Kind::kValid), Options("blocked.invalid"));
  EXPECT_EQ(h.entry.server_name, "blocked.invalid");
  EXPECT_EQ(h.entry.failure.value_or("(none)"), "ssl_invalid_hostname");
}

TEST_F(TlsObserverTest, SystemStoreDoesNotTrustTheLabCa) {
  TlsOptions o = Options();
  o.ca_file.clear();
  Handshake h = Tls(nginx_->https_port(TestPki::Kind::kValid), o);
  EXPECT_EQ(h.entry.failure.value_or("(none)"), "ssl_unknown_authority");
}

TEST_F(TlsObserverTest, NoVerifyRecordsTheChainAndSucceeds) {
  TlsOptions o = Options();
  o.no_verify = true;
  Handshake h = Tls(nginx_->https_port(TestPki::Kind::kSelfSigned), o);
  EXPECT_TRUE(h.has_stream);
  EXPECT_FALSE(h.entry.failure);
  EXPECT_TRUE(h.entry.no_tls_verify);
  EXPECT_EQ(h.entry.peer_certificates.size(), 1u);
}

TEST(TlsMisbehavingTest, ResetEofAndTimeoutDuringHandshake) {
  test_support::MisbehavingListeners listeners;
  TlsOptions o;
  o.sni = "www.example.test";
  o.timeout = 400ms;
  EXPECT_EQ(Tls(listeners.reset_port(), o).entry.failure.value_or("(none)"), "connection_reset");
  EXPECT_EQ(Tls(listeners.eof_port(), o).entry.failure.value_or("(none)"), "eof_error");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Tls(listeners.silent_port(), o).entry.failure.value_or("(none)"),
            "generic_timeout_error");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

}  // namespace
}  // namespace vigil
