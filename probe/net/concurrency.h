// Bounded concurrency for coroutines: runs N tasks with at most `limit` in flight
// on one executor, by a fixed set of worker coroutines pulling from a shared index
// (no threads, no semaphores). Use from the executor's thread.
#pragma once

#include <asio/awaitable.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace vigil {

using Task = std::function<asio::awaitable<void>()>;

/// Completes when every task has completed. A task that throws is a bug in the
/// task: the exception propagates after the other workers have drained.
asio::awaitable<void> RunBounded(std::vector<Task> tasks, size_t limit);

/// A task with the key it counts against (a host name, for politeness).
using KeyedTask = std::pair<std::string, Task>;

/// As RunBounded, and besides at most `per_key` tasks of one key in flight: a
/// worker takes the earliest task whose key has room, and waits for a task to end
/// when none has. per_key 0 means no per-key bound.
asio::awaitable<void> RunBoundedPerKey(std::vector<KeyedTask> tasks, size_t limit, size_t per_key);

}  // namespace vigil
