// RunVerdict: the word `vigil run` gives each job, and its one name table: the words
// its verdict table prints and the results database keeps are spelt there and nowhere
// else. Experiments judge a measurement as ok, blocked, anomaly or down (error when
// there is none); the runner adds error and skipped for jobs that could not run or were
// not started. Constant tables; safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string_view>

namespace vigil {

enum class RunVerdict : uint8_t {
  kOk = 0,         // reachable, nothing seen
  kBlocked = 1,    // interference seen (RunSummary::blocking names where)
  kAnomaly = 2,    // something off that does not amount to blocking
  kDown = 3,       // the target failed for the control too: not the network's doing
  kError = 4,      // no verdict: the measurement could not be made
  kSkipped = 5,    // no measurement: the job was not started
  kNoNetwork = 6,  // the probe's own network was unusable: says nothing about censorship
};

/// Every verdict, in the order of their numbers.
inline constexpr std::array<RunVerdict, 7> kRunVerdicts = {
    RunVerdict::kOk,    RunVerdict::kBlocked, RunVerdict::kAnomaly,  RunVerdict::kDown,
    RunVerdict::kError, RunVerdict::kSkipped, RunVerdict::kNoNetwork};

/// The verdict's name: "ok", "blocked", "anomaly", "down", "error", "skipped" or
/// "no_network".
std::string_view RunVerdictName(RunVerdict verdict);

/// The verdict named `text` (RunVerdictName's inverse); nullopt for any other word.
std::optional<RunVerdict> ParseRunVerdict(std::string_view text);

/// Writes the name (for messages and test failures).
std::ostream& operator<<(std::ostream& os, RunVerdict verdict);

}  // namespace vigil
