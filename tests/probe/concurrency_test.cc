// Bounded concurrency and deadlines on a real io_context with real timers.
#include "probe/net/concurrency.h"

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "probe/net/deadline.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;

TEST(ConcurrencyTest, NeverMoreThanTheLimitInFlightAndAllComplete) {
  asio::io_context io;
  int in_flight = 0;
  int peak = 0;
  int completed = 0;
  std::vector<Task> tasks;
  for (int i = 0; i < 200; ++i) {
    tasks.push_back([&, i]() -> asio::awaitable<void> {
      ++in_flight;
      peak = std::max(peak, in_flight);
      asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(i % 5));
      co_await t.async_wait(asio::use_awaitable);
      --in_flight;
      ++completed;
    });
  }
  bool done = false;
  asio::co_spawn(io, RunBounded(std::move(tasks), 16), [&](std::exception_ptr e) {
    EXPECT_FALSE(e);
    done = true;
  });
  const auto thread_before = std::this_thread::get_id();
  io.run();
  EXPECT_EQ(std::this_thread::get_id(), thread_before);
  EXPECT_TRUE(done);
  EXPECT_EQ(completed, 200);
  EXPECT_EQ(peak, 16);
}

TEST(ConcurrencyTest, PerKeyBoundHoldsAndOtherKeysGoAhead) {
  asio::io_context io;
  std::map<std::string, int> in_flight, peak;
  int total_in_flight = 0, total_peak = 0, completed = 0;
  std::vector<KeyedTask> tasks;
  // 30 tasks of one busy host first, then 10 of each of 9 others: the others must
  // not queue behind the busy one.
  auto add = [&](const std::string& key, int ms) {
    tasks.push_back({key, [&, key, ms]() -> asio::awaitable<void> {
                       ++total_in_flight;
                       total_peak = std::max(total_peak, total_in_flight);
                       peak[key] = std::max(peak[key], ++in_flight[key]);
                       asio::steady_timer t(co_await asio::this_coro::executor,
                                            std::chrono::milliseconds(ms));
                       co_await t.async_wait(asio::use_awaitable);
                       --in_flight[key];
                       --total_in_flight;
                       ++completed;
                     }});
  };
  for (int i = 0; i < 30; ++i) add("busy.example", 10);
  for (int h = 0; h < 9; ++h) {
    for (int i = 0; i < 10; ++i) add("host" + std::to_string(h), 10);
  }
  bool done = false;
  const auto start = std::chrono::steady_clock::now();
  asio::co_spawn(io, RunBoundedPerKey(std::move(tasks), 16, 2), [&](std::exception_ptr e) {
    EXPECT_FALSE(e);
    done = true;
  });
  io.run();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(done);
  EXPECT_EQ(completed, 120);
  for (const auto& [key, p] : peak) EXPECT_EQ(p, 2) << key;
  EXPECT_EQ(total_peak, 16) << "ten keys with room for two each fill the 16 workers";
  // The busy key alone needs 15 rounds of 10 ms; the rest run beside it.
  EXPECT_LT(elapsed, 400ms);
}

TEST(ConcurrencyTest, ExceptionPropagatesAfterTheRestDrain) {
  asio::io_context io;
  int completed = 0;
  std::vector<Task> tasks;
  tasks.push_back([]() -> asio::awaitable<void> {
    throw std::runtime_error("task bug");
    co_return;
  });
  for (int i = 0; i < 10; ++i) {
    tasks.push_back([&]() -> asio::awaitable<void> {
      ++completed;
      co_return;
    });
  }
  std::exception_ptr error;
  asio::co_spawn(io, RunBounded(std::move(tasks), 3), [&](std::exception_ptr e) { error = e; });
  io.run();
  EXPECT_TRUE(error);
  EXPECT_EQ(completed, 10);
}

TEST(DeadlineTest, FiresAndCancelsTheStep) {
  asio::io_context io;
  bool expired = false;
  std::error_code wait_error;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        asio::steady_timer slow(ex, 10s);
        Deadline deadline(ex, 50ms, [&] { slow.cancel(); });
        co_await slow.async_wait(asio::redirect_error(asio::use_awaitable, wait_error));
        expired = deadline.expired();
      },
      asio::detached);
  const auto start = std::chrono::steady_clock::now();
  io.run();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(expired);
  EXPECT_EQ(wait_error, asio::error::operation_aborted);
}

TEST(DeadlineTest, DisarmedWhenTheStepFinishesFirst) {
  asio::io_context io;
  bool fired = false;
  bool expired = true;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        {
          Deadline deadline(ex, 30ms, [&] { fired = true; });
          asio::steady_timer quick(ex, 1ms);
          co_await quick.async_wait(asio::use_awaitable);
          expired = deadline.expired();
        }
        asio::steady_timer after(ex, 60ms);
        co_await after.async_wait(asio::use_awaitable);
      },
      asio::detached);
  io.run();
  EXPECT_FALSE(expired);
  EXPECT_FALSE(fired);
}

}  // namespace
}  // namespace vigil
