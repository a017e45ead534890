// RelayServer: `vigil relay`, the delivery experiment's message relay, as one object:
// a SessionStore, its HTTP and HTTPS fronts (relay_http_api.h on vantage/http's
// server) and the TCP line protocol (relay_tcp_server.h), each listener optional (at
// least one of HTTP and HTTPS, where sessions are made and read), and a sweeper that
// removes expired sessions. It never logs or keeps a client's address: log lines carry
// method, path (session ids hidden) and status, or the TCP command and its outcome.
// Bind, then Serve on one thread (it runs every listener, each on its own event loops,
// until Stop); Stop may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "vantage/relay/relay_http_api.h"
#include "vantage/relay/session_store.h"

namespace vigil::relay {

struct RelayListen {
  std::string ip = "127.0.0.1";  // an IP literal
  uint16_t port = 0;             // 0: any free port (Bind says which)
};

struct RelayConfig {
  std::optional<RelayListen> http, https, tcp;
  std::string cert_file, key_file;  // PEM, for https
  RelayLimits limits;
  size_t threads = 1;  // event-loop threads per listener; 0 = one per core
  /// Idle time after which a kept HTTP connection or a TCP connection is closed: long
  /// enough that a sender pausing between messages keeps its connection.
  std::chrono::seconds idle_timeout{120};
  std::chrono::seconds sweep_interval{10};
  bool log_requests = true;
};

class RelayServer {
 public:
  explicit RelayServer(RelayConfig config);
  ~RelayServer();

  RelayServer(const RelayServer&) = delete;
  RelayServer& operator=(const RelayServer&) = delete;

  /// Binds every configured listener; the ports (also what GET /api/v1/relay tells
  /// clients). The error names the listener and its address or file.
  Result<RelayInfo> Bind();

  /// Serves until Stop(); call after a successful Bind().
  void Serve();

  /// Makes Serve() return (at once if it has not started yet). Thread-safe.
  void Stop();

  SessionStore& store();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::relay
