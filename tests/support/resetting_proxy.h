// ResettingProxy: a TCP relay on 127.0.0.1 in front of a real server that resets
// connections the way an on-path censor does: when the client's bytes contain a keyword
// (plaintext protocols), or at the client's next write once armed (any protocol, TLS
// included), before relaying those bytes. Every other byte goes through untouched, both
// ways. One background thread; all methods are thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace vigil::test_support {

class ResettingProxy {
 public:
  /// Listens on a free port and relays each connection to 127.0.0.1:target_port. On
  /// failure ok() is false and a test failure is recorded.
  explicit ResettingProxy(uint16_t target_port);
  /// Stops the thread and closes every connection.
  ~ResettingProxy();

  ResettingProxy(const ResettingProxy&) = delete;
  ResettingProxy& operator=(const ResettingProxy&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  /// The listening port on 127.0.0.1.
  uint16_t port() const { return port_; }
  /// "127.0.0.1:PORT".
  std::string address() const;

  /// From now on, resets every connection whose client sends `keyword` (also split
  /// across writes); the bytes that complete it never reach the server.
  void ResetOnKeyword(std::string keyword);
  /// Resets the first connection whose client writes anything after this call.
  void ResetNextClientWrite();
  /// How many connections it has reset so far.
  int resets() const;

 private:
  void Run();

  uint16_t target_port_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  int stop_fd_ = -1;
  std::string error_;
  mutable std::mutex mutex_;
  std::string keyword_;
  bool reset_next_write_ = false;
  int resets_ = 0;
  std::thread thread_;
};

}  // namespace vigil::test_support
