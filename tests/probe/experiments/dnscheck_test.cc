// dnscheck against a real unbound on loopback over UDP, TCP, DNS over TLS and DNS over
// HTTPS (unbound serves DoH over HTTP/2 only, so a real nginx fronts it with HTTP/1.1,
// as public DoH services do), with bootstrap through unbound; and against misbehaving
// listeners, a wrong CA, NXDOMAIN and a failed bootstrap: every failure lands in the
// lookup's record with the operation it stopped at, and the verdicts follow.
#include "probe/experiments/dnscheck/dnscheck.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "probe/experiments/registry.h"
#include "probe/measurement/measurement_json.h"
#include "tests/support/misbehaving_listeners.h"
#include "tests/support/nginx_server.h"
#include "tests/support/run_coroutine.h"
#include "tests/support/test_pki.h"
#include "tests/support/unbound_server.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using test_support::RunCoroutine;

constexpr char kDomain[] = "www.example.test";  // A 127.0.0.1, AAAA ::1

TEST(ResolverUrl, ParsesEverySchemeAndNamesTheLookupKey) {
  auto u = ParseResolverUrl("udp://1.2.3.4:53");
  ASSERT_TRUE(u.ok()) << u.error();
  EXPECT_EQ(u->scheme, "udp");
  EXPECT_EQ(u->WithAddress("1.2.3.4"), "udp://1.2.3.4:53");
  u = ParseResolverUrl("dot://dns.google");
  ASSERT_TRUE(u.ok()) << u.error();
  EXPECT_EQ(u->port, 853);
  EXPECT_EQ(u->WithAddress("2001:4860:4860::8888"), "dot://[2001:4860:4860::8888]:853");
  u = ParseResolverUrl("tcp://[2001:db8::1]");
  ASSERT_TRUE(u.ok()) << u.error();
  EXPECT_EQ(u->host, "2001:db8::1");
  EXPECT_EQ(u->port, 53);
  u = ParseResolverUrl("https://dns.google/dns-query");
  ASSERT_TRUE(u.ok()) << u.error();
  EXPECT_EQ(u->WithAddress("8.8.8.8"), "https://8.8.8.8/dns-query");
  u = ParseResolverUrl("https://dns.example:8443/q");
  ASSERT_TRUE(u.ok()) << u.error();
  EXPECT_EQ(u->WithAddress("::1"), "https://[::1]:8443/q");
  for (const char* bad :
       {"8.8.8.8", "ftp://x", "dot://", "udp://1.2.3.4:0", "dot://a/b", "dot://[::1", "https://"}) {
    EXPECT_FALSE(ParseResolverUrl(bad).ok()) << bad;
  }
}

TEST(DnscheckVerdict, OkBlockedAnomaly) {
  Json ok = {
      {"bootstrap_failure", nullptr},
      {"lookups", {{"a", {{"failure", "connection_reset"}}}, {"b", {{"failure", nullptr}}}}}};
  EXPECT_EQ(DnscheckVerdict(ok), RunVerdict::kOk);
  Json answered = {{"lookups", {{"a", {{"failure", "dns_nxdomain_error"}}}}}};
  EXPECT_EQ(DnscheckVerdict(answered), RunVerdict::kAnomaly);
  Json transport = {{"lookups",
                     {{"a", {{"failure", "dns_nxdomain_error"}}},
                      {"b", {{"failure", "generic_timeout_error"}}}}}};
  EXPECT_EQ(DnscheckVerdict(transport), RunVerdict::kBlocked);
  Json bootstrap = {{"bootstrap_failure", "dns_nxdomain_error"}, {"lookups", Json::object()}};
  EXPECT_EQ(DnscheckVerdict(bootstrap), RunVerdict::kBlocked);
}

TEST(DnscheckVerdict, ForgedAnswersAreNeverOk) {
  const Json forged = {{"status", "forged"}, {"addresses", {{"10.10.34.35", "bogon"}}}};
  // OONI's record says the lookup succeeded; ours says its answer is a bogon.
  Json k = {{"bootstrap_failure", nullptr},
            {"lookups", {{"udp://192.0.2.53:53", {{"failure", nullptr}}}}},
            {"x_lookup_status", {{"udp://192.0.2.53:53", forged}}}};
  EXPECT_EQ(DnscheckVerdict(k), RunVerdict::kBlocked);
  // Beside an honest answer from another of the resolver's addresses: an anomaly.
  k["lookups"]["udp://192.0.2.54:53"] = {{"failure", nullptr}};
  k["x_lookup_status"]["udp://192.0.2.54:53"] = "ok";
  EXPECT_EQ(DnscheckVerdict(k), RunVerdict::kAnomaly);
}

TEST(DnscheckVerdict, AnIpv6AddressWithoutARouteIsNotMeasured) {
  const std::string v4 = "dot://192.0.2.53:853", v6 = "dot://[2001:db8::53]:853";
  Json k = {
      {"bootstrap_failure", nullptr},
      {"lookups",
       {{v4, {{"failure", "dns_nxdomain_error"}}}, {v6, {{"failure", "network_unreachable"}}}}},
      {"x_lookup_status", {{v4, "failed"}, {v6, "no_ipv6"}}}};
  EXPECT_EQ(DnscheckVerdict(k), RunVerdict::kAnomaly) << "the IPv4 address answered";
  k["lookups"].erase(v4);
  EXPECT_EQ(DnscheckVerdict(k), RunVerdict::kError) << "nothing was measured";
}

TEST(DnscheckLookupStatus, BogonsAreForgedUnlessTheLabVouchesForThem) {
  ExperimentContext context;
  EXPECT_EQ(DnscheckLookupStatus({"93.184.215.14"}, "", "192.0.2.53", context), "ok");
  EXPECT_EQ(
      DnscheckLookupStatus({"93.184.215.14", "10.10.34.35", "2001::1"}, "", "192.0.2.53", context),
      (Json{{"status", "forged"},
            {"addresses", {{"10.10.34.35", "bogon"}, {"2001::1", "bogon"}}}}));
  context.extra_asn_addresses["AS64496"] = {"10.10.34.35"};
  EXPECT_EQ(DnscheckLookupStatus({"10.10.34.35"}, "", "192.0.2.53", context), "ok");
  EXPECT_EQ(DnscheckLookupStatus({}, "network_unreachable", "2001:db8::53", context), "no_ipv6");
  EXPECT_EQ(DnscheckLookupStatus({}, "network_unreachable", "192.0.2.53", context), "failed");
  EXPECT_EQ(DnscheckLookupStatus({}, "generic_timeout_error", "2001:db8::53", context), "failed");
}

class DnscheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = test_support::UnboundServer::Unavailable()) GTEST_SKIP() << *why;
    if (auto why = test_support::NginxServer::Unavailable()) GTEST_SKIP() << *why;
    test_support::UnboundOptions options;
    options.encrypted = true;
    options.extra_records = {"dns.example.test. 300 IN A 127.0.0.1",
                             "dns.example.test. 300 IN AAAA ::1"};
    unbound_ = std::make_unique<test_support::UnboundServer>(options);
    ASSERT_TRUE(unbound_->ok()) << unbound_->error();
    context_.resolver = *ParseResolverSpec("udp://" + unbound_->address());
    context_.ca_file = test_support::TestPki::Get().ca_file();
    context_.timeout = 2000ms;
    // kDomain's loopback answers stand in for a public name's, as the lab's endpoints
    // file says of its stand-ins: not forged.
    context_.extra_asn_addresses["AS64496"] = {"127.0.0.1", "::1"};
  }

  Result<Measurement> Run(const std::string& resolver, const std::string& domain = kDomain) {
    const Json input = {{"input", resolver}, {"domain", domain}};
    auto result = RunCoroutine<std::optional<Result<Measurement>>>(
        [&](asio::io_context& io) -> asio::awaitable<std::optional<Result<Measurement>>> {
          ExperimentContext context = context_;
          context.executor = io.get_executor();
          auto e = MakeExperiment("dnscheck");
          if (!e) co_return Error{"dnscheck is not registered"};
          co_return co_await e->Run(context, input);
        });
    return std::move(*result);
  }

  // The measurement as JSON, after checking that it reads back.
  Json RunToJson(const std::string& resolver, const std::string& domain = kDomain) {
    auto m = Run(resolver, domain);
    EXPECT_TRUE(m.ok()) << m.error();
    if (!m.ok()) return Json();
    last_ = *m;
    Json j = ToJson(*m);
    EXPECT_TRUE(ParseMeasurement(j.dump()).ok());
    EXPECT_EQ(j["test_name"], "dnscheck");
    EXPECT_EQ(j["input"], resolver);
    EXPECT_EQ(j["test_keys"]["domain"], domain);
    return j;
  }

  RunSummary Summary() { return MakeExperiment("dnscheck")->Summarize(last_); }

  std::string Port(uint16_t port) { return std::to_string(port); }

  std::unique_ptr<test_support::UnboundServer> unbound_;
  ExperimentContext context_;
  Measurement last_;
};

// The addresses of all answers of a lookup's queries.
std::vector<std::string> Answers(const Json& lookup) {
  std::vector<std::string> out;
  for (const auto& q : lookup["queries"]) {
    for (const auto& a : q["answers"]) {
      if (a.contains("ipv4")) out.push_back(a["ipv4"]);
      if (a.contains("ipv6")) out.push_back(a["ipv6"]);
    }
  }
  return out;
}

TEST_F(DnscheckTest, UdpAndTcpResolvers) {
  for (const std::string scheme : {"udp", "tcp"}) {
    const std::string input = scheme + "://" + unbound_->address();
    Json j = RunToJson(input);
    const Json& k = j["test_keys"];
    EXPECT_TRUE(k["bootstrap"].is_null());
    EXPECT_TRUE(k["bootstrap_failure"].is_null());
    ASSERT_EQ(k["lookups"].size(), 1u) << k.dump();
    const Json& lookup = k["lookups"][input];
    EXPECT_TRUE(lookup["failure"].is_null()) << lookup["failure"];
    EXPECT_EQ(Answers(lookup), (std::vector<std::string>{"127.0.0.1", "::1"}));
    ASSERT_EQ(lookup["queries"].size(), 2u);
    EXPECT_EQ(lookup["queries"][0]["engine"], scheme);
    EXPECT_EQ(Summary().verdict, RunVerdict::kOk);
  }
}

TEST_F(DnscheckTest, DotToAnIpLiteral) {
  const std::string input = "dot://127.0.0.1:" + Port(unbound_->tls_port());
  Json j = RunToJson(input);
  const Json& lookup = j["test_keys"]["lookups"][input];
  EXPECT_TRUE(lookup["failure"].is_null()) << lookup.dump(1);
  EXPECT_TRUE(lookup["failed_operation"].is_null());
  EXPECT_EQ(Answers(lookup), (std::vector<std::string>{"127.0.0.1", "::1"}));
  ASSERT_EQ(lookup["queries"].size(), 2u);
  for (const auto& q : lookup["queries"]) {
    EXPECT_EQ(q["engine"], "dot");
    EXPECT_EQ(q["resolver_address"], "127.0.0.1:" + Port(unbound_->tls_port()));
    EXPECT_EQ(q["rcode"], 0);
    EXPECT_TRUE(q["raw_response"].is_string());
  }
  // One connection carries both queries.
  ASSERT_EQ(lookup["tcp_connect"].size(), 1u);
  ASSERT_EQ(lookup["tls_handshakes"].size(), 1u);
  EXPECT_TRUE(lookup["tls_handshakes"][0]["failure"].is_null());
  EXPECT_FALSE(lookup["tls_handshakes"][0]["peer_certificates"].empty());
  int writes = 0, reads = 0;
  for (const auto& e : lookup["network_events"]) {
    writes += e["operation"] == "write";
    reads += e["operation"] == "read";
  }
  EXPECT_EQ(writes, 2);
  EXPECT_EQ(reads, 4);  // length prefix, then message, twice
  EXPECT_EQ(Summary().verdict, RunVerdict::kOk);
}

TEST_F(DnscheckTest, DotByNameBootstrapsEveryAddress) {
  const std::string port = Port(unbound_->tls_port());
  Json j = RunToJson("dot://dns.example.test:" + port);
  const Json& k = j["test_keys"];
  ASSERT_TRUE(k["bootstrap"].is_object());
  EXPECT_TRUE(k["bootstrap_failure"].is_null());
  ASSERT_EQ(k["bootstrap"]["queries"].size(), 2u);
  EXPECT_EQ(k["bootstrap"]["queries"][0]["hostname"], "dns.example.test");
  ASSERT_EQ(k["lookups"].size(), 2u) << k["lookups"].dump();
  const Json& v4 = k["lookups"]["dot://127.0.0.1:" + port];
  EXPECT_TRUE(v4["failure"].is_null()) << v4["failure"];
  EXPECT_EQ(v4["tls_handshakes"][0]["server_name"], "dns.example.test");
  // unbound listens on 127.0.0.1 only: the IPv6 address fails, and is recorded as such.
  const Json& v6 = k["lookups"]["dot://[::1]:" + port];
  EXPECT_TRUE(v6["failure"].is_string());
  EXPECT_EQ(v6["failed_operation"], "connect");
  EXPECT_EQ(Summary().verdict, RunVerdict::kOk);
  EXPECT_NE(Summary().evidence.find("connect"), std::string::npos) << Summary().evidence;
}

TEST_F(DnscheckTest, DohThroughAnHttp1Front) {
  test_support::NginxOptions options;
  options.dns_query_upstream_port = unbound_->https_port();
  test_support::NginxServer nginx(options);
  ASSERT_TRUE(nginx.ok()) << nginx.error();
  const std::string port = Port(nginx.https_port(test_support::TestPki::Kind::kValid));
  const std::string input = "https://dns.example.test:" + port + "/dns-query";
  Json j = RunToJson(input);
  const Json& k = j["test_keys"];
  const Json& v4 = k["lookups"]["https://127.0.0.1:" + port + "/dns-query"];
  ASSERT_TRUE(v4.is_object()) << k["lookups"].dump();
  EXPECT_TRUE(v4["failure"].is_null()) << v4.dump(1);
  EXPECT_EQ(Answers(v4), (std::vector<std::string>{"127.0.0.1", "::1"}));
  ASSERT_EQ(v4["requests"].size(), 2u);
  for (const auto& r : v4["requests"]) {
    EXPECT_EQ(r["request"]["method"], "POST");
    EXPECT_EQ(r["request"]["url"], input);
    EXPECT_EQ(r["request"]["headers"]["Content-Type"], "application/dns-message");
    EXPECT_EQ(r["response"]["code"], 200);
    EXPECT_EQ(r["address"], "127.0.0.1:" + port);
  }
  for (const auto& q : v4["queries"]) {
    EXPECT_EQ(q["engine"], "doh");
    EXPECT_EQ(q["resolver_address"], input);
  }
  EXPECT_EQ(v4["tls_handshakes"][0]["server_name"], "dns.example.test");
  EXPECT_EQ(Summary().verdict, RunVerdict::kOk);
}

TEST_F(DnscheckTest, DohServerSpeakingOnlyHttp2FailsOnRecord) {
  const std::string input = "https://127.0.0.1:" + Port(unbound_->https_port()) + "/dns-query";
  Json j = RunToJson(input);
  const Json& lookup = j["test_keys"]["lookups"][input];
  EXPECT_TRUE(lookup["failure"].is_string()) << lookup.dump(1);
  EXPECT_TRUE(lookup["failed_operation"].is_string());
  EXPECT_EQ(lookup["requests"].size(), 2u);
  EXPECT_NE(Summary().verdict, RunVerdict::kOk);
}

TEST_F(DnscheckTest, LoopbackAnswersForAPublicNameAreForged) {
  context_.extra_asn_addresses.clear();
  const std::string input = "udp://" + unbound_->address();
  Json j = RunToJson(input);
  auto s = Summary();
  EXPECT_EQ(s.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(s.blocking, "dns");
  EXPECT_NE(s.evidence.find("resolve dns_bogon_error"), std::string::npos) << s.evidence;
  const Json& k = j["test_keys"];
  EXPECT_TRUE(k["lookups"][input]["failure"].is_null()) << "OONI's record is untouched";
  EXPECT_EQ(
      k.value("x_lookup_status", Json::object()).value(input, Json()),
      (Json{{"status", "forged"}, {"addresses", {{"127.0.0.1", "bogon"}, {"::1", "bogon"}}}}));
}

TEST_F(DnscheckTest, NxdomainIsAnAnomalyNotABlock) {
  const std::string input = "dot://127.0.0.1:" + Port(unbound_->tls_port());
  Json j = RunToJson(input, "nx.example.test");
  const Json& lookup = j["test_keys"]["lookups"][input];
  EXPECT_EQ(lookup["failure"], "dns_nxdomain_error");
  EXPECT_EQ(lookup["failed_operation"], "resolve");
  EXPECT_EQ(lookup["queries"][0]["rcode"], 3);
  EXPECT_EQ(Summary().verdict, RunVerdict::kAnomaly);
}

TEST_F(DnscheckTest, FailedBootstrapIsRecorded) {
  Json j = RunToJson("dot://nx.example.test:853");
  const Json& k = j["test_keys"];
  EXPECT_EQ(k["bootstrap_failure"], "dns_nxdomain_error");
  EXPECT_EQ(k["bootstrap"]["failure"], "dns_nxdomain_error");
  EXPECT_EQ(k["bootstrap"]["failed_operation"], "resolve");
  EXPECT_TRUE(k["lookups"].empty());
  auto s = Summary();
  EXPECT_EQ(s.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(s.blocking, "dns");
}

TEST_F(DnscheckTest, UntrustedCertificateFailsTheHandshake) {
  context_.ca_file = "";  // the system store does not know the test CA
  const std::string input = "dot://127.0.0.1:" + Port(unbound_->tls_port());
  Json j = RunToJson(input);
  const Json& lookup = j["test_keys"]["lookups"][input];
  EXPECT_EQ(lookup["failure"], "ssl_unknown_authority");
  EXPECT_EQ(lookup["failed_operation"], "tls_handshake");
  EXPECT_EQ(lookup["queries"].size(), 2u);
  for (const auto& q : lookup["queries"]) EXPECT_EQ(q["failure"], "ssl_unknown_authority");
  auto s = Summary();
  EXPECT_EQ(s.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(s.blocking, "tls");
}

TEST_F(DnscheckTest, InterferedTransportsAreBlocked) {
  test_support::MisbehavingListeners listeners;
  ASSERT_TRUE(listeners.ok()) << listeners.error();
  struct Case {
    uint16_t port;
    std::string failure;
    std::string operation;
    std::string blocking;
  };
  const std::vector<Case> cases = {
      {listeners.refused_port(), "connection_refused", "connect", "tcp_ip"},
      {listeners.reset_port(), "connection_reset", "tls_handshake", "tls"},
      {listeners.eof_port(), "eof_error", "tls_handshake", "tls"},
      {listeners.silent_port(), "generic_timeout_error", "tls_handshake", "tls"},
  };
  context_.timeout = 500ms;
  for (const auto& c : cases) {
    const std::string input = "dot://127.0.0.1:" + Port(c.port);
    Json j = RunToJson(input);
    const Json& lookup = j["test_keys"]["lookups"][input];
    EXPECT_EQ(lookup["failure"], c.failure) << input;
    EXPECT_EQ(lookup["failed_operation"], c.operation) << input;
    auto s = Summary();
    EXPECT_EQ(s.verdict, RunVerdict::kBlocked) << input;
    EXPECT_EQ(s.blocking, c.blocking) << input;
  }
  // DoH to a listener that answers garbage: the round trip fails, on record.
  const std::string doh = "https://127.0.0.1:" + Port(listeners.http_garbage_port()) + "/dns-query";
  Json j = RunToJson(doh);
  EXPECT_TRUE(j["test_keys"]["lookups"][doh]["failure"].is_string());
  EXPECT_EQ(Summary().verdict, RunVerdict::kBlocked);
}

TEST_F(DnscheckTest, BadInputsAreErrors) {
  EXPECT_FALSE(Run("quic://1.2.3.4").ok());
  EXPECT_FALSE(Run("udp://" + unbound_->address(), "bad..name").ok());
}

TEST_F(DnscheckTest, CarriesOonisKeys) {
  const std::string path = test_support::ReferenceDir() + "/ooni-measurements/dnscheck.jsonl";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no reference measurement at " << path;
  std::ifstream in(path);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const Json ref = Json::parse(line)["test_keys"];
  Json ours = RunToJson("dot://dns.example.test:" + Port(unbound_->tls_port()))["test_keys"];
  for (const auto& [key, value] : ref.items()) {
    ASSERT_TRUE(ours.contains(key)) << key;
    if (!value.is_null()) {
      EXPECT_EQ(ours[key].type(), value.type()) << key;
    }
  }
  // Each lookup has a urlgetter result's keys.
  const Json& ref_lookup = ref["lookups"].begin().value();
  for (const auto& [name, lookup] : ours["lookups"].items()) {
    for (const auto& [key, value] : ref_lookup.items()) {
      EXPECT_TRUE(lookup.contains(key)) << name << " lacks " << key;
    }
  }
}

}  // namespace
}  // namespace vigil
