// ClickHouseServer: a real ClickHouse server (Debian's clickhouse-server) on 127.0.0.1,
// HTTP and native ports free ones, data in a temp dir, one user `default` without a
// password that may connect from loopback only. Start and destroy it on one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace vigil::test_support {

class ChildProcess;
class TempDir;

class ClickHouseServer {
 public:
  /// Why clickhouse-server cannot run here (not installed), or nullopt; for GTEST_SKIP().
  static std::optional<std::string> Unavailable();

  /// Starts the server and returns once it answers /ping (a few seconds). On failure
  /// ok() is false and, unless Unavailable(), a test failure is recorded.
  ClickHouseServer();
  ~ClickHouseServer();
  ClickHouseServer(const ClickHouseServer&) = delete;
  ClickHouseServer& operator=(const ClickHouseServer&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  uint16_t http_port() const { return http_port_; }
  /// "clickhouse://127.0.0.1:PORT/DATABASE", a store spec for analysis::OpenStore.
  std::string StoreSpec(const std::string& database) const;
  /// Runs one statement over HTTP; "" on success, else the reason. The server knows a
  /// one-shard cluster `vigil_test` (itself), for Distributed tables.
  std::string Run(const std::string& sql) const;
  /// The server's log, for failure messages.
  std::string Log() const;

 private:
  bool StartOnce(std::string* error);

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ChildProcess> process_;
  uint16_t http_port_ = 0;
  std::string error_;
};

}  // namespace vigil::test_support
