// The verdict rules over measurements built here, fact by fact, as ingest extracts them:
// each rule family, masking, the flags, the rules file's errors, and re-scoring.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "analysis/ingest/ingest.h"
#include "analysis/verdict/rules.h"
#include "analysis/verdict/scorer_map.h"
#include "tests/support/read_file.h"
#include "tests/support_paths.h"

namespace vigil::analysis {
namespace {

std::string RulesPath() {
  return vigil::test_support::SourceDir() + "/testlists/verdict/rules.json";
}
std::string FingerprintsDir() {
  return vigil::test_support::SourceDir() + "/testlists/fingerprints";
}

// The "now" tests score at: after every start and upload time they use.
constexpr int64_t kNow = 1700003600;

const VerdictEngine& Engine() {
  static const VerdictEngine engine = [] {
    auto e = VerdictEngine::Load(RulesPath(), FingerprintsDir());
    EXPECT_TRUE(e.ok()) << e.error();
    return e.ok() ? std::move(e).value() : VerdictEngine();
  }();
  return engine;
}

ExtractedMeasurement Make(const std::string& test, const std::string& cc = "IT",
                          const std::string& summary = "{}") {
  ExtractedMeasurement m;
  m.measurement.measurement_uid = "uid-" + test;
  m.measurement.report_id = "20240101T000000Z_" + test + "_" + cc + "_30722_n1_x";
  m.measurement.probe_cc = cc;
  m.measurement.probe_asn = 30722;
  m.measurement.start_time = 1700000000;
  m.measurement.upload_time = 1700000100;
  m.measurement.test_name = test;
  m.summary_json = summary;
  return m;
}

ObservationRow Dns(const std::string& host, std::vector<std::string> answers,
                   std::optional<std::string> failure = std::nullopt) {
  ObservationRow o;
  o.hostname = host;
  o.dns_measured = true;
  o.dns_answers = std::move(answers);
  o.dns_failure = std::move(failure);
  return o;
}

ObservationRow Tcp(const std::string& host, const std::string& ip, uint16_t port,
                   std::optional<std::string> failure = std::nullopt) {
  ObservationRow o;
  o.hostname = host;
  o.ip = ip;
  o.port = port;
  o.tcp_success = failure ? Tri::kNo : Tri::kYes;
  o.tcp_failure = std::move(failure);
  return o;
}

ObservationRow Https(const std::string& host, std::optional<std::string> tls_failure,
                     int status = 200, std::optional<std::string> http_failure = std::nullopt) {
  ObservationRow o = Tcp(host, "192.0.2.1", 443);
  o.ip = "203.0.113.7";
  o.tls_measured = true;
  o.tls_server_name = host;
  o.tls_failure = tls_failure;
  o.tls_cert_valid = tls_failure ? Tri::kNo : Tri::kYes;
  o.http_measured = true;
  o.http_url = "https://" + host + "/";
  o.http_failure = tls_failure ? tls_failure : http_failure;
  o.http_status = o.http_failure ? -1 : status;
  return o;
}

const LayerVerdict& L(const VerdictRow& row, Layer layer) {
  return row.layers[static_cast<size_t>(layer)];
}

int Flags(const VerdictRow& row) {
  return int{row.anomaly} + int{row.confirmed} + int{row.failure};
}

TEST(VerdictRulesTest, ShippedRulesLoad) {
  EXPECT_EQ(Engine().version(), "v2");
  EXPECT_EQ(Engine().fingerprints().size(), 1955u);
  EXPECT_EQ(VerdictRuleIds().size(), 53u);
}

// The test -> scorer map names each test once; a test it does not name is scored from
// its steps like any other generic test.
TEST(VerdictRulesTest, EachTestHasOneScorerAndOthersAreGeneric) {
  std::set<ScorerKind> seen;
  for (const KindScorer& k : KindScorers()) {
    EXPECT_TRUE(seen.insert(k.kind).second) << static_cast<int>(k.kind) << " is mapped twice";
    EXPECT_EQ(ScorerFor(k.kind), k.scorer);
    if (k.kind != ScorerKind::kGeneric) {
      EXPECT_NE(k.scorer, &ScoreGeneric);
    }
  }
  EXPECT_EQ(ScorerFor("web_connectivity"), &ScoreWebConnectivity);
  EXPECT_EQ(ScorerFor("stun_reachability"), &ScoreStunReachability);
  EXPECT_EQ(ScorerFor("ndt"), &ScoreGeneric);
  ExtractedMeasurement unknown = Make("some_future_test", "IT");
  unknown.observations.push_back(Tcp("a.example", "192.0.2.10", 443, "connection_refused"));
  const VerdictRow row = Engine().Score(unknown, kNow);
  EXPECT_EQ(L(row, Layer::kTcp).rule_id, "tcp.all_failed");
}

TEST(VerdictRulesTest, DnsFingerprintConfirmsAndMasksLaterLayers) {
  // web_connectivity L18 of the reference data, as facts: IR answers 10.10.34.36.
  ExtractedMeasurement m =
      Make("web_connectivity", "IR",
           R"({"blocking":"dns","accessible":false,"dns_consistency":"inconsistent",)"
           R"("dns_experiment_failure":null,"http_experiment_failure":"generic_timeout_error",)"
           R"("control_failure":null})");
  m.observations.push_back(Dns("www.facebook.com", {"10.10.34.36"}));
  m.observations.push_back(Tcp("www.facebook.com", "10.10.34.36", 443, "generic_timeout_error"));
  const VerdictRow row = Engine().Score(m, kNow);
  EXPECT_TRUE(row.confirmed);
  EXPECT_FALSE(row.anomaly);
  EXPECT_FALSE(row.failure);
  EXPECT_EQ(row.fingerprint, "ooni.ir_10dot10_ipv4_1");
  EXPECT_EQ(row.blocking_type, "dns");
  EXPECT_EQ(row.rules_version, "v2");
  EXPECT_EQ(L(row, Layer::kDns).rule_id, "dns.fingerprint");
  EXPECT_EQ(L(row, Layer::kDns).evidence, Evidence::kConfirmed);
  EXPECT_DOUBLE_EQ(L(row, Layer::kDns).blocked, 1.0);
  EXPECT_TRUE(L(row, Layer::kTcp).masked);
  EXPECT_EQ(row.worst_layer, Layer::kDns);
  EXPECT_DOUBLE_EQ(row.score, 1.0);
}

TEST(VerdictRulesTest, CountryMismatchLeavesAnAnomalyNotAConfirmation) {
  // A product's block page (scope prod, expected in some countries) seen from a country
  // it is not known in: the probe's http-diff stands, unconfirmed.
  const Fingerprint* prod = nullptr;
  for (const Fingerprint& fp : Engine().fingerprints().all()) {
    if (fp.scope == "prod" && fp.location == FingerprintLocation::kBody &&
        fp.pattern_type == PatternType::kContains && !fp.expected_countries.empty() &&
        std::find(fp.expected_countries.begin(), fp.expected_countries.end(), "AQ") ==
            fp.expected_countries.end()) {
      prod = &fp;
      break;
    }
  }
  ASSERT_NE(prod, nullptr);
  for (const std::string& cc : {prod->expected_countries.front(), std::string("AQ")}) {
    ExtractedMeasurement m = Make("web_connectivity", cc,
                                  R"({"blocking":"http-diff","accessible":false,)"
                                  R"("dns_consistency":"consistent","control_failure":null})");
    m.observations.push_back(Dns("example.org", {"93.184.216.34"}));
    ObservationRow http = Tcp("example.org", "93.184.216.34", 80);
    http.http_measured = true;
    http.http_status = 200;
    http.http_body_sample = "<html><body>" + prod->pattern + "</body></html>";
    m.observations.push_back(http);
    const VerdictRow row = Engine().Score(m, kNow);
    if (cc == "AQ") {
      EXPECT_FALSE(row.confirmed) << prod->name;
      EXPECT_TRUE(row.anomaly);
      EXPECT_EQ(L(row, Layer::kHttp).rule_id, "http.diff");
      EXPECT_EQ(row.fingerprint, "");
    } else {
      EXPECT_TRUE(row.confirmed) << prod->name;
      EXPECT_EQ(row.fingerprint, prod->name);
      EXPECT_EQ(row.blocking_type, "http-diff");
    }
    EXPECT_EQ(Flags(row), 1);
  }
}

TEST(VerdictRulesTest, WebConnectivityLayersFollowTheProbeAndTheControl) {
  const std::string control_ok =
      R"("control":{"dns":{"failure":null,"addrs":["93.184.216.34"]},)"
      R"("tcp_connect":{"93.184.216.34:443":{"status":true,"failure":null}},)"
      R"("http_request":{"status_code":200,"failure":null,"body_length":1256}})";
  {  // TCP blocked: every connect failed here and succeeded at the control.
    ExtractedMeasurement m =
        Make("web_connectivity", "IT",
             R"({"blocking":"tcp_ip","accessible":false,"dns_consistency":"consistent",)"
             R"("control_failure":null,)" +
                 control_ok + "}");
    m.observations.push_back(Dns("www.example.com", {"93.184.216.34"}));
    m.observations.push_back(Tcp("www.example.com", "93.184.216.34", 443, "generic_timeout_error"));
    const VerdictRow row = Engine().Score(m, kNow);
    EXPECT_EQ(L(row, Layer::kDns).rule_id, "dns.matches_control");
    EXPECT_EQ(L(row, Layer::kTcp).rule_id, "tcp.fail_control_ok");
    EXPECT_EQ(L(row, Layer::kTcp).evidence, Evidence::kControl);
    EXPECT_TRUE(row.anomaly);
    EXPECT_EQ(row.blocking_type, "tcp_ip");
  }
  {  // TLS reset with the control fetching fine.
    ExtractedMeasurement m =
        Make("web_connectivity", "IT",
             R"({"blocking":"http-failure","accessible":false,"dns_consistency":"consistent",)"
             R"("http_experiment_failure":"connection_reset","control_failure":null,)" +
                 control_ok + "}");
    m.observations.push_back(Dns("www.example.com", {"93.184.216.34"}));
    m.observations.push_back(Https("www.example.com", "connection_reset"));
    const VerdictRow row = Engine().Score(m, kNow);
    EXPECT_EQ(L(row, Layer::kTls).rule_id, "tls.reset_control_ok");
    EXPECT_TRUE(L(row, Layer::kHttp).masked);
    EXPECT_EQ(row.blocking_type, "tls");
    EXPECT_TRUE(row.anomaly);
  }
  {  // A bogon answer the control never saw.
    ExtractedMeasurement m =
        Make("web_connectivity", "IT",
             R"({"blocking":"dns","accessible":false,"dns_consistency":"inconsistent",)"
             R"("control_failure":null,)" +
                 control_ok + "}");
    m.observations.push_back(Dns("www.example.com", {"192.168.77.77"}));
    const VerdictRow row = Engine().Score(m, kNow);
    EXPECT_EQ(L(row, Layer::kDns).rule_id, "dns.bogon_not_in_control");
    EXPECT_DOUBLE_EQ(row.score, 0.95);
  }
  {  // The website is down: the control failed too. Not an anomaly.
    ExtractedMeasurement m =
        Make("web_connectivity", "IT",
             R"({"blocking":false,"accessible":false,"dns_consistency":"consistent",)"
             R"("http_experiment_failure":"connection_refused","control_failure":null})");
    m.observations.push_back(Dns("www.example.com", {"93.184.216.34"}));
    m.observations.push_back(Tcp("www.example.com", "93.184.216.34", 444, "connection_refused"));
    const VerdictRow row = Engine().Score(m, kNow);
    EXPECT_EQ(L(row, Layer::kTcp).rule_id, "tcp.fail_control_failed");
    EXPECT_DOUBLE_EQ(L(row, Layer::kTcp).down, 1.0);
    EXPECT_EQ(Flags(row), 0);
  }
  {  // No usable control: the measurement says nothing.
    ExtractedMeasurement m = Make("web_connectivity", "TM",
                                  R"({"blocking":null,"accessible":null,"dns_consistency":null,)"
                                  R"("http_experiment_failure":"generic_timeout_error",)"
                                  R"("control_failure":"connection_refused"})");
    m.observations.push_back(Dns("ajax.aspnetcdn.com", {"152.199.19.160"}));
    const VerdictRow row = Engine().Score(m, kNow);
    EXPECT_TRUE(row.failure);
    EXPECT_EQ(row.failure_reason, "web_connectivity.blocking_null");
    EXPECT_EQ(Flags(row), 1);
    EXPECT_EQ(row.verdict, VerdictClass::kError);
  }
  {  // The control reached the helper but not the site, which reset us too: down.
    ExtractedMeasurement m =
        Make("web_connectivity", "IT",
             R"({"blocking":null,"accessible":null,"dns_consistency":"consistent",)"
             R"("http_experiment_failure":"connection_reset","control_failure":null,)"
             R"("control":{"dns":{"failure":null,"addrs":["93.184.216.34"]},)"
             R"("tcp_connect":{"93.184.216.34:80":{"status":true,"failure":null}},)"
             R"("http_request":{"status_code":-1,"failure":"unknown_error","body_length":-1}}})");
    m.observations.push_back(Dns("www.example.com", {"93.184.216.34"}));
    m.observations.push_back(Tcp("www.example.com", "93.184.216.34", 80));
    const VerdictRow row = Engine().Score(m, kNow);
    EXPECT_TRUE(row.failure) << "as OONI's aggregation counts it";
    EXPECT_EQ(L(row, Layer::kHttp).rule_id, "http.failure_control_failed");
    EXPECT_EQ(row.verdict, VerdictClass::kDown) << VerdictEngine::RulesFired(row);
  }
}

// OONI 0.4's probes say tcp_ip whenever every connect failed, and http-diff whenever the
// page differs, even where the control failed the same way: the site was down, which is
// no claim about the network.
TEST(VerdictRulesTest, WebConnectivityBlockingOfASiteTheControlFoundDownIsNoAnomaly) {
  {  // Every connect failed here and at the control: tcp_ip by OONI's key, down by ours.
    ExtractedMeasurement m =
        Make("web_connectivity", "IT",
             R"({"blocking":"tcp_ip","accessible":false,"dns_consistency":"consistent",)"
             R"("http_experiment_failure":"generic_timeout_error","control_failure":null,)"
             R"("control":{"dns":{"failure":null,"addrs":["93.184.216.34"]},)"
             R"("tcp_connect":{"93.184.216.34:443":{"status":false,)"
             R"("failure":"generic_timeout_error"}},)"
             R"("http_request":{"status_code":-1,"failure":"generic_timeout_error",)"
             R"("body_length":-1}}})");
    m.observations.push_back(Dns("www.example.com", {"93.184.216.34"}));
    m.observations.push_back(Tcp("www.example.com", "93.184.216.34", 443, "generic_timeout_error"));
    const VerdictRow row = Engine().Score(m, kNow);
    EXPECT_EQ(L(row, Layer::kTcp).rule_id, "tcp.fail_control_failed");
    EXPECT_DOUBLE_EQ(L(row, Layer::kTcp).blocked, 0.0);
    EXPECT_EQ(Flags(row), 0) << VerdictEngine::RulesFired(row);
  }
  const std::string control_503 =
      R"("control":{"dns":{"failure":null,"addrs":["93.184.216.34"]},)"
      R"("tcp_connect":{"93.184.216.34:80":{"status":true,"failure":null}},)"
      R"("http_request":{"status_code":503,"failure":null,"body_length":312,)"
      R"("title":"503 Service Unavailable"}})";
  auto page = [](const std::string& body) {
    ObservationRow http = Tcp("www.example.com", "93.184.216.34", 80);
    http.http_measured = true;
    http.http_url = "http://www.example.com/";
    http.http_status = 200;
    http.http_body_sample = body;
    return http;
  };
  {  // http-diff against a control that got a 503: no page to compare with.
    ExtractedMeasurement m =
        Make("web_connectivity", "IT",
             R"({"blocking":"http-diff","accessible":false,"dns_consistency":"consistent",)"
             R"("status_code_match":null,"body_length_match":false,"control_failure":null,)" +
                 control_503 + "}");
    m.observations.push_back(Dns("www.example.com", {"93.184.216.34"}));
    m.observations.push_back(page("<html><title>Example Domain</title>hello</html>"));
    const VerdictRow row = Engine().Score(m, kNow);
    EXPECT_NE(L(row, Layer::kHttp).rule_id, "http.diff");
    EXPECT_FALSE(row.anomaly) << VerdictEngine::RulesFired(row);
    EXPECT_TRUE(row.failure);
    EXPECT_EQ(row.failure_reason, "web_connectivity.control_http_error");
  }
  {  // The same against a control whose fetch failed (OONI 0.5's classic engine).
    ExtractedMeasurement m =
        Make("web_connectivity", "IT",
             R"({"blocking":"http-diff","accessible":false,"dns_consistency":"consistent",)"
             R"("control_failure":null,"control":{"http_request":{"status_code":-1,)"
             R"("failure":"connection_reset","body_length":-1}}})");
    m.observations.push_back(Dns("www.example.com", {"93.184.216.34"}));
    m.observations.push_back(page("<html><title>Example Domain</title>hello</html>"));
    const VerdictRow row = Engine().Score(m, kNow);
    EXPECT_FALSE(row.anomaly) << VerdictEngine::RulesFired(row);
    EXPECT_EQ(row.failure_reason, "web_connectivity.control_http_error");
  }
  {  // A known block page stays a block page whatever the control got.
    ExtractedMeasurement m =
        Make("web_connectivity", "RU",
             R"({"blocking":"http-diff","accessible":false,"dns_consistency":"consistent",)"
             R"("control_failure":null,)" +
                 control_503 + "}");
    m.observations.push_back(Dns("www.example.com", {"93.184.216.34"}));
    m.observations.push_back(
        page("<html><body>Access restricted, see http://eais.rkn.gov.ru/</body></html>"));
    const VerdictRow row = Engine().Score(m, kNow);
    EXPECT_EQ(L(row, Layer::kHttp).rule_id, "http.fingerprint");
    EXPECT_TRUE(row.confirmed) << VerdictEngine::RulesFired(row);
    EXPECT_FALSE(row.failure);
    EXPECT_EQ(row.blocking_type, "http-diff");
  }
  {  // So does a product's block page seen outside the countries it is known in.
    const Fingerprint* prod = nullptr;
    for (const Fingerprint& fp : Engine().fingerprints().all()) {
      if (fp.scope == "prod" && fp.location == FingerprintLocation::kBody &&
          fp.pattern_type == PatternType::kContains && !fp.Confirms("AQ")) {
        prod = &fp;
        break;
      }
    }
    ASSERT_NE(prod, nullptr);
    ExtractedMeasurement m =
        Make("web_connectivity", "AQ",
             R"({"blocking":"http-diff","accessible":false,"dns_consistency":"consistent",)"
             R"("control_failure":null,)" +
                 control_503 + "}");
    m.observations.push_back(Dns("www.example.com", {"93.184.216.34"}));
    m.observations.push_back(page("<html><body>" + prod->pattern + "</body></html>"));
    const VerdictRow row = Engine().Score(m, kNow);
    EXPECT_EQ(L(row, Layer::kHttp).rule_id, "http.diff") << prod->name;
    EXPECT_TRUE(row.anomaly);
    EXPECT_FALSE(row.failure) << row.failure_reason;
  }
}

// A DNS failure at the probe is the site's own when the control's lookup failed too,
// and only then: a control that answered without a failed lookup does not make it so.
TEST(VerdictRulesTest, WebConnectivityDnsFailureIsDownOnlyWhenTheControlsLookupFailed) {
  const std::string summary =
      R"({"blocking":null,"accessible":null,"dns_consistency":null,)"
      R"("dns_experiment_failure":"dns_nxdomain_error","control_failure":null,)";
  {  // Both lookups failed: the name is gone for everyone.
    ExtractedMeasurement m =
        Make("web_connectivity", "IT",
             summary + R"("control":{"dns":{"failure":"dns_name_error","addrs":[]}}})");
    m.observations.push_back(Dns("gone.example", {}, "dns_nxdomain_error"));
    const VerdictRow row = Engine().Score(m, kNow);
    EXPECT_EQ(L(row, Layer::kDns).rule_id, "dns.failure_control_failed");
    EXPECT_DOUBLE_EQ(L(row, Layer::kDns).down, 1.0);
  }
  {  // The control answered, but says nothing of its lookup: not the site's failure.
    ExtractedMeasurement m = Make("web_connectivity", "IT",
                                  summary + R"("control":{"http_request":{"status_code":200}}})");
    m.observations.push_back(Dns("www.example.com", {}, "dns_nxdomain_error"));
    const VerdictRow row = Engine().Score(m, kNow);
    EXPECT_EQ(L(row, Layer::kDns).rule_id, "dns.failure");
    EXPECT_LT(L(row, Layer::kDns).down, 1.0);
  }
}

// An empty answer to the AAAA query of a name that has IPv4 addresses is no DNS
// failure; a name with no answer to any query still is.
TEST(VerdictRulesTest, AnEmptyAnswerForANameThatResolvedElsewhereIsNoFailure) {
  {
    ExtractedMeasurement m = Make("signal");
    m.observations.push_back(Dns("chat.signal.org", {"13.248.212.111"}));
    m.observations.push_back(Dns("chat.signal.org", {}, "dns_no_answer"));
    m.observations.push_back(Tcp("chat.signal.org", "13.248.212.111", 443));
    const VerdictRow row = Engine().Score(m, kNow);
    EXPECT_EQ(L(row, Layer::kDns).rule_id, "dns.ok");
    EXPECT_FALSE(row.anomaly);
  }
  {
    ExtractedMeasurement m = Make("signal");
    m.observations.push_back(Dns("chat.signal.org", {}, "dns_no_answer"));
    const VerdictRow row = Engine().Score(m, kNow);
    EXPECT_EQ(L(row, Layer::kDns).rule_id, "dns.failure");
  }
}

// A reserved address is a bogon unless the probe's ASN database places it in an AS:
// an interference lab on 198.18.0.0/15 is judged by its own database, while no
// database of the real Internet places such an address.
TEST(VerdictRulesTest, AnAddressTheProbesAsnDatabasePlacesIsNoBogon) {
  for (const uint32_t asn : {0u, 64500u}) {
    ExtractedMeasurement m = Make("signal");
    ObservationRow dns = Dns("chat.signal.org", {"198.18.70.12"});
    dns.dns_answer_asns = {asn};
    m.observations.push_back(dns);
    m.observations.push_back(Tcp("chat.signal.org", "198.18.70.12", 443));
    const VerdictRow row = Engine().Score(m, kNow);
    EXPECT_EQ(L(row, Layer::kDns).rule_id, asn == 0 ? "dns.bogon" : "dns.ok") << "AS" << asn;
  }
}

// dnscheck: a lookup that succeeded with forged answers (bogons its own ASN lookup does
// not place) is not ok, alone or beside honest lookups; honest and lab answers are.
TEST(VerdictRulesTest, DnscheckForgedAnswersAreNotOk) {
  auto lookups = [](const std::string& answers) {
    return R"({"bootstrap_failure":null,"lookups":{"udp://192.0.2.53:53":{"failure":null,)"
           R"("queries":[{"answers":)" +
           answers + "}]}}}";
  };
  auto score = [](const std::string& summary) {
    return Engine().Score(Make("dnscheck", "IT", summary), kNow);
  };
  const VerdictRow forged = score(lookups(R"([{"ipv4":"10.10.34.35","asn":0}])"));
  EXPECT_EQ(L(forged, Layer::kDns).rule_id, "dns.bogon");
  EXPECT_TRUE(forged.anomaly);
  EXPECT_EQ(L(score(lookups(R"([{"ipv4":"93.184.216.34","asn":15133}])")), Layer::kDns).rule_id,
            "dns.ok");
  EXPECT_EQ(L(score(lookups(R"([{"ipv4":"198.18.70.12","asn":64500}])")), Layer::kDns).rule_id,
            "dns.ok")
      << "an address the probe's ASN database places is routed there";
  const VerdictRow mixed = score(
      R"({"bootstrap_failure":null,"lookups":{)"
      R"("udp://192.0.2.53:53":{"failure":null,"queries":[{"answers":[{"ipv4":"127.0.0.1"}]}]},)"
      R"("dot://192.0.2.54:853":{"failure":null,"queries":[{"answers":[{"ipv4":"93.184.216.34"}]}]}}})");
  EXPECT_EQ(L(mixed, Layer::kDns).rule_id, "dns.bogon");
}

TEST(VerdictRulesTest, EnvelopeFailuresOutrankEverything) {
  ExtractedMeasurement base =
      Make("web_connectivity", "IR", R"({"blocking":"dns","dns_consistency":"inconsistent"})");
  base.observations.push_back(Dns("www.facebook.com", {"10.10.34.36"}));
  struct Case {
    const char* reason;
    std::function<void(ExtractedMeasurement&)> edit;
  };
  const std::vector<Case> cases = {
      {"envelope.probe_cc_zz", [](ExtractedMeasurement& m) { m.measurement.probe_cc = "ZZ"; }},
      {"envelope.asn_zero", [](ExtractedMeasurement& m) { m.measurement.probe_asn = 0; }},
      {"envelope.no_report_id", [](ExtractedMeasurement& m) { m.measurement.report_id = ""; }},
      {"envelope.start_in_future",
       [](ExtractedMeasurement& m) {
         m.measurement.start_time = m.measurement.upload_time + 3601;
       }},
  };
  for (const Case& c : cases) {
    ExtractedMeasurement m = base;
    c.edit(m);
    const VerdictRow row = Engine().Score(m, kNow);
    EXPECT_TRUE(row.failure) << c.reason;
    EXPECT_FALSE(row.confirmed) << c.reason;
    EXPECT_FALSE(row.anomaly) << c.reason;
    EXPECT_EQ(row.failure_reason, c.reason);
  }
  ExtractedMeasurement skew = base;
  skew.measurement.start_time = skew.measurement.upload_time + 3600;  // within the hour
  EXPECT_TRUE(Engine().Score(skew, kNow).confirmed);
  // vigil's own measurement from a local run, not uploaded: no report id yet, and
  // judged by what it saw, as `vigil analyze` of one's own run needs.
  ExtractedMeasurement local = base;
  local.measurement.report_id = "";
  local.measurement.software_name = "vigil";
  const VerdictRow row = Engine().Score(local, kNow);
  EXPECT_TRUE(row.confirmed);
  EXPECT_FALSE(row.failure) << row.failure_reason;
  local.measurement.software_name = "ooniprobe-cli";
  EXPECT_EQ(Engine().Score(local, kNow).failure_reason, "envelope.no_report_id");
}

TEST(VerdictRulesTest, WhatsappIgnoresStatusCodesAndSeesTlsFailures) {
  {  // reference whatsapp L3 (IE): web.whatsapp.com answered 400/403; OONI's key says blocked.
    ExtractedMeasurement m = Make(
        "whatsapp", "IE",
        R"({"registration_server_status":"ok","whatsapp_web_status":"blocked",)"
        R"("whatsapp_web_failure":"http_unexpected_status_code","whatsapp_endpoints_status":"ok"})");
    for (int i = 1; i <= 16; ++i) {
      m.observations.push_back(Tcp("e" + std::to_string(i) + ".whatsapp.net", "157.240.1.1", 443));
    }
    m.observations.push_back(Https("web.whatsapp.com", std::nullopt, 400));
    m.observations.push_back(Https("v.whatsapp.net", std::nullopt, 200));
    const VerdictRow row = Engine().Score(m, kNow);
    EXPECT_EQ(Flags(row), 0) << VerdictEngine::RulesFired(row);
    EXPECT_EQ(L(row, Layer::kHttp).rule_id, "http.ok");
  }
  {  // reference whatsapp L1 (JP): TLS to the registration service fails.
    ExtractedMeasurement m = Make("whatsapp", "JP",
                                  R"({"registration_server_status":"blocked",)"
                                  R"("registration_server_failure":"ssl_invalid_hostname"})");
    m.observations.push_back(Tcp("e1.whatsapp.net", "157.240.1.1", 443));
    m.observations.push_back(Https("v.whatsapp.net", "ssl_invalid_hostname"));
    const VerdictRow row = Engine().Score(m, kNow);
    EXPECT_TRUE(row.anomaly);
    EXPECT_EQ(L(row, Layer::kTls).rule_id, "tls.failure");
    EXPECT_EQ(L(row, Layer::kTls).evidence, Evidence::kHeuristic);
    EXPECT_EQ(row.blocking_type, "tls");
    EXPECT_TRUE(L(row, Layer::kHttp).masked);
  }
}

TEST(VerdictRulesTest, TelegramPartialBlockingIsNotHiddenByOneReachableDc) {
  ExtractedMeasurement m = Make("telegram", "RU",
                                R"({"telegram_tcp_blocking":false,"telegram_http_blocking":false,)"
                                R"("telegram_web_status":"ok"})");
  m.observations.push_back(Tcp("", "149.154.175.50", 80));
  for (const char* dc : {"149.154.167.51", "149.154.175.100", "149.154.167.91", "149.154.171.5"}) {
    m.observations.push_back(Tcp("", dc, 80, "generic_timeout_error"));
  }
  // No IPv6 route here: says nothing about Telegram.
  m.observations.push_back(Tcp("", "2001:b28:f23d:f001::a", 80, "network_unreachable"));
  const VerdictRow row = Engine().Score(m, kNow);
  EXPECT_EQ(L(row, Layer::kTcp).rule_id, "tcp.some_failed");
  EXPECT_TRUE(row.anomaly);
  EXPECT_EQ(row.blocking_type, "tcp_ip");

  ExtractedMeasurement all_down = m;
  all_down.observations[0] = Tcp("", "149.154.175.50", 80, "connection_reset");
  EXPECT_EQ(L(Engine().Score(all_down, kNow), Layer::kTcp).rule_id, "tcp.all_failed");
}

TEST(VerdictRulesTest, NoIpv6RouteIsNotMeasuredButAnIpv4UnreachableIsData) {
  const std::string keys =
      R"({"telegram_tcp_blocking":false,"telegram_http_blocking":false,"telegram_web_status":"ok"})";
  ExtractedMeasurement m = Make("telegram", "RU", keys);
  m.observations.push_back(Tcp("", "149.154.175.50", 80));
  ObservationRow fetch = Tcp("", "149.154.175.50", 80);
  fetch.http_measured = true;
  fetch.http_url = "http://149.154.175.50/";
  fetch.http_status = 200;
  m.observations.push_back(fetch);
  // This machine has no IPv6: the IPv6 data centres' connects and fetches say nothing.
  m.observations.push_back(Tcp("", "2001:b28:f23d:f001::a", 80, "network_unreachable"));
  ObservationRow v6 = Tcp("", "", 0);
  v6.tcp_success = Tri::kUnknown;
  v6.tcp_failure.reset();
  v6.http_measured = true;
  v6.http_url = "http://[2001:b28:f23d:f001::a]/";
  v6.http_failure = "network_unreachable";
  m.observations.push_back(v6);
  VerdictRow row = Engine().Score(m, kNow);
  EXPECT_EQ(row.verdict, VerdictClass::kOk) << VerdictEngine::RulesFired(row);
  // An IPv4 address answered "unreachable" (a censor's ICMP answer, say): data.
  ExtractedMeasurement icmp = m;
  icmp.observations[0] = Tcp("", "149.154.175.50", 80, "network_unreachable");
  icmp.observations[1] = Tcp("", "149.154.175.50", 80, "network_unreachable");
  icmp.observations[1].http_measured = true;
  icmp.observations[1].http_url = "http://149.154.175.50/";
  icmp.observations[1].http_failure = "network_unreachable";
  row = Engine().Score(icmp, kNow);
  EXPECT_EQ(L(row, Layer::kTcp).rule_id, "tcp.all_failed") << VerdictEngine::RulesFired(row);
  EXPECT_EQ(row.verdict, VerdictClass::kBlocked);
}

TEST(VerdictRulesTest, SignalUnreliableFailuresMakeAFailure) {
  ExtractedMeasurement m = Make("signal", "AM",
                                R"({"signal_backend_status":"blocked",)"
                                R"("signal_backend_failure":"ssl_unknown_authority"})");
  m.observations.push_back(Https("storage.signal.org", "ssl_unknown_authority"));
  m.observations.push_back(Https("sfu.voip.signal.org", "ssl_unknown_authority"));
  VerdictRow row = Engine().Score(m, kNow);
  EXPECT_TRUE(row.failure);
  EXPECT_EQ(row.failure_reason, "signal.unreliable_failure");
  EXPECT_EQ(Flags(row), 1);

  ExtractedMeasurement nx = Make("signal", "IR", R"({"signal_backend_status":"blocked"})");
  nx.observations.push_back(Dns("storage.signal.org", {}, "dns_nxdomain_error"));
  nx.observations.push_back(Dns("uptime.signal.org", {}, "dns_nxdomain_error"));
  row = Engine().Score(nx, kNow);
  EXPECT_TRUE(row.anomaly);
  EXPECT_EQ(L(row, Layer::kDns).rule_id, "dns.failure");
  EXPECT_EQ(row.blocking_type, "dns");
}

TEST(VerdictRulesTest, FacebookMessengerWechatMessaging) {
  ExtractedMeasurement fb = Make("facebook_messenger", "RU",
                                 R"({"facebook_dns_blocking":true,"facebook_tcp_blocking":false})");
  fb.observations.push_back(Dns("b-api.facebook.com", {"31.13.72.1"}));
  EXPECT_EQ(L(Engine().Score(fb, kNow), Layer::kDns).rule_id, "dns.outside_service_asn");
  EXPECT_TRUE(Engine().Score(fb, kNow).anomaly);

  ExtractedMeasurement wechat =
      Make("wechat", "CN",
           R"({"wechat_longlink_status":"ok","wechat_shortlink_status":)"
           R"("blocked","wechat_httpdns_status":"ok","wechat_web_status":"ok"})");
  wechat.observations.push_back(Tcp("long.weixin.qq.com", "203.205.1.1", 8080));
  const VerdictRow w = Engine().Score(wechat, kNow);
  EXPECT_EQ(L(w, Layer::kHttp).rule_id, "http.failure");
  EXPECT_TRUE(w.anomaly);

  ExtractedMeasurement line = Make("messaging", "IT",
                                   R"({"service":"line","service_status":"ok",)"
                                   R"("x_dns_inconsistent":["gd2.line.naver.jp"]})");
  line.observations.push_back(Dns("gd2.line.naver.jp", {"198.51.100.9"}));
  EXPECT_EQ(L(Engine().Score(line, kNow), Layer::kDns).rule_id, "dns.outside_service_asn");
}

// A facebook_messenger measurement as the probe writes it, read by ingest: every lookup
// and connect worked (OONI's keys see nothing), and the handshakes made after the
// connects (x_tls_handshakes) failed with `failures`, one per service ("" = completed).
ExtractedMeasurement FacebookWithHandshakes(const std::vector<std::string>& failures,
                                            bool partial) {
  nlohmann::json keys = {{"facebook_dns_blocking", false},
                         {"facebook_tcp_blocking", false},
                         {"x_partial_blocking", partial},
                         {"queries", nlohmann::json::array()},
                         {"tcp_connect", nlohmann::json::array()},
                         {"tls_handshakes", nlohmann::json::array()},
                         {"x_tls_handshakes", nlohmann::json::array()}};
  for (size_t i = 0; i < failures.size(); ++i) {
    const std::string host = "svc" + std::to_string(i) + ".facebook.com";
    const std::string ip = "157.240.1." + std::to_string(i + 1);
    keys["queries"].push_back({{"hostname", host},
                               {"engine", "udp"},
                               {"failure", nullptr},
                               {"answers", {{{"answer_type", "A"}, {"ipv4", ip}}}}});
    keys["tcp_connect"].push_back(
        {{"ip", ip}, {"port", 443}, {"status", {{"success", true}, {"failure", nullptr}}}});
    keys["x_tls_handshakes"].push_back(
        {{"network", "tcp"},
         {"address", ip + ":443"},
         {"server_name", host},
         {"no_tls_verify", false},
         {"failure", failures[i].empty() ? nlohmann::json() : nlohmann::json(failures[i])}});
  }
  const nlohmann::json doc = {{"test_name", "facebook_messenger"},
                              {"measurement_start_time", "2023-11-14 22:13:20"},
                              {"probe_cc", "CN"},
                              {"probe_asn", "AS4134"},
                              {"report_id", "20231114T221320Z_facebookmessenger_CN_4134_n1_x"},
                              {"test_keys", keys}};
  MeasurementExtractor extractor({});
  ExtractedMeasurement m;
  auto ok = extractor.Extract(doc.dump(), &m);
  EXPECT_TRUE(ok.ok()) << ok.error();
  return m;
}

TEST(VerdictRulesTest, MessagingHandshakesResetAfterTheirConnectsAreTlsBlocking) {
  ExtractedMeasurement all = FacebookWithHandshakes(
      {"connection_reset", "connection_reset", "generic_timeout_error"}, false);
  int tls_rows = 0;
  for (const auto& o : all.observations) {
    if (!o.tls_measured) continue;
    ++tls_rows;
    EXPECT_EQ(o.hostname, o.tls_server_name);
    EXPECT_EQ(o.port, 443);
    EXPECT_EQ(o.tls_cert_valid, Tri::kNo);
  }
  EXPECT_EQ(tls_rows, 3) << "x_tls_handshakes are observations";
  VerdictRow row = Engine().Score(all, kNow);
  EXPECT_EQ(L(row, Layer::kTcp).rule_id, "tcp.ok");
  EXPECT_EQ(L(row, Layer::kTls).rule_id, "tls.all_interrupted") << VerdictEngine::RulesFired(row);
  EXPECT_EQ(L(row, Layer::kTls).evidence, Evidence::kHeuristic);
  EXPECT_TRUE(row.anomaly);
  EXPECT_EQ(row.blocking_type, "tls");
  EXPECT_EQ(Flags(row), 1);

  // Some services still handshake: partial blocking, an anomaly and never more.
  ExtractedMeasurement partial = FacebookWithHandshakes({"connection_reset", "", ""}, true);
  row = Engine().Score(partial, kNow);
  EXPECT_EQ(L(row, Layer::kTls).rule_id, "tls.some_interrupted") << VerdictEngine::RulesFired(row);
  EXPECT_TRUE(row.anomaly);
  EXPECT_FALSE(row.confirmed);
  EXPECT_EQ(row.blocking_type, "tls");
  EXPECT_EQ(Flags(row), 1);
  EXPECT_LT(row.score, L(Engine().Score(all, kNow), Layer::kTls).blocked);
  // Every handshake reset, but the service works through other endpoints: still partial.
  row = Engine().Score(FacebookWithHandshakes({"connection_reset"}, true), kNow);
  EXPECT_EQ(L(row, Layer::kTls).rule_id, "tls.some_interrupted");

  // Certificates that do not verify are no interruption: the generic TLS rule.
  row = Engine().Score(FacebookWithHandshakes({"ssl_unknown_authority"}, false), kNow);
  EXPECT_EQ(L(row, Layer::kTls).rule_id, "tls.failure");
  // A certificate for other names (Facebook's *.facebook.com at star.c10r.facebook.com)
  // came from the server: the name passed, nothing at TLS.
  row = Engine().Score(FacebookWithHandshakes({"ssl_invalid_hostname", ""}, false), kNow);
  EXPECT_EQ(L(row, Layer::kTls).rule_id, "tls.ok") << VerdictEngine::RulesFired(row);
  EXPECT_EQ(row.verdict, VerdictClass::kOk);
  // Every handshake completed: nothing at TLS.
  row = Engine().Score(FacebookWithHandshakes({"", ""}, false), kNow);
  EXPECT_EQ(L(row, Layer::kTls).rule_id, "tls.ok");
  EXPECT_FALSE(row.anomaly);
}

// x_control: each failed step as the control helper saw it (our probes with a helper).
std::string ControlSummary(const std::string& keys,
                           std::vector<std::pair<std::string, std::string>> steps) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [operation, control] : steps) {
    list.push_back({{"host", "a.example"},
                    {"port", 443},
                    {"operation", operation},
                    {"failure", "connection_refused"},
                    {"control", control}});
  }
  nlohmann::json j = nlohmann::json::parse(keys);
  j["x_control"] = {{"steps", list}, {"tcp_connect", nlohmann::json::object()}};
  j["x_control_failure"] = nullptr;
  return j.dump();
}

// A messaging server that failed the control as it failed the probe is down at that
// layer, not blocked, and the measurement is no anomaly; a step that worked for the
// control keeps the blocking rules.
TEST(VerdictRulesTest, MessagingFailuresTheControlSharesAreDown) {
  const std::string keys =
      R"({"whatsapp_endpoints_status":"blocked","registration_server_status":"blocked",)"
      R"("registration_server_failure":"connection_refused","whatsapp_web_status":"ok"})";
  auto whatsapp = [&keys](const std::string& control) {
    ExtractedMeasurement m = Make(
        "whatsapp", "IT", ControlSummary(keys, {{"connect", "failed_too"}, {"connect", control}}));
    m.observations.push_back(Tcp("e1.whatsapp.net", "157.240.1.1", 443, "connection_refused"));
    m.observations.push_back(Tcp("e1.whatsapp.net", "157.240.1.1", 5222, "connection_refused"));
    ObservationRow fetch = Tcp("v.whatsapp.net", "157.240.1.2", 443, "connection_refused");
    fetch.http_measured = true;
    fetch.http_url = "https://v.whatsapp.net/v2/register";
    fetch.http_failure = "connection_refused";
    m.observations.push_back(fetch);
    return Engine().Score(m, kNow);
  };
  VerdictRow row = whatsapp("failed_too");
  EXPECT_EQ(L(row, Layer::kTcp).rule_id, "tcp.control_failed_too");
  EXPECT_EQ(L(row, Layer::kTcp).down, 1.0);
  EXPECT_EQ(L(row, Layer::kHttp).rule_id, "http.control_failed_too")
      << "the fetch failed at a connect the control failed too";
  EXPECT_FALSE(row.anomaly) << VerdictEngine::RulesFired(row);
  EXPECT_EQ(Flags(row), 0);
  EXPECT_EQ(OutcomeOf(row), Outcome::kOk);

  row = whatsapp("ok");
  EXPECT_EQ(L(row, Layer::kTcp).rule_id, "tcp.all_failed") << "blocked as before";
  EXPECT_TRUE(row.anomaly);
  EXPECT_EQ(row.blocking_type, "tcp_ip");

  // Without a control, or with one that could not be reached: as before.
  ExtractedMeasurement none = Make("whatsapp", "IT", keys);
  none.observations.push_back(Tcp("e1.whatsapp.net", "157.240.1.1", 443, "connection_refused"));
  EXPECT_TRUE(Engine().Score(none, kNow).anomaly);
  ExtractedMeasurement unreachable =
      Make("whatsapp", "IT",
           R"({"whatsapp_endpoints_status":"blocked","x_control":null,)"
           R"("x_control_failure":"connection_refused"})");
  unreachable.observations = none.observations;
  EXPECT_EQ(L(Engine().Score(unreachable, kNow), Layer::kTcp).rule_id, "tcp.all_failed");

  // Each layer on its own: a name that exists nowhere, a handshake that fails everywhere.
  ExtractedMeasurement dns = Make(
      "messaging", "IT",
      ControlSummary(R"({"service":"x","service_status":"blocked"})", {{"resolve", "failed_too"}}));
  dns.observations.push_back(Dns("a.example", {}, "dns_nxdomain_error"));
  row = Engine().Score(dns, kNow);
  EXPECT_EQ(L(row, Layer::kDns).rule_id, "dns.control_failed_too");
  EXPECT_FALSE(row.anomaly) << VerdictEngine::RulesFired(row);
  dns.summary_json =
      ControlSummary(R"({"service":"x","service_status":"blocked"})", {{"resolve", "ok"}});
  row = Engine().Score(dns, kNow);
  EXPECT_EQ(L(row, Layer::kDns).rule_id, "dns.failure");
  EXPECT_TRUE(row.anomaly);

  ExtractedMeasurement tls = Make(
      "telegram", "IT",
      ControlSummary(R"({"telegram_web_status":"blocked"})", {{"tls_handshake", "failed_too"}}));
  tls.observations.push_back(Https("web.telegram.org", "ssl_invalid_hostname"));
  row = Engine().Score(tls, kNow);
  EXPECT_EQ(L(row, Layer::kTls).rule_id, "tls.control_failed_too");
  EXPECT_EQ(L(row, Layer::kHttp).rule_id, "http.control_failed_too");
  EXPECT_FALSE(row.anomaly) << VerdictEngine::RulesFired(row);

  // Forged answers stay blocking whatever the control says of the connects.
  ExtractedMeasurement forged =
      Make("messaging", "IT",
           ControlSummary(
               R"({"service":"x","service_status":"blocked","x_dns_inconsistent":["a.example"]})",
               {{"connect", "failed_too"}}));
  forged.observations.push_back(Dns("a.example", {"198.51.100.9"}));
  forged.observations.push_back(Tcp("a.example", "198.51.100.9", 443, "connection_refused"));
  row = Engine().Score(forged, kNow);
  EXPECT_EQ(L(row, Layer::kDns).rule_id, "dns.outside_service_asn");
  EXPECT_TRUE(row.anomaly);
}

// x_control travels from the measurement a probe writes to the rules through ingest's
// summary keys.
TEST(VerdictRulesTest, MessagingControlIsReadFromTheMeasurement) {
  const std::string measurement = R"({
    "test_name": "messaging", "measurement_start_time": "2023-11-14 22:13:20",
    "probe_cc": "IT", "probe_asn": "AS30722", "report_id": "r", "input": "x",
    "software_name": "vigil",
    "test_keys": {
      "queries": [{"hostname": "a.example", "query_type": "A", "engine": "udp",
                   "failure": null, "answers": [{"answer_type": "A", "ipv4": "157.240.1.1"}]}],
      "tcp_connect": [{"ip": "157.240.1.1", "port": 443,
                       "status": {"success": false, "failure": "connection_refused"}}],
      "service": "x", "service_status": "blocked", "x_partial_blocking": false,
      "x_failures": [{"host": "a.example", "port": 443, "operation": "connect",
                      "failure": "connection_refused"}],
      "x_control": {"dns": {}, "tcp_connect": {"157.240.1.1:443": {"status": false,
                    "failure": "connection_refused_error"}}, "tls_handshake": {},
                    "not_measured": {},
                    "steps": [{"host": "a.example", "port": 443, "operation": "connect",
                               "failure": "connection_refused", "control": "failed_too",
                               "control_failure": "connection_refused_error"}]},
      "x_control_failure": null}})";
  MeasurementExtractor extractor({});
  ExtractedMeasurement m;
  auto extracted = extractor.Extract(measurement, &m);
  ASSERT_TRUE(extracted.ok()) << extracted.error();
  EXPECT_NE(m.summary_json.find("\"x_control\":"), std::string::npos) << m.summary_json;
  const VerdictRow row = Engine().Score(m, kNow);
  EXPECT_EQ(L(row, Layer::kTcp).rule_id, "tcp.control_failed_too");
  EXPECT_FALSE(row.anomaly) << VerdictEngine::RulesFired(row);
}

TEST(VerdictRulesTest, NetworkChecks) {
  auto sni = [](const char* result) {
    return Engine().Score(
        Make("sni_blocking", "IT", std::string(R"({"result":")") + result + R"("})"), kNow);
  };
  EXPECT_EQ(L(sni("interference.reset"), Layer::kTls).rule_id, "tls.sni_interference");
  EXPECT_TRUE(sni("interference.reset").anomaly);
  EXPECT_EQ(Flags(sni("success.got_server_hello")), 0);
  EXPECT_FALSE(sni("anomaly.test_helper_unreachable").anomaly);
  const VerdictRow control = Engine().Score(
      Make("sni_blocking", "IT",
           R"({"result":"anomaly.timeout","x_result":"anomaly.control.connection_reset"})"),
      kNow);
  EXPECT_EQ(control.failure_reason, "sni_blocking.control_failed");

  const VerdictRow dot = Engine().Score(
      Make(
          "dnscheck", "IT",
          R"({"bootstrap_failure":null,"lookups":{"dot://8.8.8.8:853":{"failure":"connection_reset",)"
          R"("failed_operation":"tls_handshake"},"dot://8.8.4.4:853":{"failure":null}}})"),
      kNow);
  EXPECT_EQ(L(dot, Layer::kDns).rule_id, "dns.ok");
  const VerdictRow nx = Engine().Score(
      Make(
          "dnscheck", "IT",
          R"({"bootstrap_failure":null,"lookups":{"udp://1.1.1.1:53":{"failure":"dns_nxdomain_error"}}})"),
      kNow);
  EXPECT_EQ(L(nx, Layer::kDns).rule_id, "dns.resolver_no_address");
  EXPECT_FALSE(nx.anomaly);

  const VerdictRow stun = Engine().Score(
      Make("stunreachability", "IT", R"({"failure":"generic_timeout_error"})"), kNow);
  EXPECT_EQ(L(stun, Layer::kTcp).rule_id, "tcp.stun_no_response");
  EXPECT_EQ(stun.blocking_type, "tcp_ip");

  const VerdictRow tampering =
      Engine().Score(Make("http_invalid_request_line", "US", R"({"tampering":true})"), kNow);
  EXPECT_EQ(L(tampering, Layer::kHttp).rule_id, "http.tampering");
  EXPECT_TRUE(tampering.anomaly);
  // A middlebox test that compared nothing (no `tampering`) says nothing; a test of
  // another kind with no steps at all neither.
  EXPECT_EQ(Engine().Score(Make("http_header_field_manipulation", "PK"), kNow).failure_reason,
            "middlebox.no_comparison");
  EXPECT_EQ(Engine().Score(Make("ndt", "PK"), kNow).failure_reason, "generic.no_data");
}

std::string ModifiedRules(const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json j = nlohmann::json::parse(vigil::test_support::ReadFileOrFail(RulesPath()));
  edit(j);
  return j.dump();
}

// The error of loading `text` as the shipped rules file, with its path shortened to
// "rules.json".
std::string LoadError(const std::string& text) {
  auto fps = FingerprintSet::LoadDir(FingerprintsDir());
  auto e = VerdictEngine::FromText(text, RulesPath(), std::move(fps).value());
  if (e.ok()) return "";
  std::string error = e.error();
  if (error.starts_with(RulesPath())) error.replace(0, RulesPath().size(), "rules.json");
  return error;
}

// Score reads no clock: "now" comes from the caller. The same measurement and "now"
// give the same verdict; "now" decides only for a measurement without an upload time,
// whose start must not lie more than max_future_skew_seconds (an hour) after it.
TEST(VerdictRulesTest, NowComesFromTheCallerAndMattersOnlyWithoutAnUploadTime) {
  ExtractedMeasurement m = Make("telegram", "RU");
  m.observations.push_back(Tcp("", "149.154.175.50", 443, "generic_timeout_error"));
  m.measurement.upload_time = 0;
  m.measurement.start_time = kNow;
  const VerdictRow first = Engine().Score(m, kNow);
  const VerdictRow second = Engine().Score(m, kNow);
  EXPECT_EQ(VerdictEngine::RulesFired(first), VerdictEngine::RulesFired(second));
  EXPECT_EQ(OutcomeOf(first), OutcomeOf(second));
  EXPECT_EQ(OutcomeOf(first), Outcome::kAnomaly);

  // Started more than an hour after "now": the clock of the probe was wrong.
  const VerdictRow early = Engine().Score(m, kNow - 3601);
  EXPECT_EQ(OutcomeOf(early), Outcome::kFailure);
  EXPECT_EQ(early.failure_reason, "envelope.start_in_future");
  EXPECT_EQ(OutcomeOf(Engine().Score(m, kNow - 3600)), Outcome::kAnomaly);

  // With an upload time, that is the reference and "now" changes nothing.
  m.measurement.upload_time = kNow;
  EXPECT_EQ(OutcomeOf(Engine().Score(m, kNow - 86400)), Outcome::kAnomaly);
  EXPECT_EQ(OutcomeOf(Engine().Score(m, kNow + 86400)), Outcome::kAnomaly);
}

TEST(VerdictRulesTest, RulesFileErrorsNameTheKey) {
  EXPECT_EQ(LoadError(vigil::test_support::ReadFileOrFail(RulesPath())), "");
  EXPECT_EQ(LoadError(ModifiedRules([](nlohmann::json& j) {
              j["measurement"]["anomaly_thresold"] = 0.5;
            })).rfind("rules.json: measurement.anomaly_thresold: unknown key", 0),
            0u);
  EXPECT_EQ(LoadError(ModifiedRules([](nlohmann::json& j) { j["rules"].erase("tcp.ok"); })),
            "rules.json: rules.tcp.ok: missing (every rule needs its blocked, down, ok triple)");
  EXPECT_EQ(
      LoadError(ModifiedRules([](nlohmann::json& j) { j["rules"]["tcp.ok"]["blocked"] = 1.5; })),
      "rules.json: rules.tcp.ok.blocked: must be from 0 to 1 (is 1.5)");
  EXPECT_EQ(LoadError(ModifiedRules(
                [](nlohmann::json& j) { j["rules"]["dns.unmatched"]["down"] = 0.5; })),
            "rules.json: rules.dns.unmatched: blocked + down + ok must not exceed 1 (is 1.5)");
  EXPECT_EQ(LoadError(ModifiedRules(
                [](nlohmann::json& j) { j["rules"]["tcp.guess"] = j["rules"]["tcp.ok"]; })),
            "rules.json: rules.tcp.guess: unknown rule id");
  EXPECT_EQ(LoadError(ModifiedRules(
                [](nlohmann::json& j) { j["measurement"]["mask_threshold"] = "high"; })),
            "rules.json: measurement.mask_threshold: must be a number");
  EXPECT_EQ(LoadError(ModifiedRules([](nlohmann::json& j) { j.erase("version"); })),
            "rules.json: version: missing");
  EXPECT_EQ(LoadError(ModifiedRules([](nlohmann::json& j) { j["bogons"] = 7; })),
            "rules.json: bogons: must be a file name");
  EXPECT_EQ(LoadError(ModifiedRules([](nlohmann::json& j) { j["signal"]["ignored_hosts"] = {1}; })),
            "rules.json: signal.ignored_hosts[0]: must be a non-empty string");
  EXPECT_EQ(LoadError("{\"version\": ").rfind("rules.json: not JSON", 0), 0u);
}

TEST(VerdictRulesTest, RescoringWithANewVersionChangesVerdicts) {
  ExtractedMeasurement m = Make("telegram", "RU", R"({"telegram_web_status":"ok"})");
  m.observations.push_back(Tcp("", "149.154.175.50", 80));
  m.observations.push_back(Tcp("", "149.154.167.51", 80, "generic_timeout_error"));
  const VerdictRow shipped = Engine().Score(m, kNow);
  EXPECT_TRUE(shipped.anomaly);

  const std::string v3_text = ModifiedRules([](nlohmann::json& j) {
    j["version"] = "v3";
    j["rules"]["tcp.some_failed"] = {{"blocked", 0.3}, {"down", 0.2}, {"ok", 0.5}};
    j["measurement"]["anomaly_threshold"] = 0.7;
  });
  auto v3 = VerdictEngine::FromText(v3_text, RulesPath(),
                                    std::move(FingerprintSet::LoadDir(FingerprintsDir())).value());
  ASSERT_TRUE(v3.ok()) << v3.error();
  EXPECT_EQ(v3->version(), "v3");
  const VerdictRow r2 = v3->Score(m, kNow);
  EXPECT_EQ(r2.rules_version, "v3");
  EXPECT_FALSE(r2.anomaly);
  EXPECT_DOUBLE_EQ(r2.score, 0.3);
  // A 0.7 HTTP failure is an anomaly under the shipped rules and not under v3's higher threshold.
  ExtractedMeasurement web = Make("whatsapp", "IT", "{}");
  web.observations.push_back(Https("web.whatsapp.com", std::nullopt, -1, "generic_timeout_error"));
  EXPECT_TRUE(Engine().Score(web, kNow).anomaly);
  EXPECT_FALSE(v3->Score(web, kNow).anomaly);
}

// A clean whatsapp run with fifty steps (every endpoint on two ports, the registration
// server, the web front answering 400 to a non-browser): ok, every layer measured, the
// same verdict each time it is scored. Speed is a benchmark's business
// (bench/vigil_ingest_bench, BENCHMARKS.md), not a test's.
TEST(VerdictRulesTest, AManyStepCleanRunIsOkAndStable) {
  ExtractedMeasurement m = Make(
      "whatsapp", "IT",
      R"({"registration_server_status":"ok","registration_server_failure":null,)"
      R"("whatsapp_web_status":"ok","whatsapp_web_failure":null,"whatsapp_endpoints_status":"ok",)"
      R"("whatsapp_endpoints_blocked":[],"x_partial_blocking":false,"x_dns_inconsistent":[]})");
  for (int i = 1; i <= 16; ++i) {
    const std::string host = "e" + std::to_string(i) + ".whatsapp.net";
    m.observations.push_back(Dns(host, {"157.240.1." + std::to_string(i)}));
    m.observations.push_back(Tcp(host, "157.240.1." + std::to_string(i), 443));
    m.observations.push_back(Tcp(host, "157.240.1." + std::to_string(i), 5222));
  }
  m.observations.push_back(Https("v.whatsapp.net", std::nullopt, 200));
  m.observations.push_back(Https("web.whatsapp.com", std::nullopt, 400));
  const VerdictRow first = Engine().Score(m, kNow);
  EXPECT_FALSE(first.anomaly || first.confirmed || first.failure) << first.failure_reason;
  EXPECT_TRUE(L(first, Layer::kDns).measured);
  EXPECT_TRUE(L(first, Layer::kTcp).measured);
  for (int i = 0; i < 100; ++i) {
    const VerdictRow again = Engine().Score(m, kNow);
    EXPECT_EQ(VerdictEngine::RulesFired(again), VerdictEngine::RulesFired(first));
    EXPECT_EQ(again.score, first.score);
  }
}

TEST(VerdictRulesTest, EachMeasurementGetsOneVerdictClass) {
  const std::string no_network = R"("x_network":{"usable":false,"checks":[]})";
  const std::string network = R"("x_network":{"usable":true,"checks":[]})";
  auto whatsapp = [](const std::string& keys, const std::string& cc = "IT") {
    ExtractedMeasurement m =
        Make("whatsapp", cc, "{" + keys + R"(,"whatsapp_endpoints_status":"blocked"})");
    m.observations.push_back(Tcp("e1.whatsapp.net", "157.240.1.1", 443, "generic_timeout_error"));
    return m;
  };
  // Every step failed: blocked where the network works, no_network where the probe's
  // own canaries failed too (whatever the envelope says).
  EXPECT_EQ(Engine().Score(whatsapp(network), kNow).verdict, VerdictClass::kBlocked);
  EXPECT_EQ(Engine().Score(whatsapp(no_network), kNow).verdict, VerdictClass::kNoNetwork);
  EXPECT_EQ(Engine().Score(whatsapp(no_network, "ZZ"), kNow).verdict, VerdictClass::kNoNetwork);
  {  // No country: OONI's aggregation fails it; the path it measured was still blocked.
    const VerdictRow row = Engine().Score(whatsapp(network, "ZZ"), kNow);
    EXPECT_TRUE(row.failure);
    EXPECT_EQ(row.verdict, VerdictClass::kBlocked);
  }
  // Without a check (OONI's probes, older vigil): what the rules say.
  EXPECT_EQ(Engine().Score(whatsapp(R"("x":1)"), kNow).verdict, VerdictClass::kBlocked);
  {  // Some endpoints still work: anomaly, never blocked.
    ExtractedMeasurement m = whatsapp(network + R"(,"x_partial_blocking":true)");
    m.observations.push_back(Tcp("e2.whatsapp.net", "157.240.1.2", 443));
    const VerdictRow row = Engine().Score(m, kNow);
    EXPECT_TRUE(row.anomaly) << VerdictEngine::RulesFired(row);
    EXPECT_EQ(row.verdict, VerdictClass::kAnomaly) << VerdictEngine::RulesFired(row);
  }
  {  // Nothing wrong: ok, even when the canaries failed (the network came back).
    ExtractedMeasurement m = Make("whatsapp", "IT", "{" + no_network + "}");
    m.observations.push_back(Tcp("e1.whatsapp.net", "157.240.1.1", 443));
    EXPECT_EQ(Engine().Score(m, kNow).verdict, VerdictClass::kOk);
  }
  {  // Every connect failed here and at the control: down.
    ExtractedMeasurement m =
        Make("web_connectivity", "IT",
             R"({"blocking":"tcp_ip","accessible":false,"dns_consistency":"consistent",)"
             R"("http_experiment_failure":"generic_timeout_error","control_failure":null,)"
             R"("control":{"dns":{"failure":null,"addrs":["93.184.216.34"]},)"
             R"("tcp_connect":{"93.184.216.34:443":{"status":false,)"
             R"("failure":"generic_timeout_error"}},)"
             R"("http_request":{"status_code":-1,"failure":"generic_timeout_error",)"
             R"("body_length":-1}}})");
    m.observations.push_back(Dns("www.example.com", {"93.184.216.34"}));
    m.observations.push_back(Tcp("www.example.com", "93.184.216.34", 443, "generic_timeout_error"));
    const VerdictRow row = Engine().Score(m, kNow);
    EXPECT_EQ(row.verdict, VerdictClass::kDown) << VerdictEngine::RulesFired(row);
  }
  {  // A middlebox test that compared nothing: error, not a verdict.
    const VerdictRow row = Engine().Score(Make("http_invalid_request_line", "IT", "{}"), kNow);
    EXPECT_EQ(row.failure_reason, "middlebox.no_comparison");
    EXPECT_EQ(row.verdict, VerdictClass::kError);
  }
}

}  // namespace
}  // namespace vigil::analysis

namespace vigil::analysis {
namespace {

// The delivery experiment's keys, reduced to what its rules read.
std::string DeliveryKeys(const std::string& status, const std::string& keywords) {
  return R"({"transport":"relay-tcp","delivery_status":")" + status + R"(","keywords":)" +
         keywords + "}";
}

TEST(VerdictRulesTest, DeliveryKeywordsLostBetweenControlsAreBlockedNamedByTheirTechnique) {
  const VerdictRow dropped = Engine().Score(
      Make("delivery", "CN",
           DeliveryKeys("blocked", R"([{"id":"a","verdict":"delivered","technique":null},
                                       {"id":"b","verdict":"blocked","technique":"keyword_rst"}])")),
      kNow);
  EXPECT_EQ(L(dropped, Layer::kDelivery).rule_id, "delivery.keyword_blocked");
  EXPECT_EQ(dropped.verdict, VerdictClass::kBlocked);
  EXPECT_EQ(dropped.blocking_type, "delivery");
  EXPECT_EQ(dropped.technique, "keyword_rst");

  const VerdictRow stateful = Engine().Score(
      Make("delivery", "CN",
           DeliveryKeys("blocked",
                        R"([{"id":"b","verdict":"stateful","technique":"keyword_rst"}])")),
      kNow);
  EXPECT_EQ(L(stateful, Layer::kDelivery).rule_id, "delivery.stateful");
  EXPECT_EQ(stateful.verdict, VerdictClass::kBlocked);

  const VerdictRow ok = Engine().Score(
      Make("delivery", "DE", DeliveryKeys("ok", R"([{"id":"a","verdict":"delivered"}])")), kNow);
  EXPECT_EQ(L(ok, Layer::kDelivery).rule_id, "delivery.ok");
  EXPECT_EQ(ok.verdict, VerdictClass::kOk);
}

TEST(VerdictRulesTest, DeliveryWithNothingProvenIsNoVerdict) {
  // Messages lost while the channel itself failed: a broken endpoint looks the same.
  const VerdictRow unsure =
      Engine().Score(Make("delivery", "CN",
                          DeliveryKeys("inconclusive", R"([{"id":"b","verdict":"inconclusive"}])")),
                     kNow);
  EXPECT_EQ(unsure.verdict, VerdictClass::kError);
  EXPECT_EQ(unsure.failure_reason, "delivery.inconclusive");
  EXPECT_EQ(unsure.blocked_layers, 0);
  const VerdictRow closed =
      Engine().Score(Make("delivery", "CN", DeliveryKeys("transport_failure", "[]")), kNow);
  EXPECT_EQ(closed.verdict, VerdictClass::kError);
  EXPECT_EQ(closed.failure_reason, "delivery.transport_failure");
}

}  // namespace
}  // namespace vigil::analysis
