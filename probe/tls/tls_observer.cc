#include "probe/tls/tls_observer.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <asio/redirect_error.hpp>
#include <asio/ssl/error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <map>
#include <mutex>

#include "base/base64.h"
#include "base/host_port.h"
#include "probe/net/deadline.h"
#include "probe/net/failure.h"

namespace vigil {

namespace {

// Loading a CA bundle costs milliseconds; hundreds of concurrent handshakes share
// one context per CA file.
Result<std::shared_ptr<asio::ssl::context>> ContextFor(const std::string& ca_file) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<asio::ssl::context>> cache;
  std::lock_guard lock(mutex);
  if (auto it = cache.find(ca_file); it != cache.end()) return it->second;
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  std::error_code ec;
  if (ca_file.empty()) {
    context->set_default_verify_paths(ec);
  } else {
    context->load_verify_file(ca_file, ec);
  }
  if (ec) {
    return Error{"cannot load CA file '" + (ca_file.empty() ? "system store" : ca_file) +
                 "': " + ec.message()};
  }
  cache.emplace(ca_file, context);
  return context;
}

std::vector<std::string> PeerChain(SSL* ssl) {
  std::vector<std::string> chain;
  STACK_OF(X509)* stack = SSL_get_peer_cert_chain(ssl);
  if (!stack) return chain;
  for (int i = 0; i < sk_X509_num(stack); ++i) {
    unsigned char* der = nullptr;
    const int len = i2d_X509(sk_X509_value(stack, i), &der);
    if (len <= 0) continue;
    chain.push_back(Base64Encode(std::string_view(reinterpret_cast<char*>(der), len)));
    OPENSSL_free(der);
  }
  return chain;
}

std::string AlpnWire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const auto& p : protocols) {
    if (p.empty() || p.size() > 255) continue;
    wire += static_cast<char>(p.size());
    wire += p;
  }
  return wire;
}

}  // namespace

Result<bool> CheckCaFile(const std::string& ca_file) {
  auto context = ContextFor(ca_file);
  if (!context.ok()) return Error{context.error()};
  return true;
}

asio::awaitable<TlsOutcome> ObserveTlsHandshake(Trace& trace, asio::ip::tcp::socket socket,
                                                const std::string& address,
                                                const TlsOptions& options, int64_t transaction_id) {
  auto executor = co_await asio::this_coro::executor;
  TlsOutcome outcome;
  TlsHandshake entry;
  entry.network = "tcp";
  entry.address = address;
  entry.server_name = options.sni;
  entry.no_tls_verify = options.no_verify;
  const double t0 = trace.Now();
  trace.Event("tls_handshake_start", t0, transaction_id, address);

  auto finish = [&]() {
    entry.failure = AsFailure(outcome.failure);
    entry.timing = trace.Span(t0, transaction_id);
    trace.keys().tls_handshakes.push_back(entry);
    trace.Event("tls_handshake_done", t0, transaction_id, address, std::nullopt, entry.failure);
  };

  auto context = ContextFor(options.ca_file);
  if (!context.ok()) {
    outcome.failure = UnknownFailure(context.error());
    finish();
    co_return outcome;
  }
  outcome.context = *context;
  auto stream = std::make_unique<TlsStream>(std::move(socket), *outcome.context);
  SSL* ssl = stream->native_handle();
  if (!options.sni.empty() && !IsIpLiteral(options.sni)) {
    SSL_set_tlsext_host_name(ssl, options.sni.c_str());
  }
  if (options.no_verify) {
    SSL_set_verify(ssl, SSL_VERIFY_NONE, nullptr);
  } else {
    SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (IsIpLiteral(options.sni)) {
      X509_VERIFY_PARAM_set1_ip_asc(param, options.sni.c_str());
    } else if (!options.sni.empty()) {
      X509_VERIFY_PARAM_set1_host(param, options.sni.c_str(), 0);
    }
  }
  if (const std::string wire = AlpnWire(options.alpn); !wire.empty()) {
    SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                        static_cast<unsigned>(wire.size()));
  }

  std::error_code ec;
  {
    Deadline deadline(executor, options.timeout, [&stream] {
      std::error_code ignored;
      stream->lowest_layer().close(ignored);
    });
    co_await stream->async_handshake(asio::ssl::stream_base::client,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (deadline.expired()) {
      outcome.failure = std::string(kGenericTimeoutError);
    }
  }
  if (outcome.failure.empty() && ec) {
    const long verify = SSL_get_verify_result(ssl);
    if (ec.category() == asio::error::get_ssl_category() && verify != X509_V_OK) {
      outcome.failure = FailureFromTlsVerifyResult(verify);
    } else {
      outcome.failure = FailureFromErrorCode(ec);
    }
  }
  entry.peer_certificates = PeerChain(ssl);
  if (outcome.failure.empty()) {
    entry.tls_version = SSL_get_version(ssl);
    if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl)) {
      entry.cipher_suite = SSL_CIPHER_standard_name(cipher);
    }
    const unsigned char* proto = nullptr;
    unsigned proto_len = 0;
    SSL_get0_alpn_selected(ssl, &proto, &proto_len);
    if (proto) entry.negotiated_protocol.assign(reinterpret_cast<const char*>(proto), proto_len);
    outcome.negotiated_protocol = entry.negotiated_protocol;
    outcome.stream = std::move(stream);
  }
  ERR_clear_error();
  finish();
  co_return outcome;
}

}  // namespace vigil
