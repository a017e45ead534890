#include "tests/support/running_relay.h"

#include <gtest/gtest.h>

namespace vigil::test_support {

namespace {

relay::RelayConfig OnLoopback(relay::RelayConfig config) {
  for (auto* listen : {&config.http, &config.https, &config.tcp}) {
    if (*listen) **listen = relay::RelayListen{"127.0.0.1", 0};
  }
  config.log_requests = false;
  return config;
}

}  // namespace

RunningRelay::RunningRelay(relay::RelayConfig config)
    : server_(std::make_unique<relay::RelayServer>(OnLoopback(std::move(config)))) {
  auto info = server_->Bind();
  if (!info.ok()) {
    ADD_FAILURE() << "relay: " << info.error();
    return;
  }
  info_ = *info;
  ok_ = true;
  thread_ = std::thread([server = server_.get()] { server->Serve(); });
}

RunningRelay::~RunningRelay() { Stop(); }

void RunningRelay::Stop() {
  if (!server_) return;
  server_->Stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

std::string RunningRelay::http_url() const {
  return "http://127.0.0.1:" + std::to_string(info_.http_port.value_or(0));
}

std::string RunningRelay::https_url() const {
  return "https://127.0.0.1:" + std::to_string(info_.https_port.value_or(0));
}

}  // namespace vigil::test_support
