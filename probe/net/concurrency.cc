#include "probe/net/concurrency.h"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <exception>
#include <list>
#include <map>

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

namespace {

struct KeyedPool {
  std::vector<KeyedTask> tasks;
  std::list<size_t> pending;  // indices not yet started, in order
  std::map<std::string, size_t> in_flight;
  size_t per_key = 0;
  size_t running_workers = 0;
  std::exception_ptr first_error;
  asio::steady_timer* done = nullptr;
  std::vector<asio::steady_timer*> idle;  // workers waiting for a key to free up

  // The earliest pending task whose key has room; pending.end() when none has.
  std::list<size_t>::iterator Pick() {
    for (auto it = pending.begin(); it != pending.end(); ++it) {
      if (per_key == 0 || in_flight[tasks[*it].first] < per_key) return it;
    }
    return pending.end();
  }

  void WakeIdle() {
    for (auto* t : idle) t->cancel();
    idle.clear();
  }
};

asio::awaitable<void> KeyedWorker(std::shared_ptr<KeyedPool> pool) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer wait(executor);
  while (!pool->pending.empty()) {
    auto it = pool->Pick();
    if (it == pool->pending.end()) {
      // Every pending key is at its bound: sleep until some task ends.
      wait.expires_at(asio::steady_timer::time_point::max());
      pool->idle.push_back(&wait);
      std::error_code ec;
      co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    const size_t index = *it;
    pool->pending.erase(it);
    const std::string key = pool->tasks[index].first;
    ++pool->in_flight[key];
    try {
      co_await pool->tasks[index].second();
    } catch (...) {
      if (!pool->first_error) pool->first_error = std::current_exception();
    }
    if (--pool->in_flight[key] == 0) pool->in_flight.erase(key);
    pool->WakeIdle();
  }
  // Idle workers must see that nothing is left.
  pool->WakeIdle();
  if (--pool->running_workers == 0) pool->done->cancel();
}

}  // namespace

asio::awaitable<void> RunBoundedPerKey(std::vector<KeyedTask> tasks, size_t limit, size_t per_key) {
  if (tasks.empty()) co_return;
  auto executor = co_await asio::this_coro::executor;
  auto pool = std::make_shared<KeyedPool>();
  pool->tasks = std::move(tasks);
  for (size_t i = 0; i < pool->tasks.size(); ++i) pool->pending.push_back(i);
  pool->per_key = per_key;
  if (limit == 0) limit = 1;
  const size_t workers = std::min(limit, pool->tasks.size());
  asio::steady_timer done(executor, asio::steady_timer::time_point::max());
  pool->done = &done;
  pool->running_workers = workers;
  for (size_t i = 0; i < workers; ++i) asio::co_spawn(executor, KeyedWorker(pool), asio::detached);
  while (pool->running_workers > 0) {
    std::error_code ec;
    co_await done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (pool->first_error) std::rethrow_exception(pool->first_error);
}

}  // namespace vigil
