// The URL test lists: one malformed file per lint rule with the exact message a user sees,
// the CSV corners spreadsheets produce (quotes, CRLF, BOM), our shipped lists, Citizen
// Lab's real lists, and `vigil lists check` as a user runs it.
#include "probe/testlists/test_list.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

using test_support::RunCommand;
using test_support::TempDir;

constexpr char kHeader[] = "url,category_code,category_description,date_added,source,notes\n";
constexpr char kGoodRow[] =
    "https://chat.example/,COMT,Communication Tools,2024-01-02,vigil,a chat service\n";
constexpr char kLegend[] =
    "Category Description,Code,Description\n"
    "Communication Tools,COMT,\"Messaging, calls and mail\"\n"
    "Social Networking,GRP,Social networks\n";
constexpr char kGlobal[] =
    "url,category_code,category_description,date_added,source,notes\n"
    "https://global.example/,GRP,Social Networking,2024-01-02,vigil,\n";

std::vector<std::string> Strings(const std::vector<Problem>& problems) {
  std::vector<std::string> out;
  for (const Problem& p : problems) out.push_back(p.ToString());
  return out;
}

// A directory holding a legend, a global list and whatever the test adds.
class ListDir {
 public:
  ListDir() : dir_("test_list_") {
    EXPECT_TRUE(dir_.ok()) << dir_.error();
    Write("00-LEGEND-category_codes.csv", kLegend);
    Write("global.csv", kGlobal);
    Result<CategoryLegend> legend = ReadCategoryLegend(dir_.Join("00-LEGEND-category_codes.csv"));
    EXPECT_TRUE(legend.ok()) << legend.error();
    if (legend.ok()) legend_ = *legend;
  }

  std::string Write(const std::string& name, const std::string& content) {
    std::string error;
    EXPECT_TRUE(dir_.WriteFile(name, content, &error)) << error;
    return dir_.Join(name);
  }

  std::vector<std::string> Check(const std::vector<std::string>& paths) const {
    return Strings(CheckTestLists(paths, legend_));
  }

  const std::string& path() const { return dir_.path(); }
  const CategoryLegend& legend() const { return legend_; }

 private:
  TempDir dir_;
  CategoryLegend legend_;
};

struct RuleCase {
  const char* rule;
  std::string content;  ///< the whole of xx.csv
  /// "LINE:COLUMN: message" for each problem; {dir} stands for the directory.
  std::vector<std::string> expected;
};

std::string Row(const std::string& url, const std::string& code = "COMT",
                const std::string& description = "Communication Tools",
                const std::string& date = "2024-01-02", const std::string& source = "vigil",
                const std::string& notes = "a chat service") {
  return url + "," + code + "," + description + "," + date + "," + source + "," + notes + "\n";
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

TEST(CheckTestListsTest, EachRuleReportsFileLineColumn) {
  const std::string header = kHeader;
  const std::string good = kGoodRow;
  const std::string fields_hint = " (quote a field that holds a comma: \"a, b\")";
  const RuleCase cases[] = {
      {"clean file",
       header + good + Row("https://a.example/x?y=1", "GRP", "Social Networking"),
       {}},
      {"leap day is a real date",
       header + Row("https://a.example/", "COMT", "Communication Tools", "2024-02-29"),
       {}},
      {"header field renamed",
       "url,category_code,category,date_added,source,notes\n" + good,
       {"1:3: header field is \"category\", expected \"category_description\""}},
      {"header field missing",
       "url,category_code,category_description,date_added,source\n" + good,
       {"1:6: header has 5 fields, expected "
        "url,category_code,category_description,date_added,source,notes"}},
      {"header extra field",
       "url,category_code,category_description,date_added,source,notes,extra\n" + good,
       {"1:7: header has 7 fields, expected "
        "url,category_code,category_description,date_added,source,notes"}},
      {"empty file",
       "",
       {"1:1: empty file: the first line must be the header "
        "url,category_code,category_description,date_added,source,notes"}},
      {"row with five fields",
       header + "https://a.example/,COMT,Communication Tools,2024-01-02,vigil\n",
       {"2:6: row has 5 fields, expected 6" + fields_hint}},
      {"unquoted comma in notes",
       header + Row("https://a.example/") +
           Row("https://b.example/", "COMT", "Communication Tools", "2024-01-02", "vigil",
               "calls, chat"),
       {"3:7: row has 7 fields, expected 6" + fields_hint}},
      {"scheme not http",
       header + Row("ftp://a.example/"),
       {"2:1: unsupported URL scheme \"ftp\" (only http and https)"}},
      {"no scheme", header + Row("www.a.example/"), {"2:1: URL has no scheme"}},
      {"no host", header + Row("https:///index.html"), {"2:1: empty host in URL"}},
      {"no path",
       header + Row("https://a.example"),
       {"2:1: URL has no path; write \"https://a.example/\""}},
      {"no path before the query",
       header + Row("http://a.example:8080?q=1"),
       {"2:1: URL has no path; write \"http://a.example:8080/?q=1\""}},
      {"space in URL", header + Row("https://a.example/a b"), {"2:1: whitespace in url"}},
      {"empty URL", header + Row(""), {"2:1: url is empty"}},
      {"unknown code",
       header + Row("https://a.example/", "NEWS", "News Media"),
       {"2:2: unknown category code \"NEWS\" (not in 00-LEGEND-category_codes.csv)"}},
      {"space in code",
       header + Row("https://a.example/", "COMT "),
       {"2:2: whitespace in category_code"}},
      {"description of another code",
       header + Row("https://a.example/", "COMT", "Social Networking"),
       {"2:3: category_description \"Social Networking\" does not match \"Communication "
        "Tools\", the legend's description of COMT"}},
      {"description with trailing space",
       header + Row("https://a.example/", "COMT", "Communication Tools "),
       {"2:3: leading or trailing space in category_description"}},
      {"date in another form",
       header + Row("https://a.example/", "COMT", "Communication Tools", "2024/01/02"),
       {"2:4: date_added \"2024/01/02\" is not in the form YYYY-MM-DD"}},
      {"date without leading zeros",
       header + Row("https://a.example/", "COMT", "Communication Tools", "2024-1-2"),
       {"2:4: date_added \"2024-1-2\" is not in the form YYYY-MM-DD"}},
      {"date that does not exist",
       header + Row("https://a.example/", "COMT", "Communication Tools", "2023-02-29"),
       {"2:4: date_added 2023-02-29 is not a real date"}},
      {"month 13",
       header + Row("https://a.example/", "COMT", "Communication Tools", "2023-13-01"),
       {"2:4: date_added 2023-13-01 is not a real date"}},
      {"date in the future",
       header + Row("https://a.example/", "COMT", "Communication Tools", "2999-01-01"),
       {"2:4: date_added 2999-01-01 is in the future"}},
      {"tab in source",
       header + Row("https://a.example/", "COMT", "Communication Tools", "2024-01-02", "vi\tgil"),
       {"2:5: tab in source"}},
      {"trailing space at the end of the line",
       header + Row("https://a.example/", "COMT", "Communication Tools", "2024-01-02", "vigil",
                    "a chat service "),
       {"2:6: leading or trailing space in notes"}},
      {"line break inside quoted notes",
       header +
           Row("https://a.example/", "COMT", "Communication Tools", "2024-01-02", "vigil",
               "\"two\nlines\"") +
           good,
       {"2:6: line break in notes"}},
      {"duplicate URL",
       header + good + Row("https://a.example/") + good,
       {"4:1: duplicate URL, first at line 2"}},
      {"URL also in global.csv",
       header + good + Row("https://global.example/"),
       {"3:1: URL is also in {dir}/global.csv (line 2); a country list holds only what the "
        "global list does not"}},
      {"empty line in the middle",
       header + good + "\n" + Row("https://a.example/"),
       {"3:1: empty line"}},
      {"empty line at the end", header + good + "\n", {"3:1: empty line"}},
      {"line of spaces",
       header + good + "   \n" + Row("https://a.example/"),
       {"3:1: line holds only whitespace"}},
      {"byte order mark",
       "\xEF\xBB\xBF" + header + good,
       {"1:1: byte order mark at the start of the file (save as UTF-8 without BOM)"}},
      {"quote inside an unquoted field",
       header + Row("https://a.example/", "COMT", "Communication Tools", "2024-01-02", "vigil",
                    "say \"hi\""),
       {"2:6: quote inside an unquoted field (quote the whole field and double the quote)"}},
      {"text after a closing quote",
       header + Row("https://a.example/", "COMT", "Communication Tools", "2024-01-02", "vigil",
                    "\"say\" hi"),
       {"2:6: text after the closing quote (quote the whole field and double quotes inside it)"}},
      {"quote never closed",
       header + good +
           Row("https://a.example/", "COMT", "Communication Tools", "2024-01-02", "vigil",
               "\"open"),
       {"3:6: quoted field is not closed before the end of the file", "3:6: line break in notes"}},
  };
  for (const RuleCase& c : cases) {
    SCOPED_TRACE(c.rule);
    ListDir dir;
    const std::string path = dir.Write("xx.csv", c.content);
    std::vector<std::string> expected;
    for (const std::string& e : c.expected) expected.push_back(path + ":" + e);
    for (std::string& e : expected) e = Replace(e, "{dir}", dir.path());
    EXPECT_EQ(dir.Check({path}), expected);
  }
}

TEST(CheckTestListsTest, ReportsEveryProblemInFileOrder) {
  ListDir dir;
  const std::string a =
      dir.Write("aa.csv", std::string(kHeader) + Row("https://a.example") +
                              Row("https://b.example/", "XX", "Nothing", "2024-02-30") + "\n" +
                              kGoodRow + kGoodRow);
  const std::string b = dir.Write("bb.csv", std::string(kHeader) + "https://c.example/,COMT\n");
  EXPECT_EQ(dir.Check({dir.path()}),
            (std::vector<std::string>{
                a + ":2:1: URL has no path; write \"https://a.example/\"",
                a + ":3:2: unknown category code \"XX\" (not in 00-LEGEND-category_codes.csv)",
                a + ":3:4: date_added 2024-02-30 is not a real date",
                a + ":4:1: empty line",
                a + ":6:1: duplicate URL, first at line 5",
                b + ":2:3: row has 2 fields, expected 6 (quote a field that holds a comma: "
                    "\"a, b\")",
            }));
}

TEST(CheckTestListsTest, CountryListIsComparedWithTheGlobalListBesideItWhenNamedAlone) {
  ListDir dir;
  const std::string cn =
      dir.Write("cn.csv", std::string(kHeader) + kGoodRow + Row("https://global.example/"));
  ASSERT_EQ(dir.Check({cn}).size(), 1u);
  // global.csv itself is never compared with itself.
  EXPECT_TRUE(dir.Check({dir.path() + "/global.csv"}).empty());
}

TEST(CheckTestListsTest, MissingPathIsAProblem) {
  ListDir dir;
  EXPECT_EQ(dir.Check({dir.path() + "/nope.csv"}),
            std::vector<std::string>{dir.path() + "/nope.csv:1:1: no such file or directory"});
}

TEST(ReadTestListTest, QuotedFieldsWithCommasQuotesAndLineBreaks) {
  ListDir dir;
  const std::string path = dir.Write(
      "xx.csv", std::string(kHeader) +
                    "\"https://a.example/?q=1,2\",COMT,Communication Tools,2024-01-02,vigil,"
                    "\"calls, chat and \"\"stories\"\"\"\n"
                    "https://b.example/,COMT,Communication Tools,2024-01-02,vigil,\"two\nlines\"\n"
                    "https://c.example/,COMT,Communication Tools,2024-01-02,\"\",\n");
  Result<TestList> list = ReadTestList(path);
  ASSERT_TRUE(list.ok()) << list.error();
  ASSERT_EQ(list->entries.size(), 3u);
  EXPECT_EQ(list->entries[0].url, "https://a.example/?q=1,2");
  EXPECT_EQ(list->entries[0].notes, "calls, chat and \"stories\"");
  EXPECT_EQ(list->entries[0].line, 2);
  EXPECT_EQ(list->entries[1].notes, "two\nlines");
  EXPECT_EQ(list->entries[1].line, 3);
  EXPECT_EQ(list->entries[2].line, 5);  // the quoted line break moved it down one line
  EXPECT_EQ(list->entries[2].source, "");
  EXPECT_EQ(list->entries[2].notes, "");
  // The first row is clean: its comma and quotes are inside quotes.
  EXPECT_EQ(dir.Check({path}), std::vector<std::string>{path + ":3:6: line break in notes"});
}

TEST(ReadTestListTest, CrlfLineEndsAreReadAsLineEnds) {
  ListDir dir;
  const std::string path =
      dir.Write("xx.csv",
                "url,category_code,category_description,date_added,source,notes\r\n"
                "https://a.example/,COMT,Communication Tools,2024-01-02,vigil,one\r\n"
                "https://b.example/,COMT,Communication Tools,2024-01-02,vigil,\"two\r\nlines\"\r\n"
                "https://c.example/,COMT,Communication Tools,2024-01-02,vigil,\r\n");
  Result<TestList> list = ReadTestList(path);
  ASSERT_TRUE(list.ok()) << list.error();
  ASSERT_EQ(list->entries.size(), 3u);
  EXPECT_EQ(list->entries[0].notes, "one");
  EXPECT_EQ(list->entries[2].url, "https://c.example/");
  EXPECT_EQ(list->entries[2].notes, "");
  EXPECT_EQ(list->entries[2].line, 5);
  EXPECT_EQ(dir.Check({path}), std::vector<std::string>{path + ":3:6: line break in notes"});
}

TEST(ReadTestListTest, ByteOrderMarkIsSkippedButReported) {
  ListDir dir;
  const std::string path = dir.Write("xx.csv", "\xEF\xBB\xBF" + std::string(kHeader) + kGoodRow);
  Result<TestList> list = ReadTestList(path);
  ASSERT_TRUE(list.ok()) << list.error();
  ASSERT_EQ(list->entries.size(), 1u);
  EXPECT_EQ(list->entries[0].url, "https://chat.example/");
  EXPECT_EQ(dir.Check({path}).size(), 1u);
}

TEST(ReadTestListTest, FailsOnlyOnWhatMakesRowsUnreadable) {
  ListDir dir;
  // Empty lines and bad field contents are the linter's business, not the reader's.
  Result<TestList> lenient = ReadTestList(
      dir.Write("ok.csv", std::string(kHeader) + "\n" + Row("ftp://x", "??", "", "yesterday")));
  ASSERT_TRUE(lenient.ok()) << lenient.error();
  ASSERT_EQ(lenient->entries.size(), 1u);
  EXPECT_EQ(lenient->entries[0].line, 3);

  const std::string header = dir.Write("header.csv", "URL,category_code\n");
  Result<TestList> list = ReadTestList(header);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error(), header + ":1:1: header field is \"URL\", expected \"url\"");

  const std::string fields = dir.Write("fields.csv", std::string(kHeader) + kGoodRow + "a,b\n");
  list = ReadTestList(fields);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error(),
            fields +
                ":3:3: row has 2 fields, expected 6 (quote a field that holds a comma: "
                "\"a, b\")");

  list = ReadTestList(dir.path() + "/absent.csv");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error(), dir.path() + "/absent.csv: cannot open: No such file or directory");
}

TEST(CategoryLegendTest, ReadsCodeAndDescriptionColumnsByName) {
  ListDir dir;
  EXPECT_EQ(dir.legend().descriptions,
            (std::map<std::string, std::string, std::less<>>{{"COMT", "Communication Tools"},
                                                             {"GRP", "Social Networking"}}));
  // Citizen Lab's current legend names the column "New Code" and has one more.
  Result<CategoryLegend> theirs = ReadCategoryLegend(
      dir.Write("theirs.csv",
                "Category Description,New Code,Replaces old code(s),Description\n"
                "Communication Tools,COMT,VOIP EMAIL,\"Messaging, calls\"\n"));
  ASSERT_TRUE(theirs.ok()) << theirs.error();
  EXPECT_EQ(theirs->descriptions.at("COMT"), "Communication Tools");

  const std::string no_code = dir.Write("no_code.csv", "Category Description,Description\n");
  EXPECT_EQ(ReadCategoryLegend(no_code).error(), no_code + ":1:1: no \"Code\" column");
  const std::string twice =
      dir.Write("twice.csv", std::string(kLegend) + "Communication,COMT,again\n");
  EXPECT_EQ(ReadCategoryLegend(twice).error(), twice + ":4:2: code COMT appears twice");
}

TEST(ExpandTestListPathsTest, DirectoriesGiveTheirListsSortedWithoutLegends) {
  ListDir dir;
  dir.Write("zz.csv", kHeader);
  dir.Write("aa.csv", kHeader);
  dir.Write("notes.txt", "not a list");
  Result<std::vector<std::string>> files = ExpandTestListPaths({dir.path()});
  ASSERT_TRUE(files.ok()) << files.error();
  EXPECT_EQ(*files, (std::vector<std::string>{dir.path() + "/aa.csv", dir.path() + "/global.csv",
                                              dir.path() + "/zz.csv"}));
  EXPECT_FALSE(ExpandTestListPaths({dir.path() + "/absent"}).ok());
  TempDir empty("test_list_empty_");
  EXPECT_EQ(ExpandTestListPaths({empty.path()}).error(),
            empty.path() + ": no test lists (*.csv) in this directory");
}

std::string ShippedLists() { return test_support::SourceDir() + "/testlists/lists"; }

TEST(ShippedListsTest, AreCleanAndReadable) {
  Result<CategoryLegend> legend =
      ReadCategoryLegend(ShippedLists() + "/00-LEGEND-category_codes.csv");
  ASSERT_TRUE(legend.ok()) << legend.error();
  EXPECT_EQ(legend->descriptions.size(), 31u);
  EXPECT_EQ(legend->descriptions.at("COMT"), "Communication Tools");
  EXPECT_EQ(Strings(CheckTestLists({ShippedLists()}, *legend)), std::vector<std::string>{});
  for (auto [name, at_least] : {std::pair("global.csv", 40u), std::pair("cn.csv", 25u)}) {
    Result<TestList> list = ReadTestList(ShippedLists() + "/" + name);
    ASSERT_TRUE(list.ok()) << list.error();
    EXPECT_GE(list->entries.size(), at_least) << name;
  }
}

TEST(ShippedListsTest, LegendAgreesWithCitizenLabs) {
  const std::string theirs =
      test_support::ReferenceDir() + "/test-lists/00-LEGEND-new_category_codes.csv";
  if (!std::filesystem::exists(theirs)) GTEST_SKIP() << "no reference legend at " << theirs;
  Result<CategoryLegend> reference = ReadCategoryLegend(theirs);
  ASSERT_TRUE(reference.ok()) << reference.error();
  Result<CategoryLegend> ours =
      ReadCategoryLegend(ShippedLists() + "/00-LEGEND-category_codes.csv");
  ASSERT_TRUE(ours.ok()) << ours.error();
  EXPECT_EQ(ours->descriptions, reference->descriptions);
}

// Citizen Lab's real lists: they must read, and what they violate is printed, not failed
// on, because real data drifts (a note with a trailing space) and it is not ours to fix.
TEST(ReferenceListsTest, ParseAndReportRealWorldFindings) {
  const std::string dir = test_support::ReferenceDir() + "/test-lists";
  if (!std::filesystem::exists(dir + "/global.csv") || !std::filesystem::exists(dir + "/cn.csv")) {
    GTEST_SKIP() << "Citizen Lab's lists not found in " << dir
                 << " (set VIGIL_REFERENCE_DIR to the shared reference folder)";
  }
  for (auto [name, rows] : {std::pair("global.csv", 1722u), std::pair("cn.csv", 594u)}) {
    Result<TestList> list = ReadTestList(dir + "/" + name);
    ASSERT_TRUE(list.ok()) << list.error();
    EXPECT_EQ(list->entries.size(), rows) << name;
  }
  Result<CategoryLegend> legend = ReadCategoryLegend(dir + "/00-LEGEND-new_category_codes.csv");
  ASSERT_TRUE(legend.ok()) << legend.error();
  const std::vector<Problem> problems =
      CheckTestLists({dir + "/global.csv", dir + "/cn.csv"}, *legend);
  std::map<std::string, int> by_message;
  for (const Problem& p : problems) ++by_message[p.message];
  std::cout << "Citizen Lab's lists: " << problems.size() << " lint finding(s)\n";
  for (const auto& [message, count] : by_message)
    std::cout << "  " << count << "x " << message << "\n";
  for (size_t i = 0; i < problems.size() && i < 10; ++i) {
    std::cout << "  " << problems[i].ToString() << "\n";
  }
  // Their own linter keeps them free of structural damage; a finding of that kind here
  // would mean our reader, not their data, is wrong.
  for (const Problem& p : problems) {
    EXPECT_EQ(p.message.find("fields"), std::string::npos) << p.ToString();
    EXPECT_EQ(p.message.find("quote"), std::string::npos) << p.ToString();
  }
}

std::vector<std::string> Vigil(std::vector<std::string> args) {
  args.insert(args.begin(), test_support::VigilBinary());
  return args;
}

TEST(ListsCommandTest, ExitStatusSaysCleanProblemsOrBadArguments) {
  ListDir dir;
  dir.Write("xx.csv", std::string(kHeader) + kGoodRow);
  auto r = RunCommand(Vigil({"lists", "check", dir.path()}));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 file(s), no problems"), std::string::npos) << r.output;

  const std::string bad = dir.Write("yy.csv", std::string(kHeader) + Row("https://a.example"));
  r = RunCommand(Vigil({"lists", "check", dir.path()}));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(bad + ":2:1: URL has no path; write \"https://a.example/\"\n"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("1 problem(s) in 1 of 3 file(s)"), std::string::npos) << r.output;

  r = RunCommand(Vigil({"lists", "check", dir.path() + "/absent.csv"}));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("absent.csv: no such file or directory"), std::string::npos) << r.output;

  r = RunCommand(Vigil({"lists", "check", "--legend", dir.path() + "/absent.csv", dir.path()}));
  EXPECT_EQ(r.exit_code, 2) << r.output;

  TempDir bare("test_list_bare_");
  std::string error;
  ASSERT_TRUE(bare.WriteFile("xx.csv", std::string(kHeader) + kGoodRow, &error)) << error;
  r = RunCommand(Vigil({"lists", "check", bare.path()}));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--legend"), std::string::npos) << r.output;
  r = RunCommand(Vigil(
      {"lists", "check", "--legend", dir.path() + "/00-LEGEND-category_codes.csv", bare.path()}));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(ListsCommandTest, DefaultIsTheShippedListsFromTheRepository) {
  auto r = RunCommand({"/bin/sh", "-c",
                       "cd '" + test_support::SourceDir() + "' && exec '" +
                           test_support::VigilBinary() + "' lists check"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("no problems"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace vigil
