// RunningCollector: a CollectorServer bound on loopback and serving on a thread of its
// own for the life of the object, for tests that upload to a real collector in-process.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "vantage/collector/collector_server.h"

namespace vigil::test_support {

class RunningCollector {
 public:
  /// The usual test set-up: `archive` as the archive root, loopback `port` (0: any), two
  /// threads, no request log.
  static CollectorConfig DefaultConfig(const std::string& archive, uint16_t port = 0);

  /// Starts serving; on failure error() says why and port() is 0.
  explicit RunningCollector(const CollectorConfig& config, RecoveryReport* recovery = nullptr);
  ~RunningCollector();
  RunningCollector(const RunningCollector&) = delete;
  RunningCollector& operator=(const RunningCollector&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& error() const { return error_; }
  CollectorServer& server() { return *server_; }
  /// Measurements archived so far.
  uint64_t stored() const { return server_ ? server_->archive().stored() : 0; }

 private:
  std::unique_ptr<CollectorServer> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::string error_;
};

}  // namespace vigil::test_support
