// ServerLoops: the event loops of a TCP server and its listening socket, shared by the
// HTTP server (vantage/http/server.h) and the relay's line-protocol server. One Asio
// event loop per thread; each accepted connection is assigned to a loop in turn (its
// socket's executor) and stays there for its life. Accept errors such as running out
// of descriptors pause the accept loop briefly instead of ending it.
// Serve() blocks the calling thread, which runs one of the loops; Stop() may be called
// from any thread. Whatever the connections' coroutines use must outlive this object:
// their frames are destroyed with the loops.
#pragma once

#include <asio/ip/tcp.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"

namespace vigil {

class ServerLoops {
 public:
  /// Called on the accepting loop with a socket whose executor is the loop the
  /// connection was assigned to: spawn its coroutine there.
  using OnConnection = std::function<void(asio::ip::tcp::socket socket)>;

  /// `threads` event loops; 0 = one per core.
  explicit ServerLoops(size_t threads);
  ~ServerLoops();

  ServerLoops(const ServerLoops&) = delete;
  ServerLoops& operator=(const ServerLoops&) = delete;

  /// Binds the listening socket on ip:port (0: any free port) and returns the port; the
  /// error names the address ("cannot listen on 127.0.0.1:80 (in use, ...)").
  Result<uint16_t> Bind(const std::string& ip, uint16_t port);

  /// Accepts and hands over connections until Stop(); call after a successful Bind().
  void Serve(OnConnection on_connection);

  /// Makes Serve() return (at once if it has not started yet). Thread-safe.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
