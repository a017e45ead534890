// HTTP/1.1 observation over TCP or TLS: resolves (through the given DnsObserver,
// so an explicit resolver serves these lookups too), connects, handshakes, sends
// one request and reads the response, following up to `max_redirects` redirects.
// Every hop is recorded (queries, tcp_connect, tls_handshakes, requests — newest
// first — and network events). Use from the executor's thread.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "probe/dns/dns_observer.h"
#include "probe/http/url.h"
#include "probe/net/trace.h"

namespace vigil {

struct HttpOptions {
  std::string method = "GET";
  std::string body;
  /// Sent after Host, in this order; a name given here replaces the default.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string host_override;  // Host header of the first request
  std::string sni;            // TLS server_name of the first request; default: URL host
  std::string ca_file;        // "" = system store
  size_t body_cap = size_t{1} << 20;
  int max_redirects = 10;
  std::chrono::milliseconds timeout{10000};  // per step: connect, handshake, round trip
  /// When set, only the addresses it accepts are contacted, on every hop; a name with
  /// none left fails with dns_bogon_error. The control helper keeps clients from
  /// steering it into private networks with it.
  std::function<bool(const std::string& ip)> address_allowed;
};

/// How the whole fetch ended.
struct HttpOutcome {
  std::string failure;           // "" when a final response arrived
  std::string failed_operation;  // resolve | connect | tls_handshake | http_round_trip
  int status_code = 0;           // of the last response
  std::string final_url;
};

asio::awaitable<HttpOutcome> ObserveHttp(Trace& trace, DnsObserver& dns, const Url& url,
                                         const HttpOptions& options);

/// The browser-like headers vigil sends unless told otherwise.
const std::vector<std::pair<std::string, std::string>>& DefaultHttpHeaders();

}  // namespace vigil
