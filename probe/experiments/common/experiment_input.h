// ExperimentInput: an experiment's input with its options. `vigil run --input` hands
// experiments a string; callers that need options (the lab, tests, a JSON input
// line) hand an object {"input": "<target>", "<option>": ...} or that object
// written as a JSON string. The measurement records only the target as `input`.
// Pure functions; thread-safe.
#pragma once

#include <string>

#include "base/result.h"
#include "probe/measurement/measurement.h"

namespace vigil {

struct ExperimentInput {
  std::string target;             // "" when the input was null
  Json options = Json::object();  // every key but "input"
};

/// Accepts null, a string (a target, or a JSON object in text), or an object with a
/// string "input". The error says what is wrong.
Result<ExperimentInput> ParseExperimentInput(const Json& input);

/// The string option `key`, `fallback` when absent; an error when present but not a string.
Result<std::string> StringOption(const ExperimentInput& input, const std::string& key,
                                 const std::string& fallback);

}  // namespace vigil
