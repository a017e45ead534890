// Lookups over encrypted DNS transports, written by hand because c-ares speaks
// neither: DNS over TLS (RFC 7858: 2-byte length-prefixed messages over our TLS
// observer, no ALPN, one connection carrying the A then the AAAA query) and DNS
// over HTTPS (RFC 8484: one POST of application/dns-message per query over our
// HTTP observer). Our HTTP observer speaks HTTP/1.1 only, which RFC 8484 allows and
// the public DoH services accept; a server that serves DoH over HTTP/2 alone (unbound)
// fails here with the error of its refusal. Every step is recorded in the Trace:
// queries (engine "dot"/"doh"), tcp_connect, tls_handshakes, requests, network events.
// Use from the executor's thread.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "probe/http/url.h"
#include "probe/net/trace.h"

namespace vigil {

/// What one lookup (an A and an AAAA query) produced.
struct EncryptedLookupResult {
  std::vector<std::string> addresses;  // from both answers, in answer order
  std::string failure;                 // "" when any address came back
  /// Where it failed: connect | tls_handshake | dns_round_trip | http_round_trip |
  /// resolve (the resolver answered, without addresses).
  std::string failed_operation;
};

struct EncryptedDnsOptions {
  std::string ca_file;                       // "" = the system store
  std::chrono::milliseconds timeout{10000};  // per step
};

/// DoT to ip:port, verifying the certificate against `sni` (an IP literal is checked
/// against the certificate's IP addresses and sent as no SNI at all).
asio::awaitable<EncryptedLookupResult> DotLookup(Trace& trace, const std::string& ip, uint16_t port,
                                                 const std::string& sni, const std::string& domain,
                                                 const EncryptedDnsOptions& options);

/// DoH to `url` (its host names the server for SNI, Host and verification) on `ip`.
/// The requests are recorded with `url` as written, and the address contacted.
asio::awaitable<EncryptedLookupResult> DohLookup(Trace& trace, const Url& url,
                                                 const std::string& ip, const std::string& domain,
                                                 const EncryptedDnsOptions& options);

}  // namespace vigil
