// RelayHttpApi: the relay's HTTP endpoints (relay_protocol.h) over a SessionStore, as
// the Admit and Handle of an HttpServer (vantage/http/server.h); the same object serves
// the HTTP and the HTTPS listener. A long poll waits on a timer of its connection's
// event loop, which a sender on any loop cancels through the store's wake-up.
// Logs show paths with the session id replaced by "-" (LogPath) and never a token.
// Thread-safe once SetInfo has been called: Admit and Handle run on every event loop.
#pragma once

#include <asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vantage/http/server.h"
#include "vantage/relay/session_store.h"

namespace vigil::relay {

/// Where the relay's listeners are, as GET /api/v1/relay tells clients.
struct RelayInfo {
  std::optional<uint16_t> tcp_port, http_port, https_port;
};

class RelayHttpApi {
 public:
  explicit RelayHttpApi(SessionStore& store) : store_(store) {}

  /// The listeners' ports; call before the servers serve.
  void SetInfo(RelayInfo info) { info_ = info; }

  /// Refuses a wrong path, method or encoding before the body is read.
  std::optional<HttpReply> Admit(const RequestHead& head, std::string_view path) const;

  /// Answers an admitted request (a long poll waits here, on the caller's executor).
  asio::awaitable<HttpReply> Handle(const ServerRequest& request);

  /// `path` with its session id replaced by "-", for log lines.
  static std::string LogPath(std::string_view path);

 private:
  SessionStore& store_;
  RelayInfo info_;
};

}  // namespace vigil::relay
