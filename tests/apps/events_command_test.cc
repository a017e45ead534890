// `vigil events` end to end, as an analyst runs it: messaging measurements generated
// around a dated crackdown (bench/gen_event_measurements.py: whatsapp DNS-injected on
// three CN networks from 12 h, telegram blackholed on two from 33 h with a drought on
// one, facebook_messenger blocked all along, a global signal outage, HK and TW left
// alone) go through `vigil analyze` into a store (SQLite, and a real ClickHouse server
// when there is one), then `vigil events --timeline` must find what the generator's
// truth says — and nothing else. Also `--since` (what changed since a time), the formats, and bad
// flags. And removals: wechat_posts measurements of followed articles around a campaign
// (bench/gen_post_measurements.py) must give each article's history as the generator's
// truth says, and against the shipped timeline (testlists/events/cn.csv) a wave of
// removals after its 2024 content-rectification round, never counted as blocking.
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/clickhouse_server.h"
#include "tests/support/read_file.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

using nlohmann::json;

constexpr int64_t kEvent = 1401148800;  // 2014-05-27T00:00:00Z

test_support::CommandResult Vigil(std::vector<std::string> args) {
  args.insert(args.begin(), test_support::VigilBinary());
  return test_support::RunCommand(args, std::chrono::seconds(180));
}

test_support::CommandResult VigilStdout(const std::vector<std::string>& args) {
  std::string cmd = "'" + test_support::VigilBinary() + "'";
  for (const auto& a : args) cmd += " '" + a + "'";
  return test_support::RunCommand({"sh", "-c", cmd + " 2>/dev/null"}, std::chrono::seconds(180));
}

struct Crackdown {
  std::unique_ptr<test_support::TempDir> dir;
  std::string measurements, timeline;
  json truth;
  std::string error;
};

Crackdown MakeCrackdown() {
  Crackdown c;
  c.dir = std::make_unique<test_support::TempDir>("vigil-events-");
  c.measurements = c.dir->Join("m.jsonl");
  c.timeline = c.dir->Join("timeline.csv");
  auto run = test_support::RunCommand(
      {"python3",       test_support::SourceDir() + "/bench/gen_event_measurements.py",
       "--scenario",    "crackdown",
       "--seed",        "21",
       "--event-time",  "2014-05-27T00:00:00Z",
       "--days-before", "4",
       "--days-after",  "5",
       "--per-hour",    "2",
       "--out",         c.measurements,
       "--truth",       c.dir->Join("truth.json"),
       "--timeline",    c.timeline},
      std::chrono::seconds(120));
  if (run.exit_code != 0) {
    c.error = run.output;
    return c;
  }
  c.truth = json::parse(test_support::ReadFileOrFail(c.dir->Join("truth.json")));
  return c;
}

// Generated once per test binary; its directory goes when the binary exits.
const Crackdown& TheCrackdown() {
  static const Crackdown c = MakeCrackdown();
  return c;
}

// `vigil analyze` into `store`, then `vigil events ... --format json`.
json AnalyzeAndFindEvents(const std::string& store, std::vector<std::string> extra = {}) {
  const Crackdown& c = TheCrackdown();
  auto analyzed = Vigil({"analyze", c.measurements, "--store", store});
  EXPECT_EQ(analyzed.exit_code, 0) << analyzed.output;
  std::vector<std::string> args = {"events",  "--store",  store,      "--timeline", c.timeline,
                                   "--grain", "hour",     "--before", "4d",         "--after",
                                   "5d",      "--format", "json"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = VigilStdout(args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  json out = json::parse(r.output, nullptr, false);
  EXPECT_TRUE(out.is_object()) << r.output;
  return out;
}

// The truth's onset of a (cc, asn, target), in hours after the event; -1 when none.
int TruthOnset(const json& truth, const std::string& cc, int asn, const std::string& target) {
  for (const json& s : truth["series"]) {
    if (s["cc"] == cc && s["asn"] == asn && s["target"] == target) {
      for (const json& b : s["blocked"]) {
        if (!b["onset_hours"].is_null()) return b["onset_hours"].get<int>();
      }
    }
  }
  return -1;
}

void ExpectTheTruth(const json& out) {
  const json& truth = TheCrackdown().truth;
  // One finding: the crackdown, followed by blocking, with the statistics.
  ASSERT_EQ(out["findings"].size(), 1u) << out.dump(1);
  const json& f = out["findings"][0];
  EXPECT_EQ(f["outcome"], "blocking_followed") << f.dump(1);
  EXPECT_LT(f["p_adjusted"].get<double>(), 0.001);
  EXPECT_GT(f["change_interval"][0].get<double>(), 0.0);
  ASSERT_TRUE(f["lag_seconds"].is_number()) << f.dump(1);
  EXPECT_NEAR(f["lag_seconds"].get<double>(), 12 * 3600.0, 2 * 3600.0) << "whatsapp's 12 h";
  const std::string line = f["finding"].get<std::string>();
  EXPECT_NE(line.find("whatsapp"), std::string::npos) << line;
  EXPECT_NE(line.find("telegram"), std::string::npos) << line;
  EXPECT_NE(line.find("dns_injection"), std::string::npos) << line;
  EXPECT_NE(line.find("tcp_blackhole"), std::string::npos) << line;
  EXPECT_NE(line.find("not seen in HK, TW"), std::string::npos) << line;

  // The events: whatsapp and telegram in CN, each onset within two cells of the truth's,
  // on the truth's networks; nothing for facebook_messenger (blocked all along), signal
  // (a global outage) or the neighbours.
  std::map<std::pair<int, std::string>, int64_t> onsets;  // (asn, target) -> onset
  std::set<std::string> techniques;
  for (const json& e : out["events"]) {
    EXPECT_EQ(e["cc"], "CN") << e.dump(1);
    EXPECT_FALSE(e["global"].get<bool>()) << e.dump(1);
    for (const json& t : e["techniques"]) techniques.insert(t["technique"].get<std::string>());
    EXPECT_FALSE(e["measurement_uids"].empty()) << e.dump(1);
    for (const json& c : e["change_points"]) {
      if (c["direction"] != "start" || c["layer"] != "any") continue;
      const std::string target = c["target"].get<std::string>();
      EXPECT_TRUE(target == "whatsapp" || target == "telegram") << c.dump();
      const std::string onset = c["onset"].get<std::string>();  // "2014-05-28T09:00:00Z"
      struct tm tm = {};
      strptime(onset.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
      onsets[{c["asn"].get<int>(), target}] = timegm(&tm);
    }
    EXPECT_TRUE(e["end"].is_null())
        << "blocking still on at the window's end, drought or not: " << e.dump(1);
  }
  for (int asn : {4134, 4837, 9808}) {
    for (const std::string target : {"whatsapp", "telegram"}) {
      const int truth_onset = TruthOnset(truth, "CN", asn, target);
      auto it = onsets.find({asn, target});
      if (truth_onset < 0) {
        EXPECT_EQ(it, onsets.end()) << "AS" << asn << " " << target << " was never blocked";
        continue;
      }
      ASSERT_NE(it, onsets.end()) << "AS" << asn << " " << target << " not found";
      EXPECT_LE(std::llabs(it->second - (kEvent + truth_onset * 3600)), 2 * 3600)
          << "AS" << asn << " " << target;
    }
  }
  EXPECT_TRUE(techniques.count("dns_injection")) << out["events"].dump(1);
  EXPECT_TRUE(techniques.count("tcp_blackhole")) << out["events"].dump(1);
  EXPECT_TRUE(out["leads"].empty()) << "everything found is explained by the timeline";
  // Network names beside the numbers.
  EXPECT_EQ(out["network_names"]["4134"], "Chinanet") << out["network_names"].dump();
}

TEST(EventsCommand, TheCrackdownIsFoundAsTheGeneratorsTruthSays) {
  ASSERT_TRUE(TheCrackdown().error.empty()) << TheCrackdown().error;
  test_support::TempDir dir("vigil-events-store-");
  const std::string store = dir.Join("s.sqlite");
  const json out = AnalyzeAndFindEvents(store);
  ExpectTheTruth(out);

  // The same by the table and CSV.
  auto table = VigilStdout({"events", "--store", store, "--timeline", TheCrackdown().timeline,
                            "--grain", "hour", "--before", "4d", "--after", "5d"});
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_NE(table.output.find("blocking_followed"), std::string::npos) << table.output;
  auto csv = VigilStdout({"events", "--store", store, "--timeline", TheCrackdown().timeline,
                          "--grain", "hour", "--format", "csv", "--list", "events"});
  EXPECT_EQ(csv.exit_code, 0);
  EXPECT_EQ(csv.output.rfind("event,cc,networks,targets,layers,techniques,start,end,", 0), 0u)
      << csv.output;

  // Watching: events that started since a time after every onset are none; since the
  // event, all of them.
  auto later = VigilStdout({"events", "--store", store, "--no-timeline", "--grain", "hour",
                            "--since", "2014-06-10", "--format", "json", "--list", "events"});
  EXPECT_EQ(later.exit_code, 0) << later.output;
  EXPECT_EQ(json::parse(later.output, nullptr, false), json::array());
  auto since = VigilStdout({"events", "--store", store, "--no-timeline", "--grain", "hour",
                            "--since", "2014-05-27", "--format", "json", "--list", "events"});
  EXPECT_EQ(since.exit_code, 0) << since.output;
  EXPECT_EQ(json::parse(since.output, nullptr, false).size(), out["events"].size());
}

TEST(EventsCommand, ClickHouseGivesTheSameFindings) {
  if (auto why = test_support::ClickHouseServer::Unavailable()) GTEST_SKIP() << *why;
  ASSERT_TRUE(TheCrackdown().error.empty()) << TheCrackdown().error;
  test_support::ClickHouseServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  const json out = AnalyzeAndFindEvents(server.StoreSpec("vigil_events"));
  ExpectTheTruth(out);
}

struct Campaign {
  std::unique_ptr<test_support::TempDir> dir;
  std::string measurements, posts, timeline;
  json truth;
  std::string error;
};

Campaign MakeCampaign() {
  Campaign c;
  c.dir = std::make_unique<test_support::TempDir>("vigil-events-posts-");
  c.measurements = c.dir->Join("posts.jsonl");
  c.posts = c.dir->Join("lists");
  c.timeline = c.dir->Join("timeline.csv");
  auto run = test_support::RunCommand(
      {"python3", test_support::SourceDir() + "/bench/gen_post_measurements.py", "--event-time",
       "2024-05-21T00:00:00Z", "--seed", "3", "--out", c.measurements, "--posts", c.posts,
       "--truth", c.dir->Join("truth.json"), "--timeline", c.timeline},
      std::chrono::seconds(120));
  if (run.exit_code != 0) {
    c.error = run.output;
    return c;
  }
  c.truth = json::parse(test_support::ReadFileOrFail(c.dir->Join("truth.json")));
  return c;
}

const Campaign& TheCampaign() {
  static const Campaign c = MakeCampaign();
  return c;
}

const std::string kRectification = "cn-2024-05-21-wechat-rectification";

// `vigil analyze` into `store`, then `vigil events` against the shipped timeline, 3-day
// windows, the generator's post list, as JSON.
json AnalyzeAndFindRemovals(const std::string& store) {
  const Campaign& c = TheCampaign();
  auto analyzed = Vigil({"analyze", c.measurements, "--store", store});
  EXPECT_EQ(analyzed.exit_code, 0) << analyzed.output;
  auto r = VigilStdout({"events", "--store", store, "--timeline",
                        test_support::SourceDir() + "/testlists/events/cn.csv", "--posts", c.posts,
                        "--before", "3d", "--after", "3d", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  json out = json::parse(r.output, nullptr, false);
  EXPECT_TRUE(out.is_object()) << r.output;
  return out;
}

std::map<std::string, int> Roles(const json& truth) {
  std::map<std::string, int> roles;
  for (const json& a : truth["articles"]) ++roles[a["role"].get<std::string>()];
  return roles;
}

void ExpectTheRemovals(const json& out) {
  const json& truth = TheCampaign().truth;
  // Every article as the truth has it: its account from the list, its state, the interval
  // around its true removal, its flaps, its unusable measurements.
  ASSERT_EQ(out["removals"].size(), truth["articles"].size()) << out["removals"].dump(1);
  for (size_t i = 0; i < truth["articles"].size(); ++i) {
    const json& want = truth["articles"][i];
    const json& got = out["removals"][i];
    const std::string url = want["url"];
    EXPECT_EQ(got["url"], url);
    EXPECT_EQ(got["account"], want["account"]) << url;
    EXPECT_EQ(got["state"], want["state"]) << url;
    EXPECT_EQ(got["last_available"], want["last_available"]) << url;
    EXPECT_EQ(got["first_removed"], want["first_removed"]) << url;
    EXPECT_EQ(got["flaps"].size(), want["flaps"].size()) << url;
    EXPECT_EQ(got["measurements"], want["measurements"]) << url;
    EXPECT_EQ(got["unreachable"], want["unreachable"]) << url;
    EXPECT_EQ(got["unknown"], want["unknown"]) << url;
    if (want["state"] == "removed") {
      EXPECT_EQ(got["removal"], want["removal"]) << url;
      const std::string at = want["removed_at"];
      EXPECT_LT(got["last_available"].get<std::string>(), at) << url;
      EXPECT_GE(got["first_removed"].get<std::string>(), at) << url;
    }
  }

  // The rectification round: the removals after it against those before, by the roles.
  const json* finding = nullptr;
  for (const json& f : out["findings"]) {
    if (f["event"] == kRectification) finding = &f;
    if (f["event"] == "cn-2014-05-27-im-public-accounts-campaign") {
      EXPECT_TRUE(f["removals"].is_null()) << "nothing was followed in 2014";
    }
  }
  ASSERT_NE(finding, nullptr) << out["findings"].dump(1);
  const json& r = (*finding)["removals"];
  ASSERT_TRUE(r.is_object()) << finding->dump(1);
  std::map<std::string, int> roles = Roles(truth);
  EXPECT_EQ(r["outcome"], "removals_followed") << r.dump(1);
  EXPECT_EQ(r["after"]["removed"], roles["after"]);
  EXPECT_EQ(r["after"]["followed"], roles["after"] + roles["flap"] + roles["available"]);
  EXPECT_EQ(r["before"]["removed"], roles["before"]);
  EXPECT_EQ(r["before"]["followed"],
            roles["after"] + roles["before"] + roles["flap"] + roles["available"]);
  EXPECT_EQ(r["straddling"]["removed"], roles["straddle"]);
  EXPECT_EQ(r["flapped"], roles["flap"]);
  EXPECT_EQ(r["never_available"], roles["never"]);
  EXPECT_EQ(r["after"]["by_class"],
            json({{"deleted_by_author", 7}, {"removed_for_violation", 4}, {"account_blocked", 1}}));
  EXPECT_LT(r["p_adjusted"].get<double>(), 0.001);
  const std::string line = r["finding"];
  EXPECT_EQ(line.rfind("12 of 19 followed articles removed within 3 days after the event (1 of 20 "
                       "in the 3 days before): 7 deleted by author, 4 removed for violation, 1 "
                       "account blocked; accounts ",
                       0),
            0u)
      << line;
  EXPECT_NE(line.find("2 more were last seen available before the event and first seen removed "
                      "after it"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("straddling the event"), std::string::npos) << line;
  // No blocking: the targets (wechat) have no blocking measurements, and the articles'
  // host shows no change either (below).
  EXPECT_TRUE(out["events"].empty()) << out["events"].dump(1);
}

TEST(EventsCommand, AWaveOfRemovalsFollowsTheCampaignAsTheGeneratorsTruthSays) {
  ASSERT_TRUE(TheCampaign().error.empty()) << TheCampaign().error;
  test_support::TempDir dir("vigil-events-posts-store-");
  const std::string store = dir.Join("s.sqlite");
  ExpectTheRemovals(AnalyzeAndFindRemovals(store));

  // A removal is never blocking: an event naming the articles' host too sees no change in
  // blocking (its only blocked measurements are one article's network failures, before
  // and after alike), and the wave of removals beside it.
  auto own = VigilStdout({"events", "--store", store, "--timeline", TheCampaign().timeline,
                          "--posts", TheCampaign().posts, "--before", "3d", "--after", "3d",
                          "--format", "json", "--list", "findings"});
  ASSERT_EQ(own.exit_code, 0) << own.output;
  const json findings = json::parse(own.output, nullptr, false);
  ASSERT_EQ(findings.size(), 1u) << own.output;
  EXPECT_EQ(findings[0]["outcome"], "no_change") << findings[0].dump(1);
  EXPECT_GT(findings[0]["after"]["usable"].get<int>(), 100);
  EXPECT_EQ(findings[0]["removals"]["outcome"], "removals_followed");

  // The list by table and CSV, and the finding in the table.
  auto csv = VigilStdout({"events", "--store", store, "--no-timeline", "--posts",
                          TheCampaign().posts, "--list", "removals", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.output;
  EXPECT_EQ(csv.output.rfind("url,account,title,state,removal,last_available,first_removed,flaps,"
                             "measurements,unreachable,unknown\n",
                             0),
            0u)
      << csv.output;
  EXPECT_NE(csv.output.find("https://mp.weixin.qq.com/s/lab-a13,城市观察,观察笔记 a13,removed,"
                            "deleted_by_author,"),
            std::string::npos)
      << csv.output;
  auto findings_csv =
      VigilStdout({"events", "--store", store, "--timeline", TheCampaign().timeline, "--posts",
                   TheCampaign().posts, "--before", "3d", "--after", "3d", "--format", "csv"});
  ASSERT_EQ(findings_csv.exit_code, 0) << findings_csv.output;
  EXPECT_NE(findings_csv.output.find(",source_url,removals_outcome,removals_before,removals_after,"
                                     "removals_straddling,removals_p_adjusted,removals_finding\n"),
            std::string::npos)
      << findings_csv.output;
  EXPECT_NE(findings_csv.output.find(",removals_followed,1/20,12/19,2,"), std::string::npos)
      << findings_csv.output;
  auto table = VigilStdout({"events", "--store", store, "--timeline", TheCampaign().timeline,
                            "--posts", TheCampaign().posts, "--before", "3d", "--after", "3d"});
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("removals (removals_followed): 12 of 19 followed articles removed"),
            std::string::npos)
      << table.output;
  EXPECT_NE(table.output.find("Followed articles (24):"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("never_available https://mp.weixin.qq.com/s/lab-a17"),
            std::string::npos)
      << table.output;

  // Without the post lists the accounts are unknown, the rest the same.
  auto bare = VigilStdout(
      {"events", "--store", store, "--no-timeline", "--list", "removals", "--format", "json"});
  ASSERT_EQ(bare.exit_code, 0) << bare.output;
  const json articles = json::parse(bare.output, nullptr, false);
  ASSERT_EQ(articles.size(), 24u) << bare.output;
  EXPECT_EQ(articles[0]["account"], "");
  EXPECT_EQ(articles[0]["state"], "removed");

  // A network that measured no article: no histories, and no removals beside the event.
  auto none = VigilStdout({"events", "--store", store, "--timeline", TheCampaign().timeline,
                           "--asn", "4837", "--format", "json"});
  ASSERT_EQ(none.exit_code, 0) << none.output;
  const json nothing = json::parse(none.output, nullptr, false);
  EXPECT_TRUE(nothing["removals"].empty()) << none.output;
  ASSERT_EQ(nothing["findings"].size(), 1u) << none.output;
  EXPECT_TRUE(nothing["findings"][0]["removals"].is_null()) << none.output;
}

TEST(EventsCommand, ClickHouseGivesTheSameRemovals) {
  if (auto why = test_support::ClickHouseServer::Unavailable()) GTEST_SKIP() << *why;
  ASSERT_TRUE(TheCampaign().error.empty()) << TheCampaign().error;
  test_support::ClickHouseServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  ExpectTheRemovals(AnalyzeAndFindRemovals(server.StoreSpec("vigil_removals")));
}

TEST(EventsCommand, BadFlagsAndFilesAreNamed) {
  test_support::TempDir dir("vigil-events-bad-");
  auto r = Vigil({"events", "--store", dir.Join("none.sqlite")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("no store at"), std::string::npos) << r.output;
  r = Vigil({"events", "--grain", "fortnight", "--store", dir.Join("none.sqlite")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--grain"), std::string::npos) << r.output;
  r = Vigil({"events", "--before", "7y"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--before: '7y': unit 'y'"), std::string::npos) << r.output;
  const std::string bad = dir.Join("bad.csv");
  {
    std::ofstream out(bad);
    out << "id,start,end,cc,asns,targets,category,description,source_url\n"
        << "x,2014-13-01,,CN,,,campaign,d,https://example.org/\n";
  }
  r = Vigil({"events", "--timeline", bad, "--store", dir.Join("none.sqlite")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("bad.csv:2"), std::string::npos) << r.output;
  r = Vigil({"events", "--posts", dir.Join("no-lists"), "--store", dir.Join("none.sqlite")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--posts: " + dir.Join("no-lists") + ": no such directory"),
            std::string::npos)
      << r.output;
  r = Vigil({"events", "--list", "articles", "--store", dir.Join("none.sqlite")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("(findings, events, changes, leads, removals)"), std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace vigil
