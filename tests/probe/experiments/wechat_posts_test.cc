// The wechat_posts experiment: the classifier on crafted pages (an article, each notice,
// a notice inside a larger page, markup and scripts around it, an article quoting a
// notice, a page cut off inside the article, garbage, a 404, two kinds of notice), the
// notice fingerprints file (the shipped one and each malformed row), the keys and the
// verdict line of every status (a removal is never network blocking), and real runs
// against a loopback nginx: an article, a notice, a 404 and a refused port.
#include "probe/experiments/wechat_posts/wechat_posts.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include "probe/experiments/common/content_hash.h"
#include "probe/experiments/registry.h"
#include "probe/measurement/measurement_json.h"
#include "tests/support/loopback_port.h"
#include "tests/support/nginx_server.h"
#include "tests/support/run_experiment.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using test_support::NginxServer;

const std::vector<NoticeFingerprint>& Shipped() {
  static const auto* fingerprints = [] {
    auto f =
        ReadNoticeFingerprints(NoticeFingerprintsPath(test_support::SourceDir() + "/testlists"));
    EXPECT_TRUE(f.ok()) << f.error();
    return new std::vector<NoticeFingerprint>(f.ok() ? *f : std::vector<NoticeFingerprint>{});
  }();
  return *fingerprints;
}

PostClassification Classify(const std::string& body, int status = 200) {
  return ClassifyPostPage(status, body, Shipped());
}

// An article page shaped as the platform's are (and as the lab's stand-in serves them).
std::string Article(const std::string& title, const std::string& body_html,
                    const std::string& head_title = "") {
  return "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" + head_title +
         "</title>\n<script>var msg_title = '" + title +
         "'; document.getElementById(\"js_content\").style.visibility = \"visible\";</script>"
         "</head><body><div class=\"rich_media_wrp\" id=\"img-content\">\n<h1 "
         "class=\"rich_media_title\" id=\"activity-name\">\n  " +
         title +
         "\n</h1>\n<div class=\"rich_media_content js_underline_content\" id=\"js_content\" "
         "style=\"visibility: hidden;\">" +
         body_html + "</div>\n<div id=\"js_pc_qr_code\">扫一扫</div></div></body></html>\n";
}

std::string Notice(const std::string& text) {
  return "<!DOCTYPE html><html><head><title></title></head><body><div class=\"weui-msg\">"
         "<div class=\"weui-msg__text-area\"><h2 class=\"weui-msg__title\">" +
         text + "</h2></div></div></body></html>";
}

TEST(PostPageTest, AnArticleIsAvailableWithItsTitleAndTextHash) {
  const auto c = Classify(Article("城市观察：公园开放",
                                  "<p>今天<b>公园</b>开放。</p>\n<section>"
                                  "<div><p>第二段&amp;结尾</p></div></section>"
                                  "<img src=\"x.png\">"));
  EXPECT_EQ(c.status, PostStatus::kAvailable);
  EXPECT_EQ(c.title, "城市观察：公园开放") << "from the heading when <title> is empty";
  EXPECT_EQ(c.content_sha256, Sha256Hex("今天公园开放。 第二段&结尾"))
      << "inline tags join, block tags separate, entities decoded, nested divs counted";
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Classify(Article("x", "<p>a</p>", "The Head Title")).title, "The Head Title");
  // An article of images only is still the article.
  EXPECT_EQ(Classify(Article("图", "<img src=\"a.jpg\"><img src=\"b.jpg\">")).status,
            PostStatus::kAvailable);
}

TEST(PostPageTest, EachNoticeTellsItsRemoval) {
  const std::vector<std::pair<std::string, PostStatus>> cases = {
      {"该内容已被发布者删除", PostStatus::kDeletedByAuthor},
      {"The content has been deleted by the author.", PostStatus::kDeletedByAuthor},
      {"此内容因违规无法查看", PostStatus::kRemovedForViolation},
      {"Unable to view this content because it violates regulations",
       PostStatus::kRemovedForViolation},
      {"此内容被投诉且经审核涉嫌侵权，无法查看。", PostStatus::kRemovedForViolation},
      {"此帐号已被屏蔽, 内容无法查看", PostStatus::kAccountBlocked},
  };
  for (const auto& [text, status] : cases) {
    const auto c = Classify(Notice(text));
    EXPECT_EQ(c.status, status) << text;
    ASSERT_TRUE(c.notice) << text;
    EXPECT_EQ(c.notice->provenance, "sample");
    EXPECT_NE(text.find(c.notice->pattern), std::string::npos);
    EXPECT_FALSE(c.title) << "a notice is no article: no title is kept";
    EXPECT_EQ(c.content_sha256, "");
  }
}

TEST(PostPageTest, ANoticeInsideALargerPageIsFound) {
  // Navigation, a footer, scripts and comments around the notice, the notice split by
  // inline markup and entities; the scripts and comments name other notices.
  const std::string page =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>微信公众平台</title>"
      "<style>.warn:before{content:\"此内容因违规无法查看\"}</style>"
      "<script>var msgs = {blocked: '此帐号已被屏蔽', deleted: '<div id=\"js_content\">'};"
      "</script></head><body><div class=\"nav\"><a href=\"/\">首页</a> | <a>帮助</a></div>\n"
      "<!-- 此帐号已被屏蔽 -->\n<div class=\"page_msg\"><div class=\"inner\"><span "
      "class=\"msg_icon_wrp\"><i class=\"icon_msg warn\"></i></span><div class=\"msg_content\">"
      "<h4>该内容<span class=\"x\">已被</span>发布者&nbsp;删除</h4></div></div></div>"
      "<div class=\"footer\">&copy; 1998-2026 Tencent Inc.</div>" +
      std::string(20000, ' ') + "<script src=\"a.js\"></script></body></html>";
  const auto c = Classify(page);
  // "发布者 删除" has a space from &nbsp;: only the English and other notices could
  // match, and none does outside the skipped script, style and comment.
  EXPECT_EQ(c.status, PostStatus::kUnknown) << c.why;
  std::string joined = page;
  joined.replace(joined.find("&nbsp;"), 6, "");
  const auto d = Classify(joined);
  EXPECT_EQ(d.status, PostStatus::kDeletedByAuthor) << d.why;
  EXPECT_EQ(d.notice->pattern, "该内容已被发布者删除");
}

TEST(PostPageTest, AnArticleQuotingANoticeIsTheArticle) {
  const auto c =
      Classify(Article("删帖实录", "<p>打开链接只见一行字：“此内容因违规无法查看”。</p>"));
  EXPECT_EQ(c.status, PostStatus::kAvailable);
}

TEST(PostPageTest, WhatIsNeitherArticleNorNoticeIsUnknown) {
  const std::string article = Article("标题", "<p>正文很长。</p><div><p>第二段</p></div>");
  struct Case {
    const char* what;
    std::string body;
    int status;
    std::string why;
  };
  const std::vector<Case> cases = {
      {"cut off inside the article", article.substr(0, article.find("第二段")), 200,
       "the page ends inside the article"},
      {"garbage", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR<<>>&&&", 22) + "<div id=js_cont", 200,
       "neither the article nor a known notice"},
      {"a 404 page with a notice in it", Notice("该内容已被发布者删除"), 404, "HTTP 404"},
      {"a server error", article, 503, "HTTP 503"},
      {"an empty page", "", 200, "an empty page"},
      {"the platform's check for robots", Notice("环境异常 当前环境异常，完成验证后即可继续访问。"),
       200, "neither the article nor a known notice"},
      {"an account that moved", Notice("该公众号已迁移"), 200,
       "neither the article nor a known notice"},
      {"a js_content only inside a script",
       "<script>x='<div id=\"js_content\"><p>a</p></div>'"
       "</script><p>hello</p>",
       200, "neither the article nor a known notice"},
      {"notices of two kinds", Notice("该内容已被发布者删除 此帐号已被屏蔽"), 200,
       "notices of more than one kind: deleted_by_author (\"该内容已被发布者删除\") "
       "account_blocked (\"此帐号已被屏蔽\")"},
  };
  for (const auto& c : cases) {
    const auto result = Classify(c.body, c.status);
    EXPECT_EQ(result.status, PostStatus::kUnknown) << c.what;
    EXPECT_EQ(result.why, c.why) << c.what;
    EXPECT_FALSE(result.notice) << c.what;
  }
}

TEST(PostPageTest, ReadsPagesWithoutCrashing) {
  for (const std::string& body :
       {std::string("<"), std::string("<!--"), std::string("<div id='js_content'"),
        std::string("<script>"), std::string("<div id=\"js_content\"/>x"),
        std::string("<div id=js_content><div><div></div>"), std::string("&amp"),
        std::string("<a b='>'>x</a>"), std::string(3, '\0')}) {
    const PostPage page = ReadPostPage(body);
    EXPECT_TRUE(page.article_text.size() <= body.size());
  }
  EXPECT_TRUE(ReadPostPage("<div id=\"js_content\"/>").article) << "empty, but complete";
  EXPECT_TRUE(ReadPostPage("<div id=js_content><div><div></div>").article_cut);
  EXPECT_EQ(ReadPostPage("<p>a</p>\n<p> b  c </p><br>d").visible_text, "a b c d");
}

TEST(NoticeFingerprintsTest, TheShippedFileHasEveryRemovalFromARealSample) {
  ASSERT_FALSE(Shipped().empty());
  std::set<PostStatus> classes;
  for (const auto& fp : Shipped()) {
    classes.insert(fp.status);
    EXPECT_EQ(fp.provenance, "sample") << fp.pattern;
    EXPECT_EQ(fp.source.rfind("https://", 0), 0u) << fp.pattern;
  }
  EXPECT_EQ(classes,
            (std::set<PostStatus>{PostStatus::kDeletedByAuthor, PostStatus::kRemovedForViolation,
                                  PostStatus::kAccountBlocked}));
}

TEST(NoticeFingerprintsTest, EachMalformedRowGetsFileLineFieldAndReason) {
  const std::string header = "class,pattern,provenance,source,notes\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"available,该内容已被发布者删除,sample,s,\n",
       "f.csv:2: class: \"available\" is not one of deleted_by_author, removed_for_violation, "
       "account_blocked"},
      {"deleted_by_author,删,sample,s,\n",
       "f.csv:2: pattern: \"删\" is shorter than two characters"},
      {"deleted_by_author,,sample,s,\n", "f.csv:2: pattern: \"\" is shorter than two characters"},
      {"deleted_by_author, 删除,sample,s,\n",
       "f.csv:2: pattern: control characters or surrounding space"},
      {"deleted_by_author,删除,guess,s,\n",
       "f.csv:2: provenance: \"guess\" is neither sample nor lab"},
      {"deleted_by_author,删除,lab,,\n", "f.csv:2: source: empty (say where the text comes from)"},
      {"deleted_by_author,删除,lab,s,\naccount_blocked,删除,lab,s,\n",
       "f.csv:3: pattern: \"删除\" is listed twice"},
      {"deleted_by_author,删除,lab\n", "f.csv:2: row: expected 5 fields, found 3"},
  };
  for (const auto& [rows, error] : cases) {
    auto f = ParseNoticeFingerprints(header + rows, "f.csv");
    ASSERT_FALSE(f.ok()) << rows;
    EXPECT_EQ(f.error(), error);
  }
  auto wrong = ParseNoticeFingerprints("class,pattern\n", "f.csv");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error(), "f.csv:1: header: expected class,pattern,provenance,source,notes");
  auto lab = ParseNoticeFingerprints(header + "account_blocked,帐号已封,lab,tests/lab,\n", "f.csv");
  ASSERT_TRUE(lab.ok()) << lab.error();
  EXPECT_EQ(lab->front().status, PostStatus::kAccountBlocked);
}

PostObservation Seen(const std::string& body, int status = 200) {
  PostObservation o;
  o.url = "https://mp.weixin.qq.com/s/x";
  o.status_code = status;
  o.page = Classify(body, status);
  return o;
}

TEST(WechatPostsKeysTest, EveryStatusHasItsKeysAndAnHonestVerdict) {
  Json k = WechatPostsTestKeys(Seen(Article("标题", "<p>正文</p>")));
  EXPECT_EQ(k["post_url"], "https://mp.weixin.qq.com/s/x");
  EXPECT_EQ(k["post_status"], "available");
  EXPECT_EQ(k["x_status_code"], 200);
  EXPECT_EQ(k["x_title"], "标题");
  EXPECT_EQ(k["x_content_sha256"], Sha256Hex("正文"));
  for (const char* key : {"post_failure", "post_failed_operation", "x_notice",
                          "x_notice_provenance", "x_unknown_reason"}) {
    EXPECT_TRUE(k[key].is_null()) << key;
  }
  EXPECT_TRUE(k["x_failures"].empty());
  RunSummary s = WechatPostsSummary("https://mp.weixin.qq.com/s/x", k);
  EXPECT_EQ(s.service, "https://mp.weixin.qq.com/s/x");
  EXPECT_EQ(s.verdict, RunVerdict::kOk);
  EXPECT_EQ(s.blocking, "");
  EXPECT_EQ(s.evidence, "available: \"标题\"");

  // A removal: the network delivered the platform's notice. Never blocked, never a
  // blocking type: the evidence says what the platform did.
  for (const auto& [text, name] : std::vector<std::pair<std::string, std::string>>{
           {"该内容已被发布者删除", "deleted_by_author"},
           {"此内容因违规无法查看", "removed_for_violation"},
           {"此帐号已被屏蔽, 内容无法查看", "account_blocked"}}) {
    k = WechatPostsTestKeys(Seen(Notice(text)));
    EXPECT_EQ(k["post_status"], name);
    EXPECT_TRUE(k["x_title"].is_null());
    EXPECT_TRUE(k["x_content_sha256"].is_null());
    EXPECT_EQ(k["x_notice_provenance"], "sample");
    s = WechatPostsSummary("u", k);
    EXPECT_EQ(s.verdict, RunVerdict::kOk) << name;
    EXPECT_EQ(s.blocking, "") << name;
    EXPECT_EQ(s.evidence, name + " (the platform's notice \"" + k["x_notice"].get<std::string>() +
                              "\"; not the network's doing)");
  }

  k = WechatPostsTestKeys(Seen("<p>nothing</p>", 404));
  EXPECT_EQ(k["post_status"], "unknown");
  EXPECT_EQ(k["x_status_code"], 404);
  EXPECT_EQ(k["x_unknown_reason"], "HTTP 404");
  s = WechatPostsSummary("u", k);
  EXPECT_EQ(s.verdict, RunVerdict::kAnomaly);
  EXPECT_EQ(s.blocking, "");
  EXPECT_EQ(s.evidence, "unknown: HTTP 404");

  PostObservation failed;
  failed.url = "https://mp.weixin.qq.com/s/x";
  failed.failure = StepFailure{"mp.weixin.qq.com", 443, "tls_handshake", "connection_reset"};
  k = WechatPostsTestKeys(failed);
  EXPECT_EQ(k["post_status"], "unreachable");
  EXPECT_EQ(k["post_failure"], "connection_reset");
  EXPECT_EQ(k["post_failed_operation"], "tls_handshake");
  EXPECT_TRUE(k["x_status_code"].is_null());
  EXPECT_EQ(k["x_failures"].size(), 1u);
  s = WechatPostsSummary("u", k);
  EXPECT_EQ(s.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(s.blocking, "tls");
  EXPECT_EQ(s.evidence, "unreachable: mp.weixin.qq.com:443 tls_handshake connection_reset");
}

// ---- Real runs ----

class WechatPostsRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = NginxServer::Unavailable()) GTEST_SKIP() << *why;
    nginx_ = std::make_unique<NginxServer>();
    ASSERT_TRUE(nginx_->ok()) << nginx_->error();
    std::string error;
    ASSERT_TRUE(WriteUnder("s/article", Article("实验室日报", "<p>本周天气晴。</p>"), &error))
        << error;
    ASSERT_TRUE(WriteUnder("s/deleted", Notice("该内容已被发布者删除"), &error)) << error;
    context_.timeout = 2000ms;
    context_.data_dir = test_support::SourceDir() + "/testlists";
  }

  bool WriteUnder(const std::string& name, const std::string& content, std::string* error) {
    const std::string path = nginx_->document_root() + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream out(path, std::ios::binary);
    out << content;
    if (!out) *error = "cannot write " + path;
    return static_cast<bool>(out);
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(nginx_->http_port()) + path;
  }

  std::unique_ptr<NginxServer> nginx_;
  ExperimentContext context_;
};

TEST_F(WechatPostsRunTest, TellsArticlesNoticesAndMissingPagesApart) {
  auto m = test_support::RunExperiment("wechat_posts", context_, Url("/s/article"));
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->test_name, "wechat_posts");
  EXPECT_EQ(m->test_version, "0.1.0");
  EXPECT_EQ(m->input, Url("/s/article"));
  const Json j = ToJson(*m);
  ASSERT_TRUE(ParseMeasurement(j.dump()).ok());
  const Json& k = j["test_keys"];
  EXPECT_EQ(k["post_status"], "available");
  EXPECT_EQ(k["x_title"], "实验室日报");
  EXPECT_EQ(k["x_content_sha256"], Sha256Hex("本周天气晴。"));
  EXPECT_EQ(k["requests"].size(), 1u) << "the fetch is recorded as OONI's";
  EXPECT_EQ(MakeExperiment("wechat_posts")->Summarize(*m).verdict, RunVerdict::kOk);

  m = test_support::RunExperiment("wechat_posts", context_, Url("/s/deleted"));
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->test_keys.extra["post_status"], "deleted_by_author");

  m = test_support::RunExperiment("wechat_posts", context_, Url("/s/nothing"));
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->test_keys.extra["post_status"], "unknown");
  EXPECT_EQ(m->test_keys.extra["x_unknown_reason"], "HTTP 404");
}

TEST_F(WechatPostsRunTest, ARefusedConnectIsUnreachableAtConnect) {
  const uint16_t closed = test_support::FreeLoopbackPort();
  auto m = test_support::RunExperiment("wechat_posts", context_,
                                       "http://127.0.0.1:" + std::to_string(closed) + "/s/a");
  ASSERT_TRUE(m.ok()) << m.error();
  const Json& k = m->test_keys.extra;
  EXPECT_EQ(k["post_status"], "unreachable");
  EXPECT_EQ(k["post_failure"], "connection_refused");
  EXPECT_EQ(k["post_failed_operation"], "connect");
  RunSummary s = MakeExperiment("wechat_posts")->Summarize(*m);
  EXPECT_EQ(s.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(s.blocking, "tcp_ip");
}

TEST_F(WechatPostsRunTest, WhatCannotBeMeasuredIsAnError) {
  EXPECT_FALSE(test_support::RunExperiment("wechat_posts", context_).ok()) << "no input";
  EXPECT_FALSE(test_support::RunExperiment("wechat_posts", context_, "not a url").ok());
  test_support::TempDir empty("wechat_posts_data_");
  context_.data_dir = empty.path();
  auto m = test_support::RunExperiment("wechat_posts", context_, Url("/s/article"));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("fingerprints/wechat_posts.csv"), std::string::npos) << m.error();
}

TEST(WechatPostsDefaultInputsTest, EveryUrlOfTheListsAndNothingWithoutOne) {
  auto e = MakeExperiment("wechat_posts");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->input_policy(), InputPolicy::kRequired);
  test_support::TempDir data("wechat_posts_lists_");
  std::filesystem::create_directories(data.Join("wechat_posts"));
  std::filesystem::copy_file(test_support::SourceDir() + "/tests/lab/wechat_posts.csv",
                             data.Join("wechat_posts/lab.csv"));
  auto inputs = e->DefaultInputs(data.path());
  ASSERT_TRUE(inputs.ok()) << inputs.error();
  ASSERT_EQ(inputs->size(), 6u);
  EXPECT_EQ(inputs->front(), "https://mp.weixin.qq.com/s/lab-daily-1");
  // No list is shipped: nothing is fetched by default.
  auto shipped = e->DefaultInputs(test_support::SourceDir() + "/testlists");
  ASSERT_TRUE(shipped.ok()) << shipped.error();
  EXPECT_TRUE(shipped->empty());
  // A list that does not parse stops the run.
  std::ofstream(data.Join("wechat_posts/lab.csv")) << "url,account\n";
  auto broken = e->DefaultInputs(data.path());
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().rfind("wechat_posts: ", 0), 0u) << broken.error();
}

}  // namespace
}  // namespace vigil
