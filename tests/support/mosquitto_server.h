// MosquittoServer: a real MQTT broker (Debian's mosquitto) on 127.0.0.1 with one plain
// listener and one TLS listener presenting the TestPki certificate of the kind asked for,
// anonymous clients allowed. Start and destroy it on one thread (the test's main
// thread); the accessors are const.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tests/support/test_pki.h"

namespace vigil::test_support {

class ChildProcess;
class TempDir;

class MosquittoServer {
 public:
  /// Why mosquitto cannot run here (mosquitto or openssl missing), or nullopt; for
  /// GTEST_SKIP().
  static std::optional<std::string> Unavailable();

  /// Starts mosquitto and returns once both ports accept connections (some 50 ms). On
  /// failure ok() is false and, unless Unavailable(), a test failure is recorded.
  explicit MosquittoServer(TestPki::Kind certificate = TestPki::Kind::kValid);
  ~MosquittoServer();

  MosquittoServer(const MosquittoServer&) = delete;
  MosquittoServer& operator=(const MosquittoServer&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  /// Ports on 127.0.0.1; 0 when !ok().
  uint16_t port() const { return port_; }
  uint16_t tls_port() const { return tls_port_; }
  /// "mqtt://127.0.0.1:PORT" and "mqtts://127.0.0.1:TLS_PORT", as
  /// DeliveryOptions::mqtt_broker takes them.
  std::string url() const;
  std::string tls_url() const;
  /// Ends mosquitto at once (SIGKILL): its connections end as the kernel closes them.
  void Kill();
  /// mosquitto's own log, for a failure message.
  std::string Log() const;

 private:
  bool StartOnce(std::string* error);

  TestPki::Kind certificate_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ChildProcess> process_;
  uint16_t port_ = 0;
  uint16_t tls_port_ = 0;
  std::string error_;
};

}  // namespace vigil::test_support
