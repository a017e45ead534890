// The failure taxonomy: the one place that turns errno values, Asio error codes,
// c-ares statuses, DNS rcodes, OpenSSL verify results and our own deadlines into
// OONI's failure strings (df-007). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <system_error>

namespace vigil {

/// Our own deadline for a step expired (OONI's generic_timeout_error).
inline constexpr std::string_view kGenericTimeoutError = "generic_timeout_error";
inline constexpr std::string_view kEofError = "eof_error";

/// errno → "connection_refused", "connection_reset", ...; "unknown_failure: ..." otherwise.
std::string FailureFromErrno(int err);

/// network_unreachable, network_down, address_not_available: the step found no route
/// out of this machine (the same list as the analyzer's no_route_failures).
bool IsNoRouteFailure(std::string_view failure);

/// A step to `ip` (a bare IPv6 literal) that failed with a no-route failure: this machine
/// has no IPv6, which says nothing about the network's censorship. Such steps are not
/// measurements; false for IPv4 addresses, names and other failures.
bool IsNoIpv6Route(std::string_view ip, std::string_view failure);

/// What the experiments' x_ keys call a step IsNoIpv6Route says was not measured, in
/// place of "ok" or "blocked".
inline constexpr const char* kNoIpv6Status = "no_ipv6";

/// Any error code an Asio socket, resolver or SSL stream reports.
std::string FailureFromErrorCode(const std::error_code& ec);

/// c-ares status (ARES_ENOTFOUND, ...) → "dns_nxdomain_error", ...
std::string FailureFromAresStatus(int status);

/// DNS response code of an answer, and whether it carried answers of the asked
/// type → failure string, or "" when the response is a success.
std::string FailureFromDnsRcode(int rcode, bool has_answers);

/// X509_V_ERR_* from SSL_get_verify_result → ssl_invalid_hostname,
/// ssl_unknown_authority, ssl_invalid_certificate; "" for X509_V_OK.
std::string FailureFromTlsVerifyResult(long verify_result);

/// "unknown_failure: <message>" with IPv4/IPv6 addresses in the message replaced by
/// "[scrubbed]", so a failure string never carries the probe's address.
std::string UnknownFailure(std::string_view message);

/// Replaces every IPv4 and IPv6 address in `text` with "[scrubbed]".
std::string ScrubAddresses(std::string_view text);

}  // namespace vigil
