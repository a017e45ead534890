// TLS handshake observation with OpenSSL: SNI override, ALPN, a CA file (the
// system store by default), and an OONI tlshandshake `tls_handshakes[]` entry with
// version, cipher suite, negotiated protocol, the peer chain (base64 DER) and a
// precise failure (ssl_invalid_hostname, ssl_unknown_authority,
// ssl_invalid_certificate, connection_reset, eof_error, generic_timeout_error,
// ssl_failed_handshake). Use from the executor's thread.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "probe/net/trace.h"

namespace vigil {

struct TlsOptions {
  std::string sni;                // server_name sent; also the name verified
  std::vector<std::string> alpn;  // e.g. {"h2", "http/1.1"}
  std::string ca_file;            // PEM bundle; "" = the system store
  bool no_verify = false;         // record the chain without judging it
  std::chrono::milliseconds timeout{10000};
};

using TlsStream = asio::ssl::stream<asio::ip::tcp::socket>;

struct TlsOutcome {
  std::shared_ptr<asio::ssl::context> context;  // outlives `stream` (declared first)
  std::unique_ptr<TlsStream> stream;            // set on success
  std::string failure;                          // "" on success
  std::string negotiated_protocol;
};

/// Checks that a CA file can be loaded (for a clear error before any measuring).
Result<bool> CheckCaFile(const std::string& ca_file);

/// Handshakes over a connected socket to `address` ("ip:port", for the record).
asio::awaitable<TlsOutcome> ObserveTlsHandshake(Trace& trace, asio::ip::tcp::socket socket,
                                                const std::string& address,
                                                const TlsOptions& options, int64_t transaction_id);

}  // namespace vigil
