// UTF-8 validation as Go's utf8.ValidString decides it, the U+FFFD replacement, and
// lengths in characters.
#include "base/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace vigil {
namespace {

TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8(std::string("nul\0inside", 10)));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_TRUE(IsValidUtf8("\xed\x9f\xbf"));      // U+D7FF, just below the surrogates
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
}

TEST(Utf8Test, RejectsIllFormedText) {
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("ok\xe2\x82"));
}

TEST(Utf8Test, ReplacesIllFormedBytes) {
  EXPECT_EQ(ToValidUtf8("a\xff"
                        "b"),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(ToValidUtf8("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_TRUE(IsValidUtf8(ToValidUtf8("\xe2\x82 \xed\xa0\x80 \xc0\xaf")));
}

TEST(Utf8Test, CountsCharactersNotBytes) {
  EXPECT_EQ(Utf8Length(""), 0u);
  EXPECT_EQ(Utf8Length("abc"), 3u);
  EXPECT_EQ(Utf8Length("\xe5\x85\xad\xe5\x9b\x9b"), 2u);  // two CJK characters, six bytes
  EXPECT_EQ(Utf8Length("caf\xc3\xa9 \xf0\x9f\x98\x80"), 6u);
  // Each ill-formed byte is one character, as ToValidUtf8 replaces it.
  EXPECT_EQ(Utf8Length("a\xff\xe2\x82"), 4u);
  EXPECT_EQ(Utf8Length("\xe2\x82 "), Utf8Length(ToValidUtf8("\xe2\x82 ")));
}

}  // namespace
}  // namespace vigil
