#include "tests/support/running_collector.h"

namespace vigil::test_support {

CollectorConfig RunningCollector::DefaultConfig(const std::string& archive, uint16_t port) {
  CollectorConfig config;
  config.http.listen_port = port;
  config.http.threads = 2;
  config.http.log_requests = false;
  config.archive.root = archive;
  return config;
}

RunningCollector::RunningCollector(const CollectorConfig& config, RecoveryReport* recovery) {
  auto server = CollectorServer::Create(config, recovery);
  if (!server.ok()) {
    error_ = server.error();
    return;
  }
  server_ = std::move(*server);
  auto bound = server_->Bind();
  if (!bound.ok()) {
    error_ = bound.error();
    return;
  }
  port_ = *bound;
  thread_ = std::thread([this] { server_->Serve(); });
}

RunningCollector::~RunningCollector() {
  if (server_) server_->Stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace vigil::test_support
