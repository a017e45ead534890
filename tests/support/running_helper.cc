#include "tests/support/running_helper.h"

#include <gtest/gtest.h>

namespace vigil::test_support {

namespace {

HelperConfig OnLoopback(HelperConfig config) {
  config.listen_ip = "127.0.0.1";
  config.listen_port = 0;
  config.log_requests = false;
  return config;
}

}  // namespace

RunningHelper::RunningHelper(HelperConfig config) : server_(OnLoopback(std::move(config))) {
  auto port = server_.Bind();
  if (!port.ok()) {
    ADD_FAILURE() << "control helper: " << port.error();
    return;
  }
  port_ = *port;
  thread_ = std::thread([this] { server_.Serve(); });
}

RunningHelper::~RunningHelper() {
  server_.Stop();
  if (thread_.joinable()) thread_.join();
}

std::string RunningHelper::url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

}  // namespace vigil::test_support
