// web_connectivity's classification on crafted observations, one row per rule of
// ts-017's decision (and of our DNS-consistency additions): what the probe and the
// control saw in, dns_consistency / blocking / accessible / the rule / per-layer
// verdicts out.
#include <gtest/gtest.h>

#include <functional>
#include <ostream>

#include "probe/experiments/web_connectivity/classification.h"

namespace vigil {
namespace {

constexpr const char* kSiteIp = "93.184.216.34";

// A site that works from both sides over plain HTTP.
WebObservations Reachable() {
  WebObservations o;
  o.host = "www.example.org";
  o.addresses = {kSiteIp};
  o.connects = {{kSiteIp, 80, ""}};
  o.fetch.final_url = "http://www.example.org/";
  o.fetch.hops = 1;
  o.fetch.status_code = 200;
  o.fetch.headers = {{"Date", "x"}, {"Content-Type", "text/html"}, {"X-Site", "1"}};
  o.fetch.body_length = 1000;
  o.fetch.title = "Example Domain Homepage";
  ControlResponse c;
  c.dns.addrs = {kSiteIp};
  c.tcp_connect["93.184.216.34:80"] = {true, std::nullopt};
  c.http_request.status_code = 200;
  c.http_request.body_length = 1000;
  c.http_request.title = "Example Domain Homepage";
  c.http_request.headers = {{"Date", "y"}, {"Content-Type", "text/html"}, {"X-Site", "2"}};
  o.control = c;
  return o;
}

void ConnectsFail(WebObservations& o, const char* failure) {
  for (auto& c : o.connects) c.failure = failure;
  o.fetch.failure = failure;
  o.fetch.failed_operation = "connect";
  o.fetch.status_code = 0;
  o.fetch.headers.clear();
  o.fetch.body_length = 0;
  o.fetch.title.reset();
}

void ProbeResolvesTo(WebObservations& o, const std::string& ip) {
  o.addresses = {ip};
  o.connects = {{ip, 80, ""}};
}

void BlockPage(WebObservations& o) {
  o.fetch.headers = {{"Content-Type", "text/html"}};
  o.fetch.body_length = 120;
  o.fetch.title = "Access Denied";
}

// The site refuses everyone: the control's connects and fetch failed too.
void ControlFailsEverything(WebObservations& o) {
  for (auto& [endpoint, c] : o.control->tcp_connect) c = {false, "connection_refused_error"};
  o.control->http_request = {};
  o.control->http_request.failure = "connection_refused_error";
}

// The site answered the control with an error page.
void ControlGets503(WebObservations& o) {
  o.control->http_request.status_code = 503;
  o.control->http_request.body_length = 300;
  o.control->http_request.title = "503 Service Unavailable";
  o.control->http_request.headers = {{"Content-Type", "text/html"}, {"Retry-After", "120"}};
}

struct Row {
  const char* name;
  std::function<void(WebObservations&)> change;
  Json dns_consistency;  // "consistent", "inconsistent" or null
  Json blocking;
  Json accessible;
  const char* rule;
};

void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

class ClassificationTable : public ::testing::TestWithParam<Row> {};

TEST_P(ClassificationTable, DecidesAsTs017) {
  const Row& row = GetParam();
  WebObservations o = Reachable();
  row.change(o);
  const WebClassification c = ClassifyWebConnectivity(o);
  const Json keys = WebConnectivityKeys(o, c);
  EXPECT_EQ(keys["dns_consistency"], row.dns_consistency);
  EXPECT_EQ(keys["blocking"], row.blocking);
  EXPECT_EQ(keys["accessible"], row.accessible);
  EXPECT_EQ(c.rule, row.rule);
  EXPECT_EQ(keys["x_blocking_rule"], row.rule);
}

const Row kRows[] = {
    {"reachable", [](WebObservations&) {}, "consistent", false, true, "http_match"},
    {"https_needs_no_control",
     [](WebObservations& o) {
       o.fetch.final_url = "https://www.example.org/";
       o.control.reset();
       o.control_failure = "connection_refused";
     },
     nullptr, false, true, "https_success"},
    {"no_control",
     [](WebObservations& o) {
       o.control.reset();
       o.control_failure = "connection_refused";
     },
     nullptr, nullptr, nullptr, "control_failure"},
    {"nxdomain_on_both_sides",
     [](WebObservations& o) {
       o.dns_failure = "dns_nxdomain_error";
       o.addresses.clear();
       o.connects.clear();
       ConnectsFail(o, "dns_nxdomain_error");
       o.fetch.failed_operation = "resolve";
       o.control->dns = {std::string("dns_name_error"), {}};
       o.control->tcp_connect.clear();
       o.control->http_request = {};
       o.control->http_request.failure = "dns_lookup_error";
     },
     "consistent", false, true, "nxdomain_both"},
    {"nxdomain_only_here",
     [](WebObservations& o) {
       o.dns_failure = "dns_nxdomain_error";
       o.addresses.clear();
       o.connects.clear();
       ConnectsFail(o, "dns_nxdomain_error");
       o.fetch.failed_operation = "resolve";
     },
     "inconsistent", "dns", false, "dns_failure"},
    {"lookup_failed_on_both_sides",
     [](WebObservations& o) {
       o.dns_failure = "dns_servfail_error";
       o.addresses.clear();
       o.connects.clear();
       ConnectsFail(o, "dns_servfail_error");
       o.fetch.failed_operation = "resolve";
       o.control->dns = {std::string("dns_server_failure"), {}};
       o.control->tcp_connect.clear();
       o.control->http_request = {};
       o.control->http_request.failure = "dns_lookup_error";
     },
     "consistent", nullptr, nullptr, "control_http_failure"},
    {"wrong_public_address_unreachable",
     [](WebObservations& o) {
       ProbeResolvesTo(o, "45.33.2.1");
       ConnectsFail(o, "generic_timeout_error");
     },
     "inconsistent", "dns", false, "connect_failed_dns"},
    {"private_answer_for_a_public_name",
     [](WebObservations& o) {
       ProbeResolvesTo(o, "10.10.34.35");
       ConnectsFail(o, "connection_refused");
     },
     "inconsistent", "dns", false, "connect_failed_dns"},
    {"private_answer_beside_the_right_one",
     [](WebObservations& o) {
       o.addresses = {"10.10.34.35", kSiteIp};
     },
     "inconsistent", false, true, "http_match"},
    {"private_network_name_on_both_sides",
     [](WebObservations& o) {
       ProbeResolvesTo(o, "127.0.0.1");
       o.control->dns.addrs = {"127.0.0.1", "::1"};
     },
     "consistent", false, true, "http_match"},
    {"same_as_is_consistent",
     [](WebObservations& o) {
       ProbeResolvesTo(o, "93.184.216.35");
       o.asns = {{"93.184.216.35", 15133}, {kSiteIp, 15133}};
     },
     "consistent", false, true, "http_match"},
    {"verified_tls_vouches_for_an_address",
     [](WebObservations& o) {
       ProbeResolvesTo(o, "45.33.2.1");
       o.tls_handshakes = {{"45.33.2.1:443", "www.example.org", ""}};
     },
     "consistent", false, true, "http_match"},
    {"tls_for_another_name_does_not",
     [](WebObservations& o) {
       ProbeResolvesTo(o, "45.33.2.1");
       o.tls_handshakes = {{"45.33.2.1:443", "other.example.org", ""}};
     },
     "inconsistent", false, true, "http_match"},
    {"ip_literal_needs_no_lookup",
     [](WebObservations& o) {
       o.host = kSiteIp;
       o.control->dns = {};
     },
     "consistent", false, true, "http_match"},
    {"every_connect_failed", [](WebObservations& o) { ConnectsFail(o, "generic_timeout_error"); },
     "consistent", "tcp_ip", false, "connect_failed"},
    // The control could not connect to those addresses either: the site is down, as
    // OONI 0.5 says it (accessible false, blocking false), not blocked here.
    {"every_connect_failed_at_the_control_too",
     [](WebObservations& o) {
       ConnectsFail(o, "connection_refused");
       ControlFailsEverything(o);
     },
     "consistent", false, false, "connect_failed_down"},
    {"every_connect_failed_the_control_connected_to_one",
     [](WebObservations& o) {
       o.addresses = {kSiteIp, "93.184.216.40"};
       o.connects = {{kSiteIp, 80, ""}, {"93.184.216.40", 80, ""}};
       ConnectsFail(o, "generic_timeout_error");
       o.control->dns.addrs = o.addresses;
       o.control->tcp_connect["93.184.216.40:80"] = {false, std::string("generic_timeout_error")};
     },
     "consistent", "tcp_ip", false, "connect_failed"},
    {"every_connect_failed_at_the_control_too_after_a_lying_lookup",
     [](WebObservations& o) {
       ProbeResolvesTo(o, "45.33.2.1");
       ConnectsFail(o, "generic_timeout_error");
       o.control->tcp_connect["45.33.2.1:80"] = {false, std::string("generic_timeout_error")};
     },
     "inconsistent", "dns", false, "connect_failed_dns"},
    {"control_fetch_failed",
     [](WebObservations& o) {
       o.control->http_request = {};
       o.control->http_request.failure = "unknown_error";
     },
     "consistent", nullptr, nullptr, "control_http_failure"},
    {"reset_during_the_fetch",
     [](WebObservations& o) {
       o.fetch.failure = "connection_reset";
       o.fetch.failed_operation = "http_round_trip";
     },
     "consistent", "http-failure", false, "http_failure"},
    {"fetch_failure_after_a_lying_lookup",
     [](WebObservations& o) {
       ProbeResolvesTo(o, "45.33.2.1");
       o.fetch.failure = "connection_reset";
       o.fetch.failed_operation = "http_round_trip";
     },
     "inconsistent", "dns", false, "http_failure_dns"},
    {"redirect_target_does_not_resolve",
     [](WebObservations& o) {
       o.fetch.hops = 2;
       o.fetch.failure = "dns_nxdomain_error";
       o.fetch.failed_operation = "resolve";
     },
     "consistent", "dns", false, "http_failure_dns"},
    {"block_page", [](WebObservations& o) { BlockPage(o); }, "consistent", "http-diff", false,
     "http_diff"},
    {"block_page_after_a_lying_lookup",
     [](WebObservations& o) {
       ProbeResolvesTo(o, "45.33.2.1");
       BlockPage(o);
     },
     "inconsistent", "dns", false, "http_diff_dns"},
    {"same_title_is_enough",
     [](WebObservations& o) {
       o.fetch.headers = {{"Content-Type", "text/html"}};
       o.fetch.body_length = 100;
     },
     "consistent", false, true, "http_match"},
    {"status_differs", [](WebObservations& o) { o.fetch.status_code = 403; }, "consistent",
     "http-diff", false, "http_diff"},
    // A control that got a 5xx has no page to compare with: a different page here is
    // no evidence of blocking. OONI's keys still say http-diff (as OONI computes them);
    // the rule carries our judgement.
    {"control_got_a_5xx", [](WebObservations& o) { ControlGets503(o); }, "consistent", "http-diff",
     false, "control_http_5xx"},
    {"both_got_a_5xx_with_different_pages",
     [](WebObservations& o) {
       ControlGets503(o);
       BlockPage(o);
       o.fetch.status_code = 503;
     },
     "consistent", "http-diff", false, "control_http_5xx"},
    {"same_5xx_on_both_sides_is_a_match",
     [](WebObservations& o) {
       ControlGets503(o);
       o.fetch.status_code = 503;
       o.fetch.body_length = 310;
     },
     "consistent", false, true, "http_match"},
    {"control_got_a_5xx_after_a_lying_lookup",
     [](WebObservations& o) {
       ProbeResolvesTo(o, "45.33.2.1");
       ControlGets503(o);
     },
     "inconsistent", "dns", false, "http_diff_dns"},
};

INSTANTIATE_TEST_SUITE_P(Rules, ClassificationTable, ::testing::ValuesIn(kRows),
                         [](const auto& row) { return std::string(row.param.name); });

TEST(Classification, DnsFlagsSayWhy) {
  WebObservations o = Reachable();
  ProbeResolvesTo(o, "10.10.34.35");
  EXPECT_EQ(ClassifyWebConnectivity(o).x_dns_flags, 1) << "bogon";
  o = Reachable();
  o.dns_failure = "dns_nxdomain_error";
  o.addresses.clear();
  EXPECT_EQ(ClassifyWebConnectivity(o).x_dns_flags, 2) << "unexpected failure";
  o = Reachable();
  ProbeResolvesTo(o, "45.33.2.1");
  EXPECT_EQ(ClassifyWebConnectivity(o).x_dns_flags, 4) << "unexpected addresses";
  EXPECT_EQ(ClassifyWebConnectivity(Reachable()).x_dns_flags, 0);
}

TEST(Classification, StatusAndBlockingFlagsFollowOoni) {
  WebObservations o = Reachable();
  WebClassification c = ClassifyWebConnectivity(o);
  EXPECT_EQ(c.x_status, 2) << "cleartext success";
  EXPECT_EQ(c.x_blocking_flags, 32);

  o.fetch.final_url = "https://www.example.org/";
  EXPECT_EQ(ClassifyWebConnectivity(o).x_status, 1) << "secure success";

  o = Reachable();
  o.control.reset();
  c = ClassifyWebConnectivity(o);
  EXPECT_EQ(c.x_status, 8) << "control unreachable";
  EXPECT_EQ(c.x_blocking_flags, 0);

  o = Reachable();
  o.fetch.failure = "ssl_invalid_hostname";
  o.fetch.failed_operation = "tls_handshake";
  c = ClassifyWebConnectivity(o);
  EXPECT_EQ(c.x_blocking_flags, 4) << "a TLS failure is OONI's TLS blocking flag";
  EXPECT_EQ(c.x_status, (1 << 13) | (1 << 10));

  o = Reachable();
  ConnectsFail(o, "connection_refused");
  EXPECT_EQ(ClassifyWebConnectivity(o).x_blocking_flags, 2);
}

TEST(Classification, LayerVerdicts) {
  WebObservations o = Reachable();
  WebClassification c = ClassifyWebConnectivity(o);
  EXPECT_EQ(c.x_dns_verdict, "ok");
  EXPECT_EQ(c.x_tcp_verdict, "ok");
  EXPECT_EQ(c.x_tls_verdict, std::nullopt) << "no TLS for http://";
  EXPECT_EQ(c.x_http_verdict, "ok");

  // The control connected where we could not: blocked at TCP.
  ConnectsFail(o, "generic_timeout_error");
  c = ClassifyWebConnectivity(o);
  EXPECT_EQ(c.x_tcp_verdict, "blocked");
  EXPECT_EQ(c.x_http_verdict, "blocked");

  // The control could not connect either: the site is down.
  o.control->tcp_connect["93.184.216.34:80"] = {false, std::string("connection_refused_error")};
  c = ClassifyWebConnectivity(o);
  EXPECT_EQ(c.blocking, false);
  EXPECT_EQ(c.accessible, false);
  EXPECT_EQ(c.x_tcp_verdict, "down");
  EXPECT_EQ(c.x_blocking_flags, 0) << "OONI 0.5's website down: no blocking flag";
  EXPECT_EQ(c.x_null_null_flags, 2) << "every connect failed here and at the control";
  EXPECT_EQ(c.x_status, 1 << 12) << "the connect experiment failed; no anomaly";

  // The control got a 5xx: our page cannot be judged against it.
  o = Reachable();
  ControlGets503(o);
  c = ClassifyWebConnectivity(o);
  EXPECT_EQ(c.x_http_verdict, "unknown");
  EXPECT_EQ(c.rule, "control_http_5xx");
  // OONI's own keys stay as OONI computes them: an HTTP diff.
  EXPECT_EQ(c.blocking, "http-diff");
  EXPECT_EQ(c.x_status, 1 << 6) << "http diff";
  EXPECT_EQ(c.x_blocking_flags, 16);

  // One address of two blocked.
  o = Reachable();
  o.addresses = {kSiteIp, "93.184.216.40"};
  o.connects = {{kSiteIp, 80, ""}, {"93.184.216.40", 80, "connection_reset"}};
  o.control->dns.addrs = o.addresses;
  o.control->tcp_connect["93.184.216.40:80"] = {true, std::nullopt};
  EXPECT_EQ(ClassifyWebConnectivity(o).x_tcp_verdict, "anomaly");

  // The IPv6 address fails for want of a route out of this machine, which the helper
  // has: not measured, so not an anomaly (the analyzer leaves such failures out too).
  constexpr const char* kSiteIpv6 = "2606:2800:220:1:248:1893:25c8:1946";
  o = Reachable();
  o.addresses = {kSiteIp, kSiteIpv6};
  o.connects = {{kSiteIp, 80, ""}, {kSiteIpv6, 80, "network_unreachable"}};
  o.control->dns.addrs = o.addresses;
  o.control->tcp_connect["[2606:2800:220:1:248:1893:25c8:1946]:80"] = {true, std::nullopt};
  EXPECT_EQ(ClassifyWebConnectivity(o).x_tcp_verdict, "ok");
  // Every address IPv6, none routable here: nothing was measured.
  o.addresses = {kSiteIpv6};
  o.connects = {{kSiteIpv6, 80, "network_unreachable"}};
  EXPECT_EQ(ClassifyWebConnectivity(o).x_tcp_verdict, "no_ipv6");

  // Without a control nothing is compared.
  o = Reachable();
  o.control.reset();
  c = ClassifyWebConnectivity(o);
  EXPECT_EQ(c.x_dns_verdict, "unknown");
  EXPECT_EQ(c.x_http_verdict, "unknown");

  // TLS failed here, worked there.
  o = Reachable();
  o.tls_handshakes = {{"93.184.216.34:443", "www.example.org", "connection_reset"}};
  o.control->tls_handshake["93.184.216.34:443"] = {"www.example.org", true, std::nullopt};
  EXPECT_EQ(ClassifyWebConnectivity(o).x_tls_verdict, "blocked");
}

TEST(Classification, HttpComparisons) {
  WebObservations o = Reachable();
  o.fetch.body_length = 800;
  WebClassification c = ClassifyWebConnectivity(o);
  EXPECT_DOUBLE_EQ(c.body_proportion, 0.8);
  EXPECT_EQ(c.body_length_match, true);
  o.fetch.body_length = 500;
  c = ClassifyWebConnectivity(o);
  EXPECT_DOUBLE_EQ(c.body_proportion, 0.5);
  EXPECT_EQ(c.body_length_match, false);

  // A truncated body is not compared, nor its title.
  o.fetch.body_is_truncated = true;
  c = ClassifyWebConnectivity(o);
  EXPECT_EQ(c.body_length_match, std::nullopt);
  EXPECT_EQ(c.title_match, std::nullopt);
  EXPECT_EQ(c.body_proportion, 0);

  // A control 5xx says nothing about our 200.
  o = Reachable();
  o.control->http_request.status_code = 503;
  EXPECT_EQ(ClassifyWebConnectivity(o).status_code_match, std::nullopt);
  o.fetch.status_code = 503;
  EXPECT_EQ(ClassifyWebConnectivity(o).status_code_match, true);

  // Headers: the same names, or one shared uncommon name.
  o = Reachable();
  o.fetch.headers = {{"date", "a"}};
  o.control->http_request.headers = {{"Date", "b"}, {"Server", "c"}};
  EXPECT_EQ(ClassifyWebConnectivity(o).headers_match, false);
  o.fetch.headers = {{"Date", "a"}, {"x-site", "1"}};
  o.control->http_request.headers = {{"Date", "b"}, {"Server", "c"}, {"X-Site", "2"}};
  EXPECT_EQ(ClassifyWebConnectivity(o).headers_match, true);
  o.fetch.headers = {{"Server", "a"}};
  o.control->http_request.headers = {{"server", "b"}};
  EXPECT_EQ(ClassifyWebConnectivity(o).headers_match, true) << "same (common) names";

  // Titles: words of five letters or more, in any order and case; shorter ones
  // do not count.
  o = Reachable();
  o.fetch.title = "homepage EXAMPLE Domain of";
  EXPECT_EQ(ClassifyWebConnectivity(o).title_match, true);
  o.fetch.title = "Example";
  EXPECT_EQ(ClassifyWebConnectivity(o).title_match, false);
  o.fetch.title = "";
  EXPECT_EQ(ClassifyWebConnectivity(o).title_match, std::nullopt);
}

TEST(Classification, KeysHaveOonisTypes) {
  WebObservations o = Reachable();
  Json k = WebConnectivityKeys(o, ClassifyWebConnectivity(o));
  EXPECT_TRUE(k["control"].is_object());
  EXPECT_TRUE(k["control_failure"].is_null());
  EXPECT_TRUE(k["dns_experiment_failure"].is_null());
  EXPECT_TRUE(k["http_experiment_failure"].is_null());
  EXPECT_TRUE(k["body_proportion"].is_number());
  EXPECT_TRUE(k["accessible"].is_boolean());
  EXPECT_TRUE(k["blocking"].is_boolean());
  EXPECT_TRUE(k["x_status"].is_number_integer());

  o.control.reset();
  o.control_failure = "connection_refused";
  k = WebConnectivityKeys(o, ClassifyWebConnectivity(o));
  EXPECT_TRUE(k["control"].is_null());
  EXPECT_EQ(k["control_failure"], "connection_refused");
  EXPECT_TRUE(k["accessible"].is_null());
  EXPECT_TRUE(k["blocking"].is_null());
  EXPECT_TRUE(k["dns_consistency"].is_null());
}

TEST(Classification, CanonicalHeaderNames) {
  EXPECT_EQ(CanonicalHeaderName("content-type"), "Content-Type");
  EXPECT_EQ(CanonicalHeaderName("CONTENT-LENGTH"), "Content-Length");
  EXPECT_EQ(CanonicalHeaderName("ETag"), "Etag");
  EXPECT_EQ(CanonicalHeaderName("x-xss-protection"), "X-Xss-Protection");
}

}  // namespace
}  // namespace vigil
