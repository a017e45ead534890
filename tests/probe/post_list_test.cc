// The public-account post lists (testlists/wechat_posts/*.csv): the URL forms a list may
// hold, one malformed row per rule with the exact "file:line: field: reason" a user sees,
// duplicates within and across files, the shipped template (which agrees with the lab's
// posts-removal scenario), and `vigil lists check` linting post lists.
#include "probe/testlists/post_list.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/read_file.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

using test_support::RunCommand;
using test_support::TempDir;

constexpr char kHeader[] = "url,account,title,source,date_added\n";

std::string ErrorOf(const std::string& rows, const std::string& path = "p.csv") {
  auto list = ParsePostList(std::string(kHeader) + rows, path);
  return list.ok() ? std::string("(parsed)") : list.error();
}

TEST(PostListTest, ReadsRowsInFileOrder) {
  auto list = ParsePostList(
      std::string(kHeader) +
          "https://mp.weixin.qq.com/s/AbC-12_x,新闻号,\"标题, 带逗号\",https://example.org/r,"
          "2024-05-21\n"
          "\n"
          "http://mp.weixin.qq.com/s?__biz=MzA1&mid=2650&idx=1&sn=9f3e&scene=21,账号二,,"
          "\"WeChatscope archive, 2018\",2018-07-06\n",
      "p.csv");
  ASSERT_TRUE(list.ok()) << list.error();
  ASSERT_EQ(list->rows.size(), 2u);
  const PostEntry& first = list->rows[0];
  EXPECT_EQ(first.url, "https://mp.weixin.qq.com/s/AbC-12_x");
  EXPECT_EQ(first.account, "新闻号");
  EXPECT_EQ(first.title, "标题, 带逗号");
  EXPECT_EQ(first.source, "https://example.org/r");
  EXPECT_EQ(first.date_added, "2024-05-21");
  EXPECT_EQ(first.line, 2);
  EXPECT_EQ(list->rows[1].line, 4) << "the blank line is skipped, not renumbered";
  EXPECT_EQ(list->rows[1].title, "") << "a title may be empty";
  EXPECT_EQ(list->Urls(),
            (std::vector<std::string>{
                "https://mp.weixin.qq.com/s/AbC-12_x",
                "http://mp.weixin.qq.com/s?__biz=MzA1&mid=2650&idx=1&sn=9f3e&scene=21"}));
  EXPECT_EQ(list->files, std::vector<std::string>{"p.csv"});
}

TEST(PostListTest, OnlyArticleUrlsOfThePlatform) {
  EXPECT_EQ(PostUrlProblem("https://mp.weixin.qq.com/s/x"), "");
  EXPECT_EQ(PostUrlProblem("https://mp.weixin.qq.com/s?__biz=a&mid=b&idx=1&sn=c"), "");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "empty"},
      {"https://weixin.qq.com/s/x", "host \"weixin.qq.com\" is not mp.weixin.qq.com"},
      {"https://MP.weixin.qq.com/s/x", "write the host in lowercase"},
      {"https://mp.weixin.qq.com:8443/s/x", "no port: articles are at the scheme's own"},
      {"https://mp.weixin.qq.com/s/x#rd", "drop the fragment \"#rd\": it is never sent"},
      {"https://mp.weixin.qq.com/s/",
       "the article id after /s/ must be letters, digits, '-' and "
       "'_', got \"\""},
      {"https://mp.weixin.qq.com/s/a/b",
       "the article id after /s/ must be letters, digits, '-' and '_', got \"a/b\""},
      {"https://mp.weixin.qq.com/s?__biz=a&mid=&idx=1",
       "the query lacks mid, sn (each with a value)"},
      {"https://mp.weixin.qq.com/",
       "the path is neither /s/<id> nor /s?__biz=...&mid=...&idx=..."
       "&sn=..."},
      {"https://mp.weixin.qq.com/s/a b",
       "whitespace or a control character in "
       "\"https://mp.weixin.qq.com/s/a b\""},
  };
  for (const auto& [url, why] : bad) EXPECT_EQ(PostUrlProblem(url), why) << url;
  EXPECT_NE(PostUrlProblem("ftp://mp.weixin.qq.com/s/x"), "");
}

struct BadRow {
  const char* what;
  std::string rows;
  std::string error;
};

TEST(PostListTest, EachMalformedRowGetsFileLineFieldAndReason) {
  const std::string url = "https://mp.weixin.qq.com/s/a";
  const std::vector<BadRow> cases = {
      {"not the platform", "https://example.org/s/a,A,T,S,2024-01-01\n",
       "p.csv:2: url: host \"example.org\" is not mp.weixin.qq.com"},
      {"no account", url + ",,T,S,2024-01-01\n", "p.csv:2: account: empty"},
      {"no source", url + ",A,T,,2024-01-01\n", "p.csv:2: source: empty"},
      {"space around the account", url + ", A,T,S,2024-01-01\n",
       "p.csv:2: account: leading or trailing space"},
      {"tab in the title", url + ",A,\"T\tx\",S,2024-01-01\n",
       "p.csv:2: title: holds a tab, line break or control character"},
      {"not UTF-8", url + ",A\xff,T,S,2024-01-01\n", "p.csv:2: account: not UTF-8"},
      {"not a real date", url + ",A,T,S,2024-02-30\n",
       "p.csv:2: date_added: \"2024-02-30\" is not a real date written YYYY-MM-DD"},
      {"not a date", url + ",A,T,S,May 2024\n",
       "p.csv:2: date_added: \"May 2024\" is not a real date written YYYY-MM-DD"},
      {"the future", url + ",A,T,S,2999-01-01\n",
       "p.csv:2: date_added: 2999-01-01 is in the future"},
      {"four fields", url + ",A,T,S\n",
       "p.csv:2: row: expected 5 fields, found 4 (quote a field that holds a comma: \"a, b\")"},
      {"twice", url + ",A,T,S,2024-01-01\n" + url + ",B,U,S,2024-01-02\n",
       "p.csv:3: url: listed before, on line 2"},
      {"broken quoting", url + ",\"A,T,S,2024-01-01\n", "p.csv:2: csv: unterminated quoted field"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    std::string error = ErrorOf(c.rows);
    // Broken quoting is told by the CSV reader in its own words: its line and field suffice.
    if (std::string(c.what) == "broken quoting") {
      EXPECT_EQ(error.rfind("p.csv:2: csv: ", 0), 0u) << error;
    } else {
      EXPECT_EQ(error, c.error);
    }
  }
  // The column of each problem is the field's number, for `vigil lists check`.
  const auto problems = CheckPostList(std::string(kHeader) + url + ",A,T,,2024-13-01\n", "p.csv");
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].ToString(), "p.csv:2:4: source: empty");
  EXPECT_EQ(problems[1].column, 5);
}

TEST(PostListTest, HeaderEmptyFileAndSpreadsheets) {
  auto wrong = ParsePostList(
      "url,account,title,date_added\nhttps://mp.weixin.qq.com/s/a,A,T,"
      "2024-01-01\n",
      "h.csv");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error(), "h.csv:1: header: expected url,account,title,source,date_added");
  auto empty = ParsePostList("", "e.csv");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error(), "e.csv:1: header: the file is empty");
  auto excel = ParsePostList(
      "\xEF\xBB\xBFurl,account,title,source,date_added\r\nhttps://mp.weixin.qq.com/s/a,A,T,S,"
      "2024-01-01\r\n",
      "x.csv");
  ASSERT_TRUE(excel.ok()) << excel.error();
  EXPECT_EQ(excel->rows.size(), 1u);
  EXPECT_TRUE(LooksLikePostList("\xEF\xBB\xBFurl,account,title,source,date_added\r\nx"));
  EXPECT_FALSE(
      LooksLikePostList("url,category_code,category_description,date_added,source,"
                        "notes\n"));
}

TEST(PostListTest, EveryProblemIsListedUpToTwenty) {
  std::string rows;
  for (int i = 0; i < 25; ++i) rows += "https://mp.weixin.qq.com/s/a,,T,S,2024-01-01\n";
  const std::string error = ErrorOf(rows);
  std::vector<std::string> lines;
  std::istringstream in(error);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 21u) << error;
  EXPECT_EQ(lines[0], "p.csv:2: account: empty");
  EXPECT_EQ(lines[20], "(5 more)");
}

TEST(PostListTest, GarbageNeverCrashes) {
  for (const std::string& text :
       {std::string("\0\0\0", 3), std::string("url"), std::string(kHeader) + ",,,,\n",
        std::string(kHeader) + "a,b,c\n\"\"\"\n,,,,,,,,,,,,\n",
        std::string(kHeader) + "https://mp.weixin.qq.com/s/" + std::string(9000, 'a') +
            ",\xe4\xb8,,\xc0\xaf,99999-99-99\n"}) {
    auto list = ParsePostList(text, "g.csv");
    EXPECT_FALSE(list.ok());
    EXPECT_EQ(list.error().rfind("g.csv:", 0), 0u) << list.error();
  }
}

TEST(PostListTest, FilesOfADirectoryAreOneList) {
  TempDir dir("post_list_");
  std::string error;
  ASSERT_TRUE(dir.WriteFile(
      "a.csv", std::string(kHeader) + "https://mp.weixin.qq.com/s/a,A,T,S,2024-01-01\n", &error))
      << error;
  ASSERT_TRUE(dir.WriteFile(
      "b.csv", std::string(kHeader) + "https://mp.weixin.qq.com/s/b,B,T,S,2024-01-01\n", &error))
      << error;
  ASSERT_TRUE(dir.WriteFile("README.md", "not a list\n", &error)) << error;
  auto list = ReadPostLists(dir.path());
  ASSERT_TRUE(list.ok()) << list.error();
  EXPECT_EQ(list->Urls(), (std::vector<std::string>{"https://mp.weixin.qq.com/s/a",
                                                    "https://mp.weixin.qq.com/s/b"}));
  EXPECT_EQ(list->files, (std::vector<std::string>{dir.Join("a.csv"), dir.Join("b.csv")}));

  ASSERT_TRUE(dir.WriteFile(
      "c.csv", std::string(kHeader) + "https://mp.weixin.qq.com/s/a,C,T,S,2024-01-01\n", &error))
      << error;
  list = ReadPostLists(dir.path());
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error(),
            dir.Join("c.csv") + ":2: url: listed before, on " + dir.Join("a.csv") + ":2");

  auto missing = ReadPostLists(dir.Join("nothing"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error(), dir.Join("nothing") + ": no such directory");
  TempDir bare("post_list_bare_");
  auto none = ReadPostLists(bare.path());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error(), bare.path() + ": no post lists (*.csv)");
  EXPECT_EQ(PostListDir("/d"), "/d/wechat_posts");
  EXPECT_EQ(PostListDir(""), "testlists/wechat_posts");
}

TEST(PostListTest, TheLabsListIsCleanAndNamesTheLabsPosts) {
  const std::string path = test_support::SourceDir() + "/tests/lab/wechat_posts.csv";
  auto list = ParsePostList(test_support::ReadFileOrFail(path), path);
  ASSERT_TRUE(list.ok()) << list.error();
  ASSERT_FALSE(list->rows.empty());
  // Every post of the template is one the lab's posts-removal scenario serves.
  const std::string scenario = test_support::ReadFileOrFail(
      test_support::SourceDir() + "/tests/lab/scenarios/posts-removal.yaml");
  for (const auto& row : list->rows) {
    const std::string id = row.url.substr(row.url.rfind('/') + 1);
    EXPECT_NE(scenario.find("id: " + id + ","), std::string::npos) << id;
  }
}

std::vector<std::string> Vigil(std::vector<std::string> args) {
  args.insert(args.begin(), test_support::VigilBinary());
  return args;
}

TEST(PostListTest, ListsCheckLintsPostLists) {
  TempDir dir("post_lint_");
  std::string error;
  ASSERT_TRUE(dir.WriteFile(
      "wechat_posts/good.csv",
      std::string(kHeader) + "https://mp.weixin.qq.com/s/a,A,T,S,2024-01-01\n", &error))
      << error;
  // No legend needed: there is no URL list.
  auto r = RunCommand(Vigil({"lists", "check", dir.Join("wechat_posts")}));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 file(s), no problems"), std::string::npos) << r.output;

  ASSERT_TRUE(dir.WriteFile(
      "wechat_posts/bad.csv",
      std::string(kHeader) + "https://mp.weixin.qq.com/s/b#rd,A,T,S,2024-01-01\n", &error))
      << error;
  r = RunCommand(Vigil({"lists", "check", dir.Join("wechat_posts")}));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(dir.Join("wechat_posts/bad.csv") +
                          ":2:1: url: drop the fragment \"#rd\": it is never sent\n"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("1 problem(s) in 1 of 2 file(s)"), std::string::npos) << r.output;

  // From the repository, the default checks the shipped template too.
  r = RunCommand({"/bin/sh", "-c",
                  "cd '" + test_support::SourceDir() + "' && exec '" + test_support::VigilBinary() +
                      "' lists check"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("no problems"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace vigil
