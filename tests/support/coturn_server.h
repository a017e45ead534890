// CoturnServer: a real STUN server (Debian's coturn, /usr/bin/turnserver) on 127.0.0.1,
// STUN only (no TURN relaying, no TLS/DTLS, no CLI), on one free UDP port.
// Start and destroy it on one thread (the test's main thread); the accessors are const.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace vigil::test_support {

class ChildProcess;
class TempDir;

class CoturnServer {
 public:
  /// Why coturn cannot run here (turnserver missing), or nullopt; for GTEST_SKIP().
  static std::optional<std::string> Unavailable();

  /// Starts turnserver and returns once it answers a Binding Request (about 100 ms).
  /// On failure ok() is false and, unless Unavailable(), a test failure is recorded.
  CoturnServer();
  ~CoturnServer();

  CoturnServer(const CoturnServer&) = delete;
  CoturnServer& operator=(const CoturnServer&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  /// The UDP port on 127.0.0.1; 0 when !ok().
  uint16_t port() const { return port_; }
  /// turnserver's own log, for a failure message.
  std::string Log() const;

 private:
  bool StartOnce(std::string* error);

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ChildProcess> process_;
  uint16_t port_ = 0;
  std::string error_;
};

}  // namespace vigil::test_support
