#include "probe/net/concurrency.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <algorithm>
#include <exception>

namespace vigil {

namespace {

struct Pool {
  std::vector<Task> tasks;
  size_t next = 0;
  size_t running_workers = 0;
  std::exception_ptr first_error;
  asio::steady_timer* done = nullptr;
};

asio::awaitable<void> Worker(std::shared_ptr<Pool> pool) {
  while (pool->next < pool->tasks.size()) {
    Task& task = pool->tasks[pool->next++];
    try {
      co_await task();
    } catch (...) {
      if (!pool->first_error) pool->first_error = std::current_exception();
    }
  }
  if (--pool->running_workers == 0) pool->done->cancel();
}

}  // namespace

asio::awaitable<void> RunBounded(std::vector<Task> tasks, size_t limit) {
  if (tasks.empty()) co_return;
  auto executor = co_await asio::this_coro::executor;
  auto pool = std::make_shared<Pool>();
  pool->tasks = std::move(tasks);
  if (limit == 0) limit = 1;
  const size_t workers = std::min(limit, pool->tasks.size());
  // The coordinator sleeps on a timer that the last worker cancels.
  asio::steady_timer done(executor, asio::steady_timer::time_point::max());
  pool->done = &done;
  pool->running_workers = workers;
  for (size_t i = 0; i < workers; ++i) asio::co_spawn(executor, Worker(pool), asio::detached);
  // Workers may finish before the wait begins (tasks that never suspend), and
  // cancelling a timer nobody waits on does nothing: check the count first.
  while (pool->running_workers > 0) {
    std::error_code ec;
    co_await done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (pool->first_error) std::rethrow_exception(pool->first_error);
}

}  // namespace vigil
