// RunExperiment: runs one registered experiment to completion on a fresh io_context
// on the calling thread, as `vigil run` would run it once, for suites that check real
// measurements. Not thread-safe beyond what RunCoroutine is: one call per thread.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "probe/experiments/registry.h"
#include "tests/support/run_coroutine.h"

namespace vigil::test_support {

/// The measurement of experiment `name` with `input`, or why it could not run.
inline Result<Measurement> RunExperiment(const std::string& name, ExperimentContext context,
                                         const Json& input = nullptr) {
  // co_spawn needs a default-constructible value for its exception path.
  auto result = RunCoroutine<std::optional<Result<Measurement>>>(
      [&](asio::io_context& io) -> asio::awaitable<std::optional<Result<Measurement>>> {
        context.executor = io.get_executor();
        auto experiment = MakeExperiment(name);
        if (!experiment) co_return Error{"no experiment " + name};
        co_return co_await experiment->Run(context, input);
      });
  return std::move(*result);
}

}  // namespace vigil::test_support
