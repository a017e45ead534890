// The keyword lists (testlists/keywords/*.csv): a good list read into tests, controls and
// combinations; one malformed row per rule with the line, column and "field: reason" a
// user sees; tests and controls paired across files; the shipped lists; and `vigil lists
// check` linting keyword lists by folder or header.
#include "probe/testlists/keyword_list.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/utf8.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

using test_support::RunCommand;
using test_support::TempDir;

constexpr char kHeader[] = "id,text,language,theme,components,source,date_added\n";

std::string ErrorOf(const std::string& rows, const std::string& path = "k.csv") {
  auto list = ParseKeywordList(std::string(kHeader) + rows, path);
  return list.ok() ? std::string("(parsed)") : list.error();
}

TEST(KeywordListTest, ReadsTestsControlsAndCombinations) {
  auto list = ParseKeywordList(
      std::string(kHeader) +
          "zh.a,六四,zh-Hans,history,,https://example.org/a,2024-01-01\n"
          "zh.a.c,午饭,zh-Hans,control,,vigil,2024-01-01\n"
          "\n"
          "zh.b,天安门前的坦克,zh-Hans,human rights,天安门+坦克,\"a report, 2017\",2024-01-02\n"
          "en.tank.c,weather,en,control,,vigil,2024-01-01\n"
          "zh.b.c,周末去公园散步,zh-Hans,control,,vigil,2024-01-02\n"
          "en.tank,tank man,en,history,,https://example.org/c,2024-01-01\n",
      "k.csv");
  ASSERT_TRUE(list.ok()) << list.error();
  ASSERT_EQ(list->rows.size(), 6u);
  EXPECT_EQ(list->files, std::vector<std::string>{"k.csv"});

  const KeywordEntry& a = list->rows[0];
  EXPECT_EQ(a.id, "zh.a");
  EXPECT_EQ(a.text, "六四");
  EXPECT_EQ(a.language, "zh-Hans");
  EXPECT_EQ(a.theme, "history");
  EXPECT_TRUE(a.components.empty());
  EXPECT_EQ(a.source, "https://example.org/a");
  EXPECT_EQ(a.date_added, "2024-01-01");
  EXPECT_EQ(a.file, "k.csv");
  EXPECT_EQ(a.line, 2);
  EXPECT_FALSE(a.IsControl());
  EXPECT_FALSE(a.IsCombination());

  const KeywordEntry* b = list->Find("zh.b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->line, 5) << "the blank line is skipped, not renumbered";
  EXPECT_EQ(b->components, (std::vector<std::string>{"天安门", "坦克"}));
  EXPECT_TRUE(b->IsCombination());
  EXPECT_EQ(b->source, "a report, 2017");

  std::vector<std::string> tests;
  for (const KeywordEntry* t : list->Tests()) tests.push_back(t->id);
  EXPECT_EQ(tests, (std::vector<std::string>{"zh.a", "zh.b", "en.tank"})) << "in file order";
  for (const KeywordEntry* t : list->Tests()) {
    const KeywordEntry* control = list->ControlOf(*t);
    ASSERT_NE(control, nullptr) << t->id;
    EXPECT_EQ(control->id, t->id + ".c");
    EXPECT_TRUE(control->IsControl());
  }
  EXPECT_EQ(list->ControlOf(*list->Find("zh.a.c")), nullptr) << "a control has no control";
  EXPECT_EQ(list->Find("nothing"), nullptr);
}

TEST(KeywordListTest, ControlLengthsAreCountedInCharactersFromHalfToTwice) {
  // "ab" is 2 bytes and "午饭吃面" 12: in bytes the control would be six times as long,
  // in characters it is twice, which is allowed.
  EXPECT_EQ(ErrorOf("x,ab,zh,history,,s,2024-01-01\n"
                    "x.c,午饭吃面,zh,control,,vigil,2024-01-01\n"
                    "y,六四五六,zh,history,,s,2024-01-01\n"
                    "y.c,午饭,zh,control,,vigil,2024-01-01\n"),
            "(parsed)");
  EXPECT_EQ(ErrorOf("x,ab,zh,history,,s,2024-01-01\n"
                    "x.c,午饭吃面条,zh,control,,vigil,2024-01-01\n"),
            "k.csv:3: text: 5 characters, not within half to twice the 2 of its test (line 2)");
  EXPECT_EQ(ErrorOf("y,六四五六五,zh,history,,s,2024-01-01\n"
                    "y.c,午饭,zh,control,,vigil,2024-01-01\n"),
            "k.csv:3: text: 2 characters, not within half to twice the 5 of its test (line 2)");
}

struct BadRows {
  const char* what;
  std::string rows;
  int line;
  int column;
  std::string message;
};

// Rows that make one problem each; their tests and controls are otherwise paired.
TEST(KeywordListTest, EachProblemIsReportedAtItsLineAndColumn) {
  const std::string pair =
      "a,六四,zh,history,,s,2024-01-01\na.c,午饭,zh,control,,vigil,2024-01-01\n";
  const std::string control = "a.c,午饭,zh,control,,vigil,2024-01-01\n";
  const std::string control5 = "a.c,周末去公园,zh,control,,vigil,2024-01-01\n";
  const std::string long_text(513, 'x');
  const std::vector<BadRows> cases = {
      {"six fields", "a,六四,zh,history,,s\n", 2, 1, "row: expected 7 fields, found 6"},
      {"eight fields", pair + "b,六四,zh,history,,s,2024-01-01,x\n", 4, 1,
       "row: expected 7 fields, found 8"},
      {"no id", ",六四,zh,history,,s,2024-01-01\n", 2, 1, "id: empty"},
      {"uppercase id", "A,六四,zh,history,,s,2024-01-01\n", 2, 1,
       "id: \"A\" may hold only lowercase letters, digits, '.', '_' and '-'"},
      {"id with a space", "a b,六四,zh,history,,s,2024-01-01\n", 2, 1,
       "id: \"a b\" may hold only lowercase letters, digits, '.', '_' and '-'"},
      {"id with a control byte", "a\x1b,六四,zh,history,,s,2024-01-01\n", 2, 1,
       "id: \"a\\x1B\" may hold only lowercase letters, digits, '.', '_' and '-'"},
      {"test id of a control", "a.c,六四,zh,history,,s,2024-01-01\n", 2, 1,
       "id: \"a.c\" ends in \".c\", which only a control's id does (theme control)"},
      {"control id of a test", "a,午饭,zh,control,,vigil,2024-01-01\n", 2, 1,
       "id: \"a\" is a control's, which is its test's id followed by \".c\""},
      {"control id that is only the suffix", ".c,午饭,zh,control,,vigil,2024-01-01\n", 2, 1,
       "id: \".c\" is a control's, which is its test's id followed by \".c\""},
      {"repeated id", pair + "a,法轮功,zh,religion,,s,2024-01-01\n", 4, 1,
       "id: repeats the id of line 2"},
      {"test without its control", "a,六四,zh,history,,s,2024-01-01\n", 2, 1,
       "id: no control \"a.c\" (theme control) for this test"},
      {"control without its test", "b.c,午饭,zh,control,,vigil,2024-01-01\n", 2, 1,
       "id: no test \"b\" for this control"},
      {"control of a control", pair + "a.c.c,午饭,zh,control,,vigil,2024-01-01\n", 4, 1,
       "id: no test \"a.c\" for this control"},
      {"empty text", "a,,zh,history,,s,2024-01-01\n" + control, 2, 2, "text: empty"},
      {"text not UTF-8", "a,\xff\xfe,zh,history,,s,2024-01-01\n" + control, 2, 2,
       "text: not valid UTF-8"},
      {"text with a tab", "a,六\t四,zh,history,,s,2024-01-01\n" + control, 2, 2,
       "text: holds U+0009, a control character or line break (a message is one line of "
       "plain text)"},
      {"text over two lines", "a,\"六\n四\",zh,history,,s,2024-01-01\n" + control, 2, 2,
       "text: holds U+000A, a control character or line break (a message is one line of "
       "plain text)"},
      {"text with a NUL", std::string("a,六\0四,zh,history,,s,2024-01-01\n", 35) + control, 2, 2,
       "text: holds U+0000, a control character or line break (a message is one line of "
       "plain text)"},
      {"text with a C1 control", "a,六\xc2\x85四,zh,history,,s,2024-01-01\n" + control, 2, 2,
       "text: holds U+0085, a control character or line break (a message is one line of "
       "plain text)"},
      {"text with a line separator", "a,六\xe2\x80\xa8四,zh,history,,s,2024-01-01\n" + control, 2,
       2,
       "text: holds U+2028, a control character or line break (a message is one line of "
       "plain text)"},
      {"text too long",
       "a," + long_text + ",en,history,,s,2024-01-01\na.c," + std::string(300, 'y') +
           ",en,control,,vigil,2024-01-01\n",
       2, 2, "text: 513 bytes, more than 512"},
      {"no language", "a,六四,,history,,s,2024-01-01\n" + control, 2, 3, "language: empty"},
      {"uppercase language", "a,六四,ZH,history,,s,2024-01-01\n" + control, 2, 3,
       "language: \"ZH\" is not a language tag (zh, zh-Hans, en, ug)"},
      {"language as a word", "a,六四,chinese,history,,s,2024-01-01\n" + control, 2, 3,
       "language: \"chinese\" is not a language tag (zh, zh-Hans, en, ug)"},
      {"language with _", "a,六四,zh_Hans,history,,s,2024-01-01\n" + control, 2, 3,
       "language: \"zh_Hans\" is not a language tag (zh, zh-Hans, en, ug)"},
      {"language ending in -", "a,六四,zh-,history,,s,2024-01-01\n" + control, 2, 3,
       "language: \"zh-\" is not a language tag (zh, zh-Hans, en, ug)"},
      {"control in another language",
       "a,六四,zh,history,,s,2024-01-01\na.c,ab,en,control,,v,"
       "2024-01-01\n",
       3, 3, "language: \"en\" is not its test's language \"zh\" (line 2)"},
      {"control too short", "a,乌鲁木齐的火灾,zh,protest,乌鲁木齐+火灾,s,2024-01-01\n" + control, 3,
       2, "text: 2 characters, not within half to twice the 7 of its test (line 2)"},
      {"control too long",
       "a,六四,zh,history,,s,2024-01-01\na.c,杭州西湖的荷花,zh,control,,v,"
       "2024-01-01\n",
       3, 2, "text: 7 characters, not within half to twice the 2 of its test (line 2)"},
      {"no theme", "a,六四,zh,,,s,2024-01-01\n" + control, 2, 4, "theme: empty"},
      {"capitalised theme", "a,六四,zh,Politics,,s,2024-01-01\n" + control, 2, 4,
       "theme: \"Politics\" is not lowercase words (a-z, joined by one space or '-')"},
      {"theme with two spaces", "a,六四,zh,human  rights,,s,2024-01-01\n" + control, 2, 4,
       "theme: \"human  rights\" is not lowercase words (a-z, joined by one space or '-')"},
      {"theme with a digit", "a,六四,zh,politics2,,s,2024-01-01\n" + control, 2, 4,
       "theme: \"politics2\" is not lowercase words (a-z, joined by one space or '-')"},
      {"one component", "a,六四,zh,history,六四,s,2024-01-01\n" + control, 2, 5,
       "components: \"六四\" is one word: a combination joins two or more with '+' (leave the "
       "field empty for a single keyword)"},
      {"empty component", "a,六四学生,zh,history,六四++学生,s,2024-01-01\n" + control, 2, 5,
       "components: an empty word (join the words with one '+', none at either end)"},
      {"trailing +", "a,六四学生,zh,history,六四+,s,2024-01-01\n" + control, 2, 5,
       "components: an empty word (join the words with one '+', none at either end)"},
      {"component not in the text",
       "a,天安门的坦克,zh,history,天安门+学生,s,2024-01-01\n" + control5, 2, 5,
       "components: \"学生\" is not in the text"},
      {"component twice", "a,天安门的坦克,zh,history,天安门+天安门,s,2024-01-01\n" + control5, 2, 5,
       "components: \"天安门\" is listed twice"},
      {"component not UTF-8", "a,六四学生,zh,history,六四+\xff,s,2024-01-01\n" + control, 2, 5,
       "components: not valid UTF-8"},
      {"control with components",
       "a,六四,zh,history,,s,2024-01-01\na.c,午饭,zh,control,午+饭,vigil,2024-01-01\n", 3, 5,
       "components: a control is not a combination (leave the field empty)"},
      {"source not UTF-8", "a,六四,zh,history,,\xc0\xaf,2024-01-01\n" + control, 2, 6,
       "source: not valid UTF-8"},
      {"no date", "a,六四,zh,history,,s,\n" + control, 2, 7, "date_added: empty"},
      {"date in another form", "a,六四,zh,history,,s,2024-1-01\n" + control, 2, 7,
       "date_added: \"2024-1-01\" is not a date (write YYYY-MM-DD)"},
      {"no such day", "a,六四,zh,history,,s,2024-02-30\n" + control, 2, 7,
       "date_added: \"2024-02-30\" is no such day"},
      {"date in the future", "a,六四,zh,history,,s,2999-01-01\n" + control, 2, 7,
       "date_added: \"2999-01-01\" is in the future"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const std::vector<Problem> problems = CheckKeywordList(std::string(kHeader) + c.rows, "k.csv");
    ASSERT_EQ(problems.size(), 1u) << (problems.empty() ? "" : problems.back().ToString());
    EXPECT_EQ(problems[0], (Problem{"k.csv", c.line, c.column, c.message}))
        << problems[0].ToString();
    // Parsing refuses the list with the same problem, without the column.
    EXPECT_EQ(ErrorOf(c.rows), "k.csv:" + std::to_string(c.line) + ": " + c.message);
  }
}

TEST(KeywordListTest, BrokenQuotingHeaderAndEmptyFile) {
  const std::vector<Problem> quoting = CheckKeywordList(
      std::string(kHeader) + "a,\"unterminated,zh,history,,s,2024-01-01\n", "q.csv");
  ASSERT_FALSE(quoting.empty());
  EXPECT_EQ(quoting[0].line, 2);
  EXPECT_EQ(quoting[0].message.rfind("csv: ", 0), 0u) << quoting[0].ToString();

  auto wrong = ParseKeywordList("id,text,language,theme,source,date_added\n", "h.csv");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error(),
            "h.csv:1: header: expected id,text,language,theme,components,source,"
            "date_added");
  auto empty = ParseKeywordList("", "e.csv");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error(), "e.csv:1: header: the file is empty");
  // Spreadsheets write a byte order mark and CRLF.
  auto excel = ParseKeywordList(
      "\xEF\xBB\xBFid,text,language,theme,components,source,date_added\r\n"
      "a,六四,zh,history,,s,2024-01-01\r\na.c,午饭,zh,control,,vigil,2024-01-01\r\n",
      "x.csv");
  ASSERT_TRUE(excel.ok()) << excel.error();
  EXPECT_EQ(excel->rows.size(), 2u);
}

TEST(KeywordListTest, ProblemsComeInLineOrderUpToTwenty) {
  // Line 2's problem is found while reading the row, line 3's only when the rows are
  // paired; they are listed by line and field all the same.
  std::string rows =
      "a,六四,zh,History,,s,2024-01-01\n"                   // 2: theme
      "a.c,杭州西湖的荷花,zh,control,,vigil,2024-13-01\n";  // 3: text (pairing), date_added
  for (int i = 0; i < 30; ++i) rows += "b" + std::to_string(i) + ",六四,zh,history,,s,2024-01-01\n";
  const std::string error = ErrorOf(rows);
  std::vector<std::string> lines;
  std::istringstream in(error);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 21u) << error;
  EXPECT_EQ(lines[0],
            "k.csv:2: theme: \"History\" is not lowercase words (a-z, joined by one space or '-')");
  EXPECT_EQ(lines[1],
            "k.csv:3: text: 7 characters, not within half to twice the 2 of its test "
            "(line 2)");
  EXPECT_EQ(lines[2], "k.csv:3: date_added: \"2024-13-01\" is no such day");
  EXPECT_EQ(lines[3], "k.csv:4: id: no control \"b0.c\" (theme control) for this test");
  EXPECT_EQ(lines[20], "(13 more)");
}

TEST(KeywordListTest, GarbageNeverCrashes) {
  for (const std::string& text :
       {std::string("\0\0\0", 3), std::string("id"), std::string(kHeader) + ",,,,,,\n",
        std::string(kHeader) + "a,b,c\n\"\"\"\n,,,,,,,,,,,,\n",
        std::string(kHeader) + "x.c.c.c,+++,zz-,control,+,\xff,9999-99-99\n",
        std::string(kHeader) + ".c,\xe2\x82,zh,control,,,2024-01-01\n,\xe2,zh,x,,,\n"}) {
    auto list = ParseKeywordList(text, "g.csv");
    EXPECT_FALSE(list.ok());
    EXPECT_EQ(list.error().rfind("g.csv:", 0), 0u) << list.error();
    EXPECT_TRUE(IsValidUtf8(list.error())) << list.error();
  }
}

TEST(KeywordListTest, FilesOfADirectoryAreOneList) {
  TempDir dir("keyword_list_");
  std::string error;
  // A test in one file, its control in another.
  ASSERT_TRUE(
      dir.WriteFile("a.csv", std::string(kHeader) + "a,六四,zh,history,,s,2024-01-01\n", &error))
      << error;
  ASSERT_TRUE(dir.WriteFile(
      "b.csv", std::string(kHeader) + "a.c,午饭,zh,control,,vigil,2024-01-01\n", &error))
      << error;
  ASSERT_TRUE(dir.WriteFile("README.md", "not a list\n", &error)) << error;
  auto list = ReadKeywordLists(dir.path());
  ASSERT_TRUE(list.ok()) << list.error();
  EXPECT_EQ(list->files, (std::vector<std::string>{dir.Join("a.csv"), dir.Join("b.csv")}));
  ASSERT_EQ(list->Tests().size(), 1u);
  ASSERT_NE(list->ControlOf(*list->Tests()[0]), nullptr);
  EXPECT_EQ(list->ControlOf(*list->Tests()[0])->file, dir.Join("b.csv"));
  auto same = ReadKeywordListPath(dir.path());
  ASSERT_TRUE(same.ok()) << same.error();
  EXPECT_EQ(same->rows.size(), 2u);

  // One file alone lacks the other half of the pair.
  auto alone = ReadKeywordListPath(dir.Join("a.csv"));
  ASSERT_FALSE(alone.ok());
  EXPECT_EQ(alone.error(),
            dir.Join("a.csv") + ":2: id: no control \"a.c\" (theme control) for this test");

  ASSERT_TRUE(
      dir.WriteFile("c.csv", std::string(kHeader) + "a,法轮功,zh,religion,,s,2024-01-01\n", &error))
      << error;
  list = ReadKeywordLists(dir.path());
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error(),
            dir.Join("c.csv") + ":2: id: repeats the id of " + dir.Join("a.csv") + ":2");
  // The control names its test's file when they differ.
  ASSERT_TRUE(
      dir.WriteFile("c.csv", std::string(kHeader) + "b,六四,zh,history,,s,2024-01-01\n", &error))
      << error;
  ASSERT_TRUE(dir.WriteFile(
      "d.csv", std::string(kHeader) + "b.c,午饭,en,control,,vigil,2024-01-01\n", &error))
      << error;
  const std::vector<Problem> problems =
      CheckKeywordListFiles({dir.Join("a.csv"), dir.Join("b.csv"), dir.Join("c.csv"),
                             dir.Join("d.csv"), dir.Join("absent.csv")});
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0], (Problem{dir.Join("d.csv"), 2, 3,
                                  "language: \"en\" is not its test's language \"zh\" (" +
                                      dir.Join("c.csv") + ":2)"}));
  EXPECT_EQ(problems[1].file, dir.Join("absent.csv"));
  EXPECT_EQ(problems[1].line, 1);

  auto missing = ReadKeywordLists(dir.Join("nothing"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error(), dir.Join("nothing") + ": no such directory");
  EXPECT_FALSE(ReadKeywordListPath(dir.Join("nothing")).ok());
  TempDir bare("keyword_list_bare_");
  auto none = ReadKeywordLists(bare.path());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error(), bare.path() + ": no keyword lists (*.csv)");
  EXPECT_EQ(KeywordListDir("/d"), "/d/keywords");
  EXPECT_EQ(KeywordListDir(""), "testlists/keywords");
}

TEST(KeywordListTest, TellsAKeywordListByItsFirstLine) {
  EXPECT_TRUE(LooksLikeKeywordList(kHeader));
  EXPECT_TRUE(LooksLikeKeywordList("id,text,language,theme,components,source,date_added"));
  EXPECT_TRUE(
      LooksLikeKeywordList("\xEF\xBB\xBFid,text,language,theme,components,source,"
                           "date_added\r\nrest"));
  EXPECT_FALSE(LooksLikeKeywordList("id,text,language,theme,components,source\n"));
  EXPECT_FALSE(LooksLikeKeywordList("service,endpoint,port,steps,expected_asn,notes\n"));
  EXPECT_FALSE(LooksLikeKeywordList(""));
}

TEST(KeywordListTest, TheShippedListsAreCleanAndSourced) {
  auto list = ReadKeywordLists(test_support::SourceDir() + "/testlists/keywords");
  ASSERT_TRUE(list.ok()) << list.error();
  const std::vector<const KeywordEntry*> tests = list->Tests();
  EXPECT_GE(tests.size(), 12u);
  EXPECT_LE(tests.size(), 20u);
  size_t combinations = 0, english = 0;
  std::set<std::string> languages;
  for (const KeywordEntry* t : tests) {
    SCOPED_TRACE(t->file + ":" + std::to_string(t->line));
    EXPECT_EQ(t->source.rfind("https://", 0), 0u) << "cite the public page the row rests on";
    ASSERT_NE(list->ControlOf(*t), nullptr);
    if (t->IsCombination()) ++combinations;
    if (t->language == "en") ++english;
    languages.insert(t->language);
  }
  EXPECT_GE(combinations, 3u) << "WeChat filters combinations: the list must test some";
  EXPECT_GE(english, 2u);
  EXPECT_EQ(languages, (std::set<std::string>{"en", "zh-Hans"}));
  EXPECT_EQ(list->rows.size(), 2 * tests.size()) << "a control for every test, nothing else";
}

std::vector<std::string> Vigil(std::vector<std::string> args) {
  args.insert(args.begin(), test_support::VigilBinary());
  return args;
}

TEST(KeywordListTest, ListsCheckLintsKeywordLists) {
  TempDir dir("keyword_lint_");
  std::string error;
  ASSERT_TRUE(dir.WriteFile("keywords/a.csv",
                            std::string(kHeader) + "a,六四,zh,history,,s,2024-01-01\n", &error))
      << error;
  ASSERT_TRUE(dir.WriteFile(
      "keywords/b.csv", std::string(kHeader) + "a.c,午饭,zh,control,,vigil,2024-01-01\n", &error))
      << error;
  // No legend needed: there is no URL list. The files are one list: a.csv's test has its
  // control in b.csv.
  auto r = RunCommand(Vigil({"lists", "check", dir.Join("keywords")}));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 file(s), no problems"), std::string::npos) << r.output;

  ASSERT_TRUE(dir.WriteFile("keywords/c.csv",
                            std::string(kHeader) + "b,天安门的坦克,zh,history,天安门+学生,s,"
                                                   "2024-01-01\nb.c,周末去公园,zh,control,,v,"
                                                   "2024-01-01\n",
                            &error))
      << error;
  r = RunCommand(Vigil({"lists", "check", dir.Join("keywords")}));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(
      r.output.find(dir.Join("keywords/c.csv") + ":2:5: components: \"学生\" is not in the text\n"),
      std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("1 problem(s) in 1 of 3 file(s)"), std::string::npos) << r.output;

  // In a keywords folder a file is a keyword list whatever its header says...
  ASSERT_TRUE(dir.WriteFile("keywords/c.csv", "url,notes\n", &error)) << error;
  r = RunCommand(Vigil({"lists", "check", dir.Join("keywords/c.csv")}));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(dir.Join("keywords/c.csv") +
                          ":1:1: header: expected id,text,language,theme,components,source,"
                          "date_added\n"),
            std::string::npos)
      << r.output;
  // ...and elsewhere its header makes it one.
  ASSERT_TRUE(dir.WriteFile("elsewhere.csv",
                            std::string(kHeader) + "x,六四,zh,history,,s,2024-01-01\n", &error))
      << error;
  r = RunCommand(Vigil({"lists", "check", dir.Join("elsewhere.csv")}));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(dir.Join("elsewhere.csv") +
                          ":2:1: id: no control \"x.c\" (theme control) for this test\n"),
            std::string::npos)
      << r.output;

  // From the repository, the shipped keyword lists pass, and the default checks them.
  auto in_repository = [](const std::string& args) {
    return RunCommand({"/bin/sh", "-c",
                       "cd '" + test_support::SourceDir() + "' && exec '" +
                           test_support::VigilBinary() + "' lists check " + args});
  };
  r = in_repository("testlists/keywords");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("no problems"), std::string::npos) << r.output;
  const auto all = in_repository("");
  EXPECT_EQ(all.exit_code, 0) << all.output;
  EXPECT_EQ(all.output,
            in_repository("testlists/lists testlists/messaging testlists/keywords testlists/events")
                .output);
}

}  // namespace
}  // namespace vigil
