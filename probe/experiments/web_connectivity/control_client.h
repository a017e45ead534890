// ControlClient: web_connectivity's client of a control helper (OONI's test-helper
// protocol: POST of a JSON request, a JSON answer), over HTTP/1.1 or HTTPS, keeping
// its connections to the helper open between measurements as OONI Probe's HTTP client
// and any browser do. A run of 2,000 URLs then opens a handful of connections to the
// helper instead of 2,000, each a TCP (and TLS) handshake on the measurement's critical
// path and a socket in TIME_WAIT afterwards.
//
// A kept connection is used again only when its last response ended where its framing
// said and neither side asked to close; one the helper closed while it was idle is
// noticed before use, and a request that fails on a kept connection before any byte of
// the answer arrived is sent once more on a new one (the helper may close an idle
// connection at the moment it is reused; the request has no side effects).
//
// The exchange is not part of the measurement (like OONI, a measurement records the
// target, not the helper), so nothing here is traced. One client per event loop: use
// from the executor's thread.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "probe/dns/dns_observer.h"

namespace vigil {

struct ControlClientOptions {
  std::string helper_url;  // http(s)://host[:port]/[path]
  ResolverSpec resolver;   // for a helper given by name
  std::string ca_file;     // for an https helper; "" = the system store
  /// Each of connect, TLS handshake and the whole round trip (the helper measures the
  /// target before it answers, so its round trip is the long one).
  std::chrono::milliseconds timeout{30000};
  size_t body_cap = size_t{4} << 20;  // a longer answer is a failure, never half-read
  size_t max_idle = 64;               // connections kept open while no request needs them
};

/// How one POST ended.
struct ControlExchange {
  std::string failure;  // "" when an answer arrived; OONI's failure strings otherwise
  int status_code = 0;
  std::string body;
  bool body_is_truncated = false;
};

class ControlClient {
 public:
  /// Fails only on a helper URL that cannot be used (not http/https, malformed).
  static Result<std::shared_ptr<ControlClient>> Create(asio::any_io_executor executor,
                                                       ControlClientOptions options);
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  /// POSTs `body` (JSON) to the helper's URL and reads the answer.
  asio::awaitable<ControlExchange> Post(std::string body);

  /// Connections opened so far and requests sent on a kept one (for tests and logs).
  size_t connections_opened() const;
  size_t requests_on_kept_connections() const;
  /// Closes the kept connections (the run is over).
  void CloseIdle();

 private:
  struct Impl;
  explicit ControlClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
