// host:port and scheme://host[:port]: one parser and one printer, IPv6 in brackets,
// and an error that quotes the text and says what is wrong.
#include "base/host_port.h"

#include <gtest/gtest.h>

#include <string>

namespace vigil {
namespace {

TEST(HostPortTest, ParsesNamesAndAddresses) {
  auto name = ParseHostPort("example.org:443");
  ASSERT_TRUE(name.ok()) << name.error();
  EXPECT_EQ(name->host, "example.org");
  EXPECT_EQ(name->port, 443);
  EXPECT_TRUE(name->port_explicit);
  auto v4 = ParseHostPort("1.2.3.4:1");
  ASSERT_TRUE(v4.ok()) << v4.error();
  EXPECT_EQ(v4->host, "1.2.3.4");
  auto v6 = ParseHostPort("[2001:db8::1]:65535");
  ASSERT_TRUE(v6.ok()) << v6.error();
  EXPECT_EQ(v6->host, "2001:db8::1");
  EXPECT_EQ(v6->port, 65535);
}

TEST(HostPortTest, BadInputGetsAPreciseError) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "'': expected HOST:PORT"},
      {"example.org", "'example.org': expected HOST:PORT"},
      {":443", "':443': empty host"},
      {"h:0", "'h:0': port must be a number from 1 to 65535"},
      {"h:65536", "'h:65536': port must be a number from 1 to 65535"},
      {"h:", "'h:': port must be a number from 1 to 65535"},
      {"h:44x", "'h:44x': port must be a number from 1 to 65535"},
      {"h:-1", "'h:-1': port must be a number from 1 to 65535"},
      {"2001:db8::1:443", "'2001:db8::1:443': put an IPv6 address in brackets"},
      {"[2001:db8::1:443", "'[2001:db8::1:443': missing ']'"},
      {"[2001:db8::1]", "'[2001:db8::1]': expected ':PORT' after ']'"},
      {"[2001:db8::1]443", "'[2001:db8::1]443': expected ':PORT' after ']'"},
      {"[example.org]:443", "'[example.org]:443': not an IPv6 address in brackets"},
      {"a b:443", "'a b:443': invalid character in host"},
      {"user@h:443", "'user@h:443': invalid character in host"},
      {"h/x:443", "'h/x:443': invalid character in host"},
  };
  for (const auto& [text, error] : cases) {
    auto parsed = ParseHostPort(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error(), error);
  }
}

TEST(HostPortTest, ThePortMayBeLeftOutWhereThereIsADefault) {
  auto name = ParseHostOptionalPort("stun.example.org", 3478);
  ASSERT_TRUE(name.ok()) << name.error();
  EXPECT_EQ(name->host, "stun.example.org");
  EXPECT_EQ(name->port, 3478);
  EXPECT_FALSE(name->port_explicit);
  auto v6 = ParseHostOptionalPort("[::1]", 53);
  ASSERT_TRUE(v6.ok()) << v6.error();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 53);
  auto explicit_port = ParseHostOptionalPort("[::1]:5353", 53);
  ASSERT_TRUE(explicit_port.ok()) << explicit_port.error();
  EXPECT_EQ(explicit_port->port, 5353);
  EXPECT_TRUE(explicit_port->port_explicit);
  EXPECT_EQ(ParseHostOptionalPort("::1", 53).error(), "'::1': put an IPv6 address in brackets");
  EXPECT_EQ(ParseHostOptionalPort("[::1]x", 53).error(), "'[::1]x': expected ':PORT' after ']'");
  EXPECT_EQ(ParseHostOptionalPort("", 53).error(), "'': empty host");
}

TEST(HostPortTest, PrintsIpv6InBrackets) {
  EXPECT_EQ(JoinHostPort("1.2.3.4", 443), "1.2.3.4:443");
  EXPECT_EQ(JoinHostPort("example.org", 80), "example.org:80");
  EXPECT_EQ(JoinHostPort("2001:db8::1", 53), "[2001:db8::1]:53");
  EXPECT_EQ(BracketedHost("::1"), "[::1]");
  EXPECT_EQ(BracketedHost("example.org"), "example.org");
  EXPECT_EQ(FormatEndpointUrl("udp", "::1", 53), "udp://[::1]:53");
  EXPECT_EQ(FormatEndpointUrl("https", "1.1.1.1", 443), "https://1.1.1.1:443");
}

TEST(HostPortTest, WhatIsPrintedParsesBack) {
  for (const std::string host : {"1.2.3.4", "example.org", "2001:db8::1", "::"}) {
    auto parsed = ParseHostPort(JoinHostPort(host, 8080));
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    EXPECT_EQ(parsed->host, host);
    EXPECT_EQ(parsed->port, 8080);
    auto url = ParseEndpointUrl(FormatEndpointUrl("tcp", host, 8080), 53);
    ASSERT_TRUE(url.ok()) << url.error();
    EXPECT_EQ(url->endpoint.host, host);
    EXPECT_EQ(url->endpoint.port, 8080);
  }
}

TEST(EndpointUrlTest, ParsesSchemeHostAndPort) {
  auto udp = ParseEndpointUrl("UDP://[2001:db8::1]:5353/", 53);
  ASSERT_TRUE(udp.ok()) << udp.error();
  EXPECT_EQ(udp->scheme, "udp");
  EXPECT_EQ(udp->endpoint.host, "2001:db8::1");
  EXPECT_EQ(udp->endpoint.port, 5353);
  EXPECT_TRUE(udp->endpoint.port_explicit);
  auto dot = ParseEndpointUrl("dot://dns.example", 853);
  ASSERT_TRUE(dot.ok()) << dot.error();
  EXPECT_EQ(dot->endpoint.host, "dns.example");
  EXPECT_EQ(dot->endpoint.port, 853);
  EXPECT_FALSE(dot->endpoint.port_explicit);
}

TEST(EndpointUrlTest, BadInputGetsAPreciseError) {
  const std::pair<std::string, std::string> cases[] = {
      {"1.2.3.4:53", "'1.2.3.4:53': expected SCHEME://HOST[:PORT]"},
      {"://1.2.3.4", "'://1.2.3.4': expected SCHEME://HOST[:PORT]"},
      {"udp://", "'udp://': empty host"},
      {"udp://1.2.3.4/dns-query", "'udp://1.2.3.4/dns-query': no path is allowed"},
      {"udp://1.2.3.4:0", "'udp://1.2.3.4:0': port must be a number from 1 to 65535"},
      {"udp://[::1", "'udp://[::1': missing ']'"},
      {"udp://::1", "'udp://::1': put an IPv6 address in brackets"},
      {"udp://user@h", "'udp://user@h': invalid character in host"},
  };
  for (const auto& [text, error] : cases) {
    auto parsed = ParseEndpointUrl(text, 53);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error(), error);
  }
}

TEST(IpLiteralTest, KnowsAddressesFromNames) {
  EXPECT_TRUE(IsIpLiteral("1.2.3.4"));
  EXPECT_TRUE(IsIpLiteral("::1"));
  EXPECT_TRUE(IsIpLiteral("2001:db8::1"));
  EXPECT_FALSE(IsIpLiteral("[::1]"));
  EXPECT_FALSE(IsIpLiteral("example.org"));
  EXPECT_FALSE(IsIpLiteral("1.2.3.256"));
  EXPECT_FALSE(IsIpLiteral(""));
}

}  // namespace
}  // namespace vigil
