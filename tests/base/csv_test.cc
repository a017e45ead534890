// ParseCsv: RFC 4180 as spreadsheet programs write it, and every syntax problem with its
// line and field, reading on after each one. JoinProblems: a reader's problems as one
// error text, the first twenty shown and the rest counted.
#include "base/csv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace vigil {
namespace {

std::vector<std::vector<std::string>> Fields(const CsvText& csv) {
  std::vector<std::vector<std::string>> out;
  for (const CsvRecord& r : csv.records) out.push_back(r.fields);
  return out;
}

TEST(CsvTest, QuotedFieldsHoldCommasQuotesAndLineBreaks) {
  const CsvText csv = ParseCsv("a,\"b,c\",\"say \"\"hi\"\"\"\n\"two\nlines\",x\n");
  EXPECT_TRUE(csv.errors.empty());
  ASSERT_EQ(csv.records.size(), 2u);
  EXPECT_EQ(Fields(csv), (std::vector<std::vector<std::string>>{{"a", "b,c", "say \"hi\""},
                                                                {"two\nlines", "x"}}));
  EXPECT_EQ(csv.records[0].line, 1);
  EXPECT_EQ(csv.records[1].line, 2);
}

TEST(CsvTest, LineNumbersCountLineBreaksInsideQuotes) {
  const CsvText csv = ParseCsv("\"a\nb\nc\",1\nnext,2\n");
  ASSERT_EQ(csv.records.size(), 2u);
  EXPECT_EQ(csv.records[1].line, 4);
}

TEST(CsvTest, CrLfBomAndTheLastLineEnd) {
  const CsvText csv = ParseCsv("\xEF\xBB\xBFh1,h2\r\nv1,v2\r\n");
  EXPECT_TRUE(csv.had_bom);
  EXPECT_TRUE(csv.errors.empty());
  EXPECT_EQ(Fields(csv), (std::vector<std::vector<std::string>>{{"h1", "h2"}, {"v1", "v2"}}));
  // No line end after the last record reads the same.
  EXPECT_EQ(Fields(ParseCsv("h1,h2\nv1,v2")), Fields(csv));
  // A lone CR is a byte, not a line end.
  EXPECT_EQ(Fields(ParseCsv("a\rb\n")), (std::vector<std::vector<std::string>>{{"a\rb"}}));
}

TEST(CsvTest, EmptyInputAndEmptyLines) {
  EXPECT_TRUE(ParseCsv("").records.empty());
  EXPECT_TRUE(ParseCsv("\xEF\xBB\xBF").records.empty());
  // An empty line in the middle is a record of one empty field, for callers to report.
  EXPECT_EQ(Fields(ParseCsv("a\n\nb\n")),
            (std::vector<std::vector<std::string>>{{"a"}, {""}, {"b"}}));
  EXPECT_EQ(Fields(ParseCsv(",\n")), (std::vector<std::vector<std::string>>{{"", ""}}));
}

TEST(CsvTest, SyntaxErrorsNameLineAndFieldAndReadingGoesOn) {
  const CsvText csv = ParseCsv("ok,fine\na,b\"c,d\n\"x\"y,z\n\"open,end\n");
  ASSERT_EQ(csv.errors.size(), 3u);
  EXPECT_EQ(csv.errors[0].line, 2);
  EXPECT_EQ(csv.errors[0].column, 2);
  EXPECT_NE(csv.errors[0].message.find("quote inside an unquoted field"), std::string::npos);
  EXPECT_EQ(csv.errors[1].line, 3);
  EXPECT_EQ(csv.errors[1].column, 1);
  EXPECT_NE(csv.errors[1].message.find("text after the closing quote"), std::string::npos);
  EXPECT_EQ(csv.errors[2].line, 4);
  EXPECT_EQ(csv.errors[2].column, 1);
  EXPECT_NE(csv.errors[2].message.find("not closed before the end of the file"), std::string::npos);
  // The bytes are kept as written, so a linter can show them.
  ASSERT_EQ(csv.records.size(), 4u);
  EXPECT_EQ(csv.records[1].fields[1], "b\"c");
  EXPECT_EQ(csv.records[2].fields[0], "xy");
  EXPECT_EQ(csv.records[3].fields[0], "open,end\n");
}

std::vector<std::string> NumberedProblems(size_t n) {
  std::vector<std::string> out;
  for (size_t i = 1; i <= n; ++i) out.push_back("f.csv:" + std::to_string(i) + ":1: bad");
  return out;
}

TEST(CsvTest, NoProblemsJoinToNothing) { EXPECT_EQ(JoinProblems({}), ""); }

TEST(CsvTest, TwentyJoinedProblemsAreAllShownOneALine) {
  const std::string joined = JoinProblems(NumberedProblems(20));
  EXPECT_EQ(std::count(joined.begin(), joined.end(), '\n'), 19);
  EXPECT_TRUE(joined.starts_with("f.csv:1:1: bad\nf.csv:2:1: bad\n")) << joined;
  EXPECT_TRUE(joined.ends_with("\nf.csv:20:1: bad")) << joined;
}

TEST(CsvTest, BeyondTwentyJoinedProblemsTheRestAreCounted) {
  const std::string joined = JoinProblems(NumberedProblems(23));
  EXPECT_TRUE(joined.ends_with("\nf.csv:20:1: bad\n(3 more problems)")) << joined;
  EXPECT_EQ(joined.find("f.csv:21:"), std::string::npos) << joined;
}

TEST(CsvTest, TheCallerChoosesHowManyJoinedProblemsAreShown) {
  EXPECT_EQ(JoinProblems(NumberedProblems(3), 1), "f.csv:1:1: bad\n(2 more problems)");
  EXPECT_EQ(JoinProblems(NumberedProblems(2), 0), "(2 more problems)");
}

}  // namespace
}  // namespace vigil
