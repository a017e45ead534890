// The flags `vigil events` and `vigil report` share (store, timelines, post lists,
// filters, grain, windows, method), their checking into EventsOptions, and the analysis
// they run: one definition, so the page and the table always answer the same question.
// Not thread-safe (command-line handling).
#pragma once

#include <CLI/App.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/correlate/events.h"
#include "base/result.h"

namespace vigil::cli {

struct EventsFlags {
  std::string store;
  std::vector<std::string> timelines;
  bool no_timeline = false;
  std::string posts;  // post lists' folder; "" = testlists/wechat_posts when it has any
  std::string cc;
  std::vector<std::string> asns;
  std::vector<std::string> targets;
  std::vector<std::string> layers;
  std::string test;
  std::string grain = "day";
  std::string since, until;
  std::string before = "7d", after = "7d";
  std::string link;
  std::string method = "cusum";
  std::string rules_version;
  double alpha = 0.01;
};

/// Adds the shared flags to `cmd`; `flags` must outlive it.
void AddEventsFlags(CLI::App* cmd, EventsFlags& flags);

/// The flags checked; errors name the flag.
Result<analysis::EventsOptions> BuildEventsOptions(const EventsFlags& flags);

/// What a command gets from the shared flags: the store's description and the analysis.
struct EventsRun {
  std::string store;
  size_t timeline_files = 0;
  analysis::EventsOptions options;
  analysis::EventsReport report;
};

/// Checks the flags, reads the timelines (--timeline, else testlists/events/*.csv unless
/// --no-timeline; only events from --since to --until) and the post lists (--posts, else
/// testlists/wechat_posts/*.csv when there are any: a bad one there is noted and left
/// out), opens the store and analyses.
/// On failure prints "vigil COMMAND: ..." and returns the exit status (kExitUsage for
/// bad flags or files, kExitFailed for the store).
Result<EventsRun> RunEventsAnalysis(const char* command, const EventsFlags& flags, int* status);

/// "7d", "36h", "90m", "600s", "2w" or plain seconds -> seconds.
Result<int64_t> ParseDuration(std::string_view text);

}  // namespace vigil::cli
