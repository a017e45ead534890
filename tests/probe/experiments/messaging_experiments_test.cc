// The four OONI messaging experiments run for real against a loopback unbound (every
// service name → 127.0.0.1, where 443 and 5222 refuse): their measurements carry
// every test_keys key real OONI measurements carry, with the same JSON types; the
// lab mapping of Telegram's DCs is recorded; and a blackholed run ends on time.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "probe/experiments/registry.h"
#include "probe/measurement/measurement_json.h"
#include "tests/support/blackhole_host.h"
#include "tests/support/run_coroutine.h"
#include "tests/support/temp_dir.h"
#include "tests/support/unbound_server.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using test_support::RunCoroutine;

std::vector<std::string> ServiceHosts() {
  std::vector<std::string> hosts = {
      "v.whatsapp.net",        "web.whatsapp.com",      "web.telegram.org",
      "cdsi.signal.org",       "chat.signal.org",       "sfu.voip.signal.org",
      "storage.signal.org",    "uptime.signal.org",     "stun.fbsbx.com",
      "b-api.facebook.com",    "b-graph.facebook.com",  "edge-mqtt.facebook.com",
      "external.xx.fbcdn.net", "scontent.xx.fbcdn.net", "star.c10r.facebook.com"};
  for (int i = 1; i <= 16; ++i) hosts.push_back("e" + std::to_string(i) + ".whatsapp.net");
  return hosts;
}

std::vector<std::string> ZoneRecords(const std::string& ip) {
  std::vector<std::string> records;
  for (const auto& h : ServiceHosts()) records.push_back(h + ". 300 IN A " + ip);
  return records;
}

Result<Measurement> RunExperiment(const std::string& name, ExperimentContext context) {
  // co_spawn needs a default-constructible value for its exception path.
  auto result = RunCoroutine<std::optional<Result<Measurement>>>(
      [&](asio::io_context& io) -> asio::awaitable<std::optional<Result<Measurement>>> {
        context.executor = io.get_executor();
        auto e = MakeExperiment(name);
        if (!e) co_return Error{"no experiment " + name};
        co_return co_await e->Run(context, nullptr);
      });
  return std::move(*result);
}

std::string JsonType(const Json& j) {
  if (j.is_number()) return "number";
  return j.type_name();
}

class MessagingExperimentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = test_support::UnboundServer::Unavailable()) GTEST_SKIP() << *why;
    unbound_ = std::make_unique<test_support::UnboundServer>(ZoneRecords("127.0.0.1"));
    ASSERT_TRUE(unbound_->ok()) << unbound_->error();
    context_.resolver = *ParseResolverSpec("udp://" + unbound_->address());
    context_.timeout = 2000ms;
    context_.parallelism = 8;
    context_.data_dir = test_support::SourceDir() + "/testlists";
    for (const auto& dc : {"149.154.175.50", "149.154.167.51", "149.154.175.100", "149.154.167.91",
                           "149.154.171.5", "95.161.76.100"}) {
      context_.address_map[dc] = "127.0.0.1";
    }
    for (const auto& dc : {"2001:b28:f23d:f001::a", "2001:67c:4e8:f002::a", "2001:b28:f23d:f003::a",
                           "2001:67c:4e8:f004::a", "2001:b28:f23f:f005::a"}) {
      context_.address_map[dc] = "::1";
    }
  }

  // Runs `name` and returns its measurement as the JSON a reader would see.
  Json RunToJson(const std::string& name) {
    auto m = RunExperiment(name, context_);
    EXPECT_TRUE(m.ok()) << m.error();
    if (!m.ok()) return Json();
    EXPECT_EQ(m->test_name, name);
    Json j = ToJson(*m);
    auto back = ParseMeasurement(j.dump());
    EXPECT_TRUE(back.ok()) << back.error();
    return j;
  }

  std::unique_ptr<test_support::UnboundServer> unbound_;
  ExperimentContext context_;
};

// Every key of every real OONI measurement of `name` is in ours, with a JSON type
// OONI used for it: null only where some OONI measurement has null there, and any
// type where OONI has only ever written null.
void ExpectOoniKeys(const std::string& name, const Json& ours) {
  const std::string path = test_support::ReferenceDir() + "/ooni-measurements/" + name + ".jsonl";
  if (!std::filesystem::exists(path)) {
    GTEST_SKIP() << "no reference measurements at " << path
                 << " (set VIGIL_REFERENCE_DIR): key-set check skipped";
  }
  std::map<std::string, std::set<std::string>> ooni_types;  // key → JSON types seen
  std::ifstream in(path);
  std::string line;
  int measurements = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    Json ref = Json::parse(line);
    ASSERT_EQ(ref["test_name"], name);
    for (const auto& [key, value] : ref["test_keys"].items()) {
      ooni_types[key].insert(JsonType(value));
    }
    ++measurements;
  }
  ASSERT_GT(measurements, 0) << path << " has no measurements";
  const Json& keys = ours["test_keys"];
  for (const auto& [key, types] : ooni_types) {
    ASSERT_TRUE(keys.contains(key)) << "missing test_keys." << key;
    if (types == std::set<std::string>{"null"}) continue;
    EXPECT_TRUE(types.contains(JsonType(keys[key])))
        << "test_keys." << key << " is " << JsonType(keys[key]) << "; OONI's is one of "
        << Json(types).dump();
  }
}

TEST_F(MessagingExperimentsTest, WhatsappCarriesOonisKeys) {
  Json m = RunToJson("whatsapp");
  ASSERT_TRUE(m.is_object());
  EXPECT_EQ(m["test_version"], "0.11.0");
  const Json& k = m["test_keys"];
  // Refused everywhere: failures are data, with OONI's verdicts.
  EXPECT_EQ(k["whatsapp_endpoints_status"], "blocked");
  EXPECT_EQ(k["whatsapp_endpoints_blocked"].size(), 16u);
  EXPECT_EQ(k["registration_server_failure"], "connection_refused");
  EXPECT_EQ(k["x_endpoint_status"]["e7.whatsapp.net"]["5222"], "blocked");
  EXPECT_EQ(k["x_endpoint_failures"]["e7.whatsapp.net"]["5222"], "connection_refused");
  EXPECT_EQ(k["tcp_connect"].size(), 16u * 2 + 2);
  ExpectOoniKeys("whatsapp", m);
}

TEST_F(MessagingExperimentsTest, TelegramCarriesOonisKeysAndMappedAddresses) {
  Json m = RunToJson("telegram");
  ASSERT_TRUE(m.is_object());
  const Json& k = m["test_keys"];
  EXPECT_EQ(k["telegram_tcp_blocking"], true);
  EXPECT_EQ(k["telegram_http_blocking"], true);
  EXPECT_EQ(k["x_dc_status"]["149.154.175.50"],
            (Json{{"80", "blocked"}, {"443", "blocked"}, {"5222", "blocked"}}));
  EXPECT_EQ(k["x_dc_status"].size(), 11u) << "6 IPv4 and 5 IPv6 DCs";
  // The records say where we connected, and which real DC that stood for.
  bool mapped = false;
  for (const auto& c : k["tcp_connect"]) {
    EXPECT_NE(c["ip"], "149.154.175.50") << "a mapped DC was contacted directly";
    if (c["ip"] == "127.0.0.1") {
      EXPECT_TRUE(c.contains("x_mapped_from")) << c.dump();
      mapped = true;
    }
  }
  EXPECT_TRUE(mapped);
  for (const auto& r : k["requests"]) {
    if (r["request"]["method"] == "POST") {
      EXPECT_TRUE(r.contains("x_mapped_from")) << r.dump();
    }
  }
  ExpectOoniKeys("telegram", m);
}

TEST_F(MessagingExperimentsTest, SignalCarriesOonisKeys) {
  Json m = RunToJson("signal");
  ASSERT_TRUE(m.is_object());
  const Json& k = m["test_keys"];
  EXPECT_EQ(k["signal_backend_status"], "blocked");
  EXPECT_EQ(k["signal_backend_failure"], "connection_refused");
  EXPECT_TRUE(k["x_uptime_failure"].is_null()) << "uptime.signal.org resolves";
  ExpectOoniKeys("signal", m);
}

TEST_F(MessagingExperimentsTest, SignalRecordsWhereItsCasCameFrom) {
  // The shipped data has no Signal CA: the system store, and said so.
  Json k = RunToJson("signal")["test_keys"];
  const bool pinned = std::filesystem::exists(context_.data_dir + "/ca/signal-ca.pem");
  EXPECT_EQ(k["x_ca_source"], pinned ? "pinned" : "system");
  test_support::TempDir dir("vigil-signal-ca-");
  context_.data_dir = dir.path();
  std::filesystem::create_directories(dir.path() + "/ca");
  std::ofstream(dir.path() + "/ca/signal-ca.pem") << "not a certificate\n";
  auto bad = RunExperiment("signal", context_);
  EXPECT_FALSE(bad.ok()) << "an unusable pinned CA file is a configuration error";

  // The context's CA (the lab's) wins over any pinned file.
  context_.ca_file = dir.Join("lab-ca.pem");
  EXPECT_EQ(RunToJson("signal")["test_keys"]["x_ca_source"], "context");
}

TEST_F(MessagingExperimentsTest, FacebookMessengerCarriesOonisKeys) {
  Json m = RunToJson("facebook_messenger");
  ASSERT_TRUE(m.is_object());
  const Json& k = m["test_keys"];
  // 127.0.0.1 is not Facebook's: DNS is inconsistent and reachability unknown.
  EXPECT_EQ(k["facebook_dns_blocking"], true);
  EXPECT_EQ(k["facebook_b_api_dns_consistent"], false);
  EXPECT_TRUE(k["facebook_b_api_reachable"].is_null());
  EXPECT_EQ(k["x_inconsistent_addresses"]["b-api.facebook.com"], Json::array({"127.0.0.1"}));
  ExpectOoniKeys("facebook_messenger", m);
}

TEST_F(MessagingExperimentsTest, FacebookMessengerTakesTheLabsPrefixes) {
  test_support::TempDir dir("vigil-asn-");
  const std::string lab = dir.Join("lab-AS32934.txt");
  std::ofstream(lab) << "127.0.0.0/8 # the loopback stands in for Facebook\n";
  context_.extra_asn_files = {lab};
  Json k = RunToJson("facebook_messenger")["test_keys"];
  EXPECT_EQ(k["facebook_dns_blocking"], false);
  EXPECT_EQ(k["facebook_b_api_dns_consistent"], true);
  EXPECT_EQ(k["facebook_b_api_reachable"], false) << "443 refuses on loopback";
  EXPECT_EQ(k["facebook_tcp_blocking"], true);
  EXPECT_EQ(k["x_tls_handshakes"], Json::array()) << "no connect, no handshake";
  EXPECT_EQ(k["x_asn_prefix_files"], Json::array({"AS32934.txt", "lab-AS32934.txt"}));

  context_.extra_asn_files = {dir.Join("missing.txt")};
  EXPECT_FALSE(RunExperiment("facebook_messenger", context_).ok());
}

TEST_F(MessagingExperimentsTest, AnswersOutsideWhatsappsNetworkAreDnsBlocking) {
  // Loopback is nobody's network: every WhatsApp name resolved to a bogon.
  Json k = RunToJson("whatsapp")["test_keys"];
  EXPECT_EQ(k["x_dns_consistency"]["e1.whatsapp.net"]["consistent"], false);
  EXPECT_EQ(k["x_dns_consistency"]["e1.whatsapp.net"]["addresses"]["127.0.0.1"], "bogon");
  EXPECT_EQ(k["whatsapp_endpoints_dns_inconsistent"].size(), 16u);
  auto m = RunExperiment("whatsapp", context_);
  ASSERT_TRUE(m.ok()) << m.error();
  RunSummary s = MakeExperiment("whatsapp")->Summarize(*m);
  EXPECT_EQ(s.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(s.blocking, "dns");
  EXPECT_EQ(s.evidence.rfind("e1-e16.whatsapp.net,v.whatsapp.net,web.whatsapp.com resolve "
                             "dns_inconsistent; ",
                             0),
            0u)
      << s.evidence;
}

TEST_F(MessagingExperimentsTest, SummariesNameLayerAndEvidence) {
  context_.extra_asn_addresses["AS32934"] = {"127.0.0.1"};  // loopback plays WhatsApp
  auto m = RunExperiment("whatsapp", context_);
  ASSERT_TRUE(m.ok()) << m.error();
  RunSummary s = MakeExperiment("whatsapp")->Summarize(*m);
  EXPECT_EQ(s.service, "WhatsApp");
  EXPECT_EQ(s.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(s.blocking, "tcp_ip");
  EXPECT_EQ(s.evidence,
            "e1-e16.whatsapp.net,v.whatsapp.net,web.whatsapp.com:443/5222 connect "
            "connection_refused");
}

TEST(MessagingDeadlines, BlackholedWhatsappEndsOnTime) {
  if (auto why = test_support::UnboundServer::Unavailable()) GTEST_SKIP() << *why;
  const std::string ip = "127.77.0.1";
  test_support::BlackholeHost blackhole(ip, {443, 5222});
  if (!blackhole.error().empty()) GTEST_SKIP() << "no blackhole: " << blackhole.error();
  test_support::UnboundServer unbound(ZoneRecords(ip));
  ASSERT_TRUE(unbound.ok()) << unbound.error();
  ExperimentContext context;
  context.resolver = *ParseResolverSpec("udp://" + unbound.address());
  context.timeout = 400ms;
  context.parallelism = 8;
  context.extra_asn_addresses["AS32934"] = {ip};  // the blackholed host plays WhatsApp

  const auto start = std::chrono::steady_clock::now();
  auto m = RunExperiment("whatsapp", context);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(m.ok()) << m.error();

  // 16 endpoints × 2 ports, plus 2 fetches, each one timeout, 8 at a time.
  const auto bound = context.timeout * (16 * 2 + 2) / context.parallelism;
  EXPECT_LT(elapsed, bound + 2 * context.timeout)
      << "the bound is about " << bound.count() << " ms";
  EXPECT_GE(elapsed, bound - context.timeout) << "steps ran with more than 8 in flight";
  for (const auto& c : m->test_keys.tcp_connect) {
    EXPECT_EQ(c.status.failure.value_or(""), "generic_timeout_error") << c.ip << ":" << c.port;
  }
  RunSummary s = MakeExperiment("whatsapp")->Summarize(*m);
  EXPECT_EQ(s.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(s.blocking, "tcp_ip");
  EXPECT_EQ(s.evidence,
            "e1-e16.whatsapp.net,v.whatsapp.net,web.whatsapp.com:443/5222 connect "
            "generic_timeout_error");
}

}  // namespace
}  // namespace vigil
