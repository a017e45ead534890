// Runs one coroutine to completion on a fresh io_context, on the calling thread,
// and returns its value: the observers' tests read top to bottom like the
// measurements they check.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <exception>
#include <functional>
#include <optional>

namespace vigil::test_support {

template <typename T>
T RunCoroutine(std::function<asio::awaitable<T>(asio::io_context&)> make) {
  asio::io_context io;
  std::optional<T> result;
  std::exception_ptr error;
  asio::co_spawn(io, make(io), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) result = std::move(value);
  });
  io.run();
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

}  // namespace vigil::test_support
