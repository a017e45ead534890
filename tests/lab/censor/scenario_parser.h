// Loads a Scenario from YAML and validates it completely: unknown keys, values of the
// wrong type and out-of-range values are all reported as "FILE:LINE: key: reason".
// Stateless functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

struct ScenarioLoad {
  /// Set only when `errors` is empty.
  std::optional<Scenario> scenario;
  std::vector<std::string> errors;
};

/// Reads and validates the scenario file at `path`. `body_file` paths inside it are
/// relative to the file's directory.
ScenarioLoad LoadScenarioFile(const std::string& path);

/// Validates scenario `text`; errors name `file`, and `base_dir` resolves body_file.
ScenarioLoad ParseScenario(const std::string& text, const std::string& file,
                           const std::string& base_dir);

/// Milliseconds in a duration like "500ms", "90s", "2m", "1h"; nullopt otherwise.
std::optional<int64_t> ParseDurationMs(const std::string& text);

/// Bits per second in a rate like "64kbit", "2mbit", "9600bit"; nullopt otherwise.
std::optional<uint64_t> ParseRate(const std::string& text);

}  // namespace vigil::lab
