#include "vantage/base/server_loops.h"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace vigil {

namespace {

using asio::ip::tcp;
constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr int kListenBacklog = 4096;

}  // namespace

struct ServerLoops::Impl {
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::optional<tcp::acceptor> acceptor;  // on contexts[0]; destroyed before them
  size_t next_context = 0;                // the accept loop's alone
  std::mutex mutex;
  bool stop_requested = false;  // guarded by mutex

  explicit Impl(size_t threads) {
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    for (size_t i = 0; i < threads; ++i) contexts.push_back(std::make_unique<asio::io_context>(1));
  }

  asio::awaitable<void> Accept(OnConnection on_connection) {
    for (;;) {
      asio::io_context& home = *contexts[next_context++ % contexts.size()];
      auto [ec, socket] = co_await acceptor->async_accept(home, kTuple);
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      if (ec) {
        // Out of descriptors and the like: let connections finish, then go on.
        asio::steady_timer pause(acceptor->get_executor(), std::chrono::milliseconds(20));
        co_await pause.async_wait(kTuple);
        continue;
      }
      asio::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      on_connection(std::move(socket));
    }
  }
};

ServerLoops::ServerLoops(size_t threads) : impl_(std::make_unique<Impl>(threads)) {}

ServerLoops::~ServerLoops() { Stop(); }

Result<uint16_t> ServerLoops::Bind(const std::string& ip, uint16_t port) {
  const std::string where =
      (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
  asio::error_code ec;
  const auto address = asio::ip::make_address(ip, ec);
  if (ec) return Error{"cannot listen on " + where + ": not an IP address"};
  tcp::acceptor acceptor(*impl_->contexts.front());
  const tcp::endpoint endpoint(address, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (ec) {
    if (port == 0) return Error{"cannot listen on " + where};
    return Error{"cannot listen on " + where + " (in use, or not an address of this machine)"};
  }
  // The kernel caps the backlog at net.core.somaxconn.
  acceptor.listen(kListenBacklog, ec);
  if (ec) return Error{"cannot listen on " + where + ": " + ec.message()};
  const uint16_t bound = acceptor.local_endpoint(ec).port();
  impl_->acceptor.emplace(std::move(acceptor));
  return bound;
}

void ServerLoops::Serve(OnConnection on_connection) {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stop_requested || !impl_->acceptor) return;
  }
  auto& contexts = impl_->contexts;
  asio::co_spawn(*contexts.front(), impl_->Accept(std::move(on_connection)), asio::detached);
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  for (size_t i = 1; i < contexts.size(); ++i) {
    guards.push_back(asio::make_work_guard(*contexts[i]));
    threads.emplace_back([&context = *contexts[i]] { context.run(); });
  }
  contexts.front()->run();
  for (auto& context : contexts) context->stop();
  for (auto& thread : threads) thread.join();
}

void ServerLoops::Stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stop_requested = true;
  }
  // io_context::stop is thread-safe and sticks: a run() that has not started yet
  // returns at once.
  for (auto& context : impl_->contexts) context->stop();
}

}  // namespace vigil
