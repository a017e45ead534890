// PostPage: what a page fetched from an article's URL shows, read with a scanner (not an
// HTML parser) that is enough for mp.weixin.qq.com's pages: whether it holds the article
// (the element with id="js_content", the platform's article body, complete up to its
// closing tag), the article's title, and the page's visible text; and ClassifyPostPage,
// which turns a response into a PostStatus with the notice fingerprints
// (notice_fingerprints.h). Pure functions over bounded input; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/post_status.h"
#include "probe/experiments/wechat_posts/notice_fingerprints.h"

namespace vigil {

struct PostPage {
  /// An element with id="js_content" whose closing tag arrived (its tag name counted
  /// through nested elements of the same name): the article is on the page.
  bool article = false;
  /// The element opened but never closed: the body was cut off inside the article.
  bool article_cut = false;
  /// The article body's text: the element's content without tags, scripts, styles and
  /// comments, a few entities decoded (&amp; &lt; &gt; &quot; &#39; &nbsp;), runs of
  /// whitespace collapsed to one space, trimmed. Empty unless `article`.
  std::string article_text;
  /// The page's <title> (base/html_title.h), else the text of the element with
  /// id="activity-name" (the platform's article heading); nullopt when neither has text.
  std::optional<std::string> title;
  /// The whole page's text, as article_text is made.
  std::string visible_text;
};

PostPage ReadPostPage(std::string_view body);

/// What a response says of the post.
struct PostClassification {
  PostStatus status = PostStatus::kUnknown;
  /// available: the article's title, if it has one.
  std::optional<std::string> title;
  /// available: SHA-256 of article_text, lowercase hex.
  std::string content_sha256;
  /// a removal: the fingerprint whose pattern the page showed.
  std::optional<NoticeFingerprint> notice;
  /// unknown: what was seen instead, in a few words ("HTTP 404", ...).
  std::string why;
};

/// The status of a response with `status_code` and `body`: available for 200 with the
/// article (PostPage::article; a page that holds the article is the article, whatever
/// notice text it quotes); a removal for 200 whose visible text contains the pattern of
/// some fingerprint, all of them of one class; unknown otherwise (another status code, a
/// page cut off inside the article, notices of two classes, neither article nor notice).
/// Network failures are the caller's: this sees only responses.
PostClassification ClassifyPostPage(int status_code, std::string_view body,
                                    const std::vector<NoticeFingerprint>& fingerprints);

}  // namespace vigil
