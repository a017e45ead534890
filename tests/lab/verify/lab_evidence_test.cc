// residual_blocking and censor_hop in the lab, against what the censor was told to do:
// under gfw-residual-short (GFW type II RSTs on WhatsApp's SNIs, a 4 s residual block)
// residual_blocking times the block to within a second and censor_hop places the censor
// at TTL 2, between r1 (198.18.1.1, as it answers towards the client) and r2
// (198.18.11.2); under henan-rst (no residual block) the first re-test works; under
// clean neither is triggered. About 25 s.
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>

#include "tests/lab/verify/lab_environment.h"
#include "tests/support_paths.h"

namespace vigil::test_support {
namespace {

using nlohmann::json;

LabEnvironment* g_lab = nullptr;

// WhatsApp's web address in the lab; the control SNI is one the censor leaves alone.
constexpr const char* kInput =
    R"({"input":"web.whatsapp.com","endpoint":"198.18.71.3:443","control_sni":"www.qq.com"})";

class LabEvidenceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (LabEnvironment::Unavailable()) return;
    g_lab = new LabEnvironment("gfw-residual-short");
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

  // `vigil run TEST` from vgl-client on kInput: the measurement's test keys.
  static json Run(const std::string& test, const std::string& input = kInput) {
    auto r = g_lab->Exec("client",
                         {VigilBinary(), "run", test, "--batch", "--timeout", "2", "--ca-file",
                          g_lab->ca_file(), "--no-network-check", "--residual-interval", "0.5",
                          "--residual-bound", "15", "--max-ttl", "8", "--input", input},
                         std::chrono::seconds(60));
    EXPECT_EQ(r.exit_code, 0) << test << ":\n" << r.output;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line[0] != '{') continue;
      json m = json::parse(line, nullptr, false);
      if (m.is_object() && m.value("test_name", "") == test) return m["test_keys"];
    }
    ADD_FAILURE() << test << ": no measurement in:\n" << r.output;
    return json::object();
  }

  // The residual seconds the censor's truth gives the rule that fired.
  static double TruthResidualSeconds() {
    for (const auto& a : g_lab->Actions()) {
      if (a.value("rule", "") == "whatsapp-sni-gfw2" && a["detail"].contains("residual_seconds")) {
        return a["detail"]["residual_seconds"].get<double>();
      }
    }
    return -1;
  }
};

TEST_F(LabEvidenceTest, AResidualBlockIsTimedToWithinASecond) {
  Use("gfw-residual-short");
  const json k = Run("residual_blocking");
  EXPECT_EQ(k["verdict"], "residual") << k.dump();
  EXPECT_TRUE(k["before"]["failure"].is_null()) << k.dump();
  EXPECT_EQ(k["trigger"]["failure"], "connection_reset") << k.dump();
  ASSERT_TRUE(k["residual_seconds"].is_number()) << k.dump();
  const double truth = TruthResidualSeconds();
  EXPECT_EQ(truth, 4.0);
  EXPECT_NEAR(k["residual_seconds"].get<double>(), truth, 1.0) << k.dump();
  EXPECT_EQ(k["bound_reached"], false);
  // Every re-test before the last met the block; the last worked.
  ASSERT_GE(k["retests"].size(), 2u);
  for (size_t i = 0; i + 1 < k["retests"].size(); ++i) {
    EXPECT_FALSE(k["retests"][i]["failure"].is_null()) << k.dump();
  }
  EXPECT_TRUE(k["retests"].back()["failure"].is_null()) << k.dump();
}

TEST_F(LabEvidenceTest, TheCensorIsLocatedBetweenR1AndR2) {
  Use("gfw-residual-short");
  const json k = Run("censor_hop");
  ASSERT_EQ(k["available"], true) << k.dump();
  EXPECT_EQ(k["verdict"], "located") << k.dump();
  EXPECT_EQ(k["censor_ttl"], 2) << k.dump();
  EXPECT_EQ(k["last_router_before"], "198.18.1.1") << k.dump();
  EXPECT_EQ(k["router_at"], "198.18.11.2") << k.dump();
  ASSERT_EQ(k["hops"].size(), 2u) << k.dump();
  EXPECT_EQ(k["hops"][0]["target"], "time_exceeded");
  EXPECT_EQ(k["hops"][0]["control"], "time_exceeded");
  EXPECT_EQ(k["hops"][1]["target"], "rst");
  EXPECT_EQ(k["hops"][1]["control"], "time_exceeded");
  // The censor saw the target's ClientHello once: at TTL 1 it had expired before it.
  size_t fired = 0;
  for (const auto& a : g_lab->Actions()) {
    fired += a.value("rule", "") == "whatsapp-sni-gfw2" && !a["detail"].contains("residual");
  }
  EXPECT_EQ(fired, 1u);
}

// An HTTP request's Host as the trigger: Henan's firewall resets it on port 80.
TEST_F(LabEvidenceTest, AnHttpHostTriggerIsLocatedToo) {
  Use("henan-rst");
  const json k = Run("censor_hop", R"({"input":"web.whatsapp.com","endpoint":"198.18.71.3:80",)"
                                   R"("control_sni":"www.qq.com","trigger":"http"})");
  ASSERT_EQ(k["available"], true) << k.dump();
  EXPECT_EQ(k["trigger"], "http") << k.dump();
  EXPECT_EQ(k["verdict"], "located") << k.dump();
  EXPECT_EQ(k["censor_ttl"], 2) << k.dump();
  EXPECT_EQ(k["router_at"], "198.18.11.2") << k.dump();
}

TEST_F(LabEvidenceTest, HenanHoldsNoResidualBlock) {
  Use("henan-rst");
  const json k = Run("residual_blocking");
  EXPECT_EQ(k["trigger"]["failure"], "connection_reset") << k.dump();
  EXPECT_EQ(k["verdict"], "no_residual") << k.dump();
  EXPECT_EQ(k["retests"].size(), 1u) << k.dump();
}

TEST_F(LabEvidenceTest, NothingIsTriggeredWhereNothingIsCensored) {
  Use("clean");
  const json r = Run("residual_blocking");
  EXPECT_EQ(r["verdict"], "not_triggered") << r.dump();
  EXPECT_TRUE(r["retests"].empty()) << r.dump();
  const json h = Run("censor_hop");
  EXPECT_EQ(h["verdict"], "not_triggered") << h.dump();
  EXPECT_TRUE(h["censor_ttl"].is_null()) << h.dump();
  // r1, r2, then the server.
  ASSERT_EQ(h["hops"].size(), 3u) << h.dump();
  EXPECT_EQ(h["hops"][0]["router"], "198.18.1.1");
  EXPECT_EQ(h["hops"][1]["router"], "198.18.11.2");
  EXPECT_EQ(h["hops"][2]["target"], "answered");
  EXPECT_TRUE(g_lab->Actions().empty());
}

}  // namespace
}  // namespace vigil::test_support
