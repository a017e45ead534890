// HelperServer: `vigil helper`, a web_connectivity control helper speaking OONI's
// test-helper protocol over HTTP: POST / with a ControlRequest, answered with a
// ControlResponse measured from here (control_measurement.h; a messaging
// measurement's x_endpoints by endpoints_measurement.h). Bad requests get a
// 4xx with {"error": reason}; at most max_in_flight measurements run at once and
// the rest get 503; nothing a client sends can stop the server. It logs no client
// addresses. Serve() blocks on the calling thread, which runs one of the server's
// event loops (one per thread; a connection stays on one for its life, measurements
// are coroutines on it); Stop() may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "vantage/helper/control_measurement.h"

namespace vigil {

/// GET here answers {"ip": the client's address as the helper sees it}: how a probe
/// behind NAT learns the public address it must scrub from its measurements.
inline constexpr std::string_view kWhoamiPath = "/x/whoami";

struct HelperConfig {
  std::string listen_ip = "127.0.0.1";  // an IP literal
  uint16_t listen_port = 8090;          // 0: any free port (Bind says which)
  ControlMeasurementOptions measurement;
  size_t max_in_flight = 16;
  size_t max_request_bytes = size_t{256} << 10;
  bool log_requests = true;  // one line per request: method, path, status
  size_t threads = 0;        // event-loop threads; 0 = one per core
};

/// What POST / answers for one request body.
struct HelperReply {
  int status = 200;
  std::string body;  // JSON: a ControlResponse, or {"error": reason}
};

/// Parses `body`, measures and answers; never throws. Runs on the caller's executor.
asio::awaitable<HelperReply> AnswerControlRequest(std::string_view body,
                                                  const ControlMeasurementOptions& options);

/// The same on a private event loop on the calling thread.
HelperReply HandleControlRequest(std::string_view body, const ControlMeasurementOptions& options);

class HelperServer {
 public:
  explicit HelperServer(HelperConfig config);
  ~HelperServer();

  HelperServer(const HelperServer&) = delete;
  HelperServer& operator=(const HelperServer&) = delete;

  /// Binds the listening socket and returns its port; the error names the address.
  Result<uint16_t> Bind();

  /// Serves until Stop(); call after a successful Bind().
  void Serve();

  /// Makes Serve() return (at once if it has not started yet). Thread-safe.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
