// Fuzz target for the lab censor's ParseScenario, with ParseDurationMs and ParseRate:
// the YAML scenarios users write. Besides crashes, uncaught exceptions and sanitizer
// reports, it checks that a scenario is either loaded or refused with errors (never
// both, never neither) and that every error names the file and its line, and that a
// duration or rate that reads prints back as the same value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.h"
#include "tests/lab/censor/scenario_parser.h"

// The input is a scenario file; its first line is also tried as a duration and a rate.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil::lab;
  const std::string text(reinterpret_cast<const char*>(data), size);
  // body_file paths resolve under a directory that does not exist: no file is read.
  const ScenarioLoad load = ParseScenario(text, "fuzz.yaml", "/nonexistent-vigil-fuzz");
  FUZZ_CHECK(load.scenario.has_value() == load.errors.empty());
  for (const std::string& error : load.errors) {
    FUZZ_CHECK(error.starts_with("fuzz.yaml:") && error.size() > 10);
  }

  const std::string first = text.substr(0, text.find('\n'));
  if (std::optional<int64_t> ms = ParseDurationMs(first)) {
    FUZZ_CHECK(*ms >= 0);
    FUZZ_CHECK(ParseDurationMs(std::to_string(*ms) + "ms") == ms);
  }
  if (std::optional<uint64_t> rate = ParseRate(first)) {
    FUZZ_CHECK(ParseRate(std::to_string(*rate) + "bit") == rate);
  }
  return 0;
}
