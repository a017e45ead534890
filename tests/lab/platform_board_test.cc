// The lab's stand-in platform: its board moves posts through a scenario's platform
// phases at their offsets and no earlier, its pages carry the article or the notice the
// wechat_posts experiment's fingerprints name, and its truth lines say what each post
// shows from when.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/lab/censor/scenario_parser.h"
#include "tests/lab/platform/platform_truth.h"
#include "tests/lab/platform/post_board.h"
#include "tests/lab/platform/post_pages.h"

namespace vigil::lab {
namespace {

Platform PostsRemoval() {
  ScenarioLoad load = LoadScenarioFile(LAB_DIR "/scenarios/posts-removal.yaml");
  EXPECT_TRUE(load.scenario) << (load.errors.empty() ? "" : load.errors[0]);
  return load.scenario ? load.scenario->lab.platform : Platform{};
}

TEST(PostBoardTest, PhasesApplyAtTheirStartAndNotBefore) {
  PostBoard board(PostsRemoval());
  const auto initial = board.Initial();
  ASSERT_EQ(initial.size(), 6u);
  for (const auto& c : initial) {
    EXPECT_EQ(c.status, PostStatus::kAvailable);
    EXPECT_EQ(c.phase, -1);
  }
  EXPECT_EQ(board.NextPhaseMs(), 20000);
  EXPECT_TRUE(board.AdvanceTo(0).empty());
  EXPECT_TRUE(board.AdvanceTo(19999).empty());
  const PlatformPost* deleted = board.Find("lab-daily-2");
  ASSERT_NE(deleted, nullptr);
  EXPECT_EQ(board.StatusOf(*deleted), PostStatus::kAvailable);

  const auto changes = board.AdvanceTo(20000);
  EXPECT_EQ(changes, (std::vector<PostChange>{
                         {"lab-daily-2", PostStatus::kDeletedByAuthor, 0},
                         {"lab-city-1", PostStatus::kRemovedForViolation, 0},
                         {"lab-forum-1", PostStatus::kAccountBlocked, 0},
                         {"lab-forum-2", PostStatus::kAccountBlocked, 0},
                     }));
  EXPECT_EQ(board.StatusOf(*deleted), PostStatus::kDeletedByAuthor);
  EXPECT_EQ(board.StatusOf(*board.Find("lab-daily-1")), PostStatus::kAvailable);
  EXPECT_EQ(board.NextPhaseMs(), std::nullopt);
  EXPECT_TRUE(board.AdvanceTo(60000).empty()) << "each phase applies once";
  EXPECT_EQ(board.Find("nothing"), nullptr);
}

TEST(PostBoardTest, LatePhasesCatchUpInOrderAndRepeatsAreNoChange) {
  Platform p;
  p.posts = {{"a", "A", "T", "B", 1}, {"b", "A", "T", "B", 2}};
  p.phases = {
      {1000, {{"a", PostStatus::kDeletedByAuthor}}, 3},
      {2000, {{"a", PostStatus::kDeletedByAuthor}, {"b", PostStatus::kRemovedForViolation}}, 4},
      {3000, {{"a", PostStatus::kRemovedForViolation}}, 5}};
  PostBoard board(p);
  EXPECT_EQ(board.AdvanceTo(5000),
            (std::vector<PostChange>{{"a", PostStatus::kDeletedByAuthor, 0},
                                     {"b", PostStatus::kRemovedForViolation, 1},
                                     {"a", PostStatus::kRemovedForViolation, 2}}));
}

TEST(PostPagesTest, ArticlesAndNoticesLookAsThePlatformsDo) {
  const PlatformPost post{"x", "账号 <A>", "标题 & \"T\"", "正文'</div>", 1};
  const std::string article = PostPage(post, PostStatus::kAvailable);
  EXPECT_NE(article.find("<title>标题 &amp; &quot;T&quot;</title>"), std::string::npos);
  EXPECT_NE(article.find("id=\"activity-name\">标题 &amp; &quot;T&quot;</h1>"), std::string::npos);
  EXPECT_NE(article.find("id=\"js_content\"><p>正文&#39;&lt;/div&gt;</p></div>"), std::string::npos)
      << "the body cannot close the article's element";
  EXPECT_NE(article.find("账号 &lt;A&gt;"), std::string::npos);
  // The notices are the texts the experiment's fingerprints hold (a sample each).
  std::ifstream in(LAB_DIR "/../../testlists/fingerprints/wechat_posts.csv");
  std::stringstream fingerprints;
  fingerprints << in.rdbuf();
  for (PostStatus s : {PostStatus::kDeletedByAuthor, PostStatus::kRemovedForViolation,
                       PostStatus::kAccountBlocked}) {
    const std::string page = PostPage(post, s);
    EXPECT_EQ(page.find("js_content"), std::string::npos) << "a notice holds no article";
    EXPECT_EQ(page.find("标题"), std::string::npos);
    EXPECT_NE(page.find(NoticeText(s)), std::string::npos);
    const std::string row_start = std::string("\n") + PostStatusName(s) + ",";
    const size_t row = fingerprints.str().find(row_start);
    ASSERT_NE(row, std::string::npos) << PostStatusName(s);
    const size_t pattern = row + row_start.size();
    const std::string text =
        fingerprints.str().substr(pattern, fingerprints.str().find(',', pattern) - pattern);
    EXPECT_NE(NoticeText(s).find(text), std::string::npos) << text;
  }
  EXPECT_EQ(NoticeText(PostStatus::kAvailable), "");
  EXPECT_NE(MissingPostPage().find("no such post"), std::string::npos);
}

TEST(PlatformTruthTest, OneLinePerChange) {
  const PlatformPost post{"lab-forum-1", "自由评论", "T", "B", 1};
  EXPECT_EQ(PostStatusRecord(1700000000.5, {"lab-forum-1", PostStatus::kAccountBlocked, 0}, post),
            (nlohmann::json{{"t", 1700000000.5},
                            {"post", "lab-forum-1"},
                            {"account", "自由评论"},
                            {"status", "account_blocked"},
                            {"phase", 0}}));
}

}  // namespace
}  // namespace vigil::lab
