// Removals: what became of each followed WeChat public-account article, from the
// wechat_posts measurements of it over time (the stores' posts table). Per article: its
// account, when it was last seen available, when it was first seen removed and how
// (deleted by its author, removed for violation, its account blocked) — or that it is
// still available, or was never seen available. A removal happened at an unknown time in
// the interval (last seen available, first seen removed]: sparse measurements give a wide
// interval, and nothing here pretends to know better. An article removed and then seen
// available again (flapping) keeps each such episode, reported beside its lasting state.
// Unreachable and unknown measurements (the network failed, or a page that is neither
// the article nor a notice) never count as removed or as available: they neither date a
// removal nor end one. Measurements from every vantage are pooled: a removal is the
// platform's doing, the same wherever it is seen from. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/model/rows.h"
#include "base/post_status.h"

namespace vigil::analysis {

/// What a post list says of an article (testlists/wechat_posts/*.csv).
struct ListedArticle {
  std::string account;
  std::string title;
};
/// Listed articles by URL.
using ArticleList = std::map<std::string, ListedArticle>;

enum class ArticleState : uint8_t {
  kRemoved,         // seen available, and removed since (its newest usable measurement)
  kAvailable,       // its newest usable measurement found the article
  kNeverAvailable,  // every usable measurement found a removal: removed before it was followed
  kUnseen,          // no usable measurement: every one unreachable or unknown
};

/// "removed", "available", "never_available", "unseen".
std::string_view ArticleStateName(ArticleState state);

/// A removal that did not last: first seen removed, then seen available again.
struct Flap {
  std::optional<int64_t> last_available;  // before the removal; none when it came first
  int64_t first_removed = 0;
  PostStatus removal = PostStatus::kDeletedByAuthor;
  int64_t available_again = 0;  // the first measurement that found the article again
};

/// One article's history.
struct ArticleHistory {
  std::string url;
  std::string account;  // the post list's; else the __biz of a long URL; else ""
  std::string host;     // the URL's host (what timeline events name among their targets)
  std::string title;    // the newest title seen available; else the post list's
  ArticleState state = ArticleState::kUnseen;
  std::optional<int64_t> first_available;
  // The newest measurement that found the article; for kRemoved, the lasting removal's
  // lower bound.
  std::optional<int64_t> last_available;
  // kRemoved and kNeverAvailable: the first measurement of the lasting removal, and how.
  std::optional<int64_t> first_removed;
  std::optional<PostStatus> removal;
  std::vector<Flap> flaps;  // in time order
  // The first and newest usable measurements (available or removed).
  std::optional<int64_t> first_seen, last_seen;
  uint32_t measurements = 0;  // every one, usable or not
  uint32_t unreachable = 0;
  uint32_t unknown = 0;  // unknown, or a post_status the analyzer does not know
};

/// One history per URL, sorted by URL, from `posts` in any order (ties in time ordered by
/// uid, so the answer does not depend on the order the store gives).
std::vector<ArticleHistory> TraceArticles(std::vector<PostRow> posts, const ArticleList& listed);

/// The account a long article URL names (its __biz parameter, "MzA5..."), or "".
std::string AccountOfUrl(std::string_view url);

}  // namespace vigil::analysis
