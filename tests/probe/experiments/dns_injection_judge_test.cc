// The dns_injection experiment's judgement on crafted replies: what proves injection
// (replies beyond the queries sent, an answer from the sink, a known forged address),
// and the cases that must not: one genuine reply, a retransmission answered twice, a
// resolver that timed out, malformed datagrams. Also the forged-address pool's reader.
#include "probe/experiments/dns_injection/dns_injection_judge.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "probe/experiments/dns_injection/forged_address_pool.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

constexpr uint16_t kId = 0x1234;
constexpr const char* kName = "web.whatsapp.com";
constexpr const char* kResolver = "198.18.20.53:53";
constexpr const char* kSink = "198.18.30.2:53";

void Put16(std::string& s, uint16_t v) {
  s.push_back(static_cast<char>(v >> 8));
  s.push_back(static_cast<char>(v & 0xff));
}

// A response to `name` (type `qtype`) with `id`, `flags` and one A or AAAA answer per
// address, each with `ttl`.
std::string Reply(std::vector<std::string> addresses, uint16_t id = kId, uint32_t ttl = 300,
                  uint16_t flags = 0x8180, std::string name = kName, uint16_t qtype = 1) {
  std::string m;
  Put16(m, id);
  Put16(m, flags);
  Put16(m, 1);
  Put16(m, static_cast<uint16_t>(addresses.size()));
  Put16(m, 0);
  Put16(m, 0);
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    m.push_back(static_cast<char>(dot - start));
    m += name.substr(start, dot - start);
    start = dot + 1;
  }
  m.push_back(0);
  Put16(m, qtype);
  Put16(m, 1);
  for (const auto& a : addresses) {
    const bool v6 = a.find(':') != std::string::npos;
    m += "\xc0\x0c";
    Put16(m, v6 ? 28 : 1);
    Put16(m, 1);
    Put16(m, static_cast<uint16_t>(ttl >> 16));
    Put16(m, static_cast<uint16_t>(ttl & 0xffff));
    Put16(m, v6 ? 16 : 4);
    unsigned char bytes[16];
    inet_pton(v6 ? AF_INET6 : AF_INET, a.c_str(), bytes);
    m.append(reinterpret_cast<char*>(bytes), v6 ? 16 : 4);
  }
  return m;
}

DnsDatagram From(const std::string& source, double t, std::string payload, int ttl = 60) {
  return {t, source, ttl, std::move(payload)};
}

DnsProbeObservation Probe(DnsProbeKind kind, std::string address,
                          std::vector<DnsDatagram> datagrams, int queries_sent = 1) {
  DnsProbeObservation p;
  p.kind = kind;
  p.address = std::move(address);
  p.hostname = kName;
  p.id = kId;
  p.queries_sent = queries_sent;
  p.datagrams = std::move(datagrams);
  if (p.datagrams.empty()) p.failure = "generic_timeout_error";
  return p;
}

DnsProbeObservation SilentSink(std::string failure = "generic_timeout_error") {
  DnsProbeObservation p = Probe(DnsProbeKind::kSink, kSink, {});
  p.failure = std::move(failure);
  return p;
}

ForgedAddressPool LabPool() {
  ForgedAddressPool pool;
  EXPECT_TRUE(pool.Add("198.18.240.0/24").ok());
  return pool;
}

DnsNameJudgement JudgeName(const std::vector<DnsProbeObservation>& probes,
                           const ForgedAddressPool& pool) {
  std::vector<DnsProbeJudgement> judgements;
  for (const auto& p : probes) judgements.push_back(JudgeDnsProbe(p, pool));
  return JudgeDnsName(probes, judgements);
}

TEST(DnsInjectionJudge, OneGenuineReplyAndASilentSinkAreClean) {
  const auto pool = LabPool();
  const auto resolver =
      Probe(DnsProbeKind::kResolver, kResolver, {From(kResolver, 0.01, Reply({"198.18.71.3"}))});
  const DnsProbeJudgement j = JudgeDnsProbe(resolver, pool);
  EXPECT_TRUE(j.flags.empty());
  EXPECT_EQ(j.answering, 1);
  ASSERT_EQ(j.replies.size(), 1u);
  EXPECT_TRUE(j.replies[0].accepted);
  EXPECT_TRUE(j.forged_addresses.empty());
  const auto name = JudgeName({SilentSink(), resolver}, pool);
  EXPECT_EQ(name.verdict, DnsNameVerdict::kClean);
  // ICMP port unreachable from the sink is silence too.
  EXPECT_EQ(JudgeName({SilentSink("connection_refused"), resolver}, pool).verdict,
            DnsNameVerdict::kClean);
}

TEST(DnsInjectionJudge, AResolverThatTimedOutIsInconclusiveNotInjected) {
  const auto pool = LabPool();
  const auto name =
      JudgeName({SilentSink(), Probe(DnsProbeKind::kResolver, kResolver, {}, 2)}, pool);
  EXPECT_EQ(name.verdict, DnsNameVerdict::kInconclusive);
  ASSERT_EQ(name.reasons.size(), 1u);
  EXPECT_NE(name.reasons[0].find("generic_timeout_error"), std::string::npos) << name.reasons[0];
}

TEST(DnsInjectionJudge, ARetransmissionAnsweredTwiceIsNotMultipleAnswers) {
  const auto pool = LabPool();
  // The same answers, the second with a TTL a second older.
  const auto resolver = Probe(DnsProbeKind::kResolver, kResolver,
                              {From(kResolver, 5.1, Reply({"198.18.71.3"}, kId, 300)),
                               From(kResolver, 5.2, Reply({"198.18.71.3"}, kId, 299))},
                              2);
  const DnsProbeJudgement j = JudgeDnsProbe(resolver, pool);
  EXPECT_EQ(j.answering, 2);
  EXPECT_TRUE(j.flags.empty());
  EXPECT_EQ(JudgeName({SilentSink(), resolver}, pool).verdict, DnsNameVerdict::kClean);
}

TEST(DnsInjectionJudge, ADuplicatedDatagramCountsOnce) {
  const auto pool = LabPool();
  const std::string reply = Reply({"198.18.71.3"});
  const auto resolver = Probe(DnsProbeKind::kResolver, kResolver,
                              {From(kResolver, 0.01, reply), From(kResolver, 0.011, reply)});
  const DnsProbeJudgement j = JudgeDnsProbe(resolver, pool);
  EXPECT_EQ(j.answering, 1);
  EXPECT_TRUE(j.flags.empty());
  EXPECT_EQ(j.replies.size(), 2u) << "both recorded";
}

TEST(DnsInjectionJudge, MalformedRepliesAreRecordedAndProveNothing) {
  const auto pool = LabPool();
  const std::string good = Reply({"198.18.71.3"});
  const auto resolver =
      Probe(DnsProbeKind::kResolver, kResolver,
            {From(kResolver, 0.01, good.substr(0, good.size() - 3)),  // truncated answer
             From(kResolver, 0.02, std::string("\x12\x34\x81", 3)),   // shorter than a header
             From(kResolver, 0.03, std::string(64, '\xff')),          // garbage
             From(kResolver, 0.04, good)});
  const DnsProbeJudgement j = JudgeDnsProbe(resolver, pool);
  ASSERT_EQ(j.replies.size(), 4u);
  EXPECT_FALSE(j.replies[0].message.has_value());
  EXPECT_FALSE(j.replies[0].parse_error.empty());
  EXPECT_FALSE(j.replies[1].message.has_value());
  EXPECT_FALSE(j.replies[0].accepted);
  EXPECT_TRUE(j.replies[3].accepted) << "the first reply that parses and answers the query";
  EXPECT_EQ(j.answering, 1);
  EXPECT_TRUE(j.flags.empty());
  const auto name = JudgeName({SilentSink(), resolver}, pool);
  EXPECT_EQ(name.verdict, DnsNameVerdict::kInconclusive);
  const Json json = DnsProbeJson(resolver, j);
  EXPECT_TRUE(json["replies"][0]["rcode"].is_null());
  EXPECT_TRUE(json["replies"][0].contains("x_parse_error"));
  EXPECT_EQ(json["replies"][3]["rcode"], "noerror");
}

TEST(DnsInjectionJudge, RepliesToAnotherIdOrQuestionCountForNothing) {
  const auto pool = LabPool();
  const auto resolver =
      Probe(DnsProbeKind::kResolver, kResolver,
            {From(kResolver, 0.01, Reply({"198.18.240.1"}, kId + 1)),
             From(kResolver, 0.02, Reply({"198.18.240.2"}, kId, 300, 0x8180, "other.example")),
             From(kResolver, 0.03, Reply({"198.18.71.3"}))});
  const DnsProbeJudgement j = JudgeDnsProbe(resolver, pool);
  EXPECT_EQ(j.answering, 1);
  EXPECT_TRUE(j.flags.empty()) << "not our query: not even a known forged address counts";
  EXPECT_TRUE(j.replies[2].accepted);
}

TEST(DnsInjectionJudge, ForgedRepliesRacingTheGenuineOneAreInjection) {
  const auto pool = LabPool();
  const auto resolver = Probe(DnsProbeKind::kResolver, kResolver,
                              {From(kResolver, 0.010, Reply({"198.18.240.3"}, kId, 173), 64),
                               From(kResolver, 0.011, Reply({"198.18.240.5"}, kId, 173), 64),
                               From(kResolver, 0.320, Reply({"198.18.71.3"}, kId, 300), 61)});
  const DnsProbeJudgement j = JudgeDnsProbe(resolver, pool);
  EXPECT_EQ(j.flags, (std::vector<std::string>{"multiple_answers", "known_forged_ip"}));
  EXPECT_EQ(j.forged_addresses, (std::vector<std::string>{"198.18.240.3", "198.18.240.5"}));
  EXPECT_TRUE(j.replies[0].accepted) << "a stub resolver takes the forged one";
  EXPECT_NE(j.reason.find("3 replies to 1 query within 0.31 s"), std::string::npos) << j.reason;
  const auto name = JudgeName({SilentSink(), resolver}, pool);
  EXPECT_EQ(name.verdict, DnsNameVerdict::kInjected);
  const Json entry = DnsInjectionEntry(resolver, j, 7);
  EXPECT_EQ(entry["layer"], "dns");
  EXPECT_EQ(entry["technique"], "dns_injection");
  EXPECT_EQ(entry["injector"], "");
  EXPECT_EQ(entry["address"], kResolver);
  EXPECT_EQ(entry["hostname"], kName);
  EXPECT_EQ(entry["transaction_id"], 7);
  const Json json = DnsProbeJson(resolver, j);
  EXPECT_EQ(json["kind"], "resolver");
  EXPECT_EQ(json["replies"][0]["ip_ttl"], 64);
  EXPECT_TRUE(json["replies"][0]["ip_id"].is_null());
  EXPECT_EQ(json["replies"][0]["dns_flags"], "0x8180");
  EXPECT_EQ(json["replies"][0]["answers"][0]["ipv4"], "198.18.240.3");
  EXPECT_EQ(json["replies"][0]["answers"][0]["ttl"], 173);
  EXPECT_TRUE(json["failure"].is_null());
}

TEST(DnsInjectionJudge, ForgedRepliesAfterTheGenuineOneAreInjectionToo) {
  const auto pool = LabPool();
  const auto resolver = Probe(DnsProbeKind::kResolver, kResolver,
                              {From(kResolver, 0.002, Reply({"198.18.71.3"})),
                               From(kResolver, 0.302, Reply({"198.18.240.4"}, kId, 60, 0x8180)),
                               From(kResolver, 0.303, Reply({"198.18.240.6"}, kId, 173, 0x8580)),
                               From(kResolver, 0.322, Reply({"198.18.240.7"}, kId, 300, 0x8400))});
  const DnsProbeJudgement j = JudgeDnsProbe(resolver, pool);
  EXPECT_TRUE(j.replies[0].accepted);
  EXPECT_EQ(j.flags, (std::vector<std::string>{"multiple_answers", "known_forged_ip"}));
  EXPECT_EQ(j.forged_addresses.size(), 3u);
}

TEST(DnsInjectionJudge, ManyRepliesWithoutAKnownForgedAddressStillProveInjection) {
  const ForgedAddressPool empty;
  const auto resolver = Probe(DnsProbeKind::kResolver, kResolver,
                              {From(kResolver, 0.01, Reply({"203.0.113.9"})),
                               From(kResolver, 0.05, Reply({"198.18.71.3"}))});
  const DnsProbeJudgement j = JudgeDnsProbe(resolver, empty);
  EXPECT_EQ(j.flags, std::vector<std::string>{"multiple_answers"});
  EXPECT_TRUE(j.forged_addresses.empty()) << "which of the two is forged is not known";
}

TEST(DnsInjectionJudge, AnAnswerFromTheSinkIsAnswerFromNonResolver) {
  const auto pool = LabPool();
  const auto sink = Probe(DnsProbeKind::kSink, kSink, {From(kSink, 0.01, Reply({"203.0.113.7"}))});
  const DnsProbeJudgement j = JudgeDnsProbe(sink, pool);
  EXPECT_EQ(j.flags, std::vector<std::string>{"answer_from_non_resolver"});
  EXPECT_EQ(j.forged_addresses, std::vector<std::string>{"203.0.113.7"});
  const auto resolver =
      Probe(DnsProbeKind::kResolver, kResolver, {From(kResolver, 0.01, Reply({"198.18.71.3"}))});
  const auto name = JudgeName({sink, resolver}, pool);
  EXPECT_EQ(name.verdict, DnsNameVerdict::kInjected);
  ASSERT_EQ(name.reasons.size(), 1u);
  EXPECT_EQ(name.reasons[0], "the sink 198.18.30.2:53, which runs no DNS server, answered");
}

TEST(DnsInjectionJudge, AnAnswerFromAnotherAddressThanTheResolverIsAnswerFromNonResolver) {
  const auto pool = LabPool();
  const auto resolver = Probe(DnsProbeKind::kResolver, kResolver,
                              {From("203.0.113.1:53", 0.01, Reply({"203.0.113.7"}))});
  EXPECT_EQ(JudgeDnsProbe(resolver, pool).flags,
            std::vector<std::string>{"answer_from_non_resolver"});
}

TEST(DnsInjectionJudge, ATeredoAnswerAloneIsInconclusive) {
  const auto pool = LabPool();
  auto resolver =
      Probe(DnsProbeKind::kResolver, kResolver,
            {From(kResolver, 0.01, Reply({"2001::1f0d:1"}, kId, 300, 0x8180, kName, 28))});
  resolver.qtype = 28;
  const DnsProbeJudgement j = JudgeDnsProbe(resolver, pool);
  EXPECT_EQ(j.flags, std::vector<std::string>{"teredo_answer"});
  EXPECT_FALSE(ProvesInjection(j.flags));
  auto sink = SilentSink();
  sink.qtype = 28;
  EXPECT_EQ(JudgeName({sink, resolver}, pool).verdict, DnsNameVerdict::kInconclusive);
}

TEST(DnsInjectionJudge, NoSinkOrASinkUnreachableByRoutingIsInconclusive) {
  const auto pool = LabPool();
  const auto resolver =
      Probe(DnsProbeKind::kResolver, kResolver, {From(kResolver, 0.01, Reply({"198.18.71.3"}))});
  auto name = JudgeName({resolver}, pool);
  EXPECT_EQ(name.verdict, DnsNameVerdict::kInconclusive);
  EXPECT_EQ(name.reasons.front(), "no sink was queried");
  name = JudgeName({SilentSink("host_unreachable"), resolver}, pool);
  EXPECT_EQ(name.verdict, DnsNameVerdict::kInconclusive);
  EXPECT_NE(name.reasons.front().find("host_unreachable"), std::string::npos);
  // A sink alone, with no resolver measured, says too little to call the name clean.
  DnsProbeObservation tcp = Probe(DnsProbeKind::kResolver, "tcp://198.18.1.1:53", {});
  tcp.skipped = "tcp resolver: this experiment queries over UDP only";
  name = JudgeName({SilentSink(), tcp}, pool);
  EXPECT_EQ(name.verdict, DnsNameVerdict::kInconclusive);
}

TEST(DnsInjectionJudge, RunVerdictsFollowTheNames) {
  auto keys = [](std::vector<std::string> verdicts, bool flag = false) {
    Json names = Json::array();
    for (const auto& v : verdicts) {
      names.push_back(
          {{"verdict", v},
           {"probes",
            Json::array({{{"flags", flag ? Json::array({"teredo_answer"}) : Json::array()},
                          {"replies", Json::array()}}})}});
    }
    return Json{{"names", names}};
  };
  EXPECT_EQ(DnsInjectionVerdict(keys({"clean", "injected"})), RunVerdict::kBlocked);
  EXPECT_EQ(DnsInjectionVerdict(keys({"clean", "clean"})), RunVerdict::kOk);
  EXPECT_EQ(DnsInjectionVerdict(keys({"clean", "inconclusive"})), RunVerdict::kError);
  EXPECT_EQ(DnsInjectionVerdict(keys({"inconclusive"}, true)), RunVerdict::kAnomaly);
  EXPECT_EQ(DnsInjectionVerdict(Json::object()), RunVerdict::kError);
}

TEST(DnsInjectionJudge, RcodesHaveOonisNames) {
  EXPECT_EQ(DnsRcodeName(0), "noerror");
  EXPECT_EQ(DnsRcodeName(2), "servfail");
  EXPECT_EQ(DnsRcodeName(3), "nxdomain");
  EXPECT_EQ(DnsRcodeName(5), "refused");
  EXPECT_EQ(DnsRcodeName(14), "rcode14");
}

TEST(ForgedAddressPool, TakesTheFingerprintsAddressesAndTheGivenFiles) {
  test_support::TempDir dir("forged-pool");
  ASSERT_TRUE(dir.ok()) << dir.error();
  std::string error;
  ASSERT_TRUE(dir.WriteFile("fingerprints/fingerprints_dns.csv",
                            "name,scope,other_names,location_found,pattern_type,pattern,"
                            "confidence_no_fp,expected_countries,source,exp_url,notes\n"
                            "a,nat,,dns,full,8.7.198.45,5,CN,ooni,,poison\n"
                            "b,isp,,dns,full,blocked.example,5,ID,ooni,,a CNAME\n"
                            "c,isp,,dns,prefix,10.10.34.,5,IR,ooni,,a prefix\n"
                            "d,isp,,body,full,93.46.8.89,5,CN,ooni,,not at dns\n",
                            &error))
      << error;
  ASSERT_TRUE(dir.WriteFile("lab.txt", "# the lab's pool\n198.18.240.0/24  # forged\n\n", &error));
  auto pool = ForgedAddressPool::Load(dir.path(), {dir.Join("lab.txt")});
  ASSERT_TRUE(pool.ok()) << pool.error();
  EXPECT_TRUE(pool->Contains("8.7.198.45"));
  EXPECT_TRUE(pool->Contains("198.18.240.77"));
  EXPECT_FALSE(pool->Contains("93.46.8.89"));
  EXPECT_FALSE(pool->Contains("10.10.34.36"));
  EXPECT_EQ(pool->size(), 2u);

  ASSERT_TRUE(dir.WriteFile("bad.txt", "198.18.240.1\nnot-an-address\n", &error));
  auto bad = ForgedAddressPool::Load(dir.path(), {dir.Join("bad.txt")});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find(dir.Join("bad.txt") + ":2:"), std::string::npos) << bad.error();
  EXPECT_FALSE(ForgedAddressPool::Load(dir.path(), {dir.Join("missing.txt")}).ok());
}

TEST(ForgedAddressPool, TheShippedFingerprintsAreRead) {
  auto pool = ForgedAddressPool::Load(test_support::SourceDir() + "/testlists", {});
  ASSERT_TRUE(pool.ok()) << pool.error();
  EXPECT_TRUE(pool->Contains("8.7.198.45"));
}

}  // namespace
}  // namespace vigil
