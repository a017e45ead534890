// The rules that rest on packet evidence, over whole measurements as the probe writes
// them (docs/evidence.md) and ingest reads them: x_injection in any experiment's keys,
// a server's own reset beside it, malformed claims, and the three evidence experiments
// (dns_injection, residual_blocking, censor_hop).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "analysis/ingest/ingest.h"
#include "analysis/verdict/rules.h"
#include "analysis/verdict/scorer_map.h"
#include "probe/experiments/catalog.h"
#include "tests/support_paths.h"

namespace vigil::analysis {
namespace {

using nlohmann::json;

// The "now" tests score at: after every start time they use.
constexpr int64_t kNow = 1700003600;

const VerdictEngine& Engine() {
  static const VerdictEngine engine = [] {
    const std::string source = vigil::test_support::SourceDir();
    auto e = VerdictEngine::Load(source + "/testlists/verdict/rules.json",
                                 source + "/testlists/fingerprints");
    EXPECT_TRUE(e.ok()) << e.error();
    return e.ok() ? std::move(e).value() : VerdictEngine();
  }();
  return engine;
}

// The built-in catalog, and the evidence experiments with their scorer kinds for as long
// as a build does not describe them itself.
const ExperimentCatalog& Catalog() {
  static const ExperimentCatalog catalog = [] {
    std::vector<ExperimentDescriptor> all = ExperimentCatalog::Builtin().descriptors();
    for (const auto& [name, kind] : {std::pair{"dns_injection", ScorerKind::kDnsInjection},
                                     std::pair{"residual_blocking", ScorerKind::kResidualBlocking},
                                     std::pair{"censor_hop", ScorerKind::kCensorHop}}) {
      if (ExperimentCatalog::Builtin().Find(name) == nullptr) {
        all.push_back({.name = name, .version = "0.1.0", .scorer = kind});
      }
    }
    return ExperimentCatalog(std::move(all));
  }();
  return catalog;
}

// `keys` as the test keys of a measurement of `test`, ingested and scored.
VerdictRow Score(const std::string& test, const json& keys) {
  const ScopedCatalog evidence_experiments(Catalog());
  const json doc = {{"test_name", test},
                    {"measurement_start_time", "2023-11-14 22:13:20"},
                    {"probe_cc", "CN"},
                    {"probe_asn", "AS4134"},
                    {"report_id", "20231114T221320Z_" + test + "_CN_4134_n1_x"},
                    {"software_name", "vigil"},
                    {"test_keys", keys}};
  MeasurementExtractor extractor({});
  ExtractedMeasurement m;
  auto extracted = extractor.Extract(doc.dump(), &m);
  EXPECT_TRUE(extracted.ok()) << extracted.error();
  return Engine().Score(m, kNow);
}

const LayerVerdict& L(const VerdictRow& row, Layer layer) {
  return row.layers[static_cast<size_t>(layer)];
}

// A whatsapp measurement whose handshake with web.whatsapp.com was reset.
json WhatsappWebReset() {
  json keys = {{"registration_server_status", "ok"},
               {"whatsapp_web_status", "blocked"},
               {"whatsapp_web_failure", "connection_reset"},
               {"whatsapp_endpoints_status", "ok"}};
  keys["queries"] = {{{"hostname", "web.whatsapp.com"},
                      {"engine", "system"},
                      {"failure", nullptr},
                      {"transaction_id", 1},
                      {"answers", {{{"answer_type", "A"}, {"ipv4", "157.240.1.53"}}}}}};
  keys["tcp_connect"] = {{{"ip", "157.240.1.53"},
                          {"port", 443},
                          {"transaction_id", 4},
                          {"status", {{"success", true}, {"failure", nullptr}}}}};
  keys["tls_handshakes"] = {{{"network", "tcp"},
                             {"address", "157.240.1.53:443"},
                             {"server_name", "web.whatsapp.com"},
                             {"no_tls_verify", false},
                             {"transaction_id", 4},
                             {"failure", "connection_reset"}}};
  return keys;
}

json TlsInjection(const std::string& injector) {
  return {{"layer", "tls"},
          {"technique", "rst_injection"},
          {"injector", injector},
          {"address", "157.240.1.53:443"},
          {"hostname", "web.whatsapp.com"},
          {"flags", json::array()},
          {"reason", "3 RST+ACK, DF, varying IP ID, TTL 52 vs SYN-ACK 61"},
          {"transaction_id", 4}};
}

json DnsInjection(json flags) {
  return {{"layer", "dns"},
          {"technique", "dns_injection"},
          {"injector", ""},
          {"hostname", "web.whatsapp.com"},
          {"address", "198.18.20.53:53"},
          {"flags", std::move(flags)},
          {"forged_addresses", {"198.18.240.3"}},
          {"reason", "3 replies to one query"},
          {"transaction_id", 1}};
}

// x_packets with one TCP flow to web.whatsapp.com whose resets came from `source`.
json PacketsWithResetFrom(const std::string& source) {
  return {{"available", true},
          {"filter", "tcp or udp port 53"},
          {"dropped", 0},
          {"tcp_flows",
           {{{"address", "157.240.1.53:443"},
             {"transaction_id", 4},
             {"syn_ack", {{"t", 0.012}, {"ip_ttl", 52}, {"ip_id", 0}, {"df", true}}},
             {"resets",
              {{{"t", 0.05},
                {"flags", "R"},
                {"ip_ttl", 52},
                {"ip_id", 0},
                {"df", true},
                {"payload_hex", ""}}}},
             {"fins", 0},
             {"reset_source", source},
             {"reset_reason", "TTL and IP ID as the SYN-ACK's"}}}},
          {"dns_replies", json::array()}};
}

TEST(PacketRulesTest, AnInjectedResetConfirmsTheLayerItStruckNamedByItsInjector) {
  const VerdictRow without = Score("whatsapp", WhatsappWebReset());
  ASSERT_FALSE(without.confirmed) << VerdictEngine::RulesFired(without);
  ASSERT_NE(L(without, Layer::kTls).rule_id, "tls.rst_injected");

  json keys = WhatsappWebReset();
  keys["x_injection"] = {TlsInjection("gfw_type2")};
  const VerdictRow row = Score("whatsapp", keys);
  EXPECT_TRUE(row.confirmed) << VerdictEngine::RulesFired(row);
  EXPECT_FALSE(row.anomaly);
  EXPECT_FALSE(row.failure);
  EXPECT_EQ(L(row, Layer::kTls).rule_id, "tls.rst_injected");
  EXPECT_EQ(L(row, Layer::kTls).evidence, Evidence::kPacket);
  EXPECT_EQ(row.fingerprint, "gfw_type2");
  EXPECT_EQ(row.blocking_type, "tls");
  EXPECT_EQ(row.technique, "rst_injection");
  EXPECT_EQ(row.verdict, VerdictClass::kBlocked);
}

TEST(PacketRulesTest, AnInjectionOutranksTheControlInWebConnectivity) {
  const std::string url = "https://www.example.com/";
  json keys = {
      {"blocking", "http-failure"},
      {"accessible", false},
      {"dns_consistency", "consistent"},
      {"http_experiment_failure", "connection_reset"},
      {"control_failure", nullptr},
      {"control",
       {{"dns", {{"failure", nullptr}, {"addrs", {"93.184.216.34"}}}},
        {"tcp_connect", {{"93.184.216.34:443", {{"status", true}, {"failure", nullptr}}}}},
        {"http_request", {{"status_code", 200}, {"failure", nullptr}, {"body_length", 1256}}}}}};
  keys["queries"] = {{{"hostname", "www.example.com"},
                      {"engine", "system"},
                      {"failure", nullptr},
                      {"answers", {{{"answer_type", "A"}, {"ipv4", "93.184.216.34"}}}}}};
  keys["tcp_connect"] = {{{"ip", "93.184.216.34"},
                          {"port", 443},
                          {"status", {{"success", true}, {"failure", nullptr}}}}};
  keys["tls_handshakes"] = {{{"network", "tcp"},
                             {"address", "93.184.216.34:443"},
                             {"server_name", "www.example.com"},
                             {"no_tls_verify", false},
                             {"failure", "connection_reset"}}};
  const VerdictRow control = Score("web_connectivity", keys);
  ASSERT_EQ(L(control, Layer::kTls).rule_id, "tls.reset_control_ok")
      << VerdictEngine::RulesFired(control);
  ASSERT_FALSE(control.confirmed);

  json injected = TlsInjection("gfw_type1");
  injected["address"] = "93.184.216.34:443";
  keys["x_injection"] = {injected};
  const VerdictRow row = Score("web_connectivity", keys);
  EXPECT_EQ(L(row, Layer::kTls).rule_id, "tls.rst_injected") << VerdictEngine::RulesFired(row);
  EXPECT_TRUE(row.confirmed);
  EXPECT_EQ(row.fingerprint, "gfw_type1");

  // A reset of the connect: tcp.rst_injected.
  injected["layer"] = "tcp";
  keys["x_injection"] = {injected};
  const VerdictRow tcp = Score("web_connectivity", keys);
  EXPECT_EQ(L(tcp, Layer::kTcp).rule_id, "tcp.rst_injected") << VerdictEngine::RulesFired(tcp);
  EXPECT_TRUE(tcp.confirmed);
  EXPECT_EQ(tcp.blocking_type, "tcp_ip");
  EXPECT_EQ(tcp.technique, "rst_injection");

  // A reset of the HTTP exchange after a handshake that worked: http.rst_injected.
  keys["tls_handshakes"][0]["failure"] = nullptr;
  keys["requests"] = {{{"request", {{"url", url}, {"method", "GET"}}},
                       {"response", {{"code", 0}}},
                       {"failure", "connection_reset"}}};
  injected["layer"] = "http";
  keys["x_injection"] = {injected};
  const VerdictRow http = Score("web_connectivity", keys);
  EXPECT_EQ(L(http, Layer::kHttp).rule_id, "http.rst_injected") << VerdictEngine::RulesFired(http);
  EXPECT_TRUE(http.confirmed);
  EXPECT_EQ(http.blocking_type, "http-failure");
  EXPECT_EQ(http.technique, "rst_injection");
}

TEST(PacketRulesTest, AnInjectedDnsAnswerConfirmsNamedByItsFlags) {
  json keys = WhatsappWebReset();
  keys["x_injection"] = {DnsInjection({"multiple_answers", "known_forged_ip"})};
  const VerdictRow row = Score("whatsapp", keys);
  EXPECT_TRUE(row.confirmed) << VerdictEngine::RulesFired(row);
  EXPECT_EQ(L(row, Layer::kDns).rule_id, "dns.injected");
  EXPECT_EQ(L(row, Layer::kDns).evidence, Evidence::kPacket);
  EXPECT_EQ(row.fingerprint, "dns:multiple_answers,known_forged_ip");
  EXPECT_EQ(row.blocking_type, "dns");
  EXPECT_EQ(row.technique, "dns_injection");
  EXPECT_TRUE(L(row, Layer::kTls).masked);
}

TEST(PacketRulesTest, ForgedAnswersThatLostTheRaceConfirmNothing) {
  // The genuine reply came first and was taken; the forged ones followed it.
  json keys = WhatsappWebReset();
  json late = DnsInjection({"multiple_answers", "known_forged_ip"});
  late["accepted_forged"] = false;
  keys["x_injection"] = {late};
  const VerdictRow lost = Score("whatsapp", keys);
  EXPECT_NE(L(lost, Layer::kDns).rule_id, "dns.injected") << VerdictEngine::RulesFired(lost);
  EXPECT_NE(lost.failure_reason, "injection.malformed");
  // Taken: the claim stands.
  late["accepted_forged"] = true;
  keys["x_injection"] = {late};
  EXPECT_EQ(L(Score("whatsapp", keys), Layer::kDns).rule_id, "dns.injected");
}

TEST(PacketRulesTest, AServersOwnResetIsNoInjection) {
  json keys = WhatsappWebReset();
  keys["x_packets"] = PacketsWithResetFrom("server");
  const VerdictRow row = Score("whatsapp", keys);
  EXPECT_FALSE(row.confirmed) << VerdictEngine::RulesFired(row);
  EXPECT_NE(L(row, Layer::kTls).rule_id, "tls.rst_injected");
  EXPECT_TRUE(row.fingerprint.empty());

  // A claim the capture contradicts (the same flow's resets came from the server) is
  // not accepted either.
  keys["x_injection"] = {TlsInjection("gfw_type2")};
  const VerdictRow claimed = Score("whatsapp", keys);
  EXPECT_FALSE(claimed.confirmed) << VerdictEngine::RulesFired(claimed);
  EXPECT_NE(L(claimed, Layer::kTls).rule_id, "tls.rst_injected");

  // The same claim beside a capture that agrees is.
  keys["x_packets"] = PacketsWithResetFrom("gfw_type2");
  EXPECT_TRUE(Score("whatsapp", keys).confirmed);
}

TEST(PacketRulesTest, ACaptureThatWasNotAvailableChangesNothing) {
  const VerdictRow plain = Score("whatsapp", WhatsappWebReset());
  json keys = WhatsappWebReset();
  keys["x_packets"] = {{"available", false}, {"reason", "capture needs CAP_NET_RAW"}};
  const VerdictRow row = Score("whatsapp", keys);
  EXPECT_EQ(VerdictEngine::RulesFired(row), VerdictEngine::RulesFired(plain));
  EXPECT_EQ(row.verdict, plain.verdict);
  EXPECT_EQ(row.confirmed, plain.confirmed);
  EXPECT_EQ(row.failure_reason, plain.failure_reason);
}

TEST(PacketRulesTest, MalformedInjectionClaimsConfirmNothingAndNeverCrash) {
  json no_proof = DnsInjection({"teredo_answer"});
  json flag_not_string = DnsInjection({"multiple_answers", 7});
  json unknown_layer = TlsInjection("gfw_type2");
  unknown_layer["layer"] = "quic";
  json wrong_technique = TlsInjection("gfw_type2");
  wrong_technique["technique"] = "dns_injection";
  json injector_number = TlsInjection("gfw_type2");
  injector_number["injector"] = 2;
  const std::vector<json> claims = {
      json::array({TlsInjection("gfw_type9")}),
      json::array({TlsInjection("server")}),
      json::array({TlsInjection("")}),
      json::array({no_proof}),
      json::array({DnsInjection(json::array())}),
      json::array({DnsInjection("multiple_answers")}),
      json::array({flag_not_string}),
      json::array({unknown_layer}),
      json::array({wrong_technique}),
      json::array({injector_number}),
      json::array({json::object()}),
      json::array({"tls:gfw_type2"}),
      json::array({json::array({"tls"})}),
      json::array({nullptr}),
      json("tls"),
      json(42),
      json::object({{"layer", "tls"}}),
  };
  for (const json& claim : claims) {
    json keys = WhatsappWebReset();
    keys["x_injection"] = claim;
    const VerdictRow row = Score("whatsapp", keys);
    EXPECT_FALSE(row.confirmed) << claim.dump() << " " << VerdictEngine::RulesFired(row);
    for (const LayerVerdict& l : row.layers) {
      EXPECT_NE(l.evidence, Evidence::kPacket) << claim.dump();
    }
    EXPECT_TRUE(row.fingerprint.empty()) << claim.dump();
  }

  // A measurement that would be ok is no verdict when it carries a claim that proves
  // nothing: the probe said something the analyzer cannot read.
  json clean = WhatsappWebReset();
  clean["whatsapp_web_status"] = "ok";
  clean["whatsapp_web_failure"] = nullptr;
  clean["tls_handshakes"][0]["failure"] = nullptr;
  ASSERT_EQ(Score("whatsapp", clean).verdict, VerdictClass::kOk);
  clean["x_injection"] = {TlsInjection("gfw_type9")};
  const VerdictRow malformed = Score("whatsapp", clean);
  EXPECT_EQ(malformed.verdict, VerdictClass::kError) << VerdictEngine::RulesFired(malformed);
  EXPECT_EQ(malformed.failure_reason, "injection.malformed");
  // An empty or null x_injection claims nothing.
  clean["x_injection"] = json::array();
  EXPECT_EQ(Score("whatsapp", clean).verdict, VerdictClass::kOk);
  clean["x_injection"] = nullptr;
  EXPECT_EQ(Score("whatsapp", clean).verdict, VerdictClass::kOk);

  // A well-formed entry still counts beside a malformed one.
  json keys = WhatsappWebReset();
  keys["x_injection"] = {TlsInjection("gfw_type9"), TlsInjection("henan")};
  const VerdictRow mixed = Score("whatsapp", keys);
  EXPECT_TRUE(mixed.confirmed) << VerdictEngine::RulesFired(mixed);
  EXPECT_EQ(mixed.fingerprint, "henan");
}

TEST(PacketRulesTest, TheEvidenceExperimentsHaveScorersOfTheirOwn) {
  const ScopedCatalog evidence_experiments(Catalog());
  EXPECT_EQ(ScorerFor("dns_injection"), &ScoreDnsInjection);
  EXPECT_EQ(ScorerFor("residual_blocking"), &ScoreResidualBlocking);
  EXPECT_EQ(ScorerFor("censor_hop"), &ScoreCensorHop);
}

// dns_injection's keys with one name per verdict in `verdicts`, each name's sink probe
// flagged with `flags` when it is injected.
json DnsInjectionKeys(const std::vector<std::string>& verdicts, const json& flags) {
  json keys = {{"sink", "198.18.30.2:53"}, {"listen_ms", 2000}, {"names", json::array()}};
  for (size_t i = 0; i < verdicts.size(); ++i) {
    const bool injected = verdicts[i] == "injected";
    keys["names"].push_back({{"hostname", "name" + std::to_string(i) + ".example"},
                             {"query_type", "A"},
                             {"verdict", verdicts[i]},
                             {"reasons", json::array()},
                             {"probes",
                              {{{"kind", "sink"},
                                {"address", "198.18.30.2:53"},
                                {"queries_sent", 1},
                                {"replies", json::array()},
                                {"flags", injected ? flags : json::array()},
                                {"failure", nullptr}},
                               {{"kind", "resolver"},
                                {"address", "198.18.1.1:53"},
                                {"queries_sent", 1},
                                {"replies", json::array()},
                                {"flags", json::array()},
                                {"failure", nullptr}}}}});
  }
  return keys;
}

TEST(PacketRulesTest, DnsInjectionExperimentVerdicts) {
  const json proof = {"answer_from_non_resolver"};
  const VerdictRow injected =
      Score("dns_injection", DnsInjectionKeys({"clean", "injected", "inconclusive"}, proof));
  EXPECT_EQ(L(injected, Layer::kDns).rule_id, "dns.injected")
      << VerdictEngine::RulesFired(injected);
  EXPECT_TRUE(injected.confirmed);
  EXPECT_EQ(injected.verdict, VerdictClass::kBlocked);
  EXPECT_EQ(injected.fingerprint, "dns:answer_from_non_resolver");
  EXPECT_EQ(injected.technique, "dns_injection");

  const VerdictRow clean = Score("dns_injection", DnsInjectionKeys({"clean", "clean"}, proof));
  EXPECT_EQ(L(clean, Layer::kDns).rule_id, "dns.ok") << VerdictEngine::RulesFired(clean);
  EXPECT_EQ(clean.verdict, VerdictClass::kOk);

  const VerdictRow unsure =
      Score("dns_injection", DnsInjectionKeys({"clean", "inconclusive"}, proof));
  EXPECT_EQ(unsure.verdict, VerdictClass::kError);
  EXPECT_EQ(unsure.failure_reason, "dns_injection.inconclusive");

  // "injected" with nothing that proves it (a Teredo answer alone) is not taken.
  const VerdictRow unproven =
      Score("dns_injection", DnsInjectionKeys({"injected"}, json::array({"teredo_answer"})));
  EXPECT_FALSE(unproven.confirmed) << VerdictEngine::RulesFired(unproven);
  EXPECT_EQ(unproven.failure_reason, "dns_injection.unproven");

  const VerdictRow none = Score("dns_injection", {{"sink", "198.18.30.2:53"}, {"names", 3}});
  EXPECT_EQ(none.failure_reason, "dns_injection.no_names");
  EXPECT_EQ(none.verdict, VerdictClass::kError);

  // The experiment's own x_injection entries are read like any other test's.
  json keys = DnsInjectionKeys({"injected"}, proof);
  keys["x_injection"] = {DnsInjection({"answer_from_non_resolver"})};
  const VerdictRow both = Score("dns_injection", keys);
  EXPECT_EQ(L(both, Layer::kDns).rule_id, "dns.injected");
  EXPECT_EQ(both.fingerprint, "dns:answer_from_non_resolver");
}

json ResidualKeys(const std::string& verdict, const json& before, const json& retest) {
  return {{"address", "198.18.70.1:443"},
          {"sni", "web.whatsapp.com"},
          {"control_sni", "example.com"},
          {"before", {{"failure", before}}},
          {"trigger", {{"t", 1.02}, {"failure", "connection_reset"}}},
          {"retests", {{{"t", 2.03}, {"failure", retest}}, {{"t", 3.04}, {"failure", nullptr}}}},
          {"residual_seconds", 2.0},
          {"bound_reached", false},
          {"verdict", verdict}};
}

TEST(PacketRulesTest, ResidualBlockingExperimentVerdicts) {
  const VerdictRow residual =
      Score("residual_blocking", ResidualKeys("residual", nullptr, "connection_reset"));
  EXPECT_EQ(L(residual, Layer::kTcp).rule_id, "tcp.residual_block")
      << VerdictEngine::RulesFired(residual);
  EXPECT_EQ(L(residual, Layer::kTcp).evidence, Evidence::kControl);
  EXPECT_EQ(residual.verdict, VerdictClass::kBlocked);
  EXPECT_FALSE(residual.confirmed);
  EXPECT_EQ(residual.blocking_type, "tcp_ip");
  EXPECT_EQ(residual.technique, "residual_block");

  for (const std::string verdict : {"no_residual", "not_triggered"}) {
    const VerdictRow ok = Score("residual_blocking", ResidualKeys(verdict, nullptr, nullptr));
    EXPECT_EQ(L(ok, Layer::kTcp).rule_id, "tcp.ok") << verdict;
    EXPECT_EQ(ok.verdict, VerdictClass::kOk) << verdict;
  }
  const VerdictRow unsure =
      Score("residual_blocking", ResidualKeys("inconclusive", "generic_timeout_error", nullptr));
  EXPECT_EQ(unsure.verdict, VerdictClass::kError);
  EXPECT_EQ(unsure.failure_reason, "residual_blocking.inconclusive");

  // "residual" when the control before the trigger failed, or no retest failed, proves
  // nothing.
  for (const VerdictRow& row :
       {Score("residual_blocking", ResidualKeys("residual", "connection_reset", "eof_error")),
        Score("residual_blocking", ResidualKeys("residual", nullptr, nullptr))}) {
    EXPECT_EQ(row.failure_reason, "residual_blocking.unproven") << VerdictEngine::RulesFired(row);
    EXPECT_EQ(row.verdict, VerdictClass::kError);
  }
  EXPECT_EQ(Score("residual_blocking", {{"verdict", 1}}).failure_reason,
            "residual_blocking.no_verdict");
}

json CensorHopKeys(const std::string& verdict, const std::string& target_at_2) {
  return {{"address", "198.18.70.1:443"},
          {"sni", "web.whatsapp.com"},
          {"control_sni", "example.com"},
          {"available", true},
          {"hops",
           {{{"ttl", 1},
             {"router", "198.18.1.1"},
             {"target", "time_exceeded"},
             {"control", "time_exceeded"}},
            {{"ttl", 2},
             {"router", "198.18.11.2"},
             {"target", target_at_2},
             {"target_rst_ttl", 62},
             {"control", "time_exceeded"}}}},
          {"censor_ttl", 2},
          {"last_router_before", "198.18.1.1"},
          {"router_at", "198.18.11.2"},
          {"verdict", verdict}};
}

TEST(PacketRulesTest, CensorHopExperimentVerdicts) {
  const VerdictRow located = Score("censor_hop", CensorHopKeys("located", "rst"));
  EXPECT_EQ(L(located, Layer::kTls).rule_id, "tls.censor_located")
      << VerdictEngine::RulesFired(located);
  EXPECT_TRUE(located.confirmed);
  EXPECT_EQ(located.verdict, VerdictClass::kBlocked);
  EXPECT_EQ(located.technique, "rst_injection");
  EXPECT_EQ(located.fingerprint, "censor_ttl:2,router:198.18.11.2");

  // An HTTP Host trigger locates the censor at the HTTP layer.
  json http_keys = CensorHopKeys("located", "rst");
  http_keys["trigger"] = "http";
  const VerdictRow http = Score("censor_hop", http_keys);
  EXPECT_EQ(L(http, Layer::kHttp).rule_id, "http.censor_located")
      << VerdictEngine::RulesFired(http);
  EXPECT_TRUE(http.confirmed);
  EXPECT_EQ(http.blocking_type, "http-failure") << VerdictEngine::RulesFired(http);

  // Located by silence alone: a drop, or a router's ICMP rate limit.
  const VerdictRow silent = Score("censor_hop", CensorHopKeys("located", "timeout"));
  EXPECT_FALSE(silent.confirmed) << VerdictEngine::RulesFired(silent);
  EXPECT_EQ(silent.failure_reason, "censor_hop.unproven");

  const VerdictRow ok = Score("censor_hop", CensorHopKeys("not_triggered", "time_exceeded"));
  EXPECT_EQ(L(ok, Layer::kTls).rule_id, "tls.ok");
  EXPECT_EQ(ok.verdict, VerdictClass::kOk);

  const VerdictRow unsure = Score("censor_hop", CensorHopKeys("inconclusive", "timeout"));
  EXPECT_EQ(unsure.failure_reason, "censor_hop.inconclusive");
  EXPECT_EQ(unsure.verdict, VerdictClass::kError);

  const VerdictRow unavailable =
      Score("censor_hop", {{"available", false}, {"reason", "capture needs CAP_NET_RAW"}});
  EXPECT_EQ(unavailable.failure_reason, "censor_hop.unavailable");
  EXPECT_EQ(unavailable.verdict, VerdictClass::kError);
  EXPECT_EQ(Score("censor_hop", {{"verdict", "unavailable"}}).failure_reason,
            "censor_hop.unavailable");
  EXPECT_EQ(Score("censor_hop", {{"hops", "x"}}).failure_reason, "censor_hop.no_verdict");
}

}  // namespace
}  // namespace vigil::analysis
