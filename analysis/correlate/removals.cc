#include "analysis/correlate/removals.h"

#include <algorithm>
#include <tuple>

#include "analysis/ingest/ingest.h"

namespace vigil::analysis {

std::string_view ArticleStateName(ArticleState state) {
  switch (state) {
    case ArticleState::kRemoved:
      return "removed";
    case ArticleState::kAvailable:
      return "available";
    case ArticleState::kNeverAvailable:
      return "never_available";
    case ArticleState::kUnseen:
      return "unseen";
  }
  return "?";
}

std::string AccountOfUrl(std::string_view url) {
  const size_t query = url.find('?');
  if (query == std::string_view::npos) return "";
  std::string_view rest = url.substr(query + 1);
  rest = rest.substr(0, rest.find('#'));
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    if (pair.substr(0, 6) == "__biz=") return std::string(pair.substr(6));
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return "";
}

namespace {

// One article's measurements, in time order, into its history.
ArticleHistory Trace(const std::vector<PostRow>& posts, size_t begin, size_t end,
                     const ArticleList& listed) {
  ArticleHistory h;
  h.url = posts[begin].url;
  h.host = std::string(UrlHost(h.url));
  if (auto it = listed.find(h.url); it != listed.end()) {
    h.account = it->second.account;
    h.title = it->second.title;
  }
  if (h.account.empty()) h.account = AccountOfUrl(h.url);
  // The removal being seen now, if any: since when, how, and the availability before it.
  std::optional<Flap> removed;
  for (size_t i = begin; i < end; ++i) {
    const PostRow& p = posts[i];
    ++h.measurements;
    const std::optional<PostStatus> status = ParsePostStatus(p.post_status);
    if (status == PostStatus::kUnreachable) {
      ++h.unreachable;
      continue;
    }
    if (!status || *status == PostStatus::kUnknown) {
      ++h.unknown;
      continue;
    }
    if (!h.first_seen) h.first_seen = p.start_time;
    h.last_seen = p.start_time;
    if (*status == PostStatus::kAvailable) {
      if (removed) {
        removed->available_again = p.start_time;
        h.flaps.push_back(*removed);
        removed.reset();
      }
      if (!h.first_available) h.first_available = p.start_time;
      h.last_available = p.start_time;
      if (!p.title.empty()) h.title = p.title;
    } else if (!removed) {
      removed = Flap{h.last_available, p.start_time, *status, 0};
    }
  }
  if (removed) {
    h.state = h.last_available ? ArticleState::kRemoved : ArticleState::kNeverAvailable;
    h.first_removed = removed->first_removed;
    h.removal = removed->removal;
  } else if (h.last_available) {
    h.state = ArticleState::kAvailable;
  }
  return h;
}

}  // namespace

std::vector<ArticleHistory> TraceArticles(std::vector<PostRow> posts, const ArticleList& listed) {
  std::sort(posts.begin(), posts.end(), [](const PostRow& a, const PostRow& b) {
    return std::tie(a.url, a.start_time, a.measurement_uid) <
           std::tie(b.url, b.start_time, b.measurement_uid);
  });
  std::vector<ArticleHistory> out;
  size_t begin = 0;
  while (begin < posts.size()) {
    size_t end = begin + 1;
    while (end < posts.size() && posts[end].url == posts[begin].url) ++end;
    out.push_back(Trace(posts, begin, end, listed));
    begin = end;
  }
  return out;
}

}  // namespace vigil::analysis
