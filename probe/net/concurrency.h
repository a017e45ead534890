// Bounded concurrency for coroutines: runs N tasks with at most `limit` in flight
// on one executor, by a fixed set of worker coroutines pulling from a shared index
// (no threads, no semaphores). Use from the executor's thread.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include <asio/awaitable.hpp>

namespace vigil {

using Task = std::function<asio::awaitable<void>()>;

/// Completes when every task has completed. A task that throws is a bug in the
/// task: the exception propagates after the other workers have drained.
asio::awaitable<void> RunBounded(std::vector<Task> tasks, size_t limit);

}  // namespace vigil
