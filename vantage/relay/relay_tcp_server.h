// RelayTcpServer: the relay's TCP line protocol (relay_protocol.h): "SEND ID T TEXT\n"
// answered "OK N\n" or "ERR reason\n", "QUIT\n" to end, many messages per connection.
// Each connection is a coroutine on one of the server's event loops (one per thread):
// lines are bounded (the message limit plus kMaxLineOverhead: longer is "ERR too_long"
// and the connection closed), a connection idle past the timeout is closed, and beyond
// max_connections a new one is told "ERR busy" and closed. Anything else a client
// sends gets "ERR bad_request" and the connection goes on. It logs one line per command
// (command and outcome), never a client's address, a session id or a token.
// Serve() blocks the calling thread, which runs one of the loops; Stop() may be called
// from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"
#include "vantage/relay/session_store.h"

namespace vigil::relay {

struct RelayTcpConfig {
  std::string name = "vigil relay";     // in log lines: "<name> tcp: SEND OK"
  std::string listen_ip = "127.0.0.1";  // an IP literal
  uint16_t listen_port = 0;             // 0: any free port (Bind says which)
  size_t threads = 1;                   // event-loop threads; 0 = one per core
  std::chrono::seconds idle_timeout{120};
  size_t max_connections = 4096;
  bool log_requests = true;
};

class RelayTcpServer {
 public:
  RelayTcpServer(RelayTcpConfig config, SessionStore& store);
  ~RelayTcpServer();

  RelayTcpServer(const RelayTcpServer&) = delete;
  RelayTcpServer& operator=(const RelayTcpServer&) = delete;

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

}  // namespace vigil::relay
