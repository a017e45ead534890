// Removals of followed public-account articles: histories from crafted wechat_posts
// measurements (each class, flapping, a removal never seen coming, unreachable and
// unknown measurements between, several vantages, any order), the removals around a
// timeline event (a wave after it, sparse measurements whose interval straddles it, an
// interval past a window's edge, an article not measured after a window, too few
// articles, an event that names other targets), and the rule that a removal is never
// network blocking: generated measurements through ingest, the shipped rules and a store
// score every removal ok and count none of them blocked in any series.
#include "analysis/correlate/removals.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>

#include "analysis/correlate/removal_findings.h"
#include "analysis/ingest/ingest.h"
#include "analysis/series/series.h"
#include "analysis/store/store.h"
#include "analysis/verdict/rules.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil::analysis {
namespace {

constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;
constexpr int64_t kEvent = 1716249600;  // 2024-05-21T00:00:00Z

const char* kUrl = "https://mp.weixin.qq.com/s/a";

PostRow Post(const std::string& url, int64_t t, const std::string& status,
             const std::string& title = "", const std::string& uid = "") {
  PostRow p;
  p.url = url;
  p.start_time = t;
  p.post_status = status;
  p.title = title;
  p.measurement_uid = uid.empty() ? url + "@" + std::to_string(t) : uid;
  p.probe_cc = "CN";
  p.probe_asn = 4134;
  return p;
}

ArticleHistory One(const std::vector<PostRow>& posts, const ArticleList& listed = {}) {
  const std::vector<ArticleHistory> h = TraceArticles(posts, listed);
  EXPECT_EQ(h.size(), 1u);
  return h.empty() ? ArticleHistory{} : h[0];
}

TEST(ArticleHistoryTest, EachRemovalClassIsDatedByItsInterval) {
  for (const char* status : {"deleted_by_author", "removed_for_violation", "account_blocked"}) {
    const ArticleHistory h = One({Post(kUrl, 100, "available"), Post(kUrl, 200, "available"),
                                  Post(kUrl, 300, status), Post(kUrl, 400, status)});
    EXPECT_EQ(h.state, ArticleState::kRemoved) << status;
    EXPECT_EQ(h.first_available, 100);
    EXPECT_EQ(h.last_available, 200) << "the interval opens at the last sighting";
    EXPECT_EQ(h.first_removed, 300) << "and closes at the first removal seen";
    ASSERT_TRUE(h.removal.has_value());
    EXPECT_EQ(PostStatusName(*h.removal), status);
    EXPECT_TRUE(h.flaps.empty());
    EXPECT_EQ(h.measurements, 4u);
  }
  const ArticleHistory available =
      One({Post(kUrl, 100, "available"), Post(kUrl, 200, "available")});
  EXPECT_EQ(available.state, ArticleState::kAvailable);
  EXPECT_EQ(available.last_available, 200);
  EXPECT_FALSE(available.first_removed.has_value());
  EXPECT_FALSE(available.removal.has_value());
}

TEST(ArticleHistoryTest, UnreachableAndUnknownNeitherDateNorEndARemoval) {
  const ArticleHistory h =
      One({Post(kUrl, 100, "available"), Post(kUrl, 200, "unreachable"), Post(kUrl, 300, "unknown"),
           Post(kUrl, 400, "deleted_by_author"), Post(kUrl, 500, "unreachable"),
           Post(kUrl, 600, "unknown"),
           Post(kUrl, 700, "gone"),  // a word the analyzer does not know: unknown
           Post(kUrl, 800, "deleted_by_author")});
  EXPECT_EQ(h.state, ArticleState::kRemoved);
  EXPECT_EQ(h.last_available, 100) << "the unreachable and unknown fetches widen the interval";
  EXPECT_EQ(h.first_removed, 400);
  EXPECT_TRUE(h.flaps.empty()) << "an unknown page after a removal does not end it";
  EXPECT_EQ(h.unreachable, 2u);
  EXPECT_EQ(h.unknown, 3u);
  EXPECT_EQ(h.measurements, 8u);
  EXPECT_EQ(h.first_seen, 100);
  EXPECT_EQ(h.last_seen, 800);

  const ArticleHistory unseen = One({Post(kUrl, 100, "unreachable"), Post(kUrl, 200, "unknown")});
  EXPECT_EQ(unseen.state, ArticleState::kUnseen);
  EXPECT_FALSE(unseen.last_available.has_value());
  EXPECT_FALSE(unseen.first_removed.has_value());
  EXPECT_FALSE(unseen.first_seen.has_value());
}

TEST(ArticleHistoryTest, FlappingIsReportedBesideTheLastingState) {
  // Removed, back, removed for good.
  const ArticleHistory h =
      One({Post(kUrl, 100, "available"), Post(kUrl, 200, "removed_for_violation"),
           Post(kUrl, 250, "unreachable"), Post(kUrl, 300, "available"),
           Post(kUrl, 400, "deleted_by_author"), Post(kUrl, 500, "available"),
           Post(kUrl, 600, "account_blocked")});
  EXPECT_EQ(h.state, ArticleState::kRemoved);
  EXPECT_EQ(h.last_available, 500);
  EXPECT_EQ(h.first_removed, 600);
  EXPECT_EQ(h.removal, PostStatus::kAccountBlocked);
  ASSERT_EQ(h.flaps.size(), 2u);
  EXPECT_EQ(h.flaps[0].last_available, 100);
  EXPECT_EQ(h.flaps[0].first_removed, 200);
  EXPECT_EQ(h.flaps[0].removal, PostStatus::kRemovedForViolation);
  EXPECT_EQ(h.flaps[0].available_again, 300);
  EXPECT_EQ(h.flaps[1].first_removed, 400);
  EXPECT_EQ(h.flaps[1].available_again, 500);

  // Removed, then available for good: available, with the episode kept.
  const ArticleHistory back =
      One({Post(kUrl, 100, "available"), Post(kUrl, 200, "deleted_by_author"),
           Post(kUrl, 300, "available")});
  EXPECT_EQ(back.state, ArticleState::kAvailable);
  ASSERT_EQ(back.flaps.size(), 1u);
  EXPECT_EQ(back.flaps[0].available_again, 300);

  // Seen removed first, then available: an episode without an availability before it.
  const ArticleHistory late =
      One({Post(kUrl, 100, "deleted_by_author"), Post(kUrl, 200, "available")});
  EXPECT_EQ(late.state, ArticleState::kAvailable);
  ASSERT_EQ(late.flaps.size(), 1u);
  EXPECT_FALSE(late.flaps[0].last_available.has_value());
}

TEST(ArticleHistoryTest, AnArticleOnlyEverSeenRemovedWasNeverAvailable) {
  const ArticleHistory h =
      One({Post(kUrl, 100, "unreachable"), Post(kUrl, 200, "deleted_by_author"),
           Post(kUrl, 300, "account_blocked")});
  EXPECT_EQ(h.state, ArticleState::kNeverAvailable);
  EXPECT_FALSE(h.last_available.has_value());
  EXPECT_EQ(h.first_removed, 200);
  EXPECT_EQ(h.removal, PostStatus::kDeletedByAuthor) << "how it was first seen removed";
}

TEST(ArticleHistoryTest, ArticlesAreKeptApartAndTheOrderGivenDoesNotMatter) {
  std::vector<PostRow> posts;
  for (int64_t t = 0; t < 20; ++t) {
    posts.push_back(
        Post(kUrl, t * 100, t < 10 ? "available" : "deleted_by_author", "t" + std::to_string(t)));
    posts.push_back(Post("https://mp.weixin.qq.com/s/b", t * 100, "available"));
  }
  // Two vantages at the same second disagree: the uid decides their order, whatever the
  // order they come in.
  posts.push_back(Post(kUrl, 950, "available", "", "z"));
  posts.push_back(Post(kUrl, 950, "deleted_by_author", "", "y"));
  std::vector<ArticleHistory> want = TraceArticles(posts, {});
  ASSERT_EQ(want.size(), 2u);
  EXPECT_EQ(want[0].url, kUrl);
  EXPECT_EQ(want[0].last_available, 950);
  EXPECT_EQ(want[0].first_removed, 1000);
  ASSERT_EQ(want[0].flaps.size(), 1u) << "removed at 950 by y, available at 950 by z";
  EXPECT_EQ(want[0].title, "t9") << "the newest title seen available";
  EXPECT_EQ(want[1].state, ArticleState::kAvailable);
  std::mt19937 rng(7);
  for (int i = 0; i < 5; ++i) {
    std::shuffle(posts.begin(), posts.end(), rng);
    const std::vector<ArticleHistory> got = TraceArticles(posts, {});
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].last_available, want[0].last_available);
    EXPECT_EQ(got[0].first_removed, want[0].first_removed);
    EXPECT_EQ(got[0].flaps.size(), want[0].flaps.size());
  }
}

TEST(ArticleHistoryTest, TheAccountComesFromTheListElseFromALongUrl) {
  const std::string long_url =
      "https://mp.weixin.qq.com/s?__biz=MzA5NjA1MTY0MQ==&mid=2650&idx=1&sn=9f3e";
  ArticleList listed;
  listed[kUrl] = {"城市观察", "公园开放"};
  const std::vector<ArticleHistory> h =
      TraceArticles({Post(kUrl, 100, "deleted_by_author"), Post(long_url, 100, "available"),
                     Post("https://mp.weixin.qq.com/s/c", 100, "available", "自己的标题")},
                    listed);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].url, kUrl);
  EXPECT_EQ(h[0].account, "城市观察");
  EXPECT_EQ(h[0].title, "公园开放") << "never seen available: the list's title";
  EXPECT_EQ(h[0].host, "mp.weixin.qq.com");
  EXPECT_EQ(h[1].url, "https://mp.weixin.qq.com/s/c");
  EXPECT_EQ(h[1].account, "");
  EXPECT_EQ(h[1].title, "自己的标题");
  EXPECT_EQ(h[2].account, "MzA5NjA1MTY0MQ==");
  EXPECT_EQ(AccountOfUrl("https://mp.weixin.qq.com/s?mid=1&__biz=X&idx=1"), "X");
  EXPECT_EQ(AccountOfUrl("https://mp.weixin.qq.com/s/abc"), "");
}

// --- Findings around a timeline event ------------------------------------------------

TimelineEvent Campaign(std::vector<std::string> targets = {"wechat"}) {
  TimelineEvent e;
  e.id = "campaign";
  e.start = kEvent;
  e.cc = "CN";
  e.targets = std::move(targets);
  return e;
}

// An article measured every `step` from 7 days before the event to 7 days after (offset
// by `phase`), available until `removed_at` (then `status`), by `account`.
std::vector<PostRow> Followed(const std::string& id, std::optional<int64_t> removed_at,
                              const std::string& status, int64_t step = 6 * kHour,
                              int64_t phase = 600) {
  std::vector<PostRow> out;
  for (int64_t t = kEvent - 7 * kDay + phase; t < kEvent + 7 * kDay; t += step) {
    out.push_back(Post("https://mp.weixin.qq.com/s/" + id, t,
                       removed_at && t >= *removed_at ? status : "available"));
  }
  return out;
}

struct Scenario {
  std::vector<PostRow> posts;
  ArticleList listed;
  void Add(const std::string& id, const std::string& account, std::optional<int64_t> removed_at,
           const std::string& status = "deleted_by_author", int64_t step = 6 * kHour,
           int64_t phase = 600) {
    for (PostRow& p : Followed(id, removed_at, status, step, phase)) posts.push_back(std::move(p));
    listed["https://mp.weixin.qq.com/s/" + id] = {account, ""};
  }
  std::optional<RemovalFinding> Find(const TimelineEvent& e, int64_t before = 3 * kDay,
                                     int64_t after = 3 * kDay) const {
    std::optional<RemovalFinding> f = CountRemovals(e, before, after, TraceArticles(posts, listed));
    if (f) SummarizeRemovals({&*f}, 0.01);
    return f;
  }
};

// 20 articles: 8 deleted by their authors and 4 removed for violation within 3 days after
// the event, none before.
Scenario AWave() {
  Scenario s;
  for (int i = 0; i < 20; ++i) {
    const std::string id = "w" + std::to_string(i);
    const std::string account = i % 2 ? "山河评论" : "城市观察";
    if (i < 8) {
      s.Add(id, account, kEvent + (3 + 6 * i) * kHour, "deleted_by_author");
    } else if (i < 12) {
      s.Add(id, account, kEvent + (5 + 12 * (i - 8)) * kHour, "removed_for_violation");
    } else {
      s.Add(id, account, std::nullopt);
    }
  }
  return s;
}

TEST(RemovalFindingTest, AWaveAfterTheEventIsCountedByClassAndAccountAndTested) {
  const std::optional<RemovalFinding> f = AWave().Find(Campaign());
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->after.followed, 20u);
  EXPECT_EQ(f->after.removed, 12u);
  EXPECT_EQ(f->before.followed, 20u);
  EXPECT_EQ(f->before.removed, 0u);
  EXPECT_EQ(f->after.by_class.at(PostStatus::kDeletedByAuthor), 8u);
  EXPECT_EQ(f->after.by_class.at(PostStatus::kRemovedForViolation), 4u);
  EXPECT_EQ(f->after.by_account.at("城市观察"), 6u);
  EXPECT_EQ(f->after.by_account.at("山河评论"), 6u);
  EXPECT_EQ(f->after.urls.size(), 12u);
  EXPECT_LT(f->p_value, 0.001);
  EXPECT_EQ(f->outcome, "removals_followed");
  EXPECT_EQ(f->summary.rfind("12 of 20 followed articles removed within 3 days after the event "
                             "(0 of 20 in the 3 days before): 8 deleted by author, 4 removed "
                             "for violation; accounts 城市观察 6, 山河评论 6; p < 0.001",
                             0),
            0u)
      << f->summary;
  EXPECT_EQ(f->summary.find("straddl"), std::string::npos) << "none straddles";
}

TEST(RemovalFindingTest, SparseMeasurementsAroundTheEventStraddleItAndCountInNeitherWindow) {
  Scenario s = AWave();
  // Measured once a day at 12:00 and removed at 03:00 after the event: last seen
  // available 12 h before it, first seen removed 12 h after it.
  s.Add("daily1", "新知周刊", kEvent + 3 * kHour, "removed_for_violation", kDay, 12 * kHour);
  s.Add("daily2", "新知周刊", kEvent + 9 * kHour, "deleted_by_author", kDay, 12 * kHour);
  const std::vector<ArticleHistory> h = TraceArticles(s.posts, s.listed);
  const auto daily = std::find_if(
      h.begin(), h.end(), [](const ArticleHistory& a) { return a.url.ends_with("daily1"); });
  ASSERT_NE(daily, h.end());
  EXPECT_EQ(daily->last_available, kEvent - 12 * kHour);
  EXPECT_EQ(daily->first_removed, kEvent + 12 * kHour);

  const std::optional<RemovalFinding> f = s.Find(Campaign());
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->after.removed, 12u) << "not counted after the event";
  EXPECT_EQ(f->after.followed, 20u);
  EXPECT_EQ(f->before.removed, 0u) << "nor before it";
  EXPECT_EQ(f->before.followed, 20u);
  EXPECT_EQ(f->straddling.removed, 2u);
  EXPECT_EQ(f->straddling.by_account.at("新知周刊"), 2u);
  EXPECT_EQ(f->straddling_widths, (std::vector<int64_t>{kDay, kDay}));
  EXPECT_NE(f->summary.find("; 2 more were last seen available before the event and first seen "
                            "removed after it (1 deleted by author, 1 removed for violation; "
                            "intervals of up to 1 day straddling the event), counted in neither "
                            "window"),
            std::string::npos)
      << f->summary;

  // Measured often, the same removals are dated after the event.
  Scenario often = AWave();
  often.Add("daily1", "新知周刊", kEvent + 3 * kHour, "removed_for_violation");
  const std::optional<RemovalFinding> g = often.Find(Campaign());
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->straddling.removed, 0u);
  EXPECT_EQ(g->after.removed, 13u);
}

TEST(RemovalFindingTest, IntervalsPastAWindowAndArticlesNotMeasuredAfterItAreSaidSo) {
  Scenario s = AWave();
  // Last seen 12 h before the after window's end, then unreachable until 12 h after it:
  // removed in the window or after it, no one can say.
  s.Add("late", "新知周刊", kEvent + 3 * kDay + 2 * kHour, "deleted_by_author");
  for (PostRow& p : s.posts) {
    if (p.url.ends_with("/late") && p.start_time > kEvent + 3 * kDay - 12 * kHour &&
        p.start_time < kEvent + 3 * kDay + 12 * kHour) {
      p.post_status = "unreachable";
    }
  }
  // Followed into the after window, measured for the last time inside it.
  for (PostRow& p : Followed("stopped", std::nullopt, "")) {
    if (p.start_time < kEvent + kDay) s.posts.push_back(p);
  }
  // Removed and back within the windows.
  for (PostRow& p : Followed("flap", kEvent + kDay, "removed_for_violation")) {
    if (p.start_time >= kEvent + 2 * kDay) p.post_status = "available";
    s.posts.push_back(p);
  }
  const std::optional<RemovalFinding> f = s.Find(Campaign());
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->imprecise, 1u);
  EXPECT_EQ(f->unmeasured, 1u);
  EXPECT_EQ(f->flapped, 1u);
  EXPECT_EQ(f->after.removed, 12u);
  EXPECT_EQ(f->after.followed, 22u) << "the unmeasured and the flapping article count, not removed";
  EXPECT_NE(f->summary.find("; 1 removed in an interval that runs past a window's outer edge, "
                            "not counted"),
            std::string::npos)
      << f->summary;
  EXPECT_NE(f->summary.find("; 1 not measured after a window's end, counted as not removed in it"),
            std::string::npos)
      << f->summary;
  EXPECT_NE(f->summary.find("; 1 removed and then available again (flapping), counted as not "
                            "removed"),
            std::string::npos)
      << f->summary;
}

TEST(RemovalFindingTest, TooFewArticlesGiveNoFindingAndSayWhy) {
  Scenario s;
  for (int i = 0; i < 6; ++i) {
    s.Add("f" + std::to_string(i), "城市观察",
          i < 4 ? std::optional<int64_t>(kEvent + kDay) : std::nullopt);
  }
  const std::optional<RemovalFinding> f = s.Find(Campaign());
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->outcome, "insufficient_data");
  EXPECT_EQ(f->summary,
            "too few followed articles to compare (6 in the 3 days before, 6 in the 3 days after; "
            "10 needed in each)");
  EXPECT_EQ(f->after.removed, 4u) << "the counts are still given";
}

TEST(RemovalFindingTest, RemovalsAsManyBeforeAsAfterAreNoChange) {
  Scenario s;
  for (int i = 0; i < 20; ++i) {
    std::optional<int64_t> at;
    if (i < 3) at = kEvent - (10 + 12 * i) * kHour;
    if (i >= 3 && i < 6) at = kEvent + (10 + 12 * (i - 3)) * kHour;
    s.Add("n" + std::to_string(i), "城市观察", at);
  }
  const std::optional<RemovalFinding> f = s.Find(Campaign());
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->before.removed, 3u);
  EXPECT_EQ(f->after.removed, 3u);
  EXPECT_EQ(f->outcome, "no_change");
  EXPECT_EQ(f->summary.rfind("no rise in removals: 3 of 17 followed articles removed", 0), 0u)
      << f->summary;
}

TEST(RemovalFindingTest, OnlyEventsNamingTheArticlesOrEveryTargetConcernThem) {
  const Scenario s = AWave();
  EXPECT_FALSE(s.Find(Campaign({"telegram", "whatsapp"})).has_value());
  EXPECT_TRUE(s.Find(Campaign({})).has_value()) << "no targets: every target";
  EXPECT_TRUE(s.Find(Campaign({"wechat"})).has_value()) << "the service wechat_posts tests";
  EXPECT_TRUE(s.Find(Campaign({"mp.weixin.qq.com"})).has_value()) << "the articles' host";
  // An event long after every measurement: nothing seen in its windows.
  TimelineEvent later = Campaign();
  later.start = kEvent + 60 * kDay;
  EXPECT_FALSE(s.Find(later).has_value());
}

TEST(RemovalFindingTest, HolmAdjustsOverTheTestedFindings) {
  const Scenario wave = AWave();
  const std::vector<ArticleHistory> h = TraceArticles(wave.posts, wave.listed);
  std::optional<RemovalFinding> a = CountRemovals(Campaign(), 3 * kDay, 3 * kDay, h);
  std::optional<RemovalFinding> b = CountRemovals(Campaign(), 3 * kDay, 3 * kDay, h);
  ASSERT_TRUE(a && b);
  SummarizeRemovals({&*a, &*b}, 0.01);
  EXPECT_DOUBLE_EQ(a->p_adjusted, std::min(1.0, 2 * a->p_value));
}

// --- A removal is never network blocking ---------------------------------------------

TEST(RemovalsAreNotBlockingTest, GeneratedRemovalsScoreOkAndNoSeriesCountsThemBlocked) {
  test_support::TempDir dir("vigil-removals-");
  const std::string file = dir.Join("posts.jsonl");
  auto gen = test_support::RunCommand(
      {"python3", test_support::SourceDir() + "/bench/gen_post_measurements.py", "--out", file,
       "--event-time", "2024-05-21T00:00:00Z"},
      std::chrono::seconds(120));
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  auto engine = VerdictEngine::Load(test_support::SourceDir() + "/testlists/verdict/rules.json",
                                    test_support::SourceDir() + "/testlists/fingerprints");
  ASSERT_TRUE(engine.ok()) << engine.error();
  auto store = OpenStore(dir.Join("s.sqlite"));
  ASSERT_TRUE(store.ok()) << store.error();
  std::vector<ExtractedMeasurement> facts;
  std::vector<VerdictRow> verdicts;
  std::map<int64_t, uint32_t> unreachable_per_day;
  std::map<std::string, uint32_t> statuses;
  std::string errors;
  auto read = IngestPath(
      file, IngestOptions{},
      [&](ExtractedMeasurement& m) {
        const VerdictRow v = engine->Score(m, 4102444800);
        const std::optional<PostRow> post = PostRowOf(m);
        ASSERT_TRUE(post.has_value());
        const std::optional<PostStatus> status = ParsePostStatus(post->post_status);
        ASSERT_TRUE(status.has_value()) << post->post_status;
        ++statuses[post->post_status];
        if (IsRemoval(*status) || *status == PostStatus::kAvailable) {
          EXPECT_EQ(v.verdict, VerdictClass::kOk) << post->post_status << " " << m.summary_json;
          EXPECT_EQ(v.blocked_layers, 0) << post->post_status;
          EXPECT_EQ(v.blocking_type, "") << post->post_status;
        }
        if (*status == PostStatus::kUnreachable) {
          ++unreachable_per_day[m.measurement.start_time / kDay * kDay];
        }
        facts.push_back(std::move(m));
        verdicts.push_back(v);
      },
      [&](const IngestError& e) { errors += e.reason + "\n"; });
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_EQ(errors, "");
  for (const char* s : {"available", "deleted_by_author", "removed_for_violation",
                        "account_blocked", "unreachable", "unknown"}) {
    EXPECT_GT(statuses[s], 0u) << s << ": the generator's measurements have every status";
  }
  ASSERT_TRUE((*store)->Write(facts, verdicts).ok());
  ASSERT_TRUE((*store)->Commit().ok());
  SeriesQuery q;
  q.since = kEvent - 7 * kDay;
  q.until = kEvent + 7 * kDay;
  auto series = BuildSeries(**store, q);
  ASSERT_TRUE(series.ok()) << series.error();
  ASSERT_FALSE(series->series.empty());
  for (const Series& s : series->series) {
    EXPECT_EQ(s.key.target, "mp.weixin.qq.com");
    for (size_t i = 0; i < s.cells.size(); ++i) {
      // Only the fetches that failed on the network count as blocked.
      const uint32_t unreachable = unreachable_per_day[s.CellTime(i)];
      EXPECT_LE(s.cells[i].blocked, unreachable) << SeriesLayerName(s.key.layer) << " cell " << i;
      if (s.key.layer == SeriesLayer::kAny) {
        EXPECT_EQ(s.cells[i].blocked, unreachable) << i;
      }
    }
  }
}

}  // namespace
}  // namespace vigil::analysis
