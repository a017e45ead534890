// The stand-in platform's pages: an article as mp.weixin.qq.com lays one out (the
// heading with id="activity-name", the body in the element with id="js_content"), the
// notice it shows instead of a removed article, and the page for an id it does not know.
// The notices' texts are the real ones WeChatscope recorded
// (testlists/fingerprints/wechat_posts.csv, provenance sample); the markup around them
// is the lab's own. Pure functions; thread-safe.
#pragma once

#include <string>

#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

/// What `post` shows with `status`: its article when available, else the notice.
std::string PostPage(const PlatformPost& post, PostStatus status);

/// The notice the platform shows for a removed post ("" for kAvailable).
std::string NoticeText(PostStatus status);

/// The 404 page for an id the platform does not know.
std::string MissingPostPage();

/// `text` with &, <, >, " and ' escaped for HTML.
std::string EscapeHtml(const std::string& text);

}  // namespace vigil::lab
