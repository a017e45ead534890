// Probe-IP scrubbing: the probe's address disappears from everywhere in a measurement
// (in every spelling), near-miss addresses and everything else stay byte for byte.
#include "vantage/geo/scrub.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace vigil {
namespace {

using nlohmann::ordered_json;

const std::vector<std::string> kProbe = {"10.1.2.3"};

// A web_connectivity-like measurement with `ip` wherever a probe's address turns up in
// real ones (`endpoint`: it with a port, as JoinHostPort writes it), and addresses that
// only look like it.
ordered_json Measurement(const std::string& ip, const std::string& probe_ip,
                         const std::string& endpoint = "") {
  return ordered_json{
      {"annotations", {{"platform", "linux"}, {"network_type", "wifi"}}},
      {"data_format_version", "0.2.0"},
      {"input", "https://web.whatsapp.com/"},
      {"measurement_start_time", "2026-12-03 11:22:33"},
      {"probe_asn", "AS64496"},
      {"probe_cc", "IT"},
      {"probe_ip", probe_ip},
      {"resolver_ip", "198.51.100.53"},
      {"test_runtime", 1.25},
      {"test_keys",
       {{"network_events",
         {{{"operation", "connect"},
           {"address", "198.51.100.7:443"},
           {"failure", "connect tcp " + (endpoint.empty() ? ip + ":51234" : endpoint) +
                           " -> 198.51.100.7:443: connection refused"},
           {"t", 0.0123}}}},
        {"requests",
         {{{"request", {{"headers", {{"Host", "myip.example"}}}, {"url", "http://myip.example/"}}},
           {"response",
            {{"body", "<html><body>Your IP address is " + ip + ".</body></html>"},
             {"code", 200},
             {"headers", {{"X-Forwarded-For", ip + ", 203.0.113.9"}, {"Server", "nginx"}}},
             {"headers_list", {{"X-Real-Ip", ip}}}}}}}},
        {"queries",
         {{{"hostname", "myip.example"},
           {"answers",
            {{{"answer_type", "A"}, {"ipv4", ip}},
             {{"answer_type", "A"}, {"ipv4", "10.1.2.30"}}}}}}},
        {"per_address", {{ip, {{"seen", true}, {"hops", {1, 2, {{"from", ip}}}}}}}},
        {"probe_ip", ip},  // not top level: scrubbed like any other occurrence
        {"near_misses",
         {"10.1.2.30", "110.1.2.3", "10.1.2.3.4", "5.10.1.2.3", "10.1.2.34", "210.1.2.3",
          "10.11.2.3"}}}}};
}

TEST(ScrubProbeIp, ReplacesEveryOccurrenceAndChangesNothingElse) {
  const std::string scrubbed = ScrubProbeIp(Measurement("10.1.2.3", "10.1.2.3").dump(), kProbe);
  EXPECT_EQ(scrubbed, Measurement("[scrubbed]", "127.0.0.1").dump());
  EXPECT_FALSE(ContainsProbeIp(scrubbed, kProbe));
  EXPECT_NE(scrubbed.find("\"10.1.2.30\""), std::string::npos);
  // Still JSON, keys in their order.
  const auto parsed = ordered_json::parse(scrubbed);
  EXPECT_EQ(parsed.begin().key(), "annotations");
  EXPECT_EQ(parsed["probe_ip"], "127.0.0.1");
}

TEST(ScrubProbeIp, KeepsFormattingOfPrettyJson) {
  const std::string scrubbed = ScrubProbeIp(Measurement("10.1.2.3", "10.1.2.3").dump(2), kProbe);
  EXPECT_EQ(scrubbed, Measurement("[scrubbed]", "127.0.0.1").dump(2));
}

TEST(ScrubProbeIp, OnlyWholeIpv4AddressesMatch) {
  const std::pair<const char*, const char*> cases[] = {
      {"10.1.2.3", "[scrubbed]"},
      {"to 10.1.2.3:443", "to [scrubbed]:443"},
      {"is 10.1.2.3.", "is [scrubbed]."},
      {"10.1.2.3.nip.io", "[scrubbed].nip.io"},
      {"x10.1.2.3y", "x[scrubbed]y"},
      {"(10.1.2.3)", "([scrubbed])"},
      {"010.001.002.003", "[scrubbed]"},  // zero-padded, read as decimal
      {"a..10.1.2.3", "a..[scrubbed]"},
      {"10.1.2.30", "10.1.2.30"},
      {"110.1.2.3", "110.1.2.3"},
      {"10.1.2.3.4", "10.1.2.3.4"},  // five numbers: an OID or version, not an address
      {"5.10.1.2.3", "5.10.1.2.3"},
      {"10.1.2.3.4.5", "10.1.2.3.4.5"},
      {"10.1.2", "10.1.2"},
      {"0010.1.2.3", "0010.1.2.3"},
  };
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(ScrubProbeIp(in, kProbe), out) << in;
    EXPECT_EQ(ContainsProbeIp(in, kProbe), std::string_view(in) != out) << in;
  }
}

TEST(ScrubProbeIp, Ipv6AddressesMatchInAnySpelling) {
  const std::vector<std::string> probe = {"10.1.2.3", "2001:db8::1"};
  const std::pair<const char*, const char*> cases[] = {
      {"2001:db8::1", "[scrubbed]"},
      {"2001:0DB8:0000:0000:0000:0000:0000:0001", "[scrubbed]"},
      {"2001:db8:0:0::1", "[scrubbed]"},
      {"dial tcp [2001:db8::1]:443: refused", "dial tcp [[scrubbed]]:443: refused"},
      {"ip:2001:db8::1", "ip:[scrubbed]"},
      {"from 2001:db8::1: refused", "from [scrubbed]: refused"},
      {"fe: 2001:db8::1%eth0", "fe: [scrubbed]%eth0"},
      {"::ffff:10.1.2.3", "[scrubbed]"},  // IPv4-mapped, dotted
      {"::FFFF:a01:203", "[scrubbed]"},   // IPv4-mapped, in hex
      {"[::ffff:10.1.2.3]:80", "[[scrubbed]]:80"},
      {"2001:db8::10", "2001:db8::10"},
      {"2001:db8::1a", "2001:db8::1a"},
      {"2001:db8::1:2", "2001:db8::1:2"},
      {"2001:db8::1:443", "2001:db8::1:443"},  // unbracketed: another address
      {"12001:db8::1", "12001:db8::1"},
      {"2001:db8::", "2001:db8::"},
      {"::ffff:10.1.2.30", "::ffff:10.1.2.30"},
  };
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(ScrubProbeIp(in, probe), out) << in;
    EXPECT_EQ(ContainsProbeIp(in, probe), std::string_view(in) != out) << in;
  }
}

TEST(ScrubProbeIp, Ipv6MeasurementIsScrubbedToo) {
  const std::vector<std::string> probe = {"10.1.2.3", "2001:DB8:0::1"};
  ordered_json m = Measurement("2001:db8::1", "2001:db8::1", "[2001:db8::1]:51234");
  m["test_keys"]["tls_handshakes"] = {
      {{"address", "[2001:0db8::0001]:443"}, {"failure", "read tcp [2001:db8::1]:5000: reset"}}};
  ordered_json want = Measurement("[scrubbed]", "127.0.0.1", "[[scrubbed]]:51234");
  want["test_keys"]["tls_handshakes"] = {
      {{"address", "[[scrubbed]]:443"}, {"failure", "read tcp [[scrubbed]]:5000: reset"}}};
  EXPECT_EQ(ScrubProbeIp(m.dump(), probe), want.dump());
}

TEST(ScrubProbeIp, UnderstandsJsonEscapesNextToAddresses) {
  // ensure_ascii writes "é" as \u00e9 and a form feed as \f: the escape's hex letters
  // must not glue onto the address that follows.
  ordered_json m = {{"probe_ip", "2001:db8::1"},
                    {"body",
                     "caf\xc3\xa9"
                     "2001:db8::1 and \f2001:db8::1 and \"10.1.2.3\""}};
  const std::string text = m.dump(-1, ' ', true);
  ASSERT_NE(text.find("\\u00e92001"), std::string::npos);
  const std::string scrubbed = ScrubProbeIp(text, {"2001:db8::1", "10.1.2.3"});
  EXPECT_EQ(
      scrubbed,
      R"({"probe_ip":"127.0.0.1","body":"caf\u00e9[scrubbed] and \f[scrubbed] and \"[scrubbed]\""})");
}

TEST(ScrubProbeIp, TheTopLevelProbeIpCountsAsAProbeAddress) {
  // The caller passed no addresses: the measurement's own probe_ip still goes everywhere.
  const std::string scrubbed = ScrubProbeIp(Measurement("10.1.2.3", "10.1.2.3").dump(), {});
  EXPECT_EQ(scrubbed, Measurement("[scrubbed]", "127.0.0.1").dump());
}

TEST(ScrubProbeIp, WithoutUsableAddressesOnlyProbeIpChanges) {
  ordered_json m = {{"probe_cc", "IT"},
                    {"probe_ip", nullptr},
                    {"test_keys", {{"failure", "connect 10.1.2.3:443"}}}};
  ordered_json want = m;
  want["probe_ip"] = "127.0.0.1";
  EXPECT_EQ(ScrubProbeIp(m.dump(), {}), want.dump());
  EXPECT_EQ(ScrubProbeIp(m.dump(), {"not an ip", "", "10.1.2", "[2001:db8::1"}), want.dump());
  // A probe_ip nested deeper is not the top-level one.
  ordered_json nested = {{"test_keys", {{"probe_ip", "10.1.2.3"}}}};
  EXPECT_EQ(ScrubProbeIp(nested.dump(), {}), nested.dump());
}

TEST(ScrubProbeIp, LoopbackIsNeverTheProbesAddress) {
  // Censors answer with 127.0.0.1: that evidence must survive a misconfigured probe list.
  ordered_json m = {{"probe_ip", "127.0.0.1"},
                    {"answers", {"127.0.0.1", "::1", "0.0.0.0", "10.1.2.3"}}};
  ordered_json want = m;
  want["answers"][3] = "[scrubbed]";
  EXPECT_EQ(ScrubProbeIp(m.dump(), {"127.0.0.1", "::1", "0.0.0.0", "::", "10.1.2.3"}), want.dump());
  EXPECT_FALSE(ContainsProbeIp("127.0.0.1", {"127.0.0.1"}));
}

TEST(ScrubProbeIp, IsIdempotentAndAcceptsBracketedProbeAddresses) {
  const std::vector<std::string> probe = {"[2001:db8::1]", "fe80::1%wlan0"};
  const std::string once =
      ScrubProbeIp(R"({"probe_ip":"2001:db8::1","a":"[2001:db8::1]:443 fe80::1"})", probe);
  EXPECT_EQ(once, R"({"probe_ip":"127.0.0.1","a":"[[scrubbed]]:443 [scrubbed]"})");
  EXPECT_EQ(ScrubProbeIp(once, probe), once);
}

TEST(ScrubProbeIp, TextThatIsNotAnObjectIsScrubbedWithoutProbeIp) {
  EXPECT_EQ(ScrubProbeIp("connect 10.1.2.3:443", kProbe), "connect [scrubbed]:443");
  EXPECT_EQ(ScrubProbeIp(R"(["10.1.2.3"])", kProbe), R"(["[scrubbed]"])");
  EXPECT_EQ(ScrubProbeIp(R"({"probe_ip":"10.1.2.3",)", kProbe), R"({"probe_ip":"[scrubbed]",)");
  EXPECT_EQ(ScrubProbeIp("", kProbe), "");
}

TEST(ContainsProbeIp, FindsAnyOfSeveralAddresses) {
  const std::vector<std::string> probe = {"10.1.2.3", "2001:db8::1"};
  EXPECT_TRUE(ContainsProbeIp(R"({"a":"x 2001:0db8::0:1 y"})", probe));
  EXPECT_TRUE(ContainsProbeIp(R"({"10.1.2.3":1})", probe));
  EXPECT_FALSE(ContainsProbeIp(R"({"a":"10.1.2.33 2001:db8::11"})", probe));
  EXPECT_FALSE(ContainsProbeIp("10.1.2.3", {}));
}

}  // namespace
}  // namespace vigil
