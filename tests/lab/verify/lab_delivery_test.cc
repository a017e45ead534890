// The delivery experiment in the lab, against the censor's ground truth: under
// keyword-filter every transport carries the messages, the plaintext ones (relay-tcp,
// relay-http, MQTT) lose exactly the test messages that carry a filtered word or
// complete a filtered combination, message by message as the censor's truth records
// them, and the encrypted ones (relay-https, XMPP with STARTTLS) lose nothing; a lost
// combination's words pass alone. Under keyword-rst-residual a keyword's RST and the
// residual block after it read as stateful, not as more keywords dropped; under clean
// every message arrives; and a relay killed mid-run leaves timeouts, not a crash or a
// hang. `vigil relay` runs in vgl-control (the uncensored vantage), prosody and
// mosquitto in vgl-server.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "tests/lab/verify/lab_environment.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil::test_support {
namespace {

using nlohmann::json;

LabEnvironment* g_lab = nullptr;
TempDir* g_dir = nullptr;
constexpr const char* kRelayUrl = "https://relay.lab.test:8443";

// The lab's keyword list: a word the censor filters alone, one it does not, and two
// combinations it filters whose words pass alone; each with its control.
constexpr const char* kKeywords =
    "id,text,language,theme,components,source,date_added\n"
    "lab-1,六四,zh,history,,lab,2026-12-07\n"
    "lab-1.c,晚安,zh,control,,lab,2026-12-07\n"
    "lab-2,习近平 该 退位,zh,politics,习近平+退位,lab,2026-12-07\n"
    "lab-2.c,今天 下 大雨,zh,control,,lab,2026-12-07\n"
    "lab-3,天安门,zh,history,,lab,2026-12-07\n"
    "lab-3.c,火车站,zh,control,,lab,2026-12-07\n"
    "lab-4,tiananmen 1989,en,history,tiananmen+1989,lab,2026-12-07\n"
    "lab-4.c,weather is fine,en,control,,lab,2026-12-07\n";

// The words and combinations of keyword-filter.yaml and keyword-rst-residual.yaml.
const std::vector<std::vector<std::string>> kFiltered = {
    {"法轮功"}, {"六四"}, {"falungong"}, {"习近平", "退位"}, {"tiananmen", "1989"}};

bool CarriesFilteredWords(const std::string& text) {
  for (const auto& combo : kFiltered) {
    bool all = true;
    for (const auto& w : combo) all = all && text.find(w) != std::string::npos;
    if (all) return true;
  }
  return false;
}

class LabDeliveryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (LabEnvironment::Unavailable()) return;
    g_lab = new LabEnvironment("keyword-filter");
    if (!g_lab->ok()) return;
    g_dir = new TempDir("lab-delivery");
    std::ofstream(g_dir->Join("keywords.csv")) << kKeywords;
    const json config = {{"consent",
                          {{"informed", true},
                           {"text_version", 1},
                           {"accepted_at", "2026-12-07T00:00:00Z"},
                           {"unattended", true}}},
                         {"spool_dir", g_dir->Join("spool")},
                         {"results_db", g_dir->Join("results.sqlite")},
                         {"delivery",
                          {{"enabled", true},
                           {"acknowledged_at", "2026-12-07T00:00:00Z"},
                           {"keywords", g_dir->Join("keywords.csv")},
                           {"mqtt_broker", "mqtt://mqtt.lab.test:1883"},
                           {"xmpp_server", "chat.lab.test"},
                           {"xmpp_sender", "alice@chat.lab.test"},
                           {"xmpp_sender_password", "alice-lab-password"},
                           {"xmpp_receiver", "bob@chat.lab.test"},
                           {"xmpp_receiver_password", "bob-lab-password"}}}};
    std::ofstream(g_dir->Join("config.json")) << config.dump(2);
  }
  static void TearDownTestSuite() {
    delete g_lab;
    g_lab = nullptr;
    delete g_dir;
    g_dir = nullptr;
  }

  void SetUp() override {
    if (auto why = LabEnvironment::Unavailable()) GTEST_SKIP() << *why;
    ASSERT_TRUE(g_lab && g_lab->ok()) << (g_lab ? g_lab->error() : "no lab");
  }

  void Use(const std::string& scenario) {
    std::string error;
    ASSERT_TRUE(g_lab->SwitchScenario(scenario, &error)) << error;
  }

  // `vigil relay` in vgl-control on the lab certificate: TCP 8481, HTTP 8480, HTTPS 8443.
  // Its log: STATE/<log_name>.
  std::unique_ptr<ChildProcess> StartRelay(const std::string& log_name = "relay.log") {
    auto relay = std::make_unique<ChildProcess>();
    const std::string state = g_lab->state_dir();
    std::string error;
    EXPECT_TRUE(relay->Start(
        {"ip", "netns", "exec", "vgl-control", VigilBinary(), "relay", "--listen-tcp",
         "198.18.30.2:8481", "--listen-http", "198.18.30.2:8480", "--listen-https",
         "198.18.30.2:8443", "--cert", state + "/server-chain.pem", "--key", state + "/server.key"},
        state + "/" + log_name, &error))
        << error;
    for (int i = 0; i < 50; ++i) {
      if (g_lab
              ->Exec("control", {"curl", "-s", "-o", "/dev/null", "--cacert", g_lab->ca_file(),
                                 std::string(kRelayUrl) + "/api/v1/relay"})
              .exit_code == 0) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return relay;
  }

  // `vigil run delivery` from vgl-client: the measurement's test keys (null when none).
  json RunDelivery(const std::string& transport, std::vector<std::string> extra = {},
                   const std::string& stateful_wait = "25") {
    std::vector<std::string> argv = {VigilBinary(),       "run",
                                     "delivery",          "--batch",
                                     "--config",          g_dir->Join("config.json"),
                                     "--transport",       transport,
                                     "--relay",           kRelayUrl,
                                     "--ca-file",         g_lab->ca_file(),
                                     "--timeout",         "1",
                                     "--delivery-wait",   "3",
                                     "--stateful-wait",   stateful_wait,
                                     "--no-network-check"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = g_lab->Exec("client", argv, std::chrono::seconds(150));
    EXPECT_EQ(r.exit_code, 0) << transport << ":\n" << r.output;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line[0] != '{') continue;
      json m = json::parse(line, nullptr, false);
      if (m.is_object() && m.value("test_name", "") == "delivery") return m["test_keys"];
    }
    ADD_FAILURE() << transport << ": no delivery measurement in:\n" << r.output;
    return json();
  }

  // Every keyword's verdict.
  static std::map<std::string, std::string> Verdicts(const json& keys) {
    std::map<std::string, std::string> out;
    for (const auto& k : keys.value("keywords", json::array())) {
      out[k.value("id", "")] = k.value("verdict", "");
    }
    return out;
  }

  static size_t TruthCount(const std::string& action) {
    size_t n = 0;
    for (const auto& a : g_lab->Actions()) n += a.value("action", "") == action;
    return n;
  }
};

TEST_F(LabDeliveryTest, KeywordFilterDropsExactlyTheFilteredMessagesOnPlaintextTransports) {
  auto relay = StartRelay();
  for (const std::string transport : {"relay-tcp", "relay-http", "mqtt"}) {
    SCOPED_TRACE(transport);
    Use("keyword-filter");
    const json keys = RunDelivery(transport);
    ASSERT_TRUE(keys.is_object());
    EXPECT_TRUE(keys["transport_failure"].is_null()) << keys["transport_failure"];
    // Message by message: a test message is lost iff it carries filtered words;
    // controls always arrive; each loss is one keyword_drop in the censor's truth.
    size_t lost = 0;
    for (const auto& m : keys["messages"]) {
      const std::string text = m.value("text", "");
      const std::string status = m.value("status", "");
      const bool filtered = CarriesFilteredWords(text);
      EXPECT_EQ(status, filtered ? "dropped" : "delivered") << m.dump();
      lost += status != "delivered";
    }
    EXPECT_GT(lost, 0u);
    EXPECT_EQ(TruthCount("keyword_drop"), lost);
    const auto v = Verdicts(keys);
    EXPECT_EQ(v.at("lab-1"), "blocked");
    EXPECT_EQ(v.at("lab-2"), "blocked");
    EXPECT_EQ(v.at("lab-3"), "delivered");
    EXPECT_EQ(v.at("lab-4"), "blocked");
    for (const auto& k : keys["keywords"]) {
      if (k.value("verdict", "") == "blocked") {
        EXPECT_EQ(k["technique"], "keyword_drop") << k.dump();
      }
      // The combinations' words pass alone: the combination is the trigger.
      if (k["components"].size() > 0) {
        EXPECT_EQ(k["trigger"], "combination") << k.dump();
      }
    }
    EXPECT_EQ(keys["delivery_status"], "blocked");
  }
}

TEST_F(LabDeliveryTest, EncryptedTransportsCarryEveryMessagePastAKeywordFilter) {
  auto relay = StartRelay();
  for (const std::string transport : {"relay-https", "xmpp"}) {
    SCOPED_TRACE(transport);
    Use("keyword-filter");
    const json keys = RunDelivery(transport);
    ASSERT_TRUE(keys.is_object());
    for (const auto& m : keys["messages"]) EXPECT_EQ(m["status"], "delivered") << m.dump();
    for (const auto& [id, verdict] : Verdicts(keys)) EXPECT_EQ(verdict, "delivered") << id;
    EXPECT_EQ(TruthCount("keyword_drop"), 0u) << "the censor cannot read these";
    EXPECT_EQ(keys["delivery_status"], "ok");
  }
}

TEST_F(LabDeliveryTest, CleanDeliversEveryMessage) {
  auto relay = StartRelay();
  Use("clean");
  const json keys = RunDelivery("relay-tcp");
  ASSERT_TRUE(keys.is_object());
  ASSERT_GT(keys["messages"].size(), 0u);
  for (const auto& m : keys["messages"]) {
    EXPECT_EQ(m["status"], "delivered") << m.dump();
    EXPECT_TRUE(m["latency_ms"].is_number()) << m.dump();
  }
  EXPECT_EQ(keys["delivery_status"], "ok");
}

TEST_F(LabDeliveryTest, AResidualBlockReadsAsStatefulNotAsKeywordsDropped) {
  auto relay = StartRelay();
  Use("keyword-rst-residual");
  // One filtered keyword: its RST, then the 3-tuple blocked for 5 s.
  const json keys = RunDelivery("relay-tcp", {"--input", "lab-1"});
  ASSERT_TRUE(keys.is_object());
  ASSERT_EQ(keys["keywords"].size(), 1u);
  const json& k = keys["keywords"][0];
  EXPECT_EQ(k["verdict"], "stateful") << k.dump(2);
  EXPECT_EQ(k["technique"], "keyword_rst") << k.dump(2);
  ASSERT_TRUE(k["residual_seconds"].is_number()) << k.dump(2);
  EXPECT_GE(k["residual_seconds"].get<double>(), 2.5);
  EXPECT_LE(k["residual_seconds"].get<double>(), 20.0);
  // Controls lost inside the block are the block's, and no control is a test.
  for (const auto& m : keys["messages"]) {
    if (m["role"] == "test") {
      EXPECT_EQ(m["status"], "reset_on_send") << m.dump();
    }
  }
  EXPECT_GE(TruthCount("rst_inject"), 1u);
}

TEST_F(LabDeliveryTest, ARelayKilledMidRunLeavesTimeoutsNotACrashOrAHang) {
  std::filesystem::remove(g_lab->state_dir() + "/relay-killed.log");
  auto relay = StartRelay("relay-killed.log");
  // Every packet to or from the relay 50 ms late, so that the run is still sending when
  // the relay dies.
  const std::string slow = g_dir->Join("relay-delay.yaml");
  std::ofstream(slow) << "name: relay-delay\n"
                         "description: the relay 50 ms further away each way\n"
                         "phases:\n"
                         "  - start: 0s\n"
                         "    rules:\n"
                         "      - id: relay-delay\n"
                         "        match: {proto: tcp, dst_ip: 198.18.30.2}\n"
                         "        action: delay\n"
                         "        ms: 50\n";
  Use(slow);
  json keys;
  const auto started = std::chrono::steady_clock::now();
  std::thread run([&] { keys = RunDelivery("relay-tcp", {}, "4"); });
  // Killed once the run has made its session and started sending.
  for (int i = 0; i < 200; ++i) {
    std::ifstream log(g_lab->state_dir() + "/relay-killed.log");
    const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    if (text.find("/messages") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  relay->Kill();
  run.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(120));
  ASSERT_TRUE(keys.is_object());
  std::set<std::string> statuses;
  for (const auto& m : keys["messages"]) statuses.insert(m.value("status", ""));
  EXPECT_TRUE(statuses.count("timeout")) << keys.dump(1);
  EXPECT_FALSE(statuses.count("dropped"))
      << "a dead relay is not a filter: " << keys["messages"].dump(1);
  for (const auto& [id, verdict] : Verdicts(keys)) {
    EXPECT_NE(verdict, "blocked") << id;
    EXPECT_NE(verdict, "stateful") << id;
  }
}

}  // namespace
}  // namespace vigil::test_support
