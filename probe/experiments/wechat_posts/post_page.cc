#include "probe/experiments/wechat_posts/post_page.h"

#include <algorithm>
#include <array>

#include "base/html_title.h"
#include "probe/experiments/common/content_hash.h"

namespace vigil {

namespace {

constexpr std::string_view kArticleId = "js_content";
constexpr std::string_view kHeadingId = "activity-name";

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsHtmlSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

bool StartsWithNoCase(std::string_view s, size_t pos, std::string_view prefix) {
  if (pos > s.size() || s.size() - pos < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (Lower(s[pos + i]) != prefix[i]) return false;
  }
  return true;
}

// One tag: "<name ...>" or "</name>".
struct Tag {
  std::string name;  // lowercase
  bool closing = false;
  bool self_closing = false;  // ends with "/>"
  size_t begin = 0;           // the '<'
  size_t end = 0;             // just past the '>'
  std::string_view text;      // the whole tag
};

// The tags of `html` in order, the contents of comments, scripts and styles skipped (they
// may hold markup in strings). A tag or comment that never ends ends the scan. With a
// text sink, the text between tags is appended to it as the scan passes it.
class TagScanner {
 public:
  explicit TagScanner(std::string_view html, std::string* text = nullptr)
      : html_(html), text_(text) {}

  bool Next(Tag* tag) {
    while (true) {
      const size_t open = html_.find('<', pos_);
      Text(pos_, open == std::string_view::npos ? html_.size() : open);
      if (open == std::string_view::npos) return Stop();
      if (html_.compare(open, 4, "<!--") == 0) {
        const size_t close = html_.find("-->", open + 4);
        if (close == std::string_view::npos) return Stop();
        pos_ = close + 3;
        continue;
      }
      const size_t end = TagEnd(open);
      if (end == std::string_view::npos) return Stop();
      size_t i = open + 1;
      tag->closing = i < end && html_[i] == '/';
      if (tag->closing) ++i;
      tag->name.clear();
      while (i < end && html_[i] != '>' && html_[i] != '/' && !IsHtmlSpace(html_[i])) {
        tag->name.push_back(Lower(html_[i++]));
      }
      pos_ = end;
      if (tag->name.empty() || tag->name[0] < 'a' || tag->name[0] > 'z') {
        continue;  // "<!DOCTYPE", "<?xml", "< 3 ...>": not elements
      }
      tag->begin = open;
      tag->end = end;
      tag->text = html_.substr(open, end - open);
      tag->self_closing = end >= 2 && html_[end - 2] == '/';
      if (!tag->closing && (tag->name == "script" || tag->name == "style")) {
        SkipRawText(tag->name);
      }
      return true;
    }
  }

 private:
  void Text(size_t from, size_t to) {
    if (text_ != nullptr && to > from) text_->append(html_.substr(from, to - from));
  }
  bool Stop() {
    pos_ = html_.size();
    return false;
  }

  // Just past the '>' that ends the tag opened at `open`, quotes respected.
  size_t TagEnd(size_t open) const {
    char quote = 0;
    for (size_t i = open + 1; i < html_.size(); ++i) {
      const char c = html_[i];
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if ((c == '"' || c == '\'') && html_[i - 1] == '=') {
        quote = c;  // quotes open only where an attribute value starts
      } else if (c == '>') {
        return i + 1;
      }
    }
    return std::string_view::npos;
  }

  // Moves past "</name...>", or to the end when it never comes.
  void SkipRawText(const std::string& name) {
    size_t at = pos_;
    while ((at = html_.find("</", at)) != std::string_view::npos) {
      if (StartsWithNoCase(html_, at + 2, name)) {
        const size_t end = html_.find('>', at);
        pos_ = end == std::string_view::npos ? html_.size() : end + 1;
        return;
      }
      at += 2;
    }
    pos_ = html_.size();
  }

  std::string_view html_;
  std::string* text_;
  size_t pos_ = 0;
};

// The value of attribute `name` (lowercase) in a start tag's text, or nullopt.
std::optional<std::string_view> Attribute(std::string_view tag, std::string_view name) {
  size_t i = 1;
  while (i < tag.size() && tag[i] != '>' && !IsHtmlSpace(tag[i]) && tag[i] != '/') ++i;  // name
  while (i < tag.size()) {
    while (i < tag.size() && (IsHtmlSpace(tag[i]) || tag[i] == '/')) ++i;
    if (i >= tag.size() || tag[i] == '>') return std::nullopt;
    const size_t name_begin = i;
    while (i < tag.size() && tag[i] != '=' && tag[i] != '>' && !IsHtmlSpace(tag[i])) ++i;
    const std::string_view attribute = tag.substr(name_begin, i - name_begin);
    while (i < tag.size() && IsHtmlSpace(tag[i])) ++i;
    std::string_view value;
    if (i < tag.size() && tag[i] == '=') {
      ++i;
      while (i < tag.size() && IsHtmlSpace(tag[i])) ++i;
      if (i < tag.size() && (tag[i] == '"' || tag[i] == '\'')) {
        const char quote = tag[i++];
        const size_t end = tag.find(quote, i);
        if (end == std::string_view::npos) return std::nullopt;
        value = tag.substr(i, end - i);
        i = end + 1;
      } else {
        const size_t begin = i;
        while (i < tag.size() && tag[i] != '>' && !IsHtmlSpace(tag[i])) ++i;
        value = tag.substr(begin, i - begin);
      }
    }
    if (attribute.size() == name.size() &&
        std::equal(attribute.begin(), attribute.end(), name.begin(),
                   [](char a, char b) { return Lower(a) == b; })) {
      return value;
    }
  }
  return std::nullopt;
}

// Elements that end a line of text: their tags separate words; other tags (span, b, a,
// ...) do not, so a notice split by inline markup still reads as one string.
bool BreaksText(const std::string& name) {
  static constexpr std::array<std::string_view, 25> kBlocks = {
      "address", "article", "blockquote", "body",    "br",    "dd", "div", "dl",   "dt",
      "footer",  "h1",      "h2",         "h3",      "h4",    "h5", "h6",  "head", "header",
      "hr",      "li",      "p",          "section", "table", "td", "tr"};
  return std::find(kBlocks.begin(), kBlocks.end(), name) != kBlocks.end();
}

// The text of `html`: tags dropped (block ones as a space), comments, scripts and styles
// skipped, a few entities decoded, whitespace runs collapsed, ends trimmed.
std::string VisibleText(std::string_view html) {
  std::string raw;
  TagScanner scanner(html, &raw);
  Tag tag;
  while (scanner.Next(&tag)) {
    if (BreaksText(tag.name)) raw.push_back(' ');
  }
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kEntities = {{
      {"&amp;", "&"},
      {"&lt;", "<"},
      {"&gt;", ">"},
      {"&quot;", "\""},
      {"&#39;", "'"},
      {"&nbsp;", " "},
  }};
  std::string out;
  out.reserve(raw.size());
  auto put = [&out](char c) {
    if (!IsHtmlSpace(c)) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != ' ') {
      out.push_back(' ');
    }
  };
  for (size_t i = 0; i < raw.size(); ++i) {
    bool decoded = false;
    if (raw[i] == '&') {
      for (const auto& [entity, value] : kEntities) {
        if (raw.compare(i, entity.size(), entity) == 0) {
          for (char c : value) put(c);
          i += entity.size() - 1;
          decoded = true;
          break;
        }
      }
    }
    if (!decoded) put(raw[i]);
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// The content of the first element whose id is `id`: its start tag's end and its closing
// tag's start. `complete` is false when the closing tag never came (end = the body's end).
struct Element {
  size_t begin = 0, end = 0;
  bool complete = false;
};
std::optional<Element> FindElement(std::string_view html, std::string_view id) {
  TagScanner scanner(html);
  Tag tag;
  while (scanner.Next(&tag)) {
    if (tag.closing || Attribute(tag.text, "id") != id) continue;
    Element e{tag.end, html.size(), false};
    if (tag.self_closing) return Element{tag.end, tag.end, true};
    const std::string name = tag.name;
    int depth = 1;
    while (scanner.Next(&tag)) {
      if (tag.name != name) continue;
      if (tag.closing) {
        if (--depth == 0) {
          e.end = tag.begin;
          e.complete = true;
          return e;
        }
      } else if (!tag.self_closing) {
        ++depth;
      }
    }
    return e;
  }
  return std::nullopt;
}

}  // namespace

PostPage ReadPostPage(std::string_view body) {
  PostPage page;
  page.visible_text = VisibleText(body);
  if (auto article = FindElement(body, kArticleId)) {
    page.article = article->complete;
    page.article_cut = !article->complete;
    if (page.article) {
      page.article_text = VisibleText(body.substr(article->begin, article->end - article->begin));
    }
  }
  page.title = ExtractTitle(body);
  if (!page.title) {
    if (auto heading = FindElement(body, kHeadingId); heading && heading->complete) {
      std::string text = VisibleText(body.substr(heading->begin, heading->end - heading->begin));
      if (!text.empty()) page.title = std::move(text);
    }
  }
  return page;
}

PostClassification ClassifyPostPage(int status_code, std::string_view body,
                                    const std::vector<NoticeFingerprint>& fingerprints) {
  PostClassification c;
  if (status_code != 200) {
    c.why = "HTTP " + std::to_string(status_code);
    return c;
  }
  PostPage page = ReadPostPage(body);
  if (page.article) {
    c.status = PostStatus::kAvailable;
    c.title = std::move(page.title);
    c.content_sha256 = Sha256Hex(page.article_text);
    return c;
  }
  std::vector<const NoticeFingerprint*> matched;
  for (const auto& fp : fingerprints) {
    if (page.visible_text.find(fp.pattern) != std::string::npos) matched.push_back(&fp);
  }
  const bool one_class =
      !matched.empty() && std::all_of(matched.begin(), matched.end(), [&](const auto* fp) {
        return fp->status == matched.front()->status;
      });
  if (one_class) {
    c.status = matched.front()->status;
    c.notice = *matched.front();
    return c;
  }
  if (!matched.empty()) {
    c.why = "notices of more than one kind:";
    for (const auto* fp : matched) {
      c.why +=
          std::string(" ") + std::string(PostStatusName(fp->status)) + " (\"" + fp->pattern + "\")";
    }
  } else if (page.article_cut) {
    c.why = "the page ends inside the article";
  } else if (body.empty()) {
    c.why = "an empty page";
  } else {
    c.why = "neither the article nor a known notice";
  }
  return c;
}

}  // namespace vigil
