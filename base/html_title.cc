#include "base/html_title.h"

namespace vigil {
namespace {

// HTML's ASCII whitespace (WHATWG "ASCII whitespace").
bool IsHtmlSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Whether `text` at `pos` holds "title" in any case followed by a byte that ends a
// tag name, so that <titlebar> and </titles> do not count.
bool TitleNameAt(std::string_view text, size_t pos) {
  constexpr std::string_view kName = "title";
  if (pos > text.size() || text.size() - pos < kName.size()) return false;
  for (size_t i = 0; i < kName.size(); ++i) {
    if (ToLower(text[pos + i]) != kName[i]) return false;
  }
  size_t after = pos + kName.size();
  return after == text.size() || text[after] == '>' || text[after] == '/' ||
         IsHtmlSpace(text[after]);
}

}  // namespace

std::optional<std::string> ExtractTitle(std::string_view body) {
  size_t open = 0;
  while (true) {
    open = body.find('<', open);
    if (open == std::string_view::npos) return std::nullopt;
    if (TitleNameAt(body, open + 1)) break;
    ++open;
  }
  // The start tag ends at the first '>' outside a quoted attribute value.
  size_t pos = open + 6;
  char quote = 0;
  for (; pos < body.size(); ++pos) {
    char c = body[pos];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      break;
    }
  }
  if (pos >= body.size()) return std::nullopt;
  const size_t start = pos + 1;

  size_t close = start;
  while (true) {
    close = body.find("</", close);
    if (close == std::string_view::npos) return std::nullopt;
    if (TitleNameAt(body, close + 2)) break;
    close += 2;
  }

  std::string title;
  bool pending_space = false;
  for (char c : body.substr(start, close - start)) {
    if (IsHtmlSpace(c)) {
      pending_space = !title.empty();
      continue;
    }
    if (pending_space) title += ' ';
    pending_space = false;
    title += c;
    // One byte past the limit is enough to choose where to cut.
    if (title.size() > kMaxTitleBytes) break;
  }
  if (title.size() > kMaxTitleBytes) {
    // Back off over UTF-8 continuation bytes (10xxxxxx) so no character is split;
    // at most three, since no valid character is longer than four bytes.
    size_t cut = kMaxTitleBytes;
    for (int i = 0; i < 3 && cut > 0 && (static_cast<unsigned char>(title[cut]) & 0xC0) == 0x80;
         ++i) {
      --cut;
    }
    title.resize(cut);
    while (!title.empty() && title.back() == ' ') title.pop_back();
  }
  if (title.empty()) return std::nullopt;
  return title;
}

}  // namespace vigil
