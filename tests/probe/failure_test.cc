// The failure taxonomy, table by table. Real sockets produce these strings in the
// observer suites; here every mapping is pinned so a change is deliberate.
#include "probe/net/failure.h"

#include <ares.h>
#include <gtest/gtest.h>
#include <openssl/x509_vfy.h>

#include <asio/error.hpp>
#include <asio/ssl/error.hpp>
#include <cerrno>

namespace vigil {
namespace {

TEST(FailureTest, ErrnoTable) {
  const std::pair<int, const char*> table[] = {
      {ECONNREFUSED, "connection_refused"}, {ECONNRESET, "connection_reset"},
      {ECONNABORTED, "connection_aborted"}, {EHOSTUNREACH, "host_unreachable"},
      {ENETUNREACH, "network_unreachable"}, {ENETDOWN, "network_down"},
      {ENETRESET, "network_reset"},         {ETIMEDOUT, "timed_out"},
      {EADDRINUSE, "address_in_use"},       {EADDRNOTAVAIL, "address_not_available"},
      {EACCES, "permission_denied"},        {EPIPE, "connection_reset"},
      {ENOTCONN, "not_connected"},          {EAFNOSUPPORT, "address_family_not_supported"},
  };
  for (const auto& [err, want] : table) EXPECT_EQ(FailureFromErrno(err), want) << err;
}

TEST(FailureTest, UnmappedErrnoIsUnknownFailureWithMessage) {
  EXPECT_EQ(FailureFromErrno(ENOSPC), "unknown_failure: No space left on device");
}

TEST(FailureTest, AsioErrorCodes) {
  EXPECT_EQ(FailureFromErrorCode({}), "");
  EXPECT_EQ(FailureFromErrorCode(asio::error::eof), "eof_error");
  EXPECT_EQ(FailureFromErrorCode(asio::ssl::error::stream_truncated), "eof_error");
  EXPECT_EQ(FailureFromErrorCode(asio::error::connection_reset), "connection_reset");
  EXPECT_EQ(FailureFromErrorCode(asio::error::connection_refused), "connection_refused");
  EXPECT_EQ(FailureFromErrorCode(asio::error::host_not_found), "dns_nxdomain_error");
  EXPECT_EQ(FailureFromErrorCode(asio::error::host_not_found_try_again), "dns_temporary_failure");
  EXPECT_EQ(FailureFromErrorCode(std::error_code(1, asio::error::get_ssl_category())),
            "ssl_failed_handshake");
}

TEST(FailureTest, AresStatusTable) {
  const std::pair<int, const char*> table[] = {
      {ARES_SUCCESS, ""},
      {ARES_ENOTFOUND, "dns_nxdomain_error"},
      {ARES_ENODATA, "dns_no_answer"},
      {ARES_ESERVFAIL, "dns_servfail_error"},
      {ARES_EREFUSED, "dns_refused_error"},
      {ARES_ETIMEOUT, "generic_timeout_error"},
      {ARES_ECONNREFUSED, "connection_refused"},
      {ARES_EBADRESP, "dns_server_misbehaving"},
      {ARES_EFORMERR, "dns_server_misbehaving"},
  };
  for (const auto& [status, want] : table) EXPECT_EQ(FailureFromAresStatus(status), want) << status;
  EXPECT_EQ(FailureFromAresStatus(ARES_ENOMEM).rfind("unknown_failure: ", 0), 0u);
}

TEST(FailureTest, DnsRcodeTable) {
  EXPECT_EQ(FailureFromDnsRcode(0, true), "");
  EXPECT_EQ(FailureFromDnsRcode(0, false), "dns_no_answer");
  EXPECT_EQ(FailureFromDnsRcode(1, false), "dns_server_misbehaving");  // FORMERR
  EXPECT_EQ(FailureFromDnsRcode(2, false), "dns_servfail_error");
  EXPECT_EQ(FailureFromDnsRcode(3, false), "dns_nxdomain_error");
  EXPECT_EQ(FailureFromDnsRcode(4, false), "dns_server_misbehaving");  // NOTIMP
  EXPECT_EQ(FailureFromDnsRcode(5, false), "dns_refused_error");
}

TEST(FailureTest, TlsVerifyTable) {
  const std::pair<long, const char*> table[] = {
      {X509_V_OK, ""},
      {X509_V_ERR_HOSTNAME_MISMATCH, "ssl_invalid_hostname"},
      {X509_V_ERR_IP_ADDRESS_MISMATCH, "ssl_invalid_hostname"},
      {X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, "ssl_unknown_authority"},
      {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, "ssl_unknown_authority"},
      {X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, "ssl_unknown_authority"},
      {X509_V_ERR_CERT_HAS_EXPIRED, "ssl_invalid_certificate"},
      {X509_V_ERR_CERT_NOT_YET_VALID, "ssl_invalid_certificate"},
      {X509_V_ERR_CERT_REVOKED, "ssl_invalid_certificate"},
  };
  for (const auto& [result, want] : table) {
    EXPECT_EQ(FailureFromTlsVerifyResult(result), want) << result;
  }
}

TEST(FailureTest, NoIpv6RouteIsAnIpv6AddressWithANoRouteFailure) {
  EXPECT_TRUE(IsNoIpv6Route("2001:b28:f23d:f001::a", "network_unreachable"));
  EXPECT_TRUE(IsNoIpv6Route("2001:b28:f23d:f001::a", "network_down"));
  EXPECT_TRUE(IsNoIpv6Route("2001:b28:f23d:f001::a", "address_not_available"));
  EXPECT_FALSE(IsNoIpv6Route("2001:b28:f23d:f001::a", "generic_timeout_error"));
  EXPECT_FALSE(IsNoIpv6Route("2001:b28:f23d:f001::a", "connection_refused"));
  EXPECT_FALSE(IsNoIpv6Route("149.154.175.50", "network_unreachable"));
  EXPECT_FALSE(IsNoIpv6Route("e1.whatsapp.net", "network_unreachable"));
  EXPECT_TRUE(IsNoRouteFailure("network_unreachable"));
  EXPECT_FALSE(IsNoRouteFailure("host_unreachable"));
}

TEST(FailureTest, UnknownFailureScrubsAddresses) {
  EXPECT_EQ(UnknownFailure("dial tcp 10.1.2.3:443: weird"),
            "unknown_failure: dial tcp [scrubbed]: weird");
  EXPECT_EQ(UnknownFailure("from [2001:db8::7]:53 and fe80::1"),
            "unknown_failure: from [[scrubbed]]:53 and [scrubbed]");
  // Things that only look like addresses survive.
  EXPECT_EQ(ScrubAddresses("std::string v3.0.19 deadbeef"), "std::string v3.0.19 deadbeef");
}

}  // namespace
}  // namespace vigil
