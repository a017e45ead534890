// The lab censor's ground truth read back and set beside verdicts: truth lines written
// here as the censor writes them (tests/lab/censor/truth_record), measurements built fact
// by fact as ingest extracts them, and verdicts as the engine would give them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "analysis/truth/accuracy.h"
#include "analysis/truth/attribution.h"
#include "analysis/truth/censor_truth.h"
#include "analysis/truth/technique.h"

namespace vigil::analysis {
namespace {

constexpr int64_t kStart = 1700000000;  // the measurements' start (a whole second)

// A truth line of a rule acting, `seconds` after kStart.
std::string Act(double seconds, const std::string& rule, const std::string& action,
                const std::string& flow, const std::string& detail, int phase = 0) {
  std::ostringstream s;
  s.precision(15);
  s << R"({"t":)" << static_cast<double>(kStart) + seconds << R"(,"phase":)" << phase
    << R"(,"rule":")" << rule << R"(","action":")" << action << R"(","flow":)" << flow
    << R"(,"detail":)" << detail << "}\n";
  return s.str();
}

std::string PhaseLine(double seconds, int phase) {
  std::ostringstream s;
  s.precision(15);
  s << R"({"t":)" << static_cast<double>(kStart) + seconds << R"(,"phase":)" << phase
    << R"(,"event":"phase_start"})"
    << "\n";
  return s.str();
}

std::string TcpFlow(const std::string& dst, int dport) {
  return R"({"proto":"tcp","src":"198.18.1.10","sport":40000,"dst":")" + dst + R"(","dport":)" +
         std::to_string(dport) + "}";
}
const char* kDnsFlow =
    R"({"proto":"udp","src":"198.18.11.1","sport":5353,"dst":"198.18.20.53","dport":53})";

std::string DnsInject(double seconds, const std::string& qname) {
  return Act(seconds, "messaging-dns", "dns_inject", kDnsFlow,
             R"({"qname":")" + qname +
                 R"(","qtype":1,"answers":["198.18.240.3"],"matched":"suffix:whatsapp.com"})");
}

CensorTruth Parse(const std::string& text) {
  auto truth = ParseCensorTruth(text, "truth.jsonl");
  EXPECT_TRUE(truth.ok()) << truth.error();
  return truth.ok() ? *truth : CensorTruth{};
}

ExtractedMeasurement Measurement(const std::string& test, const std::string& input = "",
                                 double runtime = 5) {
  ExtractedMeasurement m;
  EnvelopeRow& e = m.measurement;
  e.measurement_uid = "uid-" + test + "-" + input;
  e.test_name = test;
  e.input = input;
  e.target = input.empty() ? test : input;
  e.probe_cc = "CN";
  e.probe_asn = 64500;
  e.start_time = kStart;
  e.test_runtime = runtime;
  e.source_file = "m.jsonl";
  e.source_line = 1;
  return m;
}

ObservationRow Dns(const std::string& host) {
  ObservationRow o;
  o.hostname = host;
  o.dns_measured = true;
  return o;
}

ObservationRow Tcp(const std::string& ip, uint16_t port, const std::string& host = "") {
  ObservationRow o;
  o.hostname = host;
  o.ip = ip;
  o.port = port;
  o.tcp_success = Tri::kNo;
  o.tcp_failure = "generic_timeout_error";
  return o;
}

ObservationRow Tls(const std::string& sni, const std::string& ip, uint16_t port) {
  ObservationRow o;
  o.hostname = sni;
  o.tls_server_name = sni;
  o.ip = ip;
  o.port = port;
  o.tls_measured = true;
  o.tls_failure = "connection_reset";
  return o;
}

ObservationRow Http(const std::string& url) {
  ObservationRow o;
  o.http_url = url;
  o.http_measured = true;
  return o;
}

VerdictRow Verdict(bool anomaly, const std::string& blocking_type = "", bool confirmed = false,
                   bool failure = false) {
  VerdictRow v;
  v.anomaly = anomaly;
  v.confirmed = confirmed;
  v.failure = failure;
  v.blocking_type = blocking_type;
  v.verdict = failure     ? VerdictClass::kError
              : confirmed ? VerdictClass::kBlocked
              : anomaly   ? VerdictClass::kAnomaly
                          : VerdictClass::kOk;
  return v;
}

std::vector<std::string> TechniquesOf(const CensorTruth& truth, const ExtractedMeasurement& m) {
  std::vector<std::string> out;
  for (size_t i : ActsOn(truth, m)) out.emplace_back(TechniqueName(TechniqueOf(truth.acts[i])));
  return out;
}

TEST(CensorTruthTest, ReadsPhasesAndActsAsTheCensorWritesThem) {
  const std::string text =
      PhaseLine(0.4, 0) + DnsInject(1.5, "Web.WhatsApp.com.") + "\n   \n" +
      Act(2, "sni", "rst_inject", TcpFlow("FD00:64::71:3", 443),
          R"({"sni":"web.whatsapp.com","matched":"suffix:whatsapp.com","rst_type":"gfw2",)"
          R"("count":3,"direction":"both","ttl":52,"ip_ids":[1,2,3],"residual_seconds":20})") +
      Act(3, "sni", "rst_inject", TcpFlow("198.18.71.3", 443),
          R"({"residual":true,"rst_type":"gfw2"})") +
      Act(4, "icmp", "drop",
          R"({"proto":"ip","src":"198.18.1.10","dst":"198.18.70.1","ip_proto":1})", "{}") +
      PhaseLine(30.2, 1) +
      R"({"t":1700000000.1,"event":"lab_settings","servers":{"failing":[)"
      R"({"name":"archive.org","mode":"http_503"}]},"keep_resolver_cache":false})" +
      "\n";
  const CensorTruth truth = Parse(text);
  // The lab's own doing besides the censor: a server failing by itself.
  EXPECT_EQ(truth.failing_servers,
            (std::map<std::string, std::string>{{"archive.org", "http_503"}}));
  ASSERT_EQ(truth.phases.size(), 2u);
  EXPECT_EQ(truth.phases[1].line, 8u);
  EXPECT_EQ(truth.Start(), kStart + 0.4);
  EXPECT_EQ(truth.PhaseAt(kStart - 1), -1);
  EXPECT_EQ(truth.PhaseAt(kStart), 0) << "the phase began within the measurement's second";
  EXPECT_EQ(truth.PhaseAt(kStart + 30), 1);
  ASSERT_EQ(truth.acts.size(), 4u);
  EXPECT_EQ(truth.acts[0].line, 2u);
  EXPECT_EQ(truth.acts[0].qname, "web.whatsapp.com");
  EXPECT_EQ(truth.acts[0].flow.dport, 53);
  EXPECT_EQ(truth.acts[1].sni, "web.whatsapp.com");
  EXPECT_EQ(truth.acts[1].flow.dst, "fd00:64::71:3");
  EXPECT_FALSE(truth.acts[1].residual);
  EXPECT_TRUE(truth.acts[2].residual);
  EXPECT_EQ(truth.acts[3].flow.proto, "ip");
  EXPECT_EQ(truth.acts[3].flow.dport, 0);
  EXPECT_FALSE(ParseCensorTruth("", "empty.jsonl")->Start().has_value());
}

TEST(CensorTruthTest, MalformedLinesAreNamedByFileLineAndFieldAndRefuseTheFile) {
  const std::string text =
      PhaseLine(0, 0) + "not json\n" + "[1,2]\n" +
      R"({"t":"soon","phase":0,"event":"phase_start"})" + "\n" +
      R"({"t":1700000001,"phase":-2,"event":"phase_start"})" + "\n" +
      R"({"t":1700000001,"phase":0,"event":"phase_end"})" + "\n" +
      Act(1, "r", "teleport", TcpFlow("198.18.71.3", 443), "{}") +
      Act(1, "r", "drop", TcpFlow("not-an-ip", 443), "{}") +
      Act(1, "r", "drop", TcpFlow("198.18.71.3", 70000), "{}") +
      Act(1, "r", "drop", R"({"proto":"sctp","src":"198.18.1.10","dst":"198.18.70.1"})", "{}") +
      Act(1, "r", "dns_inject", kDnsFlow, R"({"qtype":1})") +
      Act(1, "r", "rst_inject", TcpFlow("198.18.71.3", 443), R"({"sni":7})") +
      Act(1, "r", "drop", TcpFlow("198.18.71.3", 443), R"({"residual":"yes"})") +
      R"({"t":1700000001,"phase":0,"action":"drop","flow":{},"detail":{}})" + "\n" +
      std::string(100, '[') + "\n" + R"({"t":1700000001,"phase":0,"rule":"cut")";
  auto truth = ParseCensorTruth(text, "truth.jsonl");
  ASSERT_FALSE(truth.ok());
  const std::string e = truth.error() + "\n";
  for (const char* expected : {
           "truth.jsonl:2: not JSON", "truth.jsonl:3: not a JSON object",
           "truth.jsonl:4: field 't': not a number",
           "truth.jsonl:5: field 'phase': not a phase number",
           "truth.jsonl:6: field 'event': neither \"phase_start\" nor \"lab_settings\"",
           "truth.jsonl:7: field 'action': unknown action 'teleport'",
           "truth.jsonl:8: field 'flow.dst': 'not-an-ip' is not an IP address",
           "truth.jsonl:9: field 'flow.dport': not a port",
           "truth.jsonl:10: field 'flow.proto': 'sctp' is not tcp, udp or ip",
           "truth.jsonl:11: field 'detail.qname': missing for dns_inject",
           "truth.jsonl:12: field 'detail.sni': not a string",
           "truth.jsonl:13: field 'detail.residual': not true or false",
           "truth.jsonl:14: field 'rule': missing", "truth.jsonl:15: nested too deep",
           "truth.jsonl:16: not JSON",  // a last line cut short
       }) {
    EXPECT_NE(e.find(std::string(expected) + "\n"), std::string::npos) << expected << "\n" << e;
  }
  EXPECT_EQ(e.find("truth.jsonl:1:"), std::string::npos) << e;

  auto capped = ParseCensorTruth(text, "truth.jsonl", 3);
  ASSERT_FALSE(capped.ok());
  EXPECT_NE(capped.error().find("truth.jsonl:4:"), std::string::npos);
  EXPECT_EQ(capped.error().find("truth.jsonl:5:"), std::string::npos);
  EXPECT_NE(capped.error().find("... and 12 more bad lines"), std::string::npos) << capped.error();

  auto missing = ReadCensorTruth("/nonexistent/truth.jsonl");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("/nonexistent/truth.jsonl"), std::string::npos);
}

TEST(TechniqueTest, EachActionAndTriggerNamesATechniqueAndTheBlockingTypesThatFitIt) {
  const CensorTruth truth = Parse(
      DnsInject(0, "a.example") +
      Act(0, "r", "dns_nxdomain", kDnsFlow, R"({"qname":"a.example"})") +
      Act(0, "r", "rst_inject", TcpFlow("198.18.71.3", 443), R"({"sni":"a.example"})") +
      Act(0, "r", "rst_inject", TcpFlow("198.18.71.3", 80), R"({"host":"a.example"})") +
      Act(0, "r", "rst_inject", TcpFlow("198.18.71.3", 80), "{}") +
      Act(0, "r", "drop", TcpFlow("198.18.70.1", 443), "{}") +
      Act(0, "r", "http_blockpage", TcpFlow("198.18.71.3", 80), R"({"host":"a.example"})") +
      Act(0, "r", "keyword_drop", TcpFlow("198.18.74.1", 80), R"({"keywords":["x"]})") +
      Act(0, "r", "rst_inject", TcpFlow("198.18.71.3", 443), R"({"residual":true})") +
      Act(0, "r", "throttle", TcpFlow("198.18.71.3", 443), R"({"rate_bps":64000})") +
      Act(0, "r", "icmp_unreachable", TcpFlow("198.18.72.1", 443), R"({"type":3,"code":13})") +
      Act(0, "r", "http_blockpage", TcpFlow("198.18.80.7", 80),
          R"({"host":"archive.org","location":"http://198.18.240.34/"})") +
      Act(0, "r", "dns_inject", kDnsFlow,
          R"({"qname":"a.example","copies":[{"delay_ms":300},{"delay_ms":320}]})"));
  std::vector<std::string> names;
  for (const CensorAct& a : truth.acts) names.emplace_back(TechniqueName(TechniqueOf(a)));
  EXPECT_EQ(names, (std::vector<std::string>{"dns_injection", "dns_nxdomain", "sni_rst", "host_rst",
                                             "rst", "blackhole", "blockpage", "keyword_drop",
                                             "residual_block", "throttle", "icmp_unreachable",
                                             "blockpage_redirect", "dns_injection_late"}));
  using Types = std::vector<std::string_view>;
  EXPECT_EQ(ExpectedBlockingTypes(Technique::kDnsInjection), Types{"dns"});
  EXPECT_EQ(ExpectedBlockingTypes(Technique::kBlackhole), Types{"tcp_ip"});
  EXPECT_EQ(ExpectedBlockingTypes(Technique::kBlockPage), Types{"http-diff"});
  EXPECT_EQ(ExpectedBlockingTypes(Technique::kSniReset), (Types{"tls", "http-failure"}));
  EXPECT_EQ(ExpectedBlockingTypes(Technique::kIcmpUnreachable), (Types{"tcp_ip", "dns"}));
  EXPECT_EQ(ExpectedBlockingTypes(Technique::kBlockRedirect), (Types{"http-diff", "http-failure"}));
  EXPECT_FALSE(Blocks(Technique::kThrottle));
  EXPECT_FALSE(Blocks(Technique::kDelay));
  EXPECT_FALSE(Blocks(Technique::kDnsInjectionLate)) << "the genuine answer won the race";
  EXPECT_TRUE(Blocks(Technique::kBlackhole));
}

TEST(AttributionTest, ActsAreMatchedByNameEndpointAndTime) {
  const CensorTruth truth = Parse(
      PhaseLine(0, 0) + DnsInject(-0.5, "web.whatsapp.com") +  // before the measurement
      DnsInject(0.2, "web.whatsapp.com") +                     // its own lookup
      DnsInject(0.3, "chat.signal.org") +                      // another service's
      Act(1, "sni", "rst_inject", TcpFlow("198.18.71.3", 443), R"({"sni":"web.whatsapp.com"})") +
      Act(1.1, "sni", "rst_inject", TcpFlow("198.18.71.9", 443),
          R"({"sni":"web.whatsapp.com"})") +  // the name at an address it did not use
      Act(1.2, "hole", "drop", TcpFlow("198.18.70.1", 443), "{}") +
      Act(1.3, "hole", "drop", TcpFlow("198.18.70.1", 80), "{}") +  // a port it did not use
      Act(1.4, "page", "http_blockpage", TcpFlow("198.18.71.3", 80),
          R"({"host":"web.whatsapp.com"})") +
      DnsInject(9, "web.whatsapp.com"));  // after its runtime (5 s) and the slack
  ExtractedMeasurement m = Measurement("whatsapp");
  m.observations = {Dns("web.whatsapp.com"), Tls("web.whatsapp.com", "198.18.71.3", 443),
                    Tcp("198.18.70.1", 443), Http("http://web.whatsapp.com/")};
  EXPECT_EQ(TechniquesOf(truth, m),
            (std::vector<std::string>{"dns_injection", "sni_rst", "blackhole", "blockpage"}));

  // Which ones: its own lookup, the RST at the address it used, the drop on its port, the
  // block page.
  EXPECT_EQ(ActsOn(truth, m), (std::vector<size_t>{1, 3, 5, 7}));

  // An https fetch of the same name beside it sent no Host the censor could read: the
  // block page on port 80 was the plain-HTTP fetch's.
  ExtractedMeasurement https = Measurement("web_connectivity");
  https.observations = {Tls("web.whatsapp.com", "198.18.71.3", 443),
                        Http("https://web.whatsapp.com/")};
  EXPECT_EQ(TechniquesOf(truth, https), std::vector<std::string>{"sni_rst"});

  // A connect without TLS to the same endpoint sent no SNI: the RST was another's.
  ExtractedMeasurement plain = Measurement("facebook_messenger");
  plain.observations = {Tcp("198.18.71.3", 443, "web.whatsapp.com")};
  EXPECT_TRUE(TechniquesOf(truth, plain).empty());

  // The same address in IPv6 spelt another way.
  const CensorTruth v6 =
      Parse(Act(1, "hole", "drop", TcpFlow("fd00:64::70:1", 443), R"({"residual":true})"));
  ExtractedMeasurement m6 = Measurement("telegram");
  m6.observations = {Tcp("FD00:0064:0::70:1", 443)};
  EXPECT_EQ(TechniquesOf(v6, m6), std::vector<std::string>{"residual_block"});

  // An experiment whose steps are not rows names its endpoint in the input.
  const CensorTruth stun = Parse(
      Act(1, "stun", "drop",
          R"({"proto":"udp","src":"198.18.1.10","sport":5000,"dst":"198.18.64.12","dport":3478})",
          "{}"));
  EXPECT_EQ(TechniquesOf(stun, Measurement("stunreachability", "stun://198.18.64.12:3478")),
            std::vector<std::string>{"blackhole"});

  // Without a runtime, the window is a minute.
  ExtractedMeasurement unknown = Measurement("whatsapp", "", 0);
  unknown.observations = {Dns("web.whatsapp.com")};
  EXPECT_EQ(ActsOn(truth, unknown).size(), 2u);
}

TEST(AccuracyTest, LabelsFollowWhatTheCensorDidAndWhatTheAnalyzerSaid) {
  const std::vector<Technique> dns = {Technique::kDnsInjection};
  EXPECT_EQ(LabelOf(dns, CallOf(Verdict(true, "dns"))), Label::kFound);
  EXPECT_EQ(LabelOf(dns, CallOf(Verdict(false, "dns", true))), Label::kFound) << "confirmed";
  EXPECT_EQ(LabelOf(dns, CallOf(Verdict(true, "tcp_ip"))), Label::kWrongTechnique);
  EXPECT_EQ(LabelOf(dns, CallOf(Verdict(false))), Label::kMissed);
  EXPECT_EQ(LabelOf(dns, CallOf(Verdict(false, "", false, true))), Label::kMissed) << "failure";
  EXPECT_EQ(LabelOf({}, CallOf(Verdict(true, "tls"))), Label::kFalsePositive);
  EXPECT_EQ(LabelOf({}, CallOf(Verdict(false))), Label::kOk);
  EXPECT_EQ(LabelOf({}, CallOf(Verdict(false, "", false, true))), Label::kOk);
  // Slowed is not blocked: a throttled service flagged is a false positive.
  EXPECT_EQ(LabelOf({Technique::kThrottle}, CallOf(Verdict(true, "tcp_ip"))),
            Label::kFalsePositive);
  EXPECT_EQ(LabelOf({Technique::kThrottle}, CallOf(Verdict(false))), Label::kOk);
  // Any of several techniques may be the one named.
  EXPECT_EQ(
      LabelOf({Technique::kDnsInjection, Technique::kBlackhole}, CallOf(Verdict(true, "tcp_ip"))),
      Label::kFound);
  const AnalyzerCall call = CallOf(Verdict(true, "dns"));
  EXPECT_EQ(call.outcome, "anomaly");
  EXPECT_TRUE(call.flagged);
  EXPECT_EQ(CallOf(Verdict(false, "", false, true)).outcome, "error");
}

TEST(AccuracyTest, AComparisonPrintsEachServicePerScenarioWithTotals) {
  // gfw-dns from the censor's start; a second truth file (clean) an hour later.
  const std::string dns_text = PhaseLine(-0.7, 0) + DnsInject(0.5, "web.whatsapp.com") +
                               DnsInject(0.6, "web.telegram.org") +
                               DnsInject(0.7, "chat.signal.org");
  std::vector<ScenarioTruth> truths;
  truths.push_back({"gfw-dns", Parse(dns_text)});
  truths.push_back({"clean", Parse(PhaseLine(3600, 0))});
  TruthComparison comparison(std::move(truths));

  auto add = [&](const std::string& test, const std::string& input, const std::string& name,
                 const VerdictRow& v, int64_t offset = 0) {
    ExtractedMeasurement m = Measurement(test, input);
    m.measurement.start_time += offset;
    m.observations = {Dns(name)};
    comparison.Add(m, v);
  };
  add("whatsapp", "", "web.whatsapp.com", Verdict(true, "dns"));           // found
  add("telegram", "", "web.telegram.org", Verdict(true, "tcp_ip"));        // wrong technique
  add("messaging", "signal", "chat.signal.org", Verdict(false));           // missed
  add("wechat", "", "long.weixin.qq.com", Verdict(true, "http-failure"));  // false positive
  add("facebook_messenger", "", "b-api.facebook.com", Verdict(false));     // ok
  add("whatsapp", "", "web.whatsapp.com", Verdict(false), 3700);           // clean: ok
  add("whatsapp", "", "web.whatsapp.com", Verdict(false), -3600);          // before either

  EXPECT_EQ(comparison.not_covered(), 1u);
  const AccuracyTotals t = comparison.Totals("gfw-dns");
  EXPECT_EQ(t.found, 1u);
  EXPECT_EQ(t.wrong_technique, 1u);
  EXPECT_EQ(t.missed, 1u);
  EXPECT_EQ(t.false_positive, 1u);
  EXPECT_EQ(t.ok, 1u);
  EXPECT_EQ(comparison.Totals("clean").ok, 1u);
  EXPECT_EQ(comparison.Totals().ok, 2u);

  const std::string table = comparison.Table();
  for (const char* expected : {
           "scenario gfw-dns (truth.jsonl): 5 measurements\n",
           "  signal              messaging           AS64500 CN  0      dns_injection  ok         "
           "        "
           "   missed\n",
           "  telegram            telegram            AS64500 CN  0      dns_injection  anomaly "
           "tcp_ip     "
           "   wrong_technique\n",
           "  wechat              wechat              AS64500 CN  0      -              anomaly "
           "http-failure  false_positive\n",
           "gfw-dns: censor acted on 3: 1 found, 1 wrong technique, 1 missed; untouched 2: 1 "
           "false positive, 1 ok\n",
           "scenario clean (truth.jsonl): 1 measurements\n",
           "all scenarios: censor acted on 3: 1 found, 1 wrong technique, 1 missed; untouched 3: "
           "1 false positive, 2 ok\n",
           "1 measurements started before the censor of every truth file: not compared\n",
       }) {
    EXPECT_NE(table.find(expected), std::string::npos) << expected << "\n" << table;
  }

  std::vector<nlohmann::json> lines;
  std::istringstream in(comparison.JsonLines());
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 6u + 2u + 1u);
  const nlohmann::json& first = lines[0];  // gfw-dns, sorted by service: facebook_messenger
  EXPECT_EQ(first["kind"], "measurement");
  EXPECT_EQ(first["scenario"], "gfw-dns");
  EXPECT_EQ(first["service"], "facebook_messenger");
  EXPECT_EQ(first["label"], "ok");
  EXPECT_EQ(first["probe_asn"], "AS64500");
  const nlohmann::json& signal = lines[1];
  EXPECT_EQ(signal["service"], "signal");
  EXPECT_EQ(signal["test_name"], "messaging");
  EXPECT_EQ(signal["truth"]["techniques"], nlohmann::json::array({"dns_injection"}));
  EXPECT_EQ(signal["truth"]["expected_blocking_types"], nlohmann::json::array({"dns"}));
  EXPECT_EQ(signal["truth"]["rules"], nlohmann::json::array({"messaging-dns"}));
  EXPECT_EQ(signal["verdict"]["outcome"], "ok");
  EXPECT_EQ(signal["label"], "missed");
  EXPECT_EQ(lines[6]["kind"], "totals");
  EXPECT_EQ(lines[6]["scenario"], "gfw-dns");
  EXPECT_EQ(lines[6]["totals"]["found"], 1);
  EXPECT_TRUE(lines[8]["scenario"].is_null());
  EXPECT_EQ(lines[8]["not_covered"], 1);
}

TEST(AccuracyTest, TheSameScenarioTwiceKeepsTwoTables) {
  std::vector<ScenarioTruth> truths;
  truths.push_back({"clean", Parse(PhaseLine(0, 0))});
  truths.push_back({"clean", Parse(PhaseLine(100, 0))});
  truths.push_back({"clean", Parse(PhaseLine(200, 0))});
  TruthComparison comparison(std::move(truths));
  ExtractedMeasurement m = Measurement("whatsapp");
  m.measurement.start_time += 150;
  comparison.Add(m, Verdict(false));
  const std::string table = comparison.Table();
  EXPECT_NE(table.find("scenario clean (truth.jsonl): 0 measurements"), std::string::npos);
  EXPECT_NE(table.find("scenario clean#2 (truth.jsonl): 1 measurements"), std::string::npos)
      << table;
  EXPECT_NE(table.find("scenario clean#3 (truth.jsonl): 0 measurements"), std::string::npos);
}

}  // namespace
}  // namespace vigil::analysis
