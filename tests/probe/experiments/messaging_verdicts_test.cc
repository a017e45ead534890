// The messaging experiments' verdict rules as pure functions, table-driven from
// synthetic observations: OONI's keys keep OONI's semantics, and the x_ keys report
// what OONI's hide (partial blocking, HTTP status codes, a missing pinned CA). A service
// that still works through any of its endpoints is never blocked.
#include <gtest/gtest.h>

#include "probe/experiments/common/ip_prefix_set.h"
#include "probe/experiments/facebook_messenger/facebook_messenger.h"
#include "probe/experiments/signal/signal.h"
#include "probe/experiments/telegram/telegram.h"
#include "probe/experiments/whatsapp/whatsapp.h"

namespace vigil {
namespace {

PortOutcome Ok() { return PortOutcome{true, "", ""}; }
PortOutcome Failed(const std::string& failure, const std::string& operation = "connect") {
  return PortOutcome{false, operation, failure};
}

// ---- WhatsApp ----

struct WhatsappCase {
  const char* name;
  WhatsappObservations observations;
  const char* endpoints_status;
  std::vector<std::string> endpoints_blocked;
  const char* registration_status;
  const char* web_status;
  bool partial;
  RunVerdict verdict;
};

TEST(WhatsappVerdicts, Table) {
  const StepFailure reset{"web.whatsapp.com", 443, "tls_handshake", "connection_reset"};
  const std::vector<WhatsappCase> cases = {
      {"all fine",
       {{{"e1.whatsapp.net", {{443, Ok()}, {5222, Ok()}}},
         {"e2.whatsapp.net", {{443, Ok()}, {5222, Ok()}}}},
        std::nullopt,
        std::nullopt},
       "ok",
       {},
       "ok",
       "ok",
       false,
       RunVerdict::kOk},
      {"one port of one endpoint fails: OONI says ok, we say partial",
       {{{"e1.whatsapp.net", {{443, Ok()}, {5222, Failed("connection_reset")}}},
         {"e2.whatsapp.net", {{443, Ok()}, {5222, Ok()}}}},
        std::nullopt,
        std::nullopt},
       "ok",
       {},
       "ok",
       "ok",
       true,
       RunVerdict::kAnomaly},
      {"an endpoint with both ports failing is listed",
       {{{"e1.whatsapp.net",
          {{443, Failed("generic_timeout_error")}, {5222, Failed("generic_timeout_error")}}},
         {"e2.whatsapp.net", {{443, Ok()}, {5222, Ok()}}}},
        std::nullopt,
        std::nullopt},
       "ok",
       {"e1.whatsapp.net"},
       "ok",
       "ok",
       true,
       RunVerdict::kAnomaly},
      {"every endpoint fails, DNS included, while registration and web answer: partial",
       {{{"e1.whatsapp.net",
          {{443, Failed("dns_nxdomain_error", "resolve")},
           {5222, Failed("dns_nxdomain_error", "resolve")}}},
         {"e2.whatsapp.net",
          {{443, Failed("connection_refused")}, {5222, Failed("connection_refused")}}}},
        std::nullopt,
        std::nullopt},
       "blocked",
       {"e1.whatsapp.net", "e2.whatsapp.net"},
       "ok",
       "ok",
       true,
       RunVerdict::kAnomaly},
      {"everything fails",
       {{{"e1.whatsapp.net",
          {{443, Failed("dns_nxdomain_error", "resolve")},
           {5222, Failed("dns_nxdomain_error", "resolve")}}},
         {"e2.whatsapp.net",
          {{443, Failed("connection_refused")}, {5222, Failed("connection_refused")}}}},
        StepFailure{"v.whatsapp.net", 443, "connect", "connection_refused"},
        StepFailure{"web.whatsapp.com", 443, "connect", "connection_refused"}},
       "blocked",
       {"e1.whatsapp.net", "e2.whatsapp.net"},
       "blocked",
       "blocked",
       false,
       RunVerdict::kBlocked},
      {"web fails at TLS while every endpoint works: partial, not blocked",
       {{{"e1.whatsapp.net", {{443, Ok()}, {5222, Ok()}}}}, std::nullopt, reset},
       "ok",
       {},
       "ok",
       "blocked",
       true,
       RunVerdict::kAnomaly},
      {"every endpoint and WhatsApp Web fail, registration answers: partial",
       {{{"e1.whatsapp.net",
          {{443, Failed("generic_timeout_error")}, {5222, Failed("generic_timeout_error")}}}},
        std::nullopt,
        reset},
       "blocked",
       {"e1.whatsapp.net"},
       "ok",
       "blocked",
       true,
       RunVerdict::kAnomaly},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Json k = WhatsappTestKeys(c.observations);
    EXPECT_EQ(k["whatsapp_endpoints_status"], c.endpoints_status);
    EXPECT_EQ(k["whatsapp_endpoints_blocked"], Json(c.endpoints_blocked));
    EXPECT_EQ(k["whatsapp_endpoints_dns_inconsistent"], Json::array());
    EXPECT_EQ(k["registration_server_status"], c.registration_status);
    EXPECT_EQ(k["whatsapp_web_status"], c.web_status);
    EXPECT_EQ(k["x_partial_blocking"], c.partial);
    EXPECT_EQ(WhatsappVerdict(k), c.verdict);
  }
}

TEST(WhatsappVerdicts, SomeEndpointsWorkingIsNeverBlocked) {
  // OONI's keys say blocked (registration refused, or e1's answers forged), ours say
  // partial: WhatsApp still works through e2. The verdict is anomaly either way.
  WhatsappObservations o;
  o.endpoints["e1.whatsapp.net"] = {{443, Failed("generic_timeout_error")},
                                    {5222, Failed("generic_timeout_error")}};
  o.endpoints["e2.whatsapp.net"] = {{443, Ok()}, {5222, Ok()}};
  o.registration = StepFailure{"v.whatsapp.net", 443, "connect", "connection_refused"};
  Json k = WhatsappTestKeys(o);
  EXPECT_EQ(k["registration_server_status"], "blocked");
  EXPECT_EQ(k["x_partial_blocking"], true);
  EXPECT_EQ(WhatsappVerdict(k), RunVerdict::kAnomaly);

  o.registration.reset();
  k = WhatsappTestKeys(o);
  k["x_dns_inconsistent"] = Json::array({"e1.whatsapp.net"});
  EXPECT_EQ(k["x_partial_blocking"], true);
  EXPECT_EQ(WhatsappVerdict(k), RunVerdict::kAnomaly);
}

TEST(WhatsappVerdicts, ForgedAnswersThatAnswerCountAsFailed) {
  // A GFW-style injector's forged addresses may accept connects: an endpoint whose
  // answers lie did not work, however its connects went.
  WhatsappObservations o;
  o.endpoints["e1.whatsapp.net"] = {{443, Ok()}, {5222, Failed("generic_timeout_error")}};
  o.endpoints["e2.whatsapp.net"] = {{443, Ok()}, {5222, Ok()}};
  o.registration = StepFailure{"v.whatsapp.net", 443, "connect", "generic_timeout_error"};
  o.web = StepFailure{"web.whatsapp.com", 443, "connect", "generic_timeout_error"};
  o.dns_inconsistent = {"e1.whatsapp.net", "e2.whatsapp.net", "v.whatsapp.net", "web.whatsapp.com"};
  Json k = WhatsappTestKeys(o);
  k["x_dns_inconsistent"] = Json::array({"e1.whatsapp.net", "e2.whatsapp.net"});
  EXPECT_EQ(k["x_partial_blocking"], false);
  EXPECT_EQ(WhatsappVerdict(k), RunVerdict::kBlocked);

  o.dns_inconsistent = {"e1.whatsapp.net"};  // e2's answers are honest, and it works
  k = WhatsappTestKeys(o);
  k["x_dns_inconsistent"] = Json::array({"e1.whatsapp.net"});
  EXPECT_EQ(k["x_partial_blocking"], true);
  EXPECT_EQ(WhatsappVerdict(k), RunVerdict::kAnomaly);
}

TEST(WhatsappVerdicts, StatusCodesNeverCount) {
  // web.whatsapp.com answers 400 to non-browsers: a response is a response. Only a
  // failure (FetchFailure returns nullopt for any status code) makes it "blocked".
  WhatsappObservations o;
  o.endpoints["e1.whatsapp.net"] = {{443, Ok()}, {5222, Ok()}};
  Json k = WhatsappTestKeys(o);
  EXPECT_EQ(k["whatsapp_web_status"], "ok");
  EXPECT_TRUE(k["whatsapp_web_failure"].is_null());
  EXPECT_TRUE(k["registration_server_failure"].is_null());

  o.registration = StepFailure{"v.whatsapp.net", 443, "connect", "connection_refused"};
  k = WhatsappTestKeys(o);
  EXPECT_EQ(k["registration_server_status"], "blocked");
  EXPECT_EQ(k["registration_server_failure"], "connection_refused");
}

TEST(WhatsappVerdicts, PerPortStatus) {
  WhatsappObservations o;
  o.endpoints["e1.whatsapp.net"] = {{443, Ok()}, {5222, Failed("connection_reset")}};
  Json k = WhatsappTestKeys(o);
  EXPECT_EQ(k["x_endpoint_status"],
            (Json{{"e1.whatsapp.net", {{"443", "ok"}, {"5222", "blocked"}}}}));
  EXPECT_EQ(k["x_endpoint_failures"], (Json{{"e1.whatsapp.net", {{"5222", "connection_reset"}}}}));
}

// ---- Telegram ----

TelegramAttempt Post(const std::string& dc, uint16_t port, const std::string& failure = "",
                     const std::string& operation = "") {
  return TelegramAttempt{dc, port, true, failure, failure.empty() ? "" : operation};
}
TelegramAttempt Connect(const std::string& dc, uint16_t port, const std::string& failure = "") {
  return TelegramAttempt{dc, port, false, failure, failure.empty() ? "" : "connect"};
}

// Every OONI DC on 80 and 443, all succeeding or all failing the same way.
std::vector<TelegramAttempt> AllOoniPosts(const std::string& failure, const std::string& op) {
  std::vector<TelegramAttempt> out;
  for (const auto& dc : TelegramOoniDcs()) {
    out.push_back(Post(dc, 80, failure, op));
    out.push_back(Post(dc, 443, failure, op));
  }
  return out;
}

struct TelegramCase {
  const char* name;
  std::vector<TelegramAttempt> attempts;
  bool tcp_blocking;
  bool http_blocking;
  bool partial;
  bool ipv6_usable;
  RunVerdict verdict;
  std::optional<StepFailure> web = std::nullopt;  // Telegram Web answers unless given
};

TEST(TelegramVerdicts, Table) {
  std::vector<TelegramAttempt> one_dc_ok = AllOoniPosts("generic_timeout_error", "connect");
  one_dc_ok[0] = Post(TelegramOoniDcs()[0], 80);

  std::vector<TelegramAttempt> http_only = AllOoniPosts("connection_reset", "http_round_trip");
  const StepFailure web_blackholed{"web.telegram.org", 443, "connect", "generic_timeout_error"};
  const StepFailure web_reset{"web.telegram.org", 443, "tls_handshake", "connection_reset"};

  std::vector<TelegramAttempt> client_port_blocked = AllOoniPosts("", "");
  client_port_blocked.push_back(Connect(TelegramOoniDcs()[0], 5222, "connection_refused"));

  std::vector<TelegramAttempt> no_ipv6 = AllOoniPosts("", "");
  no_ipv6.push_back(Post(TelegramIpv6Dcs()[0], 80, "network_unreachable", "connect"));
  no_ipv6.push_back(Connect(TelegramIpv6Dcs()[0], 5222, "network_unreachable"));

  std::vector<TelegramAttempt> ipv6_partly = AllOoniPosts("", "");
  ipv6_partly.push_back(Post(TelegramIpv6Dcs()[0], 80));
  ipv6_partly.push_back(Post(TelegramIpv6Dcs()[1], 80, "generic_timeout_error", "connect"));

  std::vector<TelegramAttempt> ipv6_reset = AllOoniPosts("", "");
  for (const auto& dc : TelegramIpv6Dcs()) {
    ipv6_reset.push_back(Connect(dc, 5222, "connection_reset"));
  }

  // OONI's DCs all blackholed, the IPv6 ones answering: Telegram still works.
  std::vector<TelegramAttempt> ipv4_blackholed = AllOoniPosts("generic_timeout_error", "connect");
  ipv4_blackholed.push_back(Post(TelegramIpv6Dcs()[0], 80));

  // This machine reaches one IPv6 DC and has no route to another's prefix.
  std::vector<TelegramAttempt> one_ipv6_route = AllOoniPosts("", "");
  one_ipv6_route.push_back(Post(TelegramIpv6Dcs()[0], 80));
  one_ipv6_route.push_back(Post(TelegramIpv6Dcs()[1], 80, "network_unreachable", "connect"));
  one_ipv6_route.push_back(Connect(TelegramIpv6Dcs()[1], 5222, "address_not_available"));

  const std::vector<TelegramCase> cases = {
      {"all DCs answer", AllOoniPosts("", ""), false, false, false, false, RunVerdict::kOk},
      {"one DC answers: OONI sees no blocking, we see partial blocking", one_dc_ok, false, false,
       true, false, RunVerdict::kAnomaly},
      {"every DC and Telegram Web blackholed", AllOoniPosts("generic_timeout_error", "connect"),
       true, true, false, false, RunVerdict::kBlocked, web_blackholed},
      {"every DC blackholed while Telegram Web answers: partial",
       AllOoniPosts("generic_timeout_error", "connect"), true, true, true, false,
       RunVerdict::kAnomaly},
      {"connects succeed, every POST and Telegram Web reset", http_only, false, true, false, false,
       RunVerdict::kBlocked, web_reset},
      {"only port 5222 refused: OONI cannot see it", client_port_blocked, false, false, true, false,
       RunVerdict::kAnomaly},
      {"no IPv6 on this network is not blocking", no_ipv6, false, false, false, false,
       RunVerdict::kOk},
      {"an IPv6 DC blocked while another answers", ipv6_partly, false, false, true, true,
       RunVerdict::kAnomaly},
      {"IPv6 DCs reset while IPv4 ones answer", ipv6_reset, false, false, true, true,
       RunVerdict::kAnomaly},
      {"OONI's DCs blackholed, an IPv6 DC answers: partial, not blocked", ipv4_blackholed, true,
       true, true, true, RunVerdict::kAnomaly},
      {"an IPv6 step without a route is not measured", one_ipv6_route, false, false, false, true,
       RunVerdict::kOk},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Json k = TelegramTestKeys(TelegramObservations{c.attempts, c.web});
    EXPECT_EQ(k["telegram_tcp_blocking"], c.tcp_blocking);
    EXPECT_EQ(k["telegram_http_blocking"], c.http_blocking);
    EXPECT_EQ(k["telegram_web_status"], c.web ? "blocked" : "ok");
    EXPECT_EQ(k["telegram_web_failure"].is_null(), !c.web);
    EXPECT_EQ(k["x_partial_blocking"], c.partial);
    EXPECT_EQ(k["x_ipv6_usable"], c.ipv6_usable);
    EXPECT_EQ(TelegramVerdict(k), c.verdict);
  }
}

TEST(TelegramVerdicts, PerDcPerPortStatus) {
  const std::string dc = TelegramOoniDcs()[0];
  TelegramObservations o;
  o.attempts = {Post(dc, 80), Post(dc, 443, "connection_reset", "http_round_trip"),
                Connect(dc, 5222)};
  o.web = StepFailure{"web.telegram.org", 443, "tls_handshake", "ssl_invalid_hostname"};
  Json k = TelegramTestKeys(o);
  EXPECT_EQ(k["x_dc_status"], (Json{{dc, {{"80", "ok"}, {"443", "blocked"}, {"5222", "ok"}}}}));
  EXPECT_EQ(k["x_dc_failures"], (Json{{dc, {{"443", "connection_reset"}}}}));
  EXPECT_EQ(k["telegram_web_status"], "blocked");
  EXPECT_EQ(k["telegram_web_failure"], "ssl_invalid_hostname");
  // OONI's web status says blocked, but the DC answers on 80 and 5222.
  EXPECT_EQ(k["x_partial_blocking"], true);
  EXPECT_EQ(TelegramVerdict(k), RunVerdict::kAnomaly);
}

TEST(TelegramVerdicts, NoIpv6RouteIsNotMeasuredNotBlocked) {
  const std::string v4 = TelegramOoniDcs()[0], v6 = TelegramIpv6Dcs()[0],
                    other_v6 = TelegramIpv6Dcs()[1];
  TelegramObservations o;
  o.attempts = {Post(v4, 80), Post(v6, 80, "network_unreachable", "connect"),
                Connect(v6, 5222, "address_not_available"), Post(other_v6, 443),
                Connect(other_v6, 5222, "network_down")};
  Json k = TelegramTestKeys(o);
  EXPECT_EQ(k["x_ipv6_usable"], true);  // other_v6 answered on 443
  EXPECT_EQ(k["x_dc_status"][v6], (Json{{"80", "no_ipv6"}, {"5222", "no_ipv6"}}));
  EXPECT_EQ(k["x_dc_status"][other_v6], (Json{{"443", "ok"}, {"5222", "no_ipv6"}}));
  EXPECT_EQ(k["x_dc_failures"][v6]["80"], "network_unreachable");
  EXPECT_EQ(k["x_failures"], Json::array());
  EXPECT_EQ(k["x_partial_blocking"], false);
  EXPECT_EQ(TelegramVerdict(k), RunVerdict::kOk);

  // An IPv4 step is never taken for a missing IPv6 route.
  o.attempts = {Post(v4, 80), Post(TelegramOoniDcs()[1], 80, "network_unreachable", "connect")};
  k = TelegramTestKeys(o);
  EXPECT_EQ(k["x_dc_status"][TelegramOoniDcs()[1]]["80"], "blocked");
  EXPECT_EQ(TelegramVerdict(k), RunVerdict::kAnomaly);
}

TEST(TelegramVerdicts, InconsistentDnsBesideWorkingDcsIsPartial) {
  TelegramObservations o;
  o.attempts = AllOoniPosts("", "");
  o.web = StepFailure{"web.telegram.org", 443, "connect", "generic_timeout_error"};
  o.dns_inconsistent = {"web.telegram.org"};
  Json k = TelegramTestKeys(o);
  k["x_dns_inconsistent"] = Json::array({"web.telegram.org"});
  EXPECT_EQ(k["x_partial_blocking"], true);
  EXPECT_EQ(TelegramVerdict(k), RunVerdict::kAnomaly);

  o.attempts = AllOoniPosts("generic_timeout_error", "connect");
  k = TelegramTestKeys(o);
  k["x_dns_inconsistent"] = Json::array({"web.telegram.org"});
  EXPECT_EQ(k["x_partial_blocking"], false);
  EXPECT_EQ(TelegramVerdict(k), RunVerdict::kBlocked);
}

// ---- Signal ----

TEST(SignalVerdicts, Table) {
  const auto& urls = SignalBackendUrls();
  auto observe = [&urls](std::optional<StepFailure> chat, const std::string& ca) {
    SignalObservations o;
    for (const auto& url : urls) {
      o.backends.emplace_back(url, url == "https://chat.signal.org/" ? chat : std::nullopt);
    }
    o.ca_source = ca;
    return o;
  };
  const StepFailure unknown{"chat.signal.org", 443, "tls_handshake", "ssl_unknown_authority"};
  const StepFailure nx{"chat.signal.org", 0, "resolve", "dns_nxdomain_error"};
  struct Case {
    const char* name;
    SignalObservations o;
    const char* ooni_status;
    const char* ours;
    RunVerdict verdict;
  };
  // chat.signal.org failing while the other backends answer is partial blocking:
  // anomaly, never blocked.
  const std::vector<Case> cases = {
      {"all fine", observe(std::nullopt, "pinned"), "ok", "ok", RunVerdict::kOk},
      {"NXDOMAIN", observe(nx, "pinned"), "blocked", "blocked", RunVerdict::kAnomaly},
      {"unknown authority with Signal's CA: interception", observe(unknown, "pinned"), "blocked",
       "blocked", RunVerdict::kAnomaly},
      {"unknown authority with the system store: expected, not evidence",
       observe(unknown, "system"), "blocked", "unverifiable", RunVerdict::kAnomaly},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Json k = SignalTestKeys(c.o);
    EXPECT_EQ(k["signal_backend_status"], c.ooni_status);
    EXPECT_EQ(k["x_backend_status"]["chat.signal.org"], c.ours);
    EXPECT_EQ(k["x_backend_status"]["storage.signal.org"], "ok");
    EXPECT_EQ(k["x_ca_source"], c.o.ca_source);
    EXPECT_EQ(SignalVerdict(k), c.verdict);
  }
}

TEST(SignalVerdicts, BlockedOnlyWhenNoBackendWorks) {
  SignalObservations o;
  o.ca_source = "pinned";
  for (const auto& url : SignalBackendUrls()) {
    o.backends.emplace_back(url, StepFailure{url, 443, "tls_handshake", "connection_reset"});
  }
  Json k = SignalTestKeys(o);
  EXPECT_EQ(k["x_partial_blocking"], false);
  EXPECT_EQ(SignalVerdict(k), RunVerdict::kBlocked);

  o.backends[0].second.reset();
  k = SignalTestKeys(o);
  EXPECT_EQ(k["x_partial_blocking"], true);
  EXPECT_EQ(SignalVerdict(k), RunVerdict::kAnomaly);
  // A forged answer for one name beside a backend that works: still partial.
  k["x_dns_inconsistent"] = Json::array({"chat.signal.org"});
  EXPECT_EQ(SignalVerdict(k), RunVerdict::kAnomaly);
}

TEST(SignalVerdicts, OoniMeasurementsWithoutOurKeys) {
  EXPECT_EQ(SignalVerdict(Json{{"signal_backend_status", "blocked"}}), RunVerdict::kBlocked);
  EXPECT_EQ(SignalVerdict(Json{{"signal_backend_status", "ok"}}), RunVerdict::kOk);
}

// ---- Facebook Messenger ----

TEST(FacebookMessengerVerdicts, Table) {
  IpPrefixSet facebook;
  ASSERT_TRUE(facebook.Add("157.240.0.0/16").ok());
  ASSERT_TRUE(facebook.Add("2a03:2880::/32").ok());
  auto observe = [](const std::string& b_api_ip, const std::string& b_api_dns_failure,
                    PortOutcome b_api_connect) {
    FacebookObservations o;
    for (const auto& s : FacebookServices()) {
      o.lookups[s.host] = SweepLookup{s.host, {"157.240.1.1", "2a03:2880:f10c::1"}, ""};
      if (s.port) o.endpoints[s.host][*s.port] = Ok();
    }
    o.lookups["b-api.facebook.com"] = SweepLookup{
        "b-api.facebook.com",
        b_api_dns_failure.empty() ? std::vector<std::string>{b_api_ip} : std::vector<std::string>{},
        b_api_dns_failure};
    o.endpoints["b-api.facebook.com"][443] = b_api_connect;
    return o;
  };
  struct Case {
    const char* name;
    FacebookObservations o;
    Json consistent, reachable;
    bool dns_blocking, tcp_blocking;
  };
  const std::vector<Case> cases = {
      {"all in AS32934 and reachable", observe("157.240.3.35", "", Ok()), true, true, false, false},
      {"an answer outside AS32934", observe("10.10.34.35", "", Ok()), false, nullptr, true, false},
      {"NXDOMAIN", observe("", "dns_nxdomain_error", Failed("dns_nxdomain_error", "resolve")),
       false, nullptr, true, false},
      {"consistent but the connect is reset",
       observe("157.240.3.35", "", Failed("connection_reset")), true, false, false, true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Json k = FacebookMessengerTestKeys(c.o, facebook);
    EXPECT_EQ(k["facebook_b_api_dns_consistent"], c.consistent);
    EXPECT_EQ(k["facebook_b_api_reachable"], c.reachable);
    EXPECT_EQ(k["facebook_b_graph_dns_consistent"], true);
    EXPECT_EQ(k["facebook_b_graph_reachable"], true);
    EXPECT_EQ(k["facebook_stun_dns_consistent"], true);
    EXPECT_TRUE(k["facebook_stun_reachable"].is_null()) << "OONI only resolves STUN";
    EXPECT_EQ(k["facebook_dns_blocking"], c.dns_blocking);
    EXPECT_EQ(k["facebook_tcp_blocking"], c.tcp_blocking);
    // b-api failing while the other services are reachable is partial blocking.
    EXPECT_EQ(k["x_partial_blocking"], c.dns_blocking || c.tcp_blocking);
    EXPECT_EQ(FacebookMessengerVerdict(k),
              c.dns_blocking || c.tcp_blocking ? RunVerdict::kAnomaly : RunVerdict::kOk);
  }
}

TEST(FacebookMessengerVerdicts, BlockedOnlyWhenNoServiceIsReachable) {
  IpPrefixSet facebook;
  ASSERT_TRUE(facebook.Add("157.240.0.0/16").ok());
  FacebookObservations o;
  for (const auto& s : FacebookServices()) {
    o.lookups[s.host] = SweepLookup{s.host, {"157.240.1.1"}, ""};
    if (s.port) o.endpoints[s.host][*s.port] = Failed("generic_timeout_error");
  }
  Json k = FacebookMessengerTestKeys(o, facebook);
  EXPECT_EQ(k["facebook_tcp_blocking"], true);
  EXPECT_EQ(k["x_partial_blocking"], false) << "a lookup alone is no working service";
  EXPECT_EQ(FacebookMessengerVerdict(k), RunVerdict::kBlocked);

  o.endpoints["edge-mqtt.facebook.com"][443] = Ok();
  k = FacebookMessengerTestKeys(o, facebook);
  EXPECT_EQ(k["facebook_tcp_blocking"], true);
  EXPECT_EQ(k["x_partial_blocking"], true);
  EXPECT_EQ(FacebookMessengerVerdict(k), RunVerdict::kAnomaly);
}

TEST(FacebookMessengerVerdicts, HandshakesResetAfterWorkingConnectsAreTlsBlocking) {
  IpPrefixSet facebook;
  ASSERT_TRUE(facebook.Add("157.240.0.0/16").ok());
  PortOutcome reset = Ok();
  reset.tls = true;
  reset.tls_failure = "connection_reset";
  FacebookObservations o;
  for (const auto& s : FacebookServices()) {
    o.lookups[s.host] = SweepLookup{s.host, {"157.240.1.1"}, ""};
    if (s.port) o.endpoints[s.host][*s.port] = reset;
  }
  Json k = FacebookMessengerTestKeys(o, facebook);
  // OONI's keys know only the connects, which all worked.
  EXPECT_EQ(k["facebook_tcp_blocking"], false);
  EXPECT_EQ(k["facebook_dns_blocking"], false);
  EXPECT_EQ(k["facebook_b_api_reachable"], true);
  EXPECT_EQ(k["x_endpoint_status"]["b-api.facebook.com"]["443"], "blocked");
  EXPECT_EQ(k["x_endpoint_failures"]["b-api.facebook.com"]["443"], "connection_reset");
  EXPECT_EQ(k["x_partial_blocking"], false);
  EXPECT_EQ(FacebookMessengerVerdict(k), RunVerdict::kBlocked);
  Measurement m;
  m.test_keys.extra = k;
  RunSummary summary = FacebookMessengerExperiment().Summarize(m);
  EXPECT_EQ(summary.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(summary.blocking, "tls");
  EXPECT_NE(summary.evidence.find("tls_handshake connection_reset"), std::string::npos)
      << summary.evidence;

  // One service still handshakes: partial blocking, an anomaly by TLS.
  PortOutcome handshaken = Ok();
  handshaken.tls = true;
  handshaken.tls_ok = true;
  o.endpoints["edge-mqtt.facebook.com"][443] = handshaken;
  k = FacebookMessengerTestKeys(o, facebook);
  EXPECT_EQ(k["x_partial_blocking"], true);
  EXPECT_EQ(FacebookMessengerVerdict(k), RunVerdict::kAnomaly);
  m.test_keys.extra = k;
  summary = FacebookMessengerExperiment().Summarize(m);
  EXPECT_EQ(summary.verdict, RunVerdict::kAnomaly);
  EXPECT_EQ(summary.blocking, "tls");
}

TEST(FacebookMessengerVerdicts, InconsistentAnswersAreNamed) {
  IpPrefixSet facebook;
  ASSERT_TRUE(facebook.Add("157.240.0.0/16").ok());
  FacebookObservations o;
  for (const auto& s : FacebookServices()) {
    o.lookups[s.host] = SweepLookup{s.host, {"157.240.1.1"}, ""};
  }
  o.lookups["star.c10r.facebook.com"].addresses = {"157.240.1.1", "31.13.1.1"};
  Json k = FacebookMessengerTestKeys(o, facebook);
  EXPECT_EQ(k["x_dns_status"]["star.c10r.facebook.com"], "inconsistent");
  EXPECT_EQ(k["x_inconsistent_addresses"]["star.c10r.facebook.com"], Json::array({"31.13.1.1"}));
  EXPECT_EQ(k["x_dns_status"]["b-api.facebook.com"], "consistent");
}

}  // namespace
}  // namespace vigil
