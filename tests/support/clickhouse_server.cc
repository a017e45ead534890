#include "tests/support/clickhouse_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <thread>

#include "tests/support/child_process.h"
#include "tests/support/loopback_port.h"
#include "tests/support/temp_dir.h"

namespace vigil::test_support {
namespace {

constexpr int kStartAttempts = 3;
constexpr auto kStartTimeout = std::chrono::seconds(60);

std::string Binary() {
  std::string path = FindExecutable("clickhouse-server");
  if (IsExecutable(path)) return path;
  for (const char* p : {"/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"}) {
    if (IsExecutable(p)) return p;
  }
  return "";
}

bool Pings(uint16_t port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(0, 200000);
  client.set_read_timeout(1, 0);
  auto res = client.Get("/ping");
  return res && res->status == 200 && res->body.rfind("Ok.", 0) == 0;
}

}  // namespace

std::optional<std::string> ClickHouseServer::Unavailable() {
  if (Binary().empty())
    return std::string("clickhouse-server is not installed (Debian package clickhouse-server)");
  return std::nullopt;
}

ClickHouseServer::ClickHouseServer() {
  if (std::optional<std::string> reason = Unavailable()) {
    error_ = *reason;
    return;
  }
  std::string error;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    if (StartOnce(&error)) return;
  }
  http_port_ = 0;
  error_ = "ClickHouseServer: " + error;
  ADD_FAILURE() << error_;
}

ClickHouseServer::~ClickHouseServer() = default;

std::string ClickHouseServer::StoreSpec(const std::string& database) const {
  return "clickhouse://127.0.0.1:" + std::to_string(http_port_) + "/" + database;
}

std::string ClickHouseServer::Run(const std::string& sql) const {
  httplib::Client client("127.0.0.1", http_port_);
  client.set_read_timeout(60, 0);
  auto res = client.Post("/", sql, "text/plain");
  if (!res) return "no answer: " + httplib::to_string(res.error());
  if (res->status != 200) return "status " + std::to_string(res->status) + ": " + res->body;
  return "";
}

std::string ClickHouseServer::Log() const {
  return dir_ ? ReadFileOrEmpty(dir_->Join("server.log")) : "";
}

bool ClickHouseServer::StartOnce(std::string* error) {
  process_.reset();
  dir_ = std::make_unique<TempDir>("vigil-clickhouse-");
  if (!dir_->ok()) {
    *error = dir_->error();
    return false;
  }
  http_port_ = FreeLoopbackPort();
  const uint16_t tcp_port = FreeLoopbackPort();
  if (http_port_ == 0 || tcp_port == 0) {
    *error = "no free loopback port";
    return false;
  }
  const std::string d = dir_->path();
  // Only what the server needs: loopback, our ports, every path in the temp dir, a log
  // on the console (into server.log), and a user limited to loopback.
  const std::string config =
      "<?xml version=\"1.0\"?>\n<yandex>\n"
      "  <logger><level>warning</level><console>1</console></logger>\n"
      "  <listen_host>127.0.0.1</listen_host>\n"
      "  <http_port>" +
      std::to_string(http_port_) +
      "</http_port>\n"
      "  <tcp_port>" +
      std::to_string(tcp_port) +
      "</tcp_port>\n"
      "  <path>" +
      d +
      "/data/</path>\n"
      "  <tmp_path>" +
      d +
      "/tmp/</tmp_path>\n"
      "  <user_files_path>" +
      d +
      "/user_files/</user_files_path>\n"
      "  <format_schema_path>" +
      d +
      "/format_schemas/</format_schema_path>\n"
      "  <users_config>" +
      d +
      "/users.xml</users_config>\n"
      "  <default_profile>default</default_profile>\n"
      "  <default_database>default</default_database>\n"
      "  <mark_cache_size>67108864</mark_cache_size>\n"
      "  <remote_servers><vigil_test><shard><replica><host>127.0.0.1</host><port>" +
      std::to_string(tcp_port) +
      "</port></replica></shard></vigil_test></remote_servers>\n"
      "</yandex>\n";
  const std::string users =
      "<?xml version=\"1.0\"?>\n<yandex>\n"
      "  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>\n"
      "  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>"
      "<profile>default</profile><quota>default</quota></default></users>\n"
      "  <quotas><default></default></quotas>\n"
      "</yandex>\n";
  if (!dir_->WriteFile("config.xml", config, error) ||
      !dir_->WriteFile("users.xml", users, error)) {
    return false;
  }
  process_ = std::make_unique<ChildProcess>();
  if (!process_->Start({Binary(), "--config-file=" + dir_->Join("config.xml")},
                       dir_->Join("server.log"), error)) {
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->Running()) {
      *error = "clickhouse-server " + process_->ExitDescription() + "; log:\n" + Log();
      return false;
    }
    if (Pings(http_port_)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  *error = "clickhouse-server did not answer on port " + std::to_string(http_port_) +
           " within 60 s; log:\n" + Log();
  return false;
}

}  // namespace vigil::test_support
