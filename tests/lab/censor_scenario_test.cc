// Scenario files: the library validates, and malformed files are rejected with the
// exact "FILE:LINE: key: reason" a scenario author needs to fix them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/lab/censor/lab_settings.h"
#include "tests/lab/censor/scenario_parser.h"

namespace vigil::lab {
namespace {

std::vector<std::string> ErrorsOf(const std::string& text) {
  return ParseScenario(text, "s.yaml", ".").errors;
}

TEST(ScenarioLibrary, EveryScenarioValidates) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(LAB_DIR "/scenarios")) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    ScenarioLoad load = LoadScenarioFile(entry.path().string());
    EXPECT_TRUE(load.scenario.has_value()) << entry.path();
    for (const auto& e : load.errors) ADD_FAILURE() << e;
  }
  EXPECT_EQ(files, 22);
}

TEST(ScenarioLibrary, CrackdownStartsAtThirtySeconds) {
  ScenarioLoad load = LoadScenarioFile(LAB_DIR "/scenarios/crackdown.yaml");
  ASSERT_TRUE(load.scenario);
  ASSERT_EQ(load.scenario->phases.size(), 2u);
  EXPECT_TRUE(load.scenario->phases[0].rules.empty());
  EXPECT_EQ(load.scenario->phases[1].start_ms, 30000);
  EXPECT_EQ(load.scenario->phases[1].rules.size(), 3u);
}

// lab_events_test measures a clean baseline before it; the switch time is its 90 s.
TEST(ScenarioLibrary, CrackdownLateIsTheCrackdownAfterNinetySeconds) {
  ScenarioLoad late = LoadScenarioFile(LAB_DIR "/scenarios/crackdown-late.yaml");
  ScenarioLoad crackdown = LoadScenarioFile(LAB_DIR "/scenarios/crackdown.yaml");
  ASSERT_TRUE(late.scenario && crackdown.scenario);
  ASSERT_EQ(late.scenario->phases.size(), 2u);
  EXPECT_TRUE(late.scenario->phases[0].rules.empty());
  EXPECT_EQ(late.scenario->phases[1].start_ms, 90000);
  std::vector<std::string> ids, same;
  for (const auto& r : late.scenario->phases[1].rules) ids.push_back(r.id);
  for (const auto& r : crackdown.scenario->phases[1].rules) same.push_back(r.id);
  EXPECT_EQ(ids, same);
}

TEST(ScenarioParse, ReadsEveryField) {
  ScenarioLoad load = ParseScenario(R"(name: all
description: every knob
phases:
  - start: 0s
    rules:
      - id: dns
        match:
          proto: udp
          dst_ip: [198.18.70.0/24, "fd00:64::/64", 198.18.1.1]
          dst_port: [53, 5353]
          dns_qname: {suffix: [whatsapp.net], regex: ["^e[0-9]+\\.whatsapp\\.net$"]}
        action: dns_inject
        pool: [198.18.240.1, 198.18.240.2]
        pool6: ["2001::1"]
        copies: 3
        copy_ttl: true
        ip_id: 4660
        df: true
        dns_flags: 0x8400
        answer_ttl: 300
  - start: 2m
    rules:
      - id: custom-rst
        match: {sni: {exact: [signal.org]}, keywords: [falun, [tiananmen, "1989"]]}
        action: rst_inject
        type: custom
        direction: client
        reassemble: false
        count: 2
        flags: RA
        df: true
        ip_id: random
        ttl: 100-110
        payload_hex: "0102ff"
        residual: {seconds: 2}
      - id: slow
        action: delay
        up_ms: 10
        down_ms: 40
      - id: page
        match: {http_path: {prefix: [/blocked]}}
        action: http_blockpage
        status: 451
        body: "no"
        then: fin
        trigger: pass
      - id: tb
        action: throttle
        rate: 2mbit
)",
                                    "s.yaml", ".");
  for (const auto& e : load.errors) ADD_FAILURE() << e;
  ASSERT_TRUE(load.scenario);
  const Scenario& s = *load.scenario;
  EXPECT_EQ(s.name, "all");
  ASSERT_EQ(s.phases.size(), 2u);
  EXPECT_EQ(s.phases[1].start_ms, 120000);
  const Rule& dns = s.phases[0].rules[0];
  EXPECT_EQ(dns.action, ActionKind::kDnsInject);
  EXPECT_EQ(dns.match.proto, Proto::kUdp);
  ASSERT_EQ(dns.match.dst_ip.size(), 3u);
  EXPECT_EQ(dns.match.dst_ip[1].ToString(), "fd00:64::/64");
  EXPECT_EQ(dns.match.dst_ip[2].length, 32);
  EXPECT_EQ(dns.match.dst_port, (std::vector<uint16_t>{53, 5353}));
  ASSERT_TRUE(dns.match.dns_qname);
  EXPECT_TRUE(dns.match.dns_qname->Match("E12.WhatsApp.net."));
  EXPECT_FALSE(dns.match.dns_qname->Match("notwhatsapp.net"));
  EXPECT_EQ(dns.dns.copies, 3);
  EXPECT_EQ(dns.dns.ip_ttl.kind, TtlSpec::kCopy);
  EXPECT_FALSE(dns.dns.ip_id.random);
  EXPECT_EQ(dns.dns.ip_id.value, 4660);
  EXPECT_TRUE(dns.dns.df);
  EXPECT_EQ(dns.dns.dns_flags, 0x8400);
  EXPECT_EQ(dns.dns.answer_ttl, 300u);
  EXPECT_EQ(dns.dns.pool6.size(), 1u);

  const Rule& rst = s.phases[1].rules[0];
  EXPECT_EQ(rst.rst.type, "custom");
  EXPECT_EQ(rst.rst.direction, RstDirection::kClient);
  EXPECT_EQ(rst.rst.count, 2);
  EXPECT_TRUE(rst.rst.ack);
  EXPECT_EQ(rst.rst.ttl.kind, TtlSpec::kRandom);
  EXPECT_EQ(rst.rst.ttl.lo, 100);
  EXPECT_EQ(rst.rst.ttl.hi, 110);
  EXPECT_EQ(rst.rst.payload, std::string("\x01\x02\xff", 3));
  EXPECT_EQ(rst.residual_seconds, 2u);
  ASSERT_EQ(rst.match.keywords.size(), 2u);
  EXPECT_EQ(rst.match.keywords[1], (std::vector<std::string>{"tiananmen", "1989"}));

  EXPECT_EQ(s.phases[1].rules[1].delay.up_ms, 10u);
  EXPECT_EQ(s.phases[1].rules[1].delay.down_ms, 40u);
  EXPECT_EQ(s.phases[1].rules[2].blockpage.status, 451);
  EXPECT_FALSE(s.phases[1].rules[2].blockpage.then_rst);
  EXPECT_TRUE(s.phases[1].rules[2].blockpage.pass_trigger);
  EXPECT_FALSE(rst.rst.pass_trigger);
  EXPECT_FALSE(rst.reassemble);
  EXPECT_TRUE(dns.reassemble);
  EXPECT_EQ(s.phases[1].rules[3].throttle.rate_bps, 2000000u);
}

TEST(ScenarioParse, ReadsTheServersThatFailByThemselves) {
  ScenarioLoad load = ParseScenario(R"(name: s
servers:
  failing:
    - Archive.org
    - {name: citizenlab.ca, mode: tcp_reset}
    - {name: 149.154.175.50, mode: http_503}
phases:
  - start: 0s
)",
                                    "s.yaml", ".");
  for (const auto& e : load.errors) ADD_FAILURE() << e;
  ASSERT_TRUE(load.scenario);
  const auto& failing = load.scenario->lab.failing;
  ASSERT_EQ(failing.size(), 3u);
  EXPECT_EQ(failing[0].name, "archive.org");
  EXPECT_EQ(failing[0].mode, ServerFailure::kHttp503);  // a bare name: 503s
  EXPECT_EQ(failing[1].mode, ServerFailure::kTcpReset);
  EXPECT_EQ(failing[2].name, "149.154.175.50");
  EXPECT_EQ(LabSettingsText(load.scenario->lab),
            "failing http_503 archive.org\nfailing tcp_reset citizenlab.ca\n"
            "failing http_503 149.154.175.50\nkeep_resolver_cache false\n");
  ScenarioLoad library = LoadScenarioFile(LAB_DIR "/scenarios/failing-servers.yaml");
  ASSERT_TRUE(library.scenario);
  EXPECT_EQ(library.scenario->lab.failing.size(), 2u);
  EXPECT_TRUE(LoadScenarioFile(LAB_DIR "/scenarios/clean.yaml").scenario->lab.failing.empty());
}

TEST(ScenarioParse, ResolverCachesAreFlushedUnlessTheScenarioKeepsThem) {
  ScenarioLoad clean = LoadScenarioFile(LAB_DIR "/scenarios/clean.yaml");
  ASSERT_TRUE(clean.scenario);
  EXPECT_FALSE(clean.scenario->lab.keep_resolver_cache);
  ScenarioLoad keep = LoadScenarioFile(LAB_DIR "/scenarios/clean-keep-cache.yaml");
  ASSERT_TRUE(keep.scenario);
  EXPECT_TRUE(keep.scenario->lab.keep_resolver_cache);
  EXPECT_EQ(LabSettingsText(keep.scenario->lab), "keep_resolver_cache true\n");
}

TEST(ScenarioParse, ReadsThePlatformsPostsAndPhases) {
  ScenarioLoad load = LoadScenarioFile(LAB_DIR "/scenarios/posts-removal.yaml");
  for (const auto& e : load.errors) ADD_FAILURE() << e;
  ASSERT_TRUE(load.scenario);
  const Platform& platform = load.scenario->lab.platform;
  ASSERT_EQ(platform.posts.size(), 6u);
  EXPECT_EQ(platform.posts[0].id, "lab-daily-1");
  EXPECT_EQ(platform.posts[0].account, "实验室日报");
  EXPECT_EQ(platform.posts[0].title, "实验室日报：本周天气晴 (lab)");
  EXPECT_FALSE(platform.posts[0].body.empty());
  ASSERT_EQ(platform.phases.size(), 1u);
  EXPECT_EQ(platform.phases[0].start_ms, 20000);
  using Change = std::pair<std::string, PostStatus>;
  EXPECT_EQ(platform.phases[0].changes,
            (std::vector<Change>{{"lab-daily-2", PostStatus::kDeletedByAuthor},
                                 {"lab-city-1", PostStatus::kRemovedForViolation},
                                 {"lab-forum-1", PostStatus::kAccountBlocked},
                                 {"lab-forum-2", PostStatus::kAccountBlocked}}));
  EXPECT_EQ(LabSettingsText(load.scenario->lab), "keep_resolver_cache false\nplatform true\n");
  // Without a platform section there is no platform, and lab.sh runs none.
  ScenarioLoad clean = LoadScenarioFile(LAB_DIR "/scenarios/clean.yaml");
  ASSERT_TRUE(clean.scenario);
  EXPECT_TRUE(clean.scenario->lab.platform.posts.empty());
  EXPECT_EQ(LabSettingsText(clean.scenario->lab), "keep_resolver_cache false\n");
  EXPECT_STREQ(PostStatusName(PostStatus::kRemovedForViolation), "removed_for_violation");
}

TEST(ScenarioParse, PlatformErrorsGiveFileLineKeyReason) {
  const std::string posts =
      "name: x\nphases: [{start: 0s}]\nplatform:\n  posts:\n"
      "    - {id: a, account: A, title: T, body: B}\n"
      "    - {id: b, account: A, title: T, body: B}\n"
      "    - {id: c, account: C, title: T, body: B}\n";
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"name: x\nphases: [{start: 0s}]\nplatform: [a]\n",
       {"s.yaml:3: platform: expected a mapping, got a list"}},
      {"name: x\nphases: [{start: 0s}]\nplatform:\n  phases: []\n", {"s.yaml:3: posts: missing"}},
      {"name: x\nphases: [{start: 0s}]\nplatform:\n  posts: []\n",
       {"s.yaml:4: posts: needs at least one post"}},
      {"name: x\nphases: [{start: 0s}]\nplatform:\n  posts:\n    - {id: a, title: T, body: B}\n"
       "  colour: red\n",
       {"s.yaml:6: colour: unknown key", "s.yaml:5: account: missing"}},
      {"name: x\nphases: [{start: 0s}]\nplatform:\n  posts:\n"
       "    - {id: \"a b\", account: A, title: T, body: B}\n"
       "    - {id: c, account: A, title: \"\", body: B, link: L}\n",
       {"s.yaml:5: id: \"a b\" must be 1-64 letters, digits, '-' or '_'", "s.yaml:6: title: empty",
        "s.yaml:6: link: unknown key"}},
      {posts + "    - {id: a, account: A, title: T, body: B}\n",
       {"s.yaml:8: id: duplicate post id \"a\""}},
      {posts + "  phases:\n    - start: 20s\n      deleted_by_author: [a, z]\n",
       {"s.yaml:10: deleted_by_author: no post \"z\" in platform.posts"}},
      {posts + "  phases:\n    - start: 20s\n      deleted_by_author: a\n"
               "      removed_for_violation: [c, a]\n",
       {"s.yaml:11: removed_for_violation: post \"a\" is listed twice in this phase"}},
      {posts + "  phases:\n    - start: 20s\n      account_blocked: a\n",
       {"s.yaml:10: account_blocked: account \"A\" is blocked, but its post \"b\" is not: block "
        "it in the same phase"}},
      {posts + "  phases:\n    - start: 20s\n      account_blocked: a\n"
               "    - start: 30s\n      account_blocked: b\n",
       {"s.yaml:10: account_blocked: account \"A\" is blocked, but its post \"b\" is not: block "
        "it in the same phase"}},
      {posts + "  phases:\n    - start: 20s\n",
       {"s.yaml:9: phases: changes no post (give deleted_by_author, removed_for_violation or "
        "account_blocked)"}},
      {posts + "  phases:\n    - start: 20s\n      deleted_by_author: a\n"
               "    - start: 10s\n      deleted_by_author: c\n",
       {"s.yaml:11: start: phases must start in increasing order"}},
      {posts + "  phases:\n    - {deleted_by_author: a, hidden: [b]}\n",
       {"s.yaml:9: hidden: unknown key", "s.yaml:9: start: missing"}},
      {posts + "  phases:\n    - start: 20s\n      deleted_by_author: []\n",
       {"s.yaml:10: deleted_by_author: empty list"}},
  };
  for (const auto& [text, errors] : cases) {
    EXPECT_EQ(ErrorsOf(text), errors) << text;
  }
  // A post changed in a later phase, and a phase at 0s, are fine.
  const auto ok = ParseScenario(posts +
                                    "  phases:\n    - start: 0s\n      deleted_by_author: a\n"
                                    "    - start: 1m\n      removed_for_violation: a\n",
                                "s.yaml", ".");
  for (const auto& e : ok.errors) ADD_FAILURE() << e;
  ASSERT_TRUE(ok.scenario);
  EXPECT_EQ(ok.scenario->lab.platform.phases.size(), 2u);
  EXPECT_EQ(ok.scenario->lab.platform.phases[1].start_ms, 60000);
}

TEST(ScenarioParse, RstTypesTakeTheirFingerprints) {
  ScenarioLoad load = ParseScenario(R"(name: t
phases:
  - start: 0s
    rules:
      - {id: a, action: rst_inject, type: gfw1}
      - {id: b, action: rst_inject, type: gfw2, direction: server}
      - {id: c, action: rst_inject, type: gfw3}
      - {id: d, action: rst_inject, type: henan}
)",
                                    "s.yaml", ".");
  ASSERT_TRUE(load.scenario) << load.errors[0];
  const auto& r = load.scenario->phases[0].rules;
  EXPECT_EQ(r[0].rst.count, 1);
  EXPECT_FALSE(r[0].rst.ack);
  EXPECT_EQ(r[1].rst.count, 3);
  EXPECT_TRUE(r[1].rst.df);
  EXPECT_EQ(r[1].rst.direction, RstDirection::kServer);
  EXPECT_EQ(r[2].rst.ttl.lo, 248);
  EXPECT_EQ(r[2].rst.ip_id.lo, 0x9916);
  EXPECT_EQ(r[3].rst.direction, RstDirection::kClient);
  EXPECT_EQ(r[3].rst.payload.size(), 10u);
}

struct Malformed {
  const char* text;
  const char* error;
};

class ScenarioErrors : public ::testing::TestWithParam<Malformed> {};

TEST_P(ScenarioErrors, GivesFileLineKeyReason) {
  std::vector<std::string> errors = ErrorsOf(GetParam().text);
  ASSERT_EQ(errors.size(), 1u) << (errors.empty() ? "no error" : errors[0]);
  EXPECT_EQ(errors[0], GetParam().error);
}

constexpr const char* kHead = "name: x\nphases:\n  - start: 0s\n    rules:\n";

std::string WithRule(const char* rule) { return std::string(kHead) + rule; }

// Kept alive for the parameter pointers below.
const std::vector<std::string>& Texts() {
  static const std::vector<std::string> texts = {
      "name: x\ncolour: red\nphases: [{start: 0s}]\n",
      WithRule("      - id: a\n        match:\n          dst_ip: [198.18.70.0/33]\n"
               "        action: drop\n"),
      "name: x\nphases:\n  - start: 90\n",
      WithRule("      - id: a\n        match:\n          dst_port: {a: 1}\n        action: drop\n"),
      WithRule("      - id: a\n        action: explode\n"),
      WithRule("      - id: a\n        action: dns_inject\n        pool: [198.18.240.1]\n"
               "        copies: 4\n"),
      WithRule("      - id: a\n        action: rst_inject\n        type: gfw9\n"),
      WithRule("      - id: a\n        action: rst_inject\n        type: gfw2\n        count: 3\n"),
      WithRule("      - id: a\n        action: drop\n        rate: 64kbit\n"),
      WithRule("      - id: a\n        action: throttle\n        rate: fast\n"),
      WithRule("      - id: a\n        action: dns_inject\n        pool: [fd00::1, 1.2.3.4]\n"),
      WithRule("      - id: a\n        match:\n          proto: sctp\n        action: drop\n"),
      WithRule("      - id: a\n        action: delay\n        ms: 10\n        up_ms: 5\n"),
      WithRule("      - id: a\n        match:\n          sni: {suffix: [x.org], glob: [y]}\n"
               "        action: drop\n"),
      WithRule("      - id: a\n        match:\n          sni: {regex: [\"(\"]}\n"
               "        action: drop\n"),
      WithRule("      - action: drop\n"),
      "name: x\nphases:\n  - start: 1m\n  - start: 30s\n",
      WithRule("      - id: a\n        action: drop\n        residual: {seconds: yes}\n"),
      "name: x\nphases: [\n",
      WithRule("      - id: a\n        action: keyword_drop\n"),
      WithRule("      - id: a\n        match: {proto: udp}\n        action: rst_inject\n"
               "        type: gfw1\n"),
      WithRule("      - id: a\n        action: drop\n      - id: a\n        action: drop\n"),
      "name: x\nservers:\n  failing:\n    - {name: archive.org, mode: down}\nphases: [{start: "
      "0s}]\n",
      "name: x\nservers:\n  failing:\n    - archive.org\n    - archive.org\n"
      "phases: [{start: 0s}]\n",
      "name: x\nservers:\n  failing: [\"a b.org\"]\nphases: [{start: 0s}]\n",
      "name: x\nservers:\n  failing:\n    - {mode: tcp_reset}\nphases: [{start: 0s}]\n",
      "name: x\nservers:\n  broken: [archive.org]\nphases: [{start: 0s}]\n",
      "name: x\nservers: [archive.org]\nphases: [{start: 0s}]\n",
      WithRule("      - id: a\n        action: icmp_unreachable\n        unreachable: far\n"),
      WithRule("      - id: a\n        action: icmp_unreachable\n"),
      WithRule("      - id: a\n        action: icmp_unreachable\n        unreachable: host\n"
               "        from: 198.18.11\n"),
      WithRule("      - id: a\n        action: icmp_unreachable\n        unreachable: host\n"
               "        from: [198.18.11.2, \"fd00:11::2\", 198.18.11.1]\n"),
      WithRule("      - id: a\n        action: rst_inject\n        type: gfw1\n"
               "        trigger: later\n"),
      WithRule("      - id: a\n        action: drop\n        trigger: pass\n"),
      WithRule("      - id: a\n        action: dns_inject\n        pool: [198.18.240.1]\n"
               "        copies: [{}, {}, {}, {}]\n"),
      WithRule("      - id: a\n        action: dns_inject\n        pool: [198.18.240.1]\n"
               "        copies:\n          - {ip_ttl: 57, colour: red}\n"),
      WithRule("      - id: a\n        action: dns_inject\n        pool: [198.18.240.1]\n"
               "        copies:\n          - {ip_ttl: 57, copy_ttl: true}\n"),
      WithRule("      - id: a\n        action: dns_inject\n        pool: [198.18.240.1]\n"
               "        delay_ms: 20000\n"),
      WithRule("      - id: a\n        action: http_blockpage\n        status: 403\n"
               "        location: http://198.18.240.34/\n"),
      WithRule("      - id: a\n        action: http_blockpage\n        status: 301\n"),
      WithRule("      - id: a\n        action: http_blockpage\n        location: \"\"\n"),
      WithRule("      - id: a\n        match: {dst_port: 443}\n        action: drop\n"
               "        reassemble: false\n"),
      WithRule("      - id: a\n        match: {sni: {exact: [x.org]}}\n        action: drop\n"
               "        reassemble: no\n"),
      WithRule("      - id: a\n        action: http_blockpage\n        at: response\n"),
      WithRule("      - id: a\n        action: drop\n        at: later\n"),
      WithRule("      - id: a\n        action: rst_inject\n        type: gfw1\n"
               "        trigger: pass\n        at: response\n"),
      "name: x\nkeep_resolver_cache: maybe\nphases: [{start: 0s}]\n",
  };
  return texts;
}

const char* T(size_t i) { return Texts()[i].c_str(); }

INSTANTIATE_TEST_SUITE_P(
    Malformed, ScenarioErrors,
    ::testing::Values(
        Malformed{T(0), "s.yaml:2: colour: unknown key"},
        Malformed{T(1), "s.yaml:7: dst_ip: bad CIDR \"198.18.70.0/33\""},
        Malformed{T(2), "s.yaml:3: start: bad duration \"90\" (want e.g. 500ms, 90s, 2m)"},
        Malformed{T(3), "s.yaml:7: dst_port: expected a value or a list of values, got a mapping"},
        Malformed{T(4), "s.yaml:6: action: unknown action \"explode\""},
        Malformed{T(5), "s.yaml:8: copies: must be 1..3, got 4"},
        Malformed{T(6),
                  "s.yaml:7: type: unknown RST type \"gfw9\" (gfw1, gfw2, gfw3, henan, custom)"},
        Malformed{T(7), "s.yaml:8: count: only allowed with type: custom"},
        Malformed{T(8), "s.yaml:7: rate: unknown key for action drop"},
        Malformed{T(9), "s.yaml:7: rate: bad rate \"fast\" (want e.g. 64kbit, 2mbit; >= 1kbit)"},
        Malformed{T(10), "s.yaml:7: pool: not an IPv4 address: \"fd00::1\""},
        Malformed{T(11), "s.yaml:7: proto: must be tcp, udp or any, got \"sctp\""},
        Malformed{T(12), "s.yaml:5: ms: give ms or up_ms/down_ms, not both"},
        Malformed{T(13), "s.yaml:7: glob: unknown key"},
        Malformed{T(14), "s.yaml:7: regex: bad regex \"(\": Unmatched ( or \\("},
        Malformed{T(15), "s.yaml:5: id: missing"},
        Malformed{T(16), "s.yaml:4: start: phases must start in increasing order"},
        Malformed{T(17), "s.yaml:7: seconds: expected a number, got \"yes\""},
        Malformed{T(18), "s.yaml:3: yaml: end of sequence flow not found"},
        Malformed{T(19), "s.yaml:5: keywords: keyword_drop needs match.keywords"},
        Malformed{T(20), "s.yaml:5: proto: rst_inject needs tcp or any"},
        Malformed{T(21), "s.yaml:7: id: duplicate rule id \"a\" in this phase"},
        Malformed{T(22), "s.yaml:4: mode: must be http_503 or tcp_reset, got \"down\""},
        Malformed{T(23), "s.yaml:5: failing: \"archive.org\" listed twice"},
        Malformed{T(24), "s.yaml:3: name: not a host name or address: \"a b.org\""},
        Malformed{T(25), "s.yaml:4: name: missing"},
        Malformed{T(26), "s.yaml:3: broken: unknown key"},
        Malformed{T(27), "s.yaml:2: servers: expected a mapping, got a list"},
        Malformed{T(28), "s.yaml:7: unreachable: must be net, host, port or admin, got \"far\""},
        Malformed{T(29), "s.yaml:5: unreachable: missing (net, host, port or admin)"},
        Malformed{T(30), "s.yaml:8: from: not an IP address: \"198.18.11\""},
        Malformed{T(31), "s.yaml:8: from: one address per IP version"},
        Malformed{T(32), "s.yaml:8: trigger: must be drop or pass, got \"later\""},
        Malformed{T(33), "s.yaml:7: trigger: unknown key for action drop"},
        Malformed{T(34), "s.yaml:8: copies: a list of 1..3 copies, got 4"},
        Malformed{T(35), "s.yaml:9: colour: unknown key"},
        Malformed{T(36), "s.yaml:9: copy_ttl: give ip_ttl or copy_ttl, not both"},
        Malformed{T(37), "s.yaml:8: delay_ms: must be 0..10000, got 20000"},
        Malformed{
            T(38),
            "s.yaml:5: location: needs a redirect status (301, 302, 303, 307 or 308), got 403"},
        Malformed{T(39), "s.yaml:5: location: missing (status 301 redirects)"},
        Malformed{T(40), "s.yaml:7: location: must be 1..2048 bytes on one line"},
        Malformed{T(41), "s.yaml:5: reassemble: false needs an sni, http_host or http_path match"},
        Malformed{T(42), "s.yaml:8: reassemble: expected true or false, got \"no\""},
        Malformed{T(43),
                  "s.yaml:5: at: only rst_inject and drop act after the match, not "
                  "http_blockpage"},
        Malformed{T(44), "s.yaml:7: at: must be match, app_data or response, got \"later\""},
        Malformed{T(45), "s.yaml:5: at: response cannot be combined with trigger: pass"},
        Malformed{T(46), "s.yaml:2: keep_resolver_cache: expected true or false, got \"maybe\""}),
    [](const ::testing::TestParamInfo<Malformed>& tp) {
      return "case" + std::to_string(tp.index);
    });

TEST(ScenarioParse, ReportsEveryErrorNotJustTheFirst) {
  std::vector<std::string> errors = ErrorsOf(
      WithRule("      - id: a\n        match:\n          dst_ip: [bad]\n          dst_port: 70000\n"
               "        action: dns_inject\n        pool: [x]\n"));
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "s.yaml:7: dst_ip: bad CIDR \"bad\"",
                        "s.yaml:8: dst_port: bad port \"70000\" (want 1..65535)",
                        "s.yaml:10: pool: not an IPv4 address: \"x\"",
                        "s.yaml:5: pool: missing (IPv4 addresses to answer A with)",
                    }));
}

TEST(ScenarioParse, MissingFileIsAnError) {
  ScenarioLoad load = LoadScenarioFile("/nonexistent/s.yaml");
  EXPECT_FALSE(load.scenario);
  EXPECT_EQ(load.errors, (std::vector<std::string>{"/nonexistent/s.yaml:0: file: cannot read"}));
}

TEST(ScenarioParse, BodyFileIsReadRelativeToTheScenario) {
  auto dir = std::filesystem::temp_directory_path() / ("vglt-body-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "page.html") << "<h1>blocked</h1>";
  std::ofstream(dir / "s.yaml") << WithRule(
      "      - id: a\n        action: http_blockpage\n        body_file: page.html\n");
  ScenarioLoad load = LoadScenarioFile((dir / "s.yaml").string());
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(load.scenario) << load.errors[0];
  EXPECT_EQ(load.scenario->phases[0].rules[0].blockpage.body, "<h1>blocked</h1>");
}

TEST(Durations, AcceptTheDocumentedForms) {
  EXPECT_EQ(ParseDurationMs("0s"), 0);
  EXPECT_EQ(ParseDurationMs("500ms"), 500);
  EXPECT_EQ(ParseDurationMs("90s"), 90000);
  EXPECT_EQ(ParseDurationMs("2m"), 120000);
  EXPECT_EQ(ParseDurationMs("1h"), 3600000);
  EXPECT_FALSE(ParseDurationMs("90"));
  EXPECT_FALSE(ParseDurationMs("-1s"));
  EXPECT_FALSE(ParseDurationMs("1.5s"));
  EXPECT_EQ(ParseRate("64kbit"), 64000u);
  EXPECT_FALSE(ParseRate("64kb"));
}

}  // namespace
}  // namespace vigil::lab
