// The pieces the messaging experiments share: CIDR prefix sets from data files, DNS
// consistency against an ASN database, summary lines rebuilt from x_failures, per-port
// outcomes (IPv6 steps without a route not measured), the partial-blocking rule,
// residual blocks, and the registry's explicit list.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "probe/experiments/catalog.h"
#include "probe/experiments/common/dns_consistency.h"
#include "probe/experiments/common/endpoint_sweep.h"
#include "probe/experiments/common/ip_prefix_set.h"
#include "probe/experiments/common/residual_block.h"
#include "probe/experiments/common/service_verdict.h"
#include "probe/experiments/common/step_failure.h"
#include "probe/experiments/common/test_keys.h"
#include "probe/experiments/registry.h"
#include "probe/geo/asn_database.h"
#include "tests/support/asn_mmdb.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

TEST(IpPrefixSet, MatchesInsideAndNotOutside) {
  IpPrefixSet set;
  ASSERT_TRUE(set.Add("31.13.24.0/21").ok());
  ASSERT_TRUE(set.Add("2a03:2880::/32").ok());
  ASSERT_TRUE(set.Add("192.0.2.7").ok());
  EXPECT_TRUE(set.Contains("31.13.24.1"));
  EXPECT_TRUE(set.Contains("31.13.31.255"));
  EXPECT_FALSE(set.Contains("31.13.32.0"));
  EXPECT_TRUE(set.Contains("2a03:2880:f10c:83:face:b00c:0:25de"));
  EXPECT_FALSE(set.Contains("2a03:2881::1"));
  EXPECT_TRUE(set.Contains("192.0.2.7"));
  EXPECT_FALSE(set.Contains("192.0.2.8"));
  EXPECT_FALSE(set.Contains("::ffff:31.13.24.1")) << "families never mix";
  EXPECT_FALSE(set.Contains("not an ip"));
}

TEST(IpPrefixSet, RejectsBadPrefixes) {
  IpPrefixSet set;
  EXPECT_FALSE(set.Add("31.13.24.0/33").ok());
  EXPECT_FALSE(set.Add("31.13.24.0/").ok());
  EXPECT_FALSE(set.Add("facebook.com/16").ok());
  EXPECT_EQ(set.size(), 0u);
}

TEST(IpPrefixSet, FileErrorsNameTheLine) {
  test_support::TempDir dir("vigil-prefixes-");
  const std::string path = dir.path() + "/list.txt";
  std::ofstream(path) << "# comment\n\n10.0.0.0/8  # lab\n10.0.0.0/99\n";
  IpPrefixSet set;
  auto added = set.AddFile(path);
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error(), path + ":4: '10.0.0.0/99': prefix length must be 0-32");
  EXPECT_FALSE(set.AddFile(dir.path() + "/missing.txt").ok());
}

TEST(IpPrefixSet, ShippedFacebookListHasFacebooksAddresses) {
  IpPrefixSet set;
  auto added = set.AddFile(test_support::SourceDir() + "/testlists/asn/AS32934.txt");
  ASSERT_TRUE(added.ok()) << added.error();
  EXPECT_TRUE(set.Contains("157.240.3.35"));  // www.facebook.com
  EXPECT_TRUE(set.Contains("31.13.72.36"));   // edge-star
  EXPECT_TRUE(set.Contains("2a03:2880:f10c:83:face:b00c:0:25de"));
  EXPECT_FALSE(set.Contains("8.8.8.8"));
  EXPECT_FALSE(set.Contains("127.0.0.1"));
}

// An answer the ASN database knows nothing of (no entry, or AS0 as some databases write
// for unrouted space) is neither evidence of a forged answer nor of a right one: a service
// whose answers are all unknown to the database is not DNS-blocked for that. Bogons and
// answers in another AS still are.
TEST(DnsConsistency, AnswersTheAsnDatabaseDoesNotKnowAreUnknownNotInconsistent) {
  test_support::TempDir dir("vigil-asn-");
  ASSERT_TRUE(dir.ok()) << dir.error();
  std::string error;
  ASSERT_TRUE(dir.WriteFile("asn.mmdb",
                            test_support::AsnMmdb({{"31.13.24.0/21", 32934, "FACEBOOK"},
                                                   {"2a03:2880::/32", 32934, "FACEBOOK"},
                                                   {"45.33.0.0/17", 63949, "Akamai"},
                                                   {"41.0.0.0/16", 0, "unrouted"}}),
                            &error))
      << error;
  auto db = AsnDatabase::Open(dir.Join("asn.mmdb"));
  ASSERT_TRUE(db.ok()) << db.error();
  ExperimentContext context;
  context.asn_db = *db;
  ASSERT_EQ(context.asn_db->Lookup("31.13.24.7")->number, 32934u) << "the test database reads";

  auto lookup = [](const std::vector<std::string>& ips) {
    std::vector<DnsQuery> queries(1);
    queries[0].hostname = "e1.whatsapp.net";
    for (const auto& ip : ips) {
      DnsAnswer a;
      a.answer_type = ip.find(':') == std::string::npos ? "A" : "AAAA";
      (a.answer_type == "A" ? a.ipv4 : a.ipv6) = ip;
      queries[0].answers.push_back(a);
    }
    return queries;
  };
  auto judge = [&](const std::vector<std::string>& ips) {
    std::vector<DnsQuery> queries = lookup(ips);
    return CheckDnsConsistency(queries, {32934}, context)["e1.whatsapp.net"];
  };

  EXPECT_EQ(judge({"31.13.24.7", "2a03:2880:f10c::1"}).consistent, true);
  HostConsistency h = judge({"193.0.14.129"});
  EXPECT_EQ(h.addresses["193.0.14.129"], "no_as");
  EXPECT_EQ(h.consistent, std::nullopt) << "not in the database: unknown";
  h = judge({"41.0.1.1"});
  EXPECT_EQ(h.addresses["41.0.1.1"], "no_as") << "AS0 is no AS";
  EXPECT_EQ(h.consistent, std::nullopt);
  EXPECT_EQ(judge({"31.13.24.7", "193.0.14.129"}).consistent, std::nullopt)
      << "one right answer and one unknown: not every answer is known to be right";
  EXPECT_EQ(judge({"193.0.14.129", "45.33.2.1"}).consistent, false) << "another AS";
  h = judge({"193.0.14.129", "10.10.34.35"});
  EXPECT_EQ(h.addresses["10.10.34.35"], "bogon");
  EXPECT_EQ(h.consistent, false) << "a private answer is still forged";
  EXPECT_EQ(judge({"2001::1"}).consistent, false) << "Teredo, the GFW's IPv6 answers";

  std::vector<DnsQuery> unknown = lookup({"193.0.14.129", "41.0.1.1"});
  Json keys = Json::object();
  AddDnsConsistency(keys, CheckDnsConsistency(unknown, {32934}, context));
  EXPECT_FALSE(HasInconsistentDns(keys));
  EXPECT_EQ(keys["x_failures"], Json::array());
}

TEST(StepFailure, HostNamesFoldIntoRuns) {
  EXPECT_EQ(CompressHostNames({"e3.whatsapp.net", "e1.whatsapp.net", "e2.whatsapp.net"}),
            "e1-e3.whatsapp.net");
  EXPECT_EQ(CompressHostNames({"e1.whatsapp.net", "e2.whatsapp.net", "e5.whatsapp.net"}),
            "e1-e2,e5.whatsapp.net");
  EXPECT_EQ(CompressHostNames({"web.whatsapp.com", "149.154.175.50", "2001:b28:f23d:f001::a"}),
            "149.154.175.50,[2001:b28:f23d:f001::a],web.whatsapp.com");
}

TEST(StepFailure, SummaryNamesLayerAndEvidence) {
  std::vector<StepFailure> failures;
  for (int i = 1; i <= 16; ++i) {
    for (uint16_t port : {443, 5222}) {
      failures.push_back(
          {"e" + std::to_string(i) + ".whatsapp.net", port, "connect", "connection_reset"});
    }
  }
  failures.push_back({"web.whatsapp.com", 443, "tls_handshake", "connection_reset"});
  RunSummary s = SummarizeFailures("WhatsApp", RunVerdict::kBlocked, failures);
  EXPECT_EQ(s.service, "WhatsApp");
  EXPECT_EQ(s.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(s.blocking, "tcp_ip");
  EXPECT_EQ(s.evidence,
            "e1-e16.whatsapp.net:443/5222 connect connection_reset; "
            "web.whatsapp.com:443 tls_handshake connection_reset");

  RunSummary ok = SummarizeFailures("WhatsApp", RunVerdict::kOk, {});
  EXPECT_EQ(ok.blocking, "");
  EXPECT_EQ(ok.evidence, "");
}

TEST(StepFailure, JsonRoundTrip) {
  StepFailure f{"chat.signal.org", 443, "tls_handshake", "ssl_unknown_authority"};
  auto back = StepFailuresFromJson(Json::array({ToJson(f), "junk", Json::object()}));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].host, f.host);
  EXPECT_EQ(back[0].port, f.port);
  EXPECT_EQ(back[0].operation, f.operation);
  EXPECT_EQ(back[0].failure, f.failure);
  EXPECT_EQ(BlockingTypeOf("resolve"), "dns");
  EXPECT_EQ(BlockingTypeOf("connect"), "tcp_ip");
  EXPECT_EQ(BlockingTypeOf("tls_handshake"), "tls");
  EXPECT_EQ(BlockingTypeOf("http_round_trip"), "http-failure");
}

TEST(Registry, ExplicitListAndGroups) {
  std::vector<std::string> names;
  for (const auto& e : MakeExperiments()) {
    names.emplace_back(e->name());
    // These measure an input (a URL, a resolver, an SNI, a STUN server); the rest know
    // their targets.
    // wechat_posts measures the articles of its lists when given none (none shipped).
    const std::set<std::string> with_input = {
        "censor_hop",       "dnscheck",         "residual_blocking", "sni_blocking",
        "stunreachability", "web_connectivity", "wechat_posts"};
    // messaging measures the service its input names, or every service; delivery the
    // keyword its input names, or every keyword; dns_injection the name, or one per service.
    const bool optional =
        e->name() == "messaging" || e->name() == "delivery" || e->name() == "dns_injection";
    EXPECT_EQ(e->input_policy(), with_input.contains(std::string(e->name()))
                                     ? Experiment::InputPolicy::kRequired
                                 : optional ? Experiment::InputPolicy::kOptional
                                            : Experiment::InputPolicy::kNone)
        << e->name();
    EXPECT_FALSE(e->version().empty());
  }
  for (const auto& name : ExperimentGroup("im")) {
    auto e = MakeExperiment(name);
    ASSERT_NE(e, nullptr) << name;
    EXPECT_EQ(e->name(), name);
  }
  EXPECT_EQ(ExperimentGroup("im"),
            (std::vector<std::string>{"facebook_messenger", "messaging", "signal", "telegram",
                                      "wechat", "whatsapp"}));
  EXPECT_EQ(ExperimentGroup("websites"), std::vector<std::string>{"web_connectivity"});
  EXPECT_EQ(ExperimentGroup("all"), names);
  EXPECT_TRUE(ExperimentGroup("nonsense").empty());
  EXPECT_EQ(MakeExperiment("nonsense"), nullptr);
  // OONI's other spelling names the same experiment.
  auto stun = MakeExperiment("stun_reachability");
  ASSERT_NE(stun, nullptr);
  EXPECT_EQ(stun->name(), "stunreachability");
}

TEST(Registry, EachDescriptorSaysWhatItsExperimentIs) {
  const ExperimentCatalog& catalog = ExperimentCatalog::Builtin();
  ASSERT_EQ(MakeExperiments().size(), catalog.descriptors().size());
  for (const auto& d : catalog.descriptors()) {
    auto e = MakeExperiment(d.name);
    ASSERT_NE(e, nullptr) << d.name;
    EXPECT_EQ(e->name(), d.name);
    EXPECT_EQ(e->version(), d.version) << d.name;
    EXPECT_EQ(e->input_policy(), d.input_policy) << d.name;
  }
  // experiments.def keeps name order, which `vigil run all` and the groups follow.
  std::vector<std::string> names;
  for (const auto& d : catalog.descriptors()) names.push_back(d.name);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(catalog.CanonicalName("stun_reachability"), "stunreachability");
  EXPECT_EQ(catalog.CanonicalName("ndt"), "ndt");
  EXPECT_EQ(catalog.GroupNames(), (std::vector<std::string>{"im", "websites", "all"}));
}

TEST(ResidualBlock, ARefusedConnectIsTheResidualBlockOfAnEarlierResetOnlyAtTheSameAddressPort) {
  Measurement reset;
  TlsHandshake h;
  h.address = "192.0.2.1:443";
  h.failure = "connection_reset";
  reset.test_keys.tls_handshakes.push_back(h);
  auto refused_at = [](const std::string& ip, int64_t port) {
    Measurement m;
    TcpConnect c;
    c.ip = ip;
    c.port = port;
    c.status.failure = "connection_refused";
    m.test_keys.tcp_connect.push_back(c);
    return m;
  };
  std::vector<RunSummary> summaries = {{"a", RunVerdict::kBlocked, "tls", "reset"},
                                       {"b", RunVerdict::kBlocked, "tcp_ip", "refused"},
                                       {"c", RunVerdict::kBlocked, "tcp_ip", "refused"}};
  const std::vector<ConnectionResets> resets = {
      CollectConnectionResets(reset), CollectConnectionResets(refused_at("192.0.2.1", 443)),
      CollectConnectionResets(refused_at("192.0.2.1", 80))};
  AttributeResidualBlocking(summaries, resets);
  EXPECT_EQ(summaries[0].blocking, "tls");
  EXPECT_EQ(summaries[1].blocking, "tls");
  EXPECT_NE(summaries[1].evidence.find("residual block"), std::string::npos);
  EXPECT_EQ(summaries[2].blocking, "tcp_ip");
  EXPECT_EQ(summaries[2].evidence, "refused");

  // A reset handshake that followed a sweep's connect (x_tls_handshakes) is one too.
  Measurement swept;
  swept.test_keys.extra["x_tls_handshakes"] =
      Json::array({{{"address", "192.0.2.9:443"}, {"failure", "connection_reset"}},
                   {{"address", "192.0.2.10:443"}, {"failure", nullptr}}});
  summaries = {{"d", RunVerdict::kBlocked, "tls", "reset"},
               {"e", RunVerdict::kBlocked, "tcp_ip", "refused"},
               {"f", RunVerdict::kBlocked, "tcp_ip", "refused"}};
  AttributeResidualBlocking(summaries, {CollectConnectionResets(swept),
                                        CollectConnectionResets(refused_at("192.0.2.9", 443)),
                                        CollectConnectionResets(refused_at("192.0.2.10", 443))});
  EXPECT_EQ(summaries[1].blocking, "tls");
  EXPECT_EQ(summaries[2].blocking, "tcp_ip");
}

TEST(PortOutcomes, AnIpv6AddressWithoutARouteIsNotMeasured) {
  const std::map<std::string, std::vector<uint16_t>> requested = {{"dual.example", {443, 5222}},
                                                                  {"v6only.example", {443}}};
  const std::vector<SweepLookup> lookups = {{"dual.example", {"192.0.2.1", "2001:db8::1"}, ""},
                                            {"v6only.example", {"2001:db8::2"}, ""}};
  const std::vector<SweepConnect> connects = {
      // IPv6 tried first and unroutable here; IPv4 blocked: the IPv4 failure is the one.
      {"dual.example", "2001:db8::1", 443, "network_unreachable"},
      {"dual.example", "192.0.2.1", 443, "generic_timeout_error"},
      {"dual.example", "192.0.2.1", 5222, ""},
      {"dual.example", "2001:db8::1", 5222, "network_unreachable"},
      {"v6only.example", "2001:db8::2", 443, "address_not_available"}};
  auto outcomes = ReducePortOutcomes(requested, lookups, connects);
  const PortOutcome& blocked = outcomes["dual.example"][443];
  EXPECT_FALSE(blocked.ok);
  EXPECT_FALSE(blocked.no_ipv6);
  EXPECT_EQ(blocked.failure, "generic_timeout_error");
  EXPECT_TRUE(outcomes["dual.example"][5222].ok);
  const PortOutcome& unmeasured = outcomes["v6only.example"][443];
  EXPECT_FALSE(unmeasured.ok);
  EXPECT_TRUE(unmeasured.no_ipv6);
  EXPECT_EQ(unmeasured.failure, "address_not_available");

  Json status, failures;
  WritePortStatus(outcomes, &status, &failures);
  EXPECT_EQ(status["v6only.example"]["443"], "no_ipv6");
  EXPECT_EQ(status["dual.example"]["443"], "blocked");
  EXPECT_EQ(failures["v6only.example"]["443"], "address_not_available");
  const auto steps = FailuresOf(outcomes);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].host, "dual.example");
  EXPECT_EQ(steps[0].failure, "generic_timeout_error");
}

TEST(ServiceVerdict, SomeEndpointWorkingIsNeverBlocked) {
  EndpointTally none;
  EXPECT_FALSE(none.partial());
  EndpointTally tally;
  tally.Add("a.example", true);
  EXPECT_FALSE(tally.partial());
  tally.Add("b.example", false);
  EXPECT_TRUE(tally.partial());

  // A name whose answers lie did not work, whatever its later steps saw.
  EndpointTally forged({"a.example"});
  forged.Add("a.example", true);
  forged.Add("b.example", false);
  EXPECT_FALSE(forged.any_worked());
  EXPECT_FALSE(forged.partial());

  EXPECT_EQ(ServiceVerdict(Json{{"x_partial_blocking", true}}, true), RunVerdict::kAnomaly);
  EXPECT_EQ(ServiceVerdict(Json{{"x_partial_blocking", false}}, true), RunVerdict::kBlocked);
  EXPECT_EQ(ServiceVerdict(Json{{"x_partial_blocking", false}}, false), RunVerdict::kOk);
  EXPECT_EQ(ServiceVerdict(Json::object(), true), RunVerdict::kBlocked) << "OONI's own";
}

TEST(SniTriggerLog, OnlyTheSameAddressPortWithinTheResidualWindow) {
  SniTriggerLog log;
  const auto t0 = SniTriggerLog::Clock::now();
  log.Record({"blocked.example", "192.0.2.1:443", "connection_reset", t0});
  log.Record({"other.example", "192.0.2.1:443", "eof_error", t0 + std::chrono::seconds(10)});
  log.Record({"blocked.example", "192.0.2.1:8443", "connection_reset", t0});

  auto found = log.Before("192.0.2.1:443", t0 + std::chrono::seconds(20));
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].sni, "other.example") << "newest first";
  EXPECT_EQ(found[1].sni, "blocked.example");
  EXPECT_TRUE(log.Before("192.0.2.2:443", t0 + std::chrono::seconds(20)).empty());
  EXPECT_TRUE(log.Before("192.0.2.1:443", t0 - std::chrono::seconds(1)).empty())
      << "a trigger after the failure explains nothing";
  found = log.Before("192.0.2.1:443", t0 + kResidualBlockWindow + std::chrono::seconds(5));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].sni, "other.example");
  EXPECT_TRUE(
      log.Before("192.0.2.1:443", t0 + kResidualBlockWindow + std::chrono::seconds(11)).empty());
}

}  // namespace
}  // namespace vigil
