// JsonNestedDeeperThan: hostile nesting found before any parser recurses into it.
#include "base/json_depth.h"

#include <gtest/gtest.h>

#include <string>

namespace vigil {
namespace {

TEST(JsonDepthTest, FindsTheFirstBracketTooDeep) {
  EXPECT_EQ(JsonNestedDeeperThan("{}", 1), std::nullopt);
  EXPECT_EQ(JsonNestedDeeperThan("[[]]", 2), std::nullopt);
  EXPECT_EQ(JsonNestedDeeperThan("[[]]", 1), 1u);
  EXPECT_EQ(JsonNestedDeeperThan(R"({"a":[{"b":1}]})", 2), 6u);
  EXPECT_EQ(JsonNestedDeeperThan("", 0), std::nullopt);
  EXPECT_EQ(JsonNestedDeeperThan("1", 0), std::nullopt);
}

TEST(JsonDepthTest, SiblingsDoNotAddUp) {
  std::string siblings;
  for (int i = 0; i < 1000; ++i) siblings += "[{}],";
  EXPECT_EQ(JsonNestedDeeperThan("[" + siblings + "1]", 3), std::nullopt);
}

TEST(JsonDepthTest, BracketsInsideStringsDoNotCount) {
  EXPECT_EQ(JsonNestedDeeperThan(R"(["[[[[", "{{{{"])", 1), std::nullopt);
  // An escaped quote does not end the string.
  EXPECT_EQ(JsonNestedDeeperThan(R"(["\"[[[[", "\\"])", 1), std::nullopt);
  EXPECT_EQ(JsonNestedDeeperThan(R"(["\\", [[]]])", 2), 8u);
}

TEST(JsonDepthTest, StrayClosingBracketsBuyNoDepth) {
  const std::string closers(100, ']');
  const std::string openers(5, '[');
  EXPECT_EQ(JsonNestedDeeperThan(closers + openers, 4), closers.size() + 4);
}

TEST(JsonDepthTest, AMillionLevelsAreFoundWithoutRecursion) {
  const std::string deep(1000000, '[');
  EXPECT_EQ(JsonNestedDeeperThan(deep, 256), 256u);
}

}  // namespace
}  // namespace vigil
