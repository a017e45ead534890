// Base64: RFC 4648's vectors, every byte value, strict refusal of what is not base64,
// and the lenient capped decoder the analyzer samples bodies with.
#include "base/base64.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>

namespace vigil {
namespace {

TEST(Base64Test, MatchesRfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    EXPECT_EQ(Base64Decode(encoded), plain) << encoded;
  }
}

TEST(Base64Test, RoundTripsEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n <= all.size(); n += 37) {
    const std::string bytes = all.substr(0, n) + all.substr(256 - n);
    EXPECT_EQ(Base64Decode(Base64Encode(bytes)), bytes);
  }
}

TEST(Base64Test, AcceptsMissingPaddingRejectsGarbage) {
  EXPECT_EQ(Base64Decode("Zg"), "f");
  EXPECT_EQ(Base64Decode("Zm8"), "fo");
  EXPECT_EQ(Base64Decode("Z"), std::nullopt);
  EXPECT_EQ(Base64Decode("Zg="), std::nullopt);
  EXPECT_EQ(Base64Decode("Zm9v="), std::nullopt);
  EXPECT_EQ(Base64Decode("Zg==="), std::nullopt);
  EXPECT_EQ(Base64Decode("Zm 9v"), std::nullopt);
  EXPECT_EQ(Base64Decode("Zm9v\n"), std::nullopt);
  EXPECT_EQ(Base64Decode("-_8="), std::nullopt);
  EXPECT_EQ(Base64Decode("Zg==Zg=="), std::nullopt);
}

TEST(Base64PrefixTest, KeepsTheCappedPrefixAndCountsTheWhole) {
  const std::string bytes = "<html>\x01\xff blocked by order</html>";
  const std::string encoded = Base64Encode(bytes);
  for (size_t cap : {size_t{0}, size_t{1}, size_t{10}, bytes.size(), bytes.size() + 10}) {
    std::string sample = "kept:";
    EXPECT_EQ(Base64DecodePrefix(encoded, cap, &sample), bytes.size()) << cap;
    EXPECT_EQ(sample, "kept:" + bytes.substr(0, cap)) << cap;
  }
}

TEST(Base64PrefixTest, SkipsWhatIsNotADigitAndReadsTheUrlSafeAlphabet) {
  std::string out;
  EXPECT_EQ(Base64DecodePrefix("Zm9v\nYm\r\nFy", 100, &out), 6u);
  EXPECT_EQ(out, "foobar");
  out.clear();
  // "-_8" is "+/8" in the URL-safe alphabet.
  EXPECT_EQ(Base64DecodePrefix("-_8=", 100, &out), 2u);
  EXPECT_EQ(out, *Base64Decode("+/8="));
  out.clear();
  EXPECT_EQ(Base64DecodePrefix("!!!", 100, &out), 0u);
  EXPECT_EQ(out, "");
}

TEST(Base64PrefixTest, AgreesWithTheStrictDecoderOnValidInput) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n <= all.size(); n += 17) {
    const std::string encoded = Base64Encode(all.substr(0, n));
    std::string out;
    EXPECT_EQ(Base64DecodePrefix(encoded, all.size(), &out), n);
    EXPECT_EQ(out, *Base64Decode(encoded));
  }
}

}  // namespace
}  // namespace vigil
