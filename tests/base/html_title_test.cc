#include "base/html_title.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace vigil {
namespace {

struct Case {
  std::string name;
  std::string body;
  std::optional<std::string> title;
};

TEST(ExtractTitleTest, FindsTheFirstTitleElement) {
  const Case cases[] = {
      {"plain", "<html><head><title>Hello</title></head></html>", "Hello"},
      {"uppercase", "<HTML><TITLE>Access Blocked</TITLE>", "Access Blocked"},
      {"mixed_case", "<TiTlE>x</tItLe>", "x"},
      {"attributes", "<title lang=\"en\" data-x='a>b' id=t>Blocked page</title>", "Blocked page"},
      {"whitespace_collapsed", "<title>\n\t  Access \r\n\t denied \f </title>", "Access denied"},
      {"close_tag_with_space", "<title>x</title >", "x"},
      {"close_tag_at_end", "<title>x</title", "x"},
      {"not_title_tags", "<titlebar>no</titlebar><title>yes</title>", "yes"},
      {"not_a_close_tag", "<title>a</titles> b</title>", "a</titles> b"},
      {"markup_kept_verbatim", "<title>Caf&eacute; <b>x</b></title>", "Caf&eacute; <b>x</b>"},
      {"first_of_two", "<title>one</title><title>two</title>", "one"},
      {"self_closing_syntax", "<title/>t</title>", "t"},
      {"utf8", "<title>\xd0\x97\xd0\xb0\xd0\xb1\xd0\xbb\xd0\xbe\xd0\xba</title>",
       "\xd0\x97\xd0\xb0\xd0\xb1\xd0\xbb\xd0\xbe\xd0\xba"},
      {"nul_kept", std::string("<title>a\0b</title>", 18), std::string("a\0b", 3)},
      {"empty", "<title></title>", std::nullopt},
      {"blank", "<title> \n\t </title>", std::nullopt},
      {"absent", "<html><body>hi</body></html>", std::nullopt},
      {"no_input", "", std::nullopt},
      {"unterminated_element", "<title>never closed", std::nullopt},
      {"unterminated_tag", "<title", std::nullopt},
      {"unterminated_attribute", "<title x='>nope</title>", std::nullopt},
      {"unterminated_open_tag", "<title lang=en", std::nullopt},
      {"only_close", "</title>", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ExtractTitle(c.body), c.title);
  }
}

std::string Wrap(const std::string& text) { return "<title>" + text + "</title>"; }

TEST(ExtractTitleTest, CutsLongTitlesOnACharacterBoundary) {
  const std::string a511(511, 'a');
  const struct {
    std::string name;
    std::string text;
    std::string expected;
  } cases[] = {
      {"exactly_512", std::string(512, 'a'), std::string(512, 'a')},
      {"ascii", std::string(600, 'a'), std::string(512, 'a')},
      {"two_byte_char_across_the_cut", a511 + "\xc3\xa9zz", a511},
      {"three_byte_char_across_the_cut", std::string(510, 'a') + "\xe2\x82\xac",
       std::string(510, 'a')},
      {"four_byte_char_ending_at_the_cut", std::string(508, 'a') + "\xf0\x9f\x98\x80zz",
       std::string(508, 'a') + "\xf0\x9f\x98\x80"},
      {"four_byte_char_across_the_cut", std::string(509, 'a') + "\xf0\x9f\x98\x80",
       std::string(509, 'a')},
      {"space_at_the_cut_trimmed", a511 + "   b", a511},
      {"collapsed_before_cutting", std::string(1000, ' ') + "x" + std::string(1000, ' ') + "y",
       "x y"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::optional<std::string> title = ExtractTitle(Wrap(c.text));
    ASSERT_TRUE(title.has_value());
    EXPECT_EQ(*title, c.expected);
    EXPECT_LE(title->size(), kMaxTitleBytes);
  }
}

TEST(ExtractTitleTest, InvalidUtf8StillEndsWithinTheLimit) {
  // Continuation bytes only: the back-off is bounded rather than walking to zero.
  std::optional<std::string> title = ExtractTitle(Wrap(std::string(600, '\x80')));
  ASSERT_TRUE(title.has_value());
  EXPECT_EQ(title->size(), kMaxTitleBytes - 3);
}

TEST(ExtractTitleTest, LargePagesAreScannedOnce) {
  // A megabyte of near-misses before the title: must finish quickly, not quadratically.
  std::string body;
  while (body.size() < (1 << 20)) body += "<titl</titl<";
  body += "<title>found</title>";
  EXPECT_EQ(ExtractTitle(body), "found");
}

}  // namespace
}  // namespace vigil
