// Removal findings: a timeline event set against the followed articles' histories
// (removals.h) — how many articles were removed in the window after its start against
// the window before, by class and account, with Fisher's exact test, and one line that
// says it ("12 of 20 followed articles removed within 3 days after the event (0 of 19 in
// the 3 days before): 8 deleted by author, 4 removed for violation; ...; p < 0.001").
//
// A removal is dated by its interval (last seen available, first seen removed]: it counts
// in a window only when the whole interval lies inside it. An interval around the event's
// start (available before it, removed after it) counts in neither window and is said so,
// as is one that runs past a window's outer edge. An article followed into a window but
// not measured after its end counts as not removed there (as far as it was seen: leaving
// it out would overstate the share removed), and is said so. Flapping articles (removed,
// then available again) count as not removed, and are said so. A window needs
// kMinFollowedArticles, or there is no finding, only the reason. Pure functions;
// thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "analysis/correlate/removals.h"
#include "analysis/correlate/timeline.h"

namespace vigil::analysis {

/// Followed articles a window needs for a finding.
inline constexpr uint32_t kMinFollowedArticles = 10;

/// Removals of one window (or of those straddling the event).
struct RemovalCounts {
  uint32_t followed = 0;  // articles followed into the window (seen available before its end)
  uint32_t removed = 0;   // of those, removed in it
  std::map<PostStatus, uint32_t> by_class;
  std::map<std::string, uint32_t> by_account;
  std::vector<std::string> urls;  // the removed articles, sorted
};

struct RemovalFinding {
  int64_t since = 0, start = 0, until = 0;  // windows [since, start) and [start, until)
  RemovalCounts before, after;
  // Last seen available before the event's start and first seen removed at or after it:
  // removed before or after the event, no one can say. In neither window.
  RemovalCounts straddling;
  std::vector<int64_t> straddling_widths;  // each straddling interval's length, seconds
  uint32_t imprecise = 0;        // removed in an interval that runs past a window's outer edge
  uint32_t unmeasured = 0;       // followed into a window, not measured after its end
  uint32_t flapped = 0;          // removed and available again, the removal within the windows
  uint32_t never_available = 0;  // seen in the windows, but only ever removed
  double p_value = 1;            // Fisher, one-sided: removals rose after the event
  double p_adjusted = 1;         // Holm over the run's removal findings that were tested
  // "removals_followed", "no_change", "insufficient_data".
  std::string outcome;
  std::string summary;  // the one-line finding
};

/// Whether `targets` (a timeline event's, or --target's) name `article`: none (every
/// target), the article's host, or a service the wechat_posts experiment tests (the
/// experiment catalog's: wechat).
bool NamesArticle(const std::vector<std::string>& targets, const ArticleHistory& article);

/// The removals around `event` in windows [start - before, start) and [start, start +
/// after) among the articles it names; nullopt when none of them was seen in the windows.
/// Counts only: SummarizeRemovals gives the outcome and the line.
std::optional<RemovalFinding> CountRemovals(const TimelineEvent& event, int64_t before_seconds,
                                            int64_t after_seconds,
                                            const std::vector<ArticleHistory>& articles);

/// Holm over the findings with enough articles, then each one's outcome (removals_followed:
/// adjusted p below `alpha` and the removed share up by at least 10 points) and line.
void SummarizeRemovals(const std::vector<RemovalFinding*>& findings, double alpha);

}  // namespace vigil::analysis
