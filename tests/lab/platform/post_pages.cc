#include "tests/lab/platform/post_pages.h"

namespace vigil::lab {

std::string EscapeHtml(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string NoticeText(PostStatus status) {
  switch (status) {
    case PostStatus::kAvailable:
      return "";
    case PostStatus::kDeletedByAuthor:
      return "该内容已被发布者删除";
    case PostStatus::kRemovedForViolation:
      return "此内容因违规无法查看";
    case PostStatus::kAccountBlocked:
      return "此帐号已被屏蔽, 内容无法查看";
  }
  return "";
}

std::string PostPage(const PlatformPost& post, PostStatus status) {
  if (status != PostStatus::kAvailable) {
    return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>WeChat (lab)</title>"
           "</head>\n<body><div class=\"page_msg\"><div class=\"inner\"><span "
           "class=\"msg_icon_wrp\"><i class=\"icon_msg warn\"></i></span>\n<div "
           "class=\"msg_content\"><h4>" +
           EscapeHtml(NoticeText(status)) +
           "</h4></div></div></div>\n<p class=\"lab\">vigil lab: a stand-in for "
           "mp.weixin.qq.com</p></body></html>\n";
  }
  const std::string title = EscapeHtml(post.title);
  return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + title +
         "</title>\n<meta property=\"og:title\" content=\"" + title +
         "\"></head>\n<body><div class=\"rich_media_wrp\" id=\"img-content\">\n<h1 "
         "class=\"rich_media_title\" id=\"activity-name\">" +
         title + "</h1>\n<div class=\"rich_media_meta_list\"><a id=\"js_name\">" +
         EscapeHtml(post.account) +
         "</a></div>\n<div class=\"rich_media_content\" id=\"js_content\"><p>" +
         EscapeHtml(post.body) +
         "</p></div>\n</div>\n<p class=\"lab\">vigil lab: a stand-in for mp.weixin.qq.com</p>"
         "</body></html>\n";
}

std::string MissingPostPage() {
  return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>WeChat (lab)</title>"
         "</head><body><p>vigil lab: no such post</p></body></html>\n";
}

}  // namespace vigil::lab
