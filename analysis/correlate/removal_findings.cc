#include "analysis/correlate/removal_findings.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "analysis/stats/stats.h"
#include "probe/experiments/catalog.h"

namespace vigil::analysis {
namespace {

constexpr double kMinEffect = 0.1;  // a rise in the removed share smaller than this is noise
constexpr size_t kAccountsNamed = 5;

// Where an article's lasting removal (or its lasting availability) falls against one
// window [w0, w1).
enum class Place {
  kNotFollowed,    // not seen available before the window's end, or not measured in it
  kRemovedBefore,  // removed before the window: not followed into it
  kRemovedIn,      // the whole removal interval lies in the window
  kSurvived,       // seen available at or after the window's end
  kCrossesStart,   // available before the window, removed in it
  kCrossesEnd,     // available in the window, removed after it
  kCovers,         // available before the window, removed after it
  kUnmeasured,     // seen available in the window, not measured after it
};

Place PlaceIn(const ArticleHistory& a, int64_t w0, int64_t w1) {
  if (a.state != ArticleState::kRemoved && a.state != ArticleState::kAvailable) {
    return Place::kNotFollowed;
  }
  if (*a.first_available >= w1) return Place::kNotFollowed;
  const int64_t available = *a.last_available;
  if (a.state == ArticleState::kAvailable) {
    if (available >= w1) return Place::kSurvived;
    return available >= w0 ? Place::kUnmeasured : Place::kNotFollowed;
  }
  const int64_t removed = *a.first_removed;
  if (removed < w0) return Place::kRemovedBefore;
  if (available >= w1) return Place::kSurvived;
  if (available >= w0) return removed < w1 ? Place::kRemovedIn : Place::kCrossesEnd;
  return removed < w1 ? Place::kCrossesStart : Place::kCovers;
}

void AddRemoval(RemovalCounts& c, const ArticleHistory& a) {
  ++c.removed;
  ++c.by_class[*a.removal];
  ++c.by_account[a.account];
  c.urls.push_back(a.url);
}

// Counts one window's table: followed and removed. An article not measured after the
// window's end counts as not removed, as far as it was seen: leaving it out would count
// only the removals whose fate is known, and overstate the share removed.
void CountWindow(RemovalCounts& c, const ArticleHistory& a, Place place) {
  if (place == Place::kRemovedIn) {
    ++c.followed;
    AddRemoval(c, a);
  } else if (place == Place::kSurvived || place == Place::kUnmeasured) {
    ++c.followed;
  }
}

std::string ClassText(PostStatus s) {
  std::string name(PostStatusName(s));
  std::replace(name.begin(), name.end(), '_', ' ');
  return name;
}

// "3 days", "1 day", "36 hours", "90 minutes", "45 seconds".
std::string Span(int64_t seconds) {
  auto unit = [](int64_t n, const char* name) {
    return std::to_string(n) + " " + name + (n == 1 ? "" : "s");
  };
  if (seconds % 86400 == 0) return unit(seconds / 86400, "day");
  if (seconds % 3600 == 0) return unit(seconds / 3600, "hour");
  if (seconds % 60 == 0) return unit(seconds / 60, "minute");
  return unit(seconds, "second");
}

std::string PValueText(double p) {
  if (p < 0.001) return "p < 0.001";
  char buf[32];
  std::snprintf(buf, sizeof buf, "p = %.3f", p);
  return buf;
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

// "8 deleted by author, 4 removed for violation".
std::string ClassesText(const RemovalCounts& c) {
  std::vector<std::string> parts;
  for (PostStatus s : kRemovalStatuses) {
    auto it = c.by_class.find(s);
    if (it != c.by_class.end()) parts.push_back(std::to_string(it->second) + " " + ClassText(s));
  }
  return Join(parts, ", ");
}

// "accounts 实验室日报 5, 城市观察 4 and 2 more", most removals first.
std::string AccountsText(const RemovalCounts& c) {
  std::vector<std::pair<uint32_t, std::string>> by_count;
  for (const auto& [account, n] : c.by_account) by_count.emplace_back(n, account);
  std::sort(by_count.begin(), by_count.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<std::string> parts;
  for (size_t i = 0; i < by_count.size() && i < kAccountsNamed; ++i) {
    const std::string& name = by_count[i].second;
    parts.push_back((name.empty() ? "(account unknown)" : name) + " " +
                    std::to_string(by_count[i].first));
  }
  std::string out = (by_count.size() == 1 ? "account " : "accounts ") + Join(parts, ", ");
  if (by_count.size() > kAccountsNamed) {
    out += " and " + std::to_string(by_count.size() - kAccountsNamed) + " more";
  }
  return out;
}

// What the counts leave out, each said once: "; 2 more ...".
std::string Notes(const RemovalFinding& f) {
  std::string out;
  if (f.straddling.removed > 0) {
    const int64_t widest =
        *std::max_element(f.straddling_widths.begin(), f.straddling_widths.end());
    const bool one = f.straddling.removed == 1;
    out += "; " + std::to_string(f.straddling.removed) + " more " + (one ? "was" : "were") +
           " last seen available before the event and first seen removed after it (" +
           ClassesText(f.straddling) + "; " + (one ? "an interval" : "intervals") + " of up to " +
           Span(widest) + " straddling the event), counted in neither window";
  }
  if (f.imprecise > 0) {
    out += "; " + std::to_string(f.imprecise) + " removed in an interval that runs past a " +
           "window's outer edge, not counted";
  }
  if (f.unmeasured > 0) {
    out += "; " + std::to_string(f.unmeasured) +
           " not measured after a window's end, counted as not removed in it";
  }
  if (f.flapped > 0) {
    out += "; " + std::to_string(f.flapped) +
           " removed and then available again (flapping), counted as not removed";
  }
  if (f.never_available > 0) {
    out += "; " + std::to_string(f.never_available) + " never seen available (removed before " +
           (f.never_available == 1 ? "it was" : "they were") + " followed)";
  }
  return out;
}

}  // namespace

bool NamesArticle(const std::vector<std::string>& targets, const ArticleHistory& article) {
  if (targets.empty()) return true;
  const ExperimentDescriptor* posts = ExperimentCatalog::Active().Find(kPostsTestName);
  for (const std::string& t : targets) {
    if (!article.host.empty() && t == article.host) return true;
    if (posts &&
        std::find(posts->services.begin(), posts->services.end(), t) != posts->services.end()) {
      return true;
    }
  }
  return false;
}

std::optional<RemovalFinding> CountRemovals(const TimelineEvent& event, int64_t before_seconds,
                                            int64_t after_seconds,
                                            const std::vector<ArticleHistory>& articles) {
  RemovalFinding f;
  f.start = event.start;
  f.since = event.start - before_seconds;
  f.until = event.start + after_seconds;
  bool seen = false;
  for (const ArticleHistory& a : articles) {
    if (!NamesArticle(event.targets, a)) continue;
    if (!a.first_seen || *a.first_seen >= f.until || *a.last_seen < f.since) continue;
    seen = true;
    if (a.state == ArticleState::kNeverAvailable) ++f.never_available;
    for (const Flap& flap : a.flaps) {
      if (flap.first_removed < f.until && flap.available_again > f.since) {
        ++f.flapped;
        break;
      }
    }
    const Place before = PlaceIn(a, f.since, f.start);
    const Place after = PlaceIn(a, f.start, f.until);
    CountWindow(f.before, a, before);
    CountWindow(f.after, a, after);
    if (a.state == ArticleState::kRemoved && *a.last_available < f.start &&
        *a.first_removed >= f.start) {
      AddRemoval(f.straddling, a);
      f.straddling_widths.push_back(*a.first_removed - *a.last_available);
    } else if (before == Place::kCrossesStart || before == Place::kCovers ||
               after == Place::kCrossesEnd || after == Place::kCovers) {
      ++f.imprecise;
    }
    if (before == Place::kUnmeasured || after == Place::kUnmeasured) ++f.unmeasured;
  }
  if (!seen) return std::nullopt;
  for (RemovalCounts* c : {&f.before, &f.after, &f.straddling}) {
    std::sort(c->urls.begin(), c->urls.end());
  }
  const stats::Table2x2 table{f.before.removed, f.before.followed - f.before.removed,
                              f.after.removed, f.after.followed - f.after.removed};
  f.p_value = stats::FisherExact(table, stats::Alternative::kGreater);
  return f;
}

void SummarizeRemovals(const std::vector<RemovalFinding*>& findings, double alpha) {
  std::vector<RemovalFinding*> tested;
  for (RemovalFinding* f : findings) {
    if (f->before.followed < kMinFollowedArticles || f->after.followed < kMinFollowedArticles) {
      f->outcome = "insufficient_data";
      f->p_adjusted = 1;
      f->summary = "too few followed articles to compare (" + std::to_string(f->before.followed) +
                   " in the " + Span(f->start - f->since) + " before, " +
                   std::to_string(f->after.followed) + " in the " + Span(f->until - f->start) +
                   " after; " + std::to_string(kMinFollowedArticles) + " needed in each)" +
                   Notes(*f);
    } else {
      tested.push_back(f);
    }
  }
  std::vector<double> raw;
  for (const RemovalFinding* f : tested) raw.push_back(f->p_value);
  const std::vector<double> adjusted = stats::HolmAdjust(raw);
  for (size_t i = 0; i < tested.size(); ++i) {
    RemovalFinding& f = *tested[i];
    f.p_adjusted = adjusted[i];
    const double before = static_cast<double>(f.before.removed) / f.before.followed;
    const double after = static_cast<double>(f.after.removed) / f.after.followed;
    f.outcome =
        f.p_adjusted < alpha && after - before >= kMinEffect ? "removals_followed" : "no_change";
    std::string line = std::to_string(f.after.removed) + " of " + std::to_string(f.after.followed) +
                       " followed articles removed within " + Span(f.until - f.start) +
                       " after the event (" + std::to_string(f.before.removed) + " of " +
                       std::to_string(f.before.followed) + " in the " + Span(f.start - f.since) +
                       " before)";
    if (f.after.removed > 0) line += ": " + ClassesText(f.after) + "; " + AccountsText(f.after);
    line += "; " + PValueText(f.p_adjusted) + Notes(f);
    f.summary = f.outcome == "no_change" ? "no rise in removals: " + line : line;
  }
}

}  // namespace vigil::analysis
