// Packet evidence in the lab (issue Evidence), against what the censor was told to do:
// under gfw-sni-rst each messaging service's resets carry their injector's fingerprint
// (Telegram GFW type I, WhatsApp type II, Signal type III) and the analyzer confirms
// the measurements; Henan's resets are Henan's; a server that resets connections by
// itself is the server, never an injector; forged DNS replies are counted, early and
// late; the clean scenario yields no injection flag at all. vigil runs as root here, so
// every run captures.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "analysis/ingest/ingest.h"
#include "analysis/verdict/rules.h"
#include "tests/lab/verify/lab_environment.h"
#include "tests/support_paths.h"

namespace vigil::test_support {
namespace {

using nlohmann::json;

LabEnvironment* g_lab = nullptr;
// `vigil helper` in vgl-control: it tells the probe where it is (a measurement from
// country ZZ confirms nothing).
ChildProcess* g_helper = nullptr;

const analysis::VerdictEngine& Engine() {
  static const analysis::VerdictEngine* engine = [] {
    auto e = analysis::VerdictEngine::Load(SourceDir() + "/testlists/verdict/rules.json",
                                           SourceDir() + "/testlists/fingerprints");
    EXPECT_TRUE(e.ok()) << e.error();
    return e.ok() ? new analysis::VerdictEngine(std::move(*e)) : new analysis::VerdictEngine();
  }();
  return *engine;
}

struct Scored {
  json m;
  analysis::VerdictRow row;
};

class LabPacketsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (LabEnvironment::Unavailable()) return;
    g_lab = new LabEnvironment("clean");
    if (!g_lab->ok()) return;
    g_helper = g_lab
                   ->StartHelper(
                       {"--whoami-dns", "198.18.30.2:5353", "--whoami-zone", "whoami.vigil.test"})
                   .release();
  }
  static void TearDownTestSuite() {
    delete g_helper;
    g_helper = nullptr;
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

  std::vector<std::string> RunArgs(const std::string& target, std::vector<std::string> extra) {
    std::vector<std::string> argv = {VigilBinary(),
                                     "run",
                                     target,
                                     "--timeout",
                                     "2",
                                     "--ca-file",
                                     g_lab->ca_file(),
                                     "--endpoints",
                                     g_lab->state_dir() + "/endpoints.csv",
                                     "--asn-db",
                                     g_lab->state_dir() + "/asn.mmdb",
                                     "--country-db",
                                     g_lab->state_dir() + "/country.mmdb",
                                     "--helper",
                                     LabEnvironment::kHelperUrl,
                                     "--resolver-whoami",
                                     "probe.whoami.vigil.test",
                                     "--no-network-check",
                                     "--dns-listen",
                                     "0.5"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  // `vigil run TARGET --batch` from vgl-client: each measurement with the analyzer's row.
  std::vector<Scored> Run(const std::string& target) {
    auto r = g_lab->Exec("client", RunArgs(target, {"--batch"}), std::chrono::seconds(90));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::vector<Scored> out;
    analysis::IngestOptions ingest;
    analysis::MeasurementExtractor extractor(ingest);
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line[0] != '{') continue;
      analysis::ExtractedMeasurement facts;
      auto extracted = extractor.Extract(line, &facts);
      EXPECT_TRUE(extracted.ok()) << extracted.error();
      if (!extracted.ok()) continue;
      out.push_back({json::parse(line), Engine().Score(facts, std::time(nullptr))});
    }
    EXPECT_FALSE(out.empty()) << r.output;
    return out;
  }

  // The injectors x_injection names, over every measurement.
  static std::multiset<std::string> Injectors(const std::vector<Scored>& runs) {
    std::multiset<std::string> names;
    for (const auto& s : runs) {
      for (const auto& e : s.m["test_keys"].value("x_injection", json::array())) {
        names.insert(e.value("technique", "") + "/" + e.value("injector", ""));
      }
    }
    return names;
  }
};

TEST_F(LabPacketsTest, EachGfwInjectorIsNamedAndTheMeasurementConfirmed) {
  // One service per fresh censor: the residual block of one would meet the next.
  const std::map<std::string, std::string> injector = {
      {"telegram", "gfw_type1"}, {"whatsapp", "gfw_type2"}, {"signal", "gfw_type3"}};
  for (const auto& [test, expected] : injector) {
    Use("gfw-sni-rst");
    const auto runs = Run(test);
    ASSERT_EQ(runs.size(), 1u);
    const json& keys = runs[0].m["test_keys"];
    ASSERT_TRUE(keys.contains("x_packets")) << runs[0].m.dump().substr(0, 3000);
    ASSERT_TRUE(keys["x_packets"]["available"].get<bool>()) << keys["x_packets"].dump();
    // Every flow the censor reset is labelled by its injector's fingerprint, except one
    // whose reset's TTL happens to land within one of the server's SYN-ACK (the censor
    // draws type I TTLs at random): that is read as the server's, by design no claim.
    size_t reset_flows = 0, labelled = 0;
    for (const auto& flow : keys["x_packets"]["tcp_flows"]) {
      if (flow["resets"].empty()) continue;
      ++reset_flows;
      const std::string source = flow["reset_source"];
      if (source == expected) {
        ++labelled;
        continue;
      }
      const int rst_ttl = flow["resets"][0]["ip_ttl"];
      const int syn_ack_ttl =
          flow["syn_ack"].is_object() ? flow["syn_ack"]["ip_ttl"].get<int>() : -9;
      EXPECT_TRUE(source == "server" && std::abs(rst_ttl - syn_ack_ttl) <= 1)
          << test << ": " << flow;
    }
    EXPECT_GT(reset_flows, 0u) << test << ": " << keys["x_packets"];
    const auto names = Injectors(runs);
    EXPECT_EQ(names.count("rst_injection/" + expected), labelled) << test;
    for (const auto& name : names) EXPECT_EQ(name, "rst_injection/" + expected) << test;
    if (labelled > 0) {
      EXPECT_TRUE(runs[0].row.confirmed)
          << test << ": " << analysis::VerdictEngine::RulesFired(runs[0].row) << "\n"
          << keys.value("x_injection", json()).dump();
      EXPECT_EQ(runs[0].row.fingerprint, expected) << test;
    }
    // Nothing in the evidence names the probe's address.
    EXPECT_EQ(keys["x_packets"].dump().find("198.18.1.10"), std::string::npos);
  }
  // The table a volunteer reads names technique and injector.
  Use("gfw-sni-rst");
  auto table =
      g_lab->Exec("client", RunArgs("whatsapp", {"--output", g_lab->state_dir() + "/p.jsonl"}),
                  std::chrono::seconds(60));
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("TECHNIQUE"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("(gfw_type2)"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("injected: rst_injection gfw_type2"), std::string::npos)
      << table.output;
}

TEST_F(LabPacketsTest, HenanResetsAreHenans) {
  Use("henan-rst");
  const auto runs = Run("whatsapp");
  const auto names = Injectors(runs);
  EXPECT_GT(names.count("rst_injection/henan"), 0u);
  for (const auto& name : names) EXPECT_EQ(name, "rst_injection/henan");
  EXPECT_TRUE(runs[0].row.confirmed) << analysis::VerdictEngine::RulesFired(runs[0].row);
}

TEST_F(LabPacketsTest, AServersOwnResetIsTheServers) {
  Use("failing-servers");
  // citizenlab.ca's server accepts and resets every connection by itself.
  json m = g_lab->Measure("client", {"tls", "198.18.80.8:443", "--sni", "citizenlab.ca",
                                     "--ca-file", g_lab->ca_file(), "--capture", "--timeout", "3"});
  ASSERT_TRUE(m.is_object());
  const json& keys = m["test_keys"];
  ASSERT_TRUE(keys["x_packets"]["available"].get<bool>()) << keys.dump();
  ASSERT_FALSE(keys["x_packets"]["tcp_flows"].empty()) << keys.dump();
  const json& flow = keys["x_packets"]["tcp_flows"][0];
  ASSERT_FALSE(flow["resets"].empty()) << keys.dump();
  EXPECT_EQ(flow["reset_source"], "server") << flow.dump();
  EXPECT_FALSE(keys.contains("x_injection")) << keys.dump();
}

TEST_F(LabPacketsTest, ForgedDnsRepliesAreCountedEarlyAndLate) {
  // Asked of the upstream resolver beyond the censor, so the query crosses it: the
  // forged copies and the genuine answer all reach the client.
  for (const auto& [scenario, forged] :
       std::vector<std::pair<std::string, size_t>>{{"gfw-dns", 2}, {"gfw-dns-late", 3}}) {
    Use(scenario);
    const std::string pcap = g_lab->state_dir() + "/" + scenario + ".pcap";
    json m = g_lab->Measure("client", {"dns", "web.whatsapp.com", "--resolver",
                                       "udp://198.18.20.53:53", "--pcap", pcap});
    ASSERT_TRUE(m.is_object()) << scenario;
    const json& keys = m["test_keys"];
    ASSERT_EQ(keys["x_packets"]["dns_replies"].size(), 1u) << keys.dump();
    const json& replies = keys["x_packets"]["dns_replies"][0]["replies"];
    EXPECT_EQ(replies.size(), forged + 1) << scenario << ": " << replies.dump();
    ASSERT_TRUE(keys.contains("x_injection")) << keys.dump();
    EXPECT_EQ(keys["x_injection"][0]["layer"], "dns");
    const json flags = keys["x_injection"][0]["flags"];
    EXPECT_NE(std::find(flags.begin(), flags.end(), "multiple_answers"), flags.end()) << flags;
    // The replies that arrived after the accepted one are there too: in gfw-dns-late the
    // genuine answer comes first and the forged ones follow.
    size_t forged_seen = 0;
    for (const auto& r : replies) {
      for (const auto& a : r["answers"]) {
        if (a.value("ipv4", "").rfind("198.18.240.", 0) == 0) ++forged_seen;
      }
    }
    EXPECT_EQ(forged_seen, forged) << scenario;
    if (scenario == "gfw-dns-late") {
      EXPECT_NE(replies[0]["answers"][0].value("ipv4", "").rfind("198.18.240.", 0), 0u)
          << "the genuine answer first";
    }
    // --pcap wrote the packets for Wireshark (pcap, nanosecond magic).
    std::ifstream in(pcap, std::ios::binary);
    uint32_t magic = 0;
    in.read(reinterpret_cast<char*>(&magic), sizeof magic);
    EXPECT_EQ(magic, 0xa1b23c4du) << pcap;
  }
}

TEST_F(LabPacketsTest, CleanHasNoInjectionFlagAtAll) {
  Use("clean");
  const auto runs = Run("im");
  for (const auto& s : runs) {
    const json& keys = s.m["test_keys"];
    const json packets = keys.value("x_packets", json::object());
    EXPECT_TRUE(packets.value("available", false)) << s.m["test_name"];
    EXPECT_FALSE(keys.contains("x_injection")) << s.m["test_name"] << ": " << keys["x_injection"];
    EXPECT_FALSE(s.row.confirmed) << s.m["test_name"];
    for (const auto& d : packets.value("dns_replies", json::array())) {
      EXPECT_TRUE(d["flags"].empty()) << d.dump();
    }
    for (const auto& f : packets.value("tcp_flows", json::array())) {
      EXPECT_TRUE(f["reset_source"] == "none" || f["reset_source"] == "server") << f.dump();
    }
  }
}

}  // namespace
}  // namespace vigil::test_support
