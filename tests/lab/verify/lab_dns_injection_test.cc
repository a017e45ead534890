// The dns_injection experiment in the lab, against the censor's ground truth: under
// gfw-dns (two forged copies racing ahead of the genuine answer) and gfw-dns-late
// (three copies, each with its own fingerprint, 300 ms after it) every messaging name
// the censor matches is injected — its forged replies from the sink (198.18.30.2 in
// vgl-control, where no DNS server runs) and from the public resolver beyond the
// censor (198.18.20.53) identified one by one, as many as the truth records, late ones
// included — while a name it does not match stays clean; under clean every name is
// clean and no measurement carries x_injection. About 20 s.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "tests/lab/verify/lab_environment.h"
#include "tests/support_paths.h"

namespace vigil::test_support {
namespace {

using nlohmann::json;

LabEnvironment* g_lab = nullptr;

constexpr const char* kSink = "198.18.30.2:53";
constexpr const char* kPublic = "198.18.20.53:53";
constexpr const char* kIsp = "198.18.1.1:53";
constexpr const char* kClient = "198.18.1.10";

// Names the scenarios' dns_inject rules match, and one they do not.
const std::vector<std::string> kInjected = {"e1.whatsapp.net", "web.telegram.org",
                                            "chat.signal.org"};
constexpr const char* kUnmatched = "weixin.qq.com";

bool Forged(const std::string& ip) { return ip.rfind("198.18.240.", 0) == 0; }

class LabDnsInjectionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (LabEnvironment::Unavailable()) return;
    g_lab = new LabEnvironment("clean");
  }
  static void TearDownTestSuite() {
    delete g_lab;
    g_lab = nullptr;
  }

  void SetUp() override {
    if (auto why = LabEnvironment::Unavailable()) GTEST_SKIP() << *why;
    ASSERT_TRUE(g_lab && g_lab->ok()) << (g_lab ? g_lab->error() : "no lab");
  }

  void Use(const std::string& scenario) {
    std::string error;
    ASSERT_TRUE(g_lab->SwitchScenario(scenario, &error)) << error;
  }

  // `vigil run dns_injection` from vgl-client: hostname → that name's measurement.
  std::map<std::string, json> Run() {
    std::vector<std::string> argv = {VigilBinary(),
                                     "run",
                                     "dns_injection",
                                     "--batch",
                                     "--no-network-check",
                                     "--timeout",
                                     "2",
                                     "--dns-listen",
                                     "1",
                                     "--dns-sink",
                                     "198.18.30.2",
                                     "--forged-ips",
                                     SourceDir() + "/tests/lab/forged_ips.txt",
                                     "--parallel",
                                     "8"};
    std::vector<std::string> names = kInjected;
    names.push_back(kUnmatched);
    for (const auto& name : names) {
      argv.push_back("--input");
      argv.push_back(
          json{{"input", name}, {"resolvers", {"udp://198.18.20.53:53", "system"}}}.dump());
    }
    auto r = g_lab->Exec("client", argv, std::chrono::seconds(60));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::map<std::string, json> out;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line[0] != '{') continue;
      json m = json::parse(line, nullptr, false);
      if (m.is_object() && m.value("test_name", "") == "dns_injection") {
        out[m.value("input", "")] = m;
      }
    }
    EXPECT_EQ(out.size(), names.size()) << r.output;
    return out;
  }

  // The probe of `name` to `address`.
  static json ProbeOf(const json& m, const std::string& address) {
    for (const auto& p : m["test_keys"]["names"][0]["probes"]) {
      if (p.value("address", "") == address) return p;
    }
    ADD_FAILURE() << "no probe to " << address << " in " << m["test_keys"].dump();
    return json::object();
  }

  // The forged answers the censor sent the client's own queries for `name` to `dst`.
  static std::multiset<std::string> TruthForged(const std::string& name, const std::string& dst) {
    std::multiset<std::string> out;
    for (const auto& a : g_lab->Actions()) {
      if (a.value("action", "") != "dns_inject") continue;
      const json& flow = a["flow"];
      const json& detail = a["detail"];
      if (flow.value("src", "") != kClient || flow.value("dst", "") != dst) continue;
      if (detail.value("qname", "") != name) continue;
      for (const auto& ip : detail["answers"]) out.insert(ip.get<std::string>());
    }
    return out;
  }

  // The answers of a probe's replies that are forged, reply by reply.
  static std::multiset<std::string> SeenForged(const json& probe) {
    std::multiset<std::string> out;
    for (const auto& r : probe["replies"]) {
      for (const auto& a : r["answers"]) {
        if (Forged(a.value("ipv4", ""))) out.insert(a["ipv4"].get<std::string>());
      }
    }
    return out;
  }

  // Under an injecting scenario: every matched name injected, each forged reply the
  // censor sent to the sink and to the public resolver found, `copies` per query.
  void ExpectInjected(const std::map<std::string, json>& runs, size_t copies, bool late) {
    for (const auto& name : kInjected) {
      SCOPED_TRACE(name);
      ASSERT_TRUE(runs.contains(name));
      const json& m = runs.at(name);
      const json& keys = m["test_keys"];
      EXPECT_EQ(keys["sink"], kSink);
      EXPECT_EQ(keys["names"][0]["verdict"], "injected") << keys.dump(1);

      const json sink = ProbeOf(m, kSink);
      // Several replies to one query, from where no DNS server runs, known forged addresses.
      EXPECT_EQ(sink["flags"],
                json::array({"multiple_answers", "answer_from_non_resolver", "known_forged_ip"}))
          << sink.dump();
      EXPECT_EQ(sink["replies"].size(), copies) << sink.dump();
      const auto sink_truth = TruthForged(name, "198.18.30.2");
      EXPECT_EQ(sink_truth.size(), copies * sink["queries_sent"].get<size_t>());
      EXPECT_EQ(SeenForged(sink), sink_truth);

      const json pub = ProbeOf(m, kPublic);
      EXPECT_EQ(pub["flags"], json::array({"multiple_answers", "known_forged_ip"})) << pub.dump();
      ASSERT_EQ(pub["replies"].size(), copies + 1) << pub.dump(1);
      const auto pub_truth = TruthForged(name, "198.18.20.53");
      EXPECT_EQ(pub_truth.size(), copies);
      EXPECT_EQ(SeenForged(pub), pub_truth);
      // Which reply a stub resolver took: a forged one, unless they came late.
      const json& first = pub["replies"][0];
      EXPECT_EQ(first["accepted"], true);
      EXPECT_EQ(Forged(first["answers"][0].value("ipv4", "")), !late) << first.dump();
      for (const auto& r : pub["replies"]) EXPECT_TRUE(r["ip_ttl"].is_number()) << r.dump();

      size_t entries = 0;
      for (const auto& e : keys["x_injection"]) {
        EXPECT_EQ(e["layer"], "dns");
        EXPECT_EQ(e["technique"], "dns_injection");
        EXPECT_EQ(e["hostname"], name);
        entries += e["address"] == kSink || e["address"] == kPublic;
      }
      EXPECT_EQ(entries, 2u) << keys["x_injection"].dump(1);
    }
    ASSERT_TRUE(runs.contains(kUnmatched));
    EXPECT_EQ(runs.at(kUnmatched)["test_keys"]["names"][0]["verdict"], "clean")
        << runs.at(kUnmatched)["test_keys"].dump(1);
    EXPECT_FALSE(runs.at(kUnmatched)["test_keys"].contains("x_injection"));
  }
};

TEST_F(LabDnsInjectionTest, GfwDnsForgedRepliesAheadOfTheGenuineOneAreFoundAsTheTruthRecordsThem) {
  Use("gfw-dns");
  const auto runs = Run();
  ExpectInjected(runs, 2, false);
  // The ISP resolver takes the first reply it gets, a forged one, and passes it on.
  for (const auto& name : kInjected) {
    if (!runs.contains(name)) continue;
    const json isp = ProbeOf(runs.at(name), kIsp);
    EXPECT_EQ(isp["flags"], json::array({"known_forged_ip"})) << isp.dump();
  }
}

TEST_F(LabDnsInjectionTest, GfwDnsLateForgedRepliesAfterTheGenuineOneAreFoundToo) {
  Use("gfw-dns-late");
  const auto runs = Run();
  ExpectInjected(runs, 3, true);
  for (const auto& name : kInjected) {
    if (!runs.contains(name)) continue;
    // Three injectors, three fingerprints: the IP TTLs differ.
    std::set<int> ttls;
    const json sink = ProbeOf(runs.at(name), kSink);
    for (const auto& r : sink["replies"]) ttls.insert(r.value("ip_ttl", 0));
    EXPECT_EQ(ttls.size(), 3u);
    // The ISP resolver has its genuine answer before the forged ones: clean there.
    const json isp = ProbeOf(runs.at(name), kIsp);
    EXPECT_EQ(isp["flags"], json::array()) << isp.dump();
    EXPECT_EQ(isp["replies"].size(), 1u) << isp.dump();
  }
}

TEST_F(LabDnsInjectionTest, CleanEveryNameIsCleanWithoutInjectionEvidence) {
  Use("clean");
  const auto runs = Run();
  for (const auto& [name, m] : runs) {
    EXPECT_EQ(m["test_keys"]["names"][0]["verdict"], "clean") << m["test_keys"].dump(1);
    EXPECT_FALSE(m["test_keys"].contains("x_injection")) << name;
  }
  EXPECT_TRUE(g_lab->Actions().empty());
}

}  // namespace
}  // namespace vigil::test_support
