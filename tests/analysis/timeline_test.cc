// Event timelines (testlists/events/*.csv): a good file read field for field, one malformed
// row per rule with the exact message a user sees, ids unique across files, random and
// truncated bytes that must never crash the reader or break its one-line messages, the
// shipped timelines, and `vigil lists check` linting them as a user runs it.
#include "analysis/correlate/timeline.h"

#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil::analysis {
namespace {

using test_support::RunCommand;
using test_support::TempDir;

constexpr char kHeader[] = "id,start,end,cc,asns,targets,category,description,source_url\n";
constexpr char kGood[] =
    "id,start,end,cc,asns,targets,category,description,source_url\n"
    "cn-campaign,2014-05-27,,CN,,wechat,campaign,\"Month-long campaign, public accounts\","
    "https://example.org/campaign\n"
    "\n"
    "cn-rst,2023-09-05T10:30:00Z,2023-09-20,CN,4134+AS4837,1.1.1.1+www.google.com,blocking,"
    "RST injection,http://news.example.org:8080/a?b=c#d\n";
// A row that passes, to be broken one field at a time.
constexpr char kRow[] = "e1,2014-05-27,,CN,,wechat,campaign,What happened,https://example.org/\n";

std::string ErrorOf(const std::string& row) {
  auto events = ParseTimeline(std::string(kHeader) + row, "cn.csv");
  return events.ok() ? "(no error)" : events.error();
}

TEST(TimelineTest, GoodFileIsReadFieldForField) {
  auto events = ParseTimeline(kGood, "cn.csv");
  ASSERT_TRUE(events.ok()) << events.error();
  ASSERT_EQ(events->size(), 2u);

  const TimelineEvent& a = (*events)[0];
  EXPECT_EQ(a.id, "cn-campaign");
  EXPECT_EQ(a.start, 1401148800);  // 2014-05-27T00:00:00Z
  EXPECT_EQ(a.end, 0);
  EXPECT_EQ(a.cc, "CN");
  EXPECT_TRUE(a.asns.empty());
  EXPECT_EQ(a.targets, std::vector<std::string>{"wechat"});
  EXPECT_EQ(a.category, "campaign");
  EXPECT_EQ(a.description, "Month-long campaign, public accounts");
  EXPECT_EQ(a.source_url, "https://example.org/campaign");
  EXPECT_EQ(a.file, "cn.csv");
  EXPECT_EQ(a.line, 2u);

  const TimelineEvent& b = (*events)[1];
  EXPECT_EQ(b.start, 1693909800);  // 2023-09-05T10:30:00Z
  EXPECT_EQ(b.end, 1695168000);    // 2023-09-20T00:00:00Z
  EXPECT_EQ(b.asns, (std::vector<uint32_t>{4134, 4837}));
  EXPECT_EQ(b.targets, (std::vector<std::string>{"1.1.1.1", "www.google.com"}));
  EXPECT_EQ(b.line, 4u);  // the blank line is skipped, not an error
}

TEST(TimelineTest, CrLfAndByteOrderMarkAreRead) {
  std::string text = "\xEF\xBB\xBF" + std::string(kHeader) + kRow;
  for (size_t i = text.find('\n'); i != std::string::npos; i = text.find('\n', i + 2)) {
    text.insert(i, "\r");
  }
  auto events = ParseTimeline(text, "cn.csv");
  ASSERT_TRUE(events.ok()) << events.error();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].source_url, "https://example.org/");
}

TEST(TimelineTest, HeaderMustBeExact) {
  EXPECT_EQ(ParseTimeline("", "cn.csv").error(),
            "cn.csv:1: header: the file is empty (its first line is "
            "id,start,end,cc,asns,targets,category,description,source_url)");
  EXPECT_EQ(ParseTimeline("id,start,stop\n", "cn.csv").error(),
            "cn.csv:1: header: \"id,start,stop\" is not the timeline header (write "
            "id,start,end,cc,asns,targets,category,description,source_url)");
  EXPECT_EQ(ErrorOf("e1,2014-05-27,,CN\n"),
            "cn.csv:2: row: 4 fields (a row has 9: "
            "id,start,end,cc,asns,targets,category,description,source_url)");
  EXPECT_EQ(ErrorOf("e1,2014-05-27,,CN,,wechat,campaign,\"open quote,https://example.org/\n"),
            "cn.csv:2: description: quoted field is not closed before the end of the file");
}

TEST(TimelineTest, EachFieldRuleHasItsOwnMessage) {
  const struct {
    std::string row;
    std::string error;
  } kCases[] = {
      {",2014-05-27,,CN,,wechat,campaign,What happened,https://example.org/\n",
       "cn.csv:2: id: empty (letters, digits, '.', '_' and '-')"},
      {"e 1,2014-05-27,,CN,,wechat,campaign,What happened,https://example.org/\n",
       "cn.csv:2: id: \"e 1\" is not an id (letters, digits, '.', '_' and '-')"},
      {"e1,,,CN,,wechat,campaign,What happened,https://example.org/\n",
       "cn.csv:2: start: empty (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, UTC)"},
      {"e1,2014-05-27 10:00:00,,CN,,wechat,campaign,What happened,https://example.org/\n",
       "cn.csv:2: start: \"2014-05-27 10:00:00\" is not a time (YYYY-MM-DD or "
       "YYYY-MM-DDThh:mm:ssZ, UTC)"},
      {"e1,27/05/2014,,CN,,wechat,campaign,What happened,https://example.org/\n",
       "cn.csv:2: start: \"27/05/2014\" is not a time (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, UTC)"},
      {"e1,2014-02-30,,CN,,wechat,campaign,What happened,https://example.org/\n",
       "cn.csv:2: start: \"2014-02-30\" is no such date or time (YYYY-MM-DD or "
       "YYYY-MM-DDThh:mm:ssZ, UTC)"},
      {"e1,2014-05-27,2014-05-26T23:59:59Z,CN,,wechat,campaign,What happened,"
       "https://example.org/\n",
       "cn.csv:2: end: \"2014-05-26T23:59:59Z\" is before start \"2014-05-27\" (empty, or on or "
       "after start)"},
      {"e1,2014-05-27,2014-13-01,CN,,wechat,campaign,What happened,https://example.org/\n",
       "cn.csv:2: end: \"2014-13-01\" is no such date or time (YYYY-MM-DD or "
       "YYYY-MM-DDThh:mm:ssZ, UTC)"},
      {"e1,2014-05-27,,cn,,wechat,campaign,What happened,https://example.org/\n",
       "cn.csv:2: cc: \"cn\" is not a country code (two upper-case letters, such as CN)"},
      {"e1,2014-05-27,,,,wechat,campaign,What happened,https://example.org/\n",
       "cn.csv:2: cc: empty (two upper-case letters, such as CN)"},
      {"e1,2014-05-27,,CN,4134+ASx,wechat,campaign,What happened,https://example.org/\n",
       "cn.csv:2: asns: \"ASx\" is not an AS number (AS numbers joined by '+', such as "
       "4134+AS4837)"},
      {"e1,2014-05-27,,CN,4134,4837,wechat,campaign,What happened,https://example.org/\n",
       "cn.csv:2: row: 10 fields (a row has 9: "
       "id,start,end,cc,asns,targets,category,description,source_url)"},
      {"e1,2014-05-27,,CN,4134++4837,wechat,campaign,What happened,https://example.org/\n",
       "cn.csv:2: asns: an empty entry in \"4134++4837\" (AS numbers joined by '+', such as "
       "4134+AS4837)"},
      {"e1,2014-05-27,,CN,4134+AS4134,wechat,campaign,What happened,https://example.org/\n",
       "cn.csv:2: asns: AS4134 is given twice (each AS once)"},
      {"e1,2014-05-27,,CN,4294967296,wechat,campaign,What happened,https://example.org/\n",
       "cn.csv:2: asns: \"4294967296\" is not an AS number (AS numbers joined by '+', such as "
       "4134+AS4837)"},
      {"e1,2014-05-27,,CN,,WeChat,campaign,What happened,https://example.org/\n",
       "cn.csv:2: targets: \"WeChat\" is not a target name (target names joined by '+': "
       "lower-case letters, digits, '.', '_' and '-', such as wechat+www.google.com)"},
      {"e1,2014-05-27,,CN,,wechat+,campaign,What happened,https://example.org/\n",
       "cn.csv:2: targets: an empty entry in \"wechat+\" (target names joined by '+': "
       "lower-case letters, digits, '.', '_' and '-', such as wechat+www.google.com)"},
      {"e1,2014-05-27,,CN,,wechat+wechat,campaign,What happened,https://example.org/\n",
       "cn.csv:2: targets: \"wechat\" is given twice (each target once)"},
      {"e1,2014-05-27,,CN,,wechat,ban,What happened,https://example.org/\n",
       "cn.csv:2: category: \"ban\" is not a category (one of announcement, campaign, blocking, "
       "unblocking, protest, election, outage, legal, other)"},
      {"e1,2014-05-27,,CN,,wechat,,What happened,https://example.org/\n",
       "cn.csv:2: category: empty (one of announcement, campaign, blocking, unblocking, "
       "protest, election, outage, legal, other)"},
      {"e1,2014-05-27,,CN,,wechat,campaign, ,https://example.org/\n",
       "cn.csv:2: description: empty (what happened, in one line of text)"},
      {"e1,2014-05-27,,CN,,wechat,campaign,\"two\nlines\",https://example.org/\n",
       "cn.csv:2: description: holds a line break or another control character (what "
       "happened, in one line of text)"},
      {"e1,2014-05-27,,CN,,wechat,campaign,What happened,\n",
       "cn.csv:2: source_url: empty (an http:// or https:// URL with a host name, such as "
       "https://example.org/a that publishes the event)"},
      {"e1,2014-05-27,,CN,,wechat,campaign,What happened,ftp://example.org/\n",
       "cn.csv:2: source_url: \"ftp://example.org/\" is not a URL (an http:// or https:// URL "
       "with a host name, such as https://example.org/a)"},
      {"e1,2014-05-27,,CN,,wechat,campaign,What happened,https:///path\n",
       "cn.csv:2: source_url: \"https:///path\" is not a URL (an http:// or https:// URL with a "
       "host name, such as https://example.org/a)"},
      {"e1,2014-05-27,,CN,,wechat,campaign,What happened,https://example.org:x/\n",
       "cn.csv:2: source_url: \"https://example.org:x/\" is not a URL (an http:// or https:// "
       "URL with a host name, such as https://example.org/a)"},
      {"e1,2014-05-27,,CN,,wechat,campaign,What \xff happened,https://example.org/\n",
       "cn.csv:2: description: not UTF-8 (save the file as UTF-8)"},
  };
  for (const auto& c : kCases) EXPECT_EQ(ErrorOf(c.row), c.error) << c.row;
}

TEST(TimelineTest, EveryProblemIsReportedOnItsOwnLine) {
  const std::string error = ErrorOf(
      "e1,2014-05-27,,cn,,wechat,ban,What happened,https://example.org/\n"
      "e1,2014-05-27,,CN,,wechat,campaign,Again,https://example.org/\n");
  EXPECT_EQ(error,
            "cn.csv:2: cc: \"cn\" is not a country code (two upper-case letters, such as CN)\n"
            "cn.csv:2: category: \"ban\" is not a category (one of announcement, campaign, "
            "blocking, unblocking, protest, election, outage, legal, other)\n"
            "cn.csv:3: id: \"e1\" is used already at cn.csv:2 (ids are unique across the "
            "timeline files)");
}

TEST(TimelineTest, LongAndControlValuesAreShownOnOneShortLine) {
  const std::string error =
      ErrorOf("e1,2014-05-27,,CN,,wechat,campaign,x,https://" + std::string(100, 'a') + "\n");
  EXPECT_EQ(error, "cn.csv:2: source_url: \"https://" + std::string(52, 'a') +
                       "...\" is not a URL (an http:// or https:// URL with a host name, such as "
                       "https://example.org/a)");
  EXPECT_EQ(ErrorOf("e\"1,2014-05-27,,CN,,wechat,campaign,x,https://example.org/\n"),
            "cn.csv:2: id: quote inside an unquoted field (quote the whole field and double the "
            "quote)");
  EXPECT_EQ(ErrorOf("\"e\t1\",2014-05-27,,CN,,wechat,campaign,x,https://example.org/\n"),
            "cn.csv:2: id: \"e\\x091\" is not an id (letters, digits, '.', '_' and '-')");
}

TEST(TimelineTest, FilesAreReadTogetherWithIdsUniqueAndEventsSortedByStart) {
  TempDir dir("timeline_");
  ASSERT_TRUE(dir.ok()) << dir.error();
  std::string error;
  ASSERT_TRUE(dir.WriteFile("events/b.csv",
                            std::string(kHeader) +
                                "late,2020-01-01,,CN,,,blocking,Late,https://example.org/\n"
                                "early,2010-01-01,,CN,,,blocking,Early,https://example.org/\n",
                            &error))
      << error;
  ASSERT_TRUE(dir.WriteFile(
      "events/a.csv",
      std::string(kHeader) + "middle,2015-01-01,,IR,,,election,Mid,https://example.org/\n", &error))
      << error;
  ASSERT_TRUE(dir.WriteFile("events/notes.txt", "not a timeline", &error)) << error;

  const std::vector<std::string> files = TimelineFiles(dir.Join("events"));
  ASSERT_EQ(files, (std::vector<std::string>{dir.Join("events/a.csv"), dir.Join("events/b.csv")}));
  auto events = ReadTimelines(files);
  ASSERT_TRUE(events.ok()) << events.error();
  std::vector<std::string> ids;
  for (const TimelineEvent& e : *events) ids.push_back(e.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"early", "middle", "late"}));

  ASSERT_TRUE(dir.WriteFile(
      "events/c.csv",
      std::string(kHeader) + "middle,2016-01-01,,CN,,,blocking,Again,https://example.org/\n",
      &error))
      << error;
  const std::string c = dir.Join("events/c.csv");
  EXPECT_EQ(ReadTimelines(TimelineFiles(dir.Join("events"))).error(),
            c + ":2: id: \"middle\" is used already at " + dir.Join("events/a.csv") +
                ":2 (ids are unique across the timeline files)");
  EXPECT_EQ(CheckTimelines({c, dir.Join("events/a.csv")}).size(), 1u);  // whichever comes second

  const std::string absent = dir.Join("events/absent.csv");
  EXPECT_EQ(ReadTimelines({absent}).error(),
            absent + ":1: file: cannot open: No such file or directory");
  EXPECT_TRUE(TimelineFiles(dir.Join("nowhere")).empty());
}

TEST(TimelineTest, LooksLikeTimelineReadsOnlyTheFirstLine) {
  EXPECT_TRUE(LooksLikeTimeline(kGood));
  EXPECT_TRUE(LooksLikeTimeline("\xEF\xBB\xBF" + std::string(kTimelineHeader) + "\r\nx"));
  EXPECT_TRUE(LooksLikeTimeline(kTimelineHeader));
  EXPECT_FALSE(LooksLikeTimeline("id,start,end\n"));
  EXPECT_FALSE(LooksLikeTimeline("url,category_code,category_description,date_added,source,notes"));
}

// Whatever the bytes, the reader returns: events that satisfy every rule, or an error whose
// every line is one problem ("FILE:LINE: FIELD: ...") or the count of those not shown.
void ExpectWellFormed(const std::string& text) {
  static const std::regex kLine(R"(f\.csv:[0-9]+: [a-z_]+: [^\n]+|\([0-9]+ more problems\))");
  auto events = ParseTimeline(text, "f.csv");
  if (events.ok()) {
    for (const TimelineEvent& e : *events) {
      EXPECT_FALSE(e.id.empty());
      EXPECT_EQ(e.cc.size(), 2u);
      EXPECT_TRUE(e.end == 0 || e.end >= e.start);
      EXPECT_TRUE(e.source_url.starts_with("http"));
    }
    return;
  }
  size_t start = 0;
  for (;;) {
    const size_t end = events.error().find('\n', start);
    const std::string line = events.error().substr(start, end - start);
    EXPECT_TRUE(std::regex_match(line, kLine)) << "line: " << line;
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

TEST(TimelineTest, RandomAndTruncatedBytesNeverCrashAndEveryErrorLineIsOneProblem) {
  std::mt19937 rng(20140527);
  const std::string good = kGood;
  for (size_t n = 0; n <= good.size(); ++n) ExpectWellFormed(good.substr(0, n));

  // Bytes the format gives meaning to, and some it does not.
  static constexpr char kAlphabet[] = ",\"\n\r+-:TZ0123456789ASCNabz. /\t\xEF\xBB\xBF\xff\x00";
  std::uniform_int_distribution<size_t> pick(0, sizeof kAlphabet - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 3000; ++round) {
    std::string text = good;
    const int edits = 1 + round % 8;
    for (int i = 0; i < edits && !text.empty(); ++i) {
      const size_t at = std::uniform_int_distribution<size_t>(0, text.size() - 1)(rng);
      const char c = round % 3 == 0 ? static_cast<char>(byte(rng)) : kAlphabet[pick(rng)];
      switch (rng() % 3) {
        case 0:
          text[at] = c;
          break;
        case 1:
          text.insert(at, 1, c);
          break;
        default:
          text.erase(at, 1);
      }
    }
    ExpectWellFormed(text);
  }
  for (int round = 0; round < 300; ++round) {
    std::string text(std::uniform_int_distribution<size_t>(0, 400)(rng), '\0');
    for (char& c : text) c = static_cast<char>(byte(rng));
    ExpectWellFormed(text);
    ExpectWellFormed(std::string(kHeader) + text);
  }
}

TEST(TimelineTest, ShippedTimelinesAreReadAndEachEventCitesItsSource) {
  const std::vector<std::string> files =
      TimelineFiles(test_support::SourceDir() + "/testlists/events");
  ASSERT_FALSE(files.empty());
  auto events = ReadTimelines(files);
  ASSERT_TRUE(events.ok()) << events.error();
  ASSERT_GE(events->size(), 10u);
  const TimelineEvent& first = events->front();
  EXPECT_EQ(first.start, 1401148800) << first.id;  // 2014-05-27: the im campaign
  EXPECT_EQ(first.category, "campaign");
  EXPECT_EQ(first.targets, std::vector<std::string>{"wechat"});
  for (const TimelineEvent& e : *events) {
    EXPECT_EQ(e.cc, "CN") << e.id;
    EXPECT_TRUE(e.source_url.starts_with("https://") || e.source_url.starts_with("http://"));
  }
}

std::vector<std::string> Vigil(std::vector<std::string> args) {
  args.insert(args.begin(), test_support::VigilBinary());
  return args;
}

TEST(TimelineTest, ListsCheckLintsTimelines) {
  TempDir dir("timeline_lint_");
  ASSERT_TRUE(dir.ok()) << dir.error();
  std::string error;
  ASSERT_TRUE(dir.WriteFile("events/good.csv", std::string(kHeader) + kRow, &error)) << error;
  // No legend needed: there is no URL list.
  auto r = RunCommand(Vigil({"lists", "check", dir.Join("events")}));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 file(s), no problems"), std::string::npos) << r.output;

  ASSERT_TRUE(dir.WriteFile("events/bad.csv",
                            std::string(kHeader) +
                                "e2,2014-05-27,,CN,,wechat,campaign,x,https://example.org/\n"
                                "e3,2014-13-01,,CN,,wechat,campaign,x,https://example.org/\n",
                            &error))
      << error;
  r = RunCommand(Vigil({"lists", "check", dir.Join("events")}));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  const std::string bad = dir.Join("events/bad.csv");
  EXPECT_NE(
      r.output.find(bad + ":3:2: start: \"2014-13-01\" is no such date or time (YYYY-MM-DD or "
                          "YYYY-MM-DDThh:mm:ssZ, UTC)\n"),
      std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("1 problem(s) in 1 of 2 file(s)"), std::string::npos) << r.output;

  // In an events folder a file is a timeline whatever its header says...
  ASSERT_TRUE(dir.WriteFile("events/bad.csv", "url,notes\n", &error)) << error;
  r = RunCommand(Vigil({"lists", "check", bad}));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(bad + ":1:1: header: \"url,notes\" is not the timeline header"),
            std::string::npos)
      << r.output;
  // ...and elsewhere its header makes it one.
  ASSERT_TRUE(dir.WriteFile(
      "elsewhere.csv",
      std::string(kHeader) + "e1,2014-05-27,,CN,,wechat,campaign,x,ftp://example.org/\n", &error))
      << error;
  r = RunCommand(Vigil({"lists", "check", dir.Join("elsewhere.csv")}));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(dir.Join("elsewhere.csv") +
                          ":2:9: source_url: \"ftp://example.org/\" is not a URL"),
            std::string::npos)
      << r.output;

  // From the repository, the shipped timelines pass, and the default checks them with the
  // other lists.
  auto in_repository = [](const std::string& args) {
    return RunCommand({"/bin/sh", "-c",
                       "cd '" + test_support::SourceDir() + "' && exec '" +
                           test_support::VigilBinary() + "' lists check " + args});
  };
  r = in_repository("testlists/events");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("no problems"), std::string::npos) << r.output;
  r = in_repository("");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("no problems"), std::string::npos) << r.output;
  EXPECT_EQ(r.output,
            in_repository("testlists/lists testlists/messaging testlists/keywords testlists/events")
                .output);
}

}  // namespace
}  // namespace vigil::analysis
