// `vigil run wechat_posts` from the censored network of the lab against its stand-in
// platform (scenario posts-removal: six posts, 20 s after the platform starts one is
// deleted by its author, one removed for violating regulations and one account's two
// posts blocked). Run once before the switch and once after, each post's post_status must
// be what the platform's ground truth (STATE/platform-truth.jsonl) says it showed when
// the run started, and the verdict table must call none of it network blocking.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/lab/verify/lab_environment.h"
#include "tests/support_paths.h"

namespace vigil::test_support {
namespace {

using nlohmann::json;

LabEnvironment* g_lab = nullptr;

double WallNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string PlatformBinary() {
  if (const char* env = std::getenv("VIGIL_LAB_PLATFORM"); env && *env) return env;
  return VIGIL_LAB_PLATFORM_BINARY;
}

// One run: the measurements by post id and the verdict table's rows by URL.
struct PostsRun {
  double started = 0, ended = 0;
  std::map<std::string, json> keys;                                  // post id → test_keys
  std::map<std::string, std::pair<std::string, std::string>> table;  // URL → (verdict, evidence)
  std::string output;
};

class LabPostsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (LabEnvironment::Unavailable()) return;
    setenv("VIGIL_LAB_PLATFORM", PlatformBinary().c_str(), 0);
    g_lab = new LabEnvironment("posts-removal");
  }
  static void TearDownTestSuite() {
    delete g_lab;
    g_lab = nullptr;
  }

  void SetUp() override {
    if (auto why = LabEnvironment::Unavailable()) GTEST_SKIP() << *why;
    ASSERT_TRUE(g_lab && g_lab->ok()) << (g_lab ? g_lab->error() : "no lab");
  }

  // The platform's ground truth so far.
  static std::vector<json> Truth() {
    std::vector<json> lines;
    std::ifstream in(g_lab->state_dir() + "/platform-truth.jsonl");
    for (std::string line; std::getline(in, line);) {
      auto j = json::parse(line, nullptr, false);
      if (!j.is_discarded()) lines.push_back(std::move(j));
    }
    return lines;
  }

  // What each post showed at wall-clock time `t`, by the truth: its last line at or before t.
  static std::map<std::string, std::string> StatusAt(const std::vector<json>& truth, double t) {
    std::map<std::string, std::string> status;
    for (const auto& line : truth) {
      if (line.value("t", 0.0) <= t) status[line.value("post", "")] = line.value("status", "");
    }
    return status;
  }

  // The URLs of the lab's posts (tests/lab/wechat_posts.csv, first column), one a line.
  static std::string PostUrlsFile() {
    const std::string path = g_lab->state_dir() + "/wechat_posts.txt";
    std::ifstream in(SourceDir() + "/tests/lab/wechat_posts.csv");
    std::ofstream out(path);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      if (!line.empty()) out << line.substr(0, line.find(',')) << "\n";
    }
    return path;
  }

  // `vigil run wechat_posts` in vgl-client with the lab's flags, the table on stdout and
  // the measurements in a file.
  PostsRun Run(const std::string& name) {
    PostsRun run;
    const std::string output = g_lab->state_dir() + "/" + name + ".jsonl";
    run.started = WallNow();
    auto r = g_lab->Exec(
        "client",
        {VigilBinary(), "run", "wechat_posts", "--timeout", "2", "--ca-file", g_lab->ca_file(),
         "--endpoints", g_lab->state_dir() + "/endpoints.csv", "--asn-db",
         g_lab->state_dir() + "/asn.mmdb", "--input-file", PostUrlsFile(), "--output", output},
        std::chrono::seconds(60));
    run.ended = WallNow();
    run.output = r.output;
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::ifstream in(output);
    for (std::string line; std::getline(in, line);) {
      auto m = json::parse(line, nullptr, false);
      if (m.is_discarded() || m.value("test_name", "") != "wechat_posts") continue;
      const std::string url = m.value("input", "");
      run.keys[url.substr(url.rfind('/') + 1)] = m["test_keys"];
    }
    std::istringstream table(r.output);
    for (std::string line; std::getline(table, line);) {
      if (line.rfind("https://mp.weixin.qq.com/s/", 0) != 0) continue;
      // SERVICE  TEST  VERDICT  BLOCKING  EVIDENCE, columns two spaces apart at least.
      std::istringstream fields(line);
      std::string url, test, verdict, blocking;
      fields >> url >> test >> verdict >> blocking;
      std::string evidence;
      std::getline(fields, evidence);
      evidence.erase(0, evidence.find_first_not_of(' '));
      run.table[url] = {verdict + " " + blocking, evidence};
    }
    return run;
  }

  // Every post of the run classed as the truth says it stood when the run began, and no
  // post changed while the run went on (else the run proves nothing either way).
  void ExpectAsTheTruthSays(const PostsRun& run, const std::vector<json>& truth) {
    for (const auto& line : truth) {
      const double t = line.value("t", 0.0);
      ASSERT_FALSE(t > run.started && t <= run.ended)
          << "the platform changed " << line.dump() << " during the run; the run is no evidence";
    }
    const auto expected = StatusAt(truth, run.started);
    ASSERT_EQ(expected.size(), 6u) << "the platform's truth names every post";
    ASSERT_EQ(run.keys.size(), expected.size()) << run.output;
    for (const auto& [post, status] : expected) {
      ASSERT_TRUE(run.keys.contains(post)) << post << "\n" << run.output;
      const json& k = run.keys.at(post);
      EXPECT_EQ(k.value("post_status", ""), status) << post << ": " << k.dump();
      const std::string url = "https://mp.weixin.qq.com/s/" + post;
      ASSERT_TRUE(run.table.contains(url)) << run.output;
      // The network delivered every page: the table says ok, with no blocking type, and
      // its evidence names what the platform did.
      EXPECT_EQ(run.table.at(url).first, "ok -") << url << "\n" << run.output;
      EXPECT_EQ(run.table.at(url).second.rfind(status, 0), 0u)
          << url << ": " << run.table.at(url).second;
      if (status == "available") {
        EXPECT_TRUE(k["x_title"].is_string()) << k.dump();
        EXPECT_EQ(k.value("x_content_sha256", "").size(), 64u) << k.dump();
      } else {
        EXPECT_EQ(k.value("x_notice_provenance", ""), "sample") << k.dump();
      }
    }
  }
};

TEST_F(LabPostsTest, EachPostIsClassedAsThePlatformShowedItBeforeAndAfterTheSwitch) {
  auto truth = Truth();
  ASSERT_GE(truth.size(), 6u) << "the platform wrote its posts' first status";
  double start = truth.front().value("t", 0.0);
  for (const auto& line : truth) start = std::min(start, line.value("t", 0.0));

  const PostsRun before = Run("before");
  ASSERT_LT(before.ended, start + 20) << "the first run must end before the platform's switch";
  ExpectAsTheTruthSays(before, Truth());
  for (const auto& [post, k] : before.keys) EXPECT_EQ(k.value("post_status", ""), "available");

  // The switch, 20 s after the platform's start: four changes, phase 0.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  while ((truth = Truth()).size() < 10 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(truth.size(), 10u) << "six starts and four changes";
  for (size_t i = 6; i < truth.size(); ++i) {
    EXPECT_EQ(truth[i].value("phase", -2), 0) << truth[i].dump();
    EXPECT_NEAR(truth[i].value("t", 0.0) - start, 20.0, 1.0) << truth[i].dump();
  }

  const PostsRun after = Run("after");
  ExpectAsTheTruthSays(after, truth);
  std::map<std::string, std::string> statuses;
  for (const auto& [post, k] : after.keys) statuses[post] = k.value("post_status", "");
  EXPECT_EQ(statuses, (std::map<std::string, std::string>{
                          {"lab-city-1", "removed_for_violation"},
                          {"lab-city-2", "available"},
                          {"lab-daily-1", "available"},
                          {"lab-daily-2", "deleted_by_author"},
                          {"lab-forum-1", "account_blocked"},
                          {"lab-forum-2", "account_blocked"},
                      }));
  // The same article twice: the same text, so the same hash.
  ASSERT_TRUE(before.keys.contains("lab-daily-1") && after.keys.contains("lab-daily-1"));
  EXPECT_EQ(before.keys.at("lab-daily-1")["x_content_sha256"],
            after.keys.at("lab-daily-1")["x_content_sha256"]);
  // The censor did nothing: a removal is the platform's, not the network's.
  EXPECT_TRUE(g_lab->Actions().empty());
}

}  // namespace
}  // namespace vigil::test_support
