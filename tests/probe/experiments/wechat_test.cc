// The wechat experiment: its verdict rules table-driven from synthetic observations,
// the shortlink request's shape, a real run against a loopback unbound (every WeChat
// name → one loopback address) and nginx listening there on WeChat's fixed ports 80
// and 443 (8080 left closed), and a blackholed run that ends within its deadlines.
#include "probe/experiments/wechat/wechat.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <regex>

#include "probe/http/url.h"
#include "probe/measurement/measurement_json.h"
#include "tests/support/blackhole_host.h"
#include "tests/support/nginx_server.h"
#include "tests/support/run_experiment.h"
#include "tests/support/test_pki.h"
#include "tests/support/unbound_server.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;

PortOutcome Ok() { return PortOutcome{true, "", ""}; }
PortOutcome Failed(const std::string& failure, const std::string& operation = "connect") {
  return PortOutcome{false, operation, failure};
}
WechatFetch Response(int status = 200) { return WechatFetch{std::nullopt, status}; }
WechatFetch FetchFailed(const std::string& host, uint16_t port, const std::string& operation,
                        const std::string& failure) {
  return WechatFetch{StepFailure{host, port, operation, failure}, 0};
}

// Every longlink host on every port with the same outcome.
std::map<std::string, std::map<uint16_t, PortOutcome>> Longlink(const PortOutcome& outcome) {
  std::map<std::string, std::map<uint16_t, PortOutcome>> out;
  for (const auto& host : WechatLonglinkHosts()) {
    for (uint16_t port : WechatLonglinkPorts()) out[host][port] = outcome;
  }
  return out;
}

WechatObservations AllFine() {
  WechatObservations o;
  o.longlink = Longlink(Ok());
  o.shortlink = Response(200);
  o.httpdns = Response(200);
  for (const auto& url : WechatWebUrls()) o.web.emplace_back(url, Response(200));
  return o;
}

struct WechatCase {
  const char* name;
  WechatObservations observations;
  const char* longlink;
  const char* shortlink;
  const char* httpdns;
  const char* web;
  bool partial;
  RunVerdict verdict;
};

TEST(WechatVerdicts, Table) {
  std::vector<WechatCase> cases;
  cases.push_back({"all fine", AllFine(), "ok", "ok", "ok", "ok", false, RunVerdict::kOk});

  WechatObservations one_port = AllFine();
  one_port.longlink["long.weixin.qq.com"][8080] = Failed("connection_reset");
  cases.push_back({"one longlink port fails: partial", one_port, "ok", "ok", "ok", "ok", true,
                   RunVerdict::kAnomaly});

  WechatObservations domestic = AllFine();
  for (uint16_t port : WechatLonglinkPorts()) {
    domestic.longlink["long.weixin.qq.com"][port] = Failed("dns_nxdomain_error", "resolve");
  }
  cases.push_back({"the domestic host fails, the international ones work", domestic, "ok", "ok",
                   "ok", "ok", true, RunVerdict::kAnomaly});

  WechatObservations longlink = AllFine();
  longlink.longlink = Longlink(Failed("generic_timeout_error"));
  cases.push_back({"every longlink port fails, the rest works: partial", longlink, "blocked", "ok",
                   "ok", "ok", true, RunVerdict::kAnomaly});

  WechatObservations shortlink = AllFine();
  shortlink.shortlink =
      FetchFailed(kWechatShortlinkHost, 80, "http_round_trip", "connection_reset");
  cases.push_back({"the shortlink POST is reset: partial", shortlink, "ok", "blocked", "ok", "ok",
                   true, RunVerdict::kAnomaly});

  WechatObservations httpdns = AllFine();
  httpdns.httpdns = FetchFailed("dns.weixin.qq.com", 80, "resolve", "dns_nxdomain_error");
  cases.push_back({"the HTTP DNS name does not resolve: partial", httpdns, "ok", "ok", "blocked",
                   "ok", true, RunVerdict::kAnomaly});

  WechatObservations web = AllFine();
  web.web[1].second = FetchFailed("mp.weixin.qq.com", 443, "tls_handshake", "connection_reset");
  cases.push_back({"one web front fails at TLS: partial", web, "ok", "ok", "ok", "blocked", true,
                   RunVerdict::kAnomaly});

  // Blocked needs every endpoint to fail.
  WechatObservations everything = AllFine();
  everything.longlink = Longlink(Failed("generic_timeout_error"));
  everything.shortlink = FetchFailed(kWechatShortlinkHost, 80, "connect", "generic_timeout_error");
  everything.httpdns = FetchFailed("dns.weixin.qq.com", 80, "connect", "generic_timeout_error");
  for (auto& [url, fetch] : everything.web) {
    fetch = FetchFailed(ParseUrl(url)->host, 443, "connect", "generic_timeout_error");
  }
  cases.push_back({"everything fails", everything, "blocked", "blocked", "blocked", "blocked",
                   false, RunVerdict::kBlocked});

  // OONI-style statuses saying blocked beside a longlink port that works: never blocked.
  WechatObservations mixed = one_port;
  mixed.shortlink = FetchFailed(kWechatShortlinkHost, 80, "http_round_trip", "connection_reset");
  cases.push_back({"a longlink port fails and the shortlink POST is reset: partial", mixed, "ok",
                   "blocked", "ok", "ok", true, RunVerdict::kAnomaly});

  WechatObservations codes = AllFine();
  codes.shortlink = Response(400);
  codes.httpdns = Response(503);
  codes.web[0].second = Response(403);
  cases.push_back(
      {"status codes never count", codes, "ok", "ok", "ok", "ok", false, RunVerdict::kOk});

  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Json k = WechatTestKeys(c.observations);
    EXPECT_EQ(k["wechat_longlink_status"], c.longlink);
    EXPECT_EQ(k["wechat_shortlink_status"], c.shortlink);
    EXPECT_EQ(k["wechat_httpdns_status"], c.httpdns);
    EXPECT_EQ(k["wechat_web_status"], c.web);
    EXPECT_EQ(k["x_partial_blocking"], c.partial);
    EXPECT_EQ(WechatVerdict(k), c.verdict);
    // A *_failure is null exactly when its status is ok.
    for (const char* part : {"longlink", "shortlink", "httpdns", "web"}) {
      const std::string prefix = std::string("wechat_") + part;
      EXPECT_EQ(k[prefix + "_failure"].is_null(), k[prefix + "_status"] == "ok") << prefix;
    }
  }
}

TEST(WechatVerdicts, FailuresAndDetails) {
  WechatObservations o = AllFine();
  o.longlink = Longlink(Failed("connection_refused"));
  o.longlink["long.wechat.com"][80] = Failed("generic_timeout_error");
  o.shortlink = Response(404);
  o.httpdns = FetchFailed("dns.weixin.qq.com", 80, "connect", "connection_reset");
  o.web[0].second = FetchFailed("web.wechat.com", 443, "tls_handshake", "ssl_invalid_hostname");
  Json k = WechatTestKeys(o);
  // Hosts alphabetically, ports in numeric order: long.wechat.com:80 comes first.
  EXPECT_EQ(k["wechat_longlink_failure"], "generic_timeout_error");
  EXPECT_EQ(k["wechat_httpdns_failure"], "connection_reset");
  EXPECT_EQ(k["wechat_web_failure"], "ssl_invalid_hostname");
  EXPECT_EQ(k["x_shortlink_status_code"], 404);
  EXPECT_TRUE(k["x_httpdns_status_code"].is_null());
  EXPECT_EQ(k["x_web_status"], (Json{{"web.wechat.com", "blocked"}, {"mp.weixin.qq.com", "ok"}}));
  EXPECT_EQ(k["x_endpoint_status"]["long.weixin.qq.com"],
            (Json{{"80", "blocked"}, {"443", "blocked"}, {"8080", "blocked"}}));
  EXPECT_EQ(k["x_endpoint_failures"]["long.wechat.com"]["80"], "generic_timeout_error");
  // 12 longlink ports, the HTTP DNS fetch and one web front.
  EXPECT_EQ(k["x_failures"].size(), 14u);
  RunSummary s = WechatExperiment().Summarize([&] {
    Measurement m;
    m.test_keys.extra = k;
    return m;
  }());
  EXPECT_EQ(s.service, "WeChat");
  // The shortlink POST got a response: WeChat is not blocked outright.
  EXPECT_EQ(s.verdict, RunVerdict::kAnomaly);
  EXPECT_EQ(s.blocking, "tcp_ip");
}

TEST(WechatShortlink, LooksLikeTheAppsRequest) {
  const std::regex url("http://short\\.weixin\\.qq\\.com/mmtls/[0-9a-f]{8}");
  const std::string a = WechatShortlinkUrl(), b = WechatShortlinkUrl();
  EXPECT_TRUE(std::regex_match(a, url)) << a;
  EXPECT_NE(a, b) << "the path is random";
  const std::string body = WechatShortlinkBody();
  ASSERT_GT(body.size(), 5u);
  EXPECT_EQ(body.substr(0, 3), std::string("\x16\xf1\x04"));
  const size_t length = (static_cast<uint8_t>(body[3]) << 8) | static_cast<uint8_t>(body[4]);
  EXPECT_EQ(length, body.size() - 5) << "the header's length covers the payload";
}

// A loopback address of this process's own (127.<net>.x.y), so that suites running at
// the same time never share WeChat's fixed ports.
std::string OwnLoopbackAddress(int net) {
  const unsigned pid = static_cast<unsigned>(getpid());
  return "127." + std::to_string(net) + "." + std::to_string(1 + (pid / 250) % 250) + "." +
         std::to_string(1 + pid % 250);
}

// Why `ip`:80 cannot be bound here (privileged ports need root), or "".
std::string CannotBindPrivileged(const std::string& ip) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(80);
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  std::string why;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    why = ip + ":80: " + std::strerror(errno);
  }
  close(fd);
  return why;
}

std::vector<std::string> WechatNames() {
  std::vector<std::string> names = WechatLonglinkHosts();
  names.push_back(kWechatShortlinkHost);
  names.push_back(ParseUrl(kWechatHttpDnsUrl)->host);
  for (const auto& url : WechatWebUrls()) names.push_back(ParseUrl(url)->host);
  return names;
}

std::vector<std::string> ZoneRecords(const std::string& ip) {
  std::vector<std::string> records;
  for (const auto& name : WechatNames()) records.push_back(name + ". 300 IN A " + ip);
  return records;
}

class WechatExperimentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto why :
         {test_support::UnboundServer::Unavailable(), test_support::NginxServer::Unavailable()}) {
      if (why) GTEST_SKIP() << *why;
    }
    ip_ = OwnLoopbackAddress(74);
    if (auto why = CannotBindPrivileged(ip_); !why.empty()) GTEST_SKIP() << why;
    test_support::NginxOptions options;
    options.extra_http_listen = {ip_ + ":80"};
    options.extra_https_listen = {ip_ + ":443"};
    nginx_ = std::make_unique<test_support::NginxServer>(options);
    ASSERT_TRUE(nginx_->ok()) << nginx_->error();
    unbound_ = std::make_unique<test_support::UnboundServer>(ZoneRecords(ip_));
    ASSERT_TRUE(unbound_->ok()) << unbound_->error();
    context_.resolver = *ParseResolverSpec("udp://" + unbound_->address());
    context_.timeout = 2000ms;
    context_.ca_file = test_support::TestPki::Get().ca_file();
  }

  std::string ip_;
  std::unique_ptr<test_support::NginxServer> nginx_;
  std::unique_ptr<test_support::UnboundServer> unbound_;
  ExperimentContext context_;
};

TEST_F(WechatExperimentTest, RealRunJudgesEachPartOnItsOwn) {
  auto m = test_support::RunExperiment("wechat", context_);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->test_name, "wechat");
  EXPECT_EQ(m->test_version, "0.1.0");
  EXPECT_TRUE(m->input.is_null());
  const Json j = ToJson(*m);
  ASSERT_TRUE(ParseMeasurement(j.dump()).ok());
  const Json& k = j["test_keys"];

  // Every documented key, with its JSON type in this run.
  const std::vector<std::pair<const char*, Json::value_t>> keys = {
      {"wechat_longlink_status", Json::value_t::string},
      {"wechat_longlink_failure", Json::value_t::null},
      {"wechat_shortlink_status", Json::value_t::string},
      {"wechat_shortlink_failure", Json::value_t::null},
      {"wechat_httpdns_status", Json::value_t::string},
      {"wechat_httpdns_failure", Json::value_t::null},
      {"wechat_web_status", Json::value_t::string},
      {"wechat_web_failure", Json::value_t::string},
      {"x_shortlink_status_code", Json::value_t::number_integer},
      {"x_httpdns_status_code", Json::value_t::number_integer},
      {"x_web_status", Json::value_t::object},
      {"x_endpoint_status", Json::value_t::object},
      {"x_endpoint_failures", Json::value_t::object},
      {"x_partial_blocking", Json::value_t::boolean},
      {"x_failures", Json::value_t::array},
  };
  for (const auto& [key, type] : keys) {
    ASSERT_TRUE(k.contains(key)) << key;
    // nlohmann reads small positive integers back as unsigned.
    const bool integer = type == Json::value_t::number_integer && k[key].is_number_integer();
    EXPECT_TRUE(k[key].type() == type || integer) << key << " is " << k[key].type_name();
  }

  // nginx listens on 80 and 443 of every longlink host, not on 8080.
  EXPECT_EQ(k["wechat_longlink_status"], "ok");
  EXPECT_EQ(k["x_partial_blocking"], true);
  for (const auto& host : WechatLonglinkHosts()) {
    EXPECT_EQ(k["x_endpoint_status"][host],
              (Json{{"80", "ok"}, {"443", "ok"}, {"8080", "blocked"}}))
        << host;
    EXPECT_EQ(k["x_endpoint_failures"][host], (Json{{"8080", "connection_refused"}})) << host;
  }
  // Any response counts: nginx has neither path.
  EXPECT_EQ(k["wechat_shortlink_status"], "ok");
  EXPECT_EQ(k["x_shortlink_status_code"], 404);
  EXPECT_EQ(k["wechat_httpdns_status"], "ok");
  EXPECT_EQ(k["x_httpdns_status_code"], 404);
  // The test certificate names example.test, not WeChat's names.
  EXPECT_EQ(k["wechat_web_status"], "blocked");
  EXPECT_EQ(k["wechat_web_failure"], "ssl_invalid_hostname");
  EXPECT_EQ(k["x_web_status"],
            (Json{{"web.wechat.com", "blocked"}, {"mp.weixin.qq.com", "blocked"}}));

  // The shortlink went out as the app sends it.
  int posts = 0;
  for (const auto& r : m->test_keys.requests) {
    if (r.request.method != "POST") continue;
    ++posts;
    EXPECT_TRUE(std::regex_match(r.request.url,
                                 std::regex("http://short\\.weixin\\.qq\\.com/mmtls/[0-9a-f]{8}")))
        << r.request.url;
    EXPECT_EQ(r.request.body.bytes.substr(0, 3), std::string("\x16\xf1\x04"));
    EXPECT_EQ(r.address, ip_ + ":80");
    auto header = [&r](const std::string& name) {
      for (const auto& [n, v] : r.request.headers_list) {
        if (n == name) return v;
      }
      return std::string();
    };
    EXPECT_EQ(header("Upgrade"), "mmtls");
    EXPECT_EQ(header("Content-Type"), "application/octet-stream");
    EXPECT_EQ(r.response.code, 404);
  }
  EXPECT_EQ(posts, 1);
  // 4 hosts × 3 ports, and one connect per fetch.
  EXPECT_EQ(m->test_keys.tcp_connect.size(), 4u * 3 + 4);

  RunSummary s = WechatExperiment().Summarize(*m);
  EXPECT_EQ(s.service, "WeChat");
  // Ports 80 and 443 answer: partial blocking, whatever the web fronts' status says.
  EXPECT_EQ(s.verdict, RunVerdict::kAnomaly);
  // Four closed 8080s outnumber the two web fronts; the evidence names both.
  EXPECT_EQ(s.blocking, "tcp_ip");
  EXPECT_EQ(s.evidence,
            "long.wechat.com,long.weixin.qq.com,sglong.weixin.qq.com,uslong.weixin.qq.com:8080 "
            "connect connection_refused; mp.weixin.qq.com,web.wechat.com:443 tls_handshake "
            "ssl_invalid_hostname");
}

TEST(WechatDeadlines, BlackholedWechatEndsOnTime) {
  if (auto why = test_support::UnboundServer::Unavailable()) GTEST_SKIP() << *why;
  const std::string ip = OwnLoopbackAddress(75);
  test_support::BlackholeHost blackhole(ip, WechatLonglinkPorts());
  if (!blackhole.error().empty()) GTEST_SKIP() << "no blackhole: " << blackhole.error();
  test_support::UnboundServer unbound(ZoneRecords(ip));
  ASSERT_TRUE(unbound.ok()) << unbound.error();
  ExperimentContext context;
  context.resolver = *ParseResolverSpec("udp://" + unbound.address());
  context.timeout = 400ms;
  context.parallelism = 8;

  const auto start = std::chrono::steady_clock::now();
  auto m = test_support::RunExperiment("wechat", context);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(m.ok()) << m.error();

  // Eight tasks side by side: four hosts trying three ports one after the other, and
  // four fetches; every connect waits out its deadline.
  const auto bound = context.timeout * WechatLonglinkPorts().size();
  EXPECT_LT(elapsed, bound + 2 * context.timeout)
      << "the bound is about " << bound.count() << " ms";
  EXPECT_GE(elapsed, bound - 100ms);
  ASSERT_EQ(m->test_keys.tcp_connect.size(), 4u * 3 + 4);
  for (const auto& c : m->test_keys.tcp_connect) {
    EXPECT_EQ(c.status.failure.value_or(""), "generic_timeout_error") << c.ip << ":" << c.port;
  }
  const Json& k = m->test_keys.extra;
  for (const char* part : {"longlink", "shortlink", "httpdns", "web"}) {
    EXPECT_EQ(k[std::string("wechat_") + part + "_status"], "blocked") << part;
    EXPECT_EQ(k[std::string("wechat_") + part + "_failure"], "generic_timeout_error") << part;
  }
  EXPECT_EQ(k["x_partial_blocking"], false);
  RunSummary s = WechatExperiment().Summarize(*m);
  EXPECT_EQ(s.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(s.blocking, "tcp_ip");
  EXPECT_EQ(s.evidence,
            "dns.weixin.qq.com,long.wechat.com,long.weixin.qq.com,mp.weixin.qq.com,"
            "sglong.weixin.qq.com,short.weixin.qq.com,uslong.weixin.qq.com,web.wechat.com:80/443/"
            "8080 connect generic_timeout_error");
}

}  // namespace
}  // namespace vigil
