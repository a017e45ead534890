#include "probe/net/failure.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <asio/error.hpp>
#include <asio/ssl/error.hpp>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace vigil {

bool IsNoRouteFailure(std::string_view failure) {
  return failure == "network_unreachable" || failure == "network_down" ||
         failure == "address_not_available";
}

bool IsNoIpv6Route(std::string_view ip, std::string_view failure) {
  in6_addr address{};
  return IsNoRouteFailure(failure) && inet_pton(AF_INET6, std::string(ip).c_str(), &address) == 1;
}

std::string FailureFromErrno(int err) {
  // The names are probe-cli's (netxlite/errorsx), so data from both probes compares.
  switch (err) {
    case ECONNREFUSED:
      return "connection_refused";
    case ECONNRESET:
      return "connection_reset";
    case ECONNABORTED:
      return "connection_aborted";
    case EHOSTUNREACH:
      return "host_unreachable";
    case ENETUNREACH:
      return "network_unreachable";
    case ENETDOWN:
      return "network_down";
    case ENETRESET:
      return "network_reset";
    case ETIMEDOUT:
      return "timed_out";
    case EADDRINUSE:
      return "address_in_use";
    case EADDRNOTAVAIL:
      return "address_not_available";
    case EAFNOSUPPORT:
      return "address_family_not_supported";
    case EISCONN:
      return "already_connected";
    case EFAULT:
      return "bad_address";
    case EBADF:
      return "bad_file_descriptor";
    case EALREADY:
      return "connection_already_in_progress";
    case EDESTADDRREQ:
      return "destination_address_required";
    case EINTR:
      return "interrupted";
    case EINVAL:
      return "invalid_argument";
    case EMSGSIZE:
      return "message_size";
    case ENOBUFS:
      return "no_buffer_space";
    case ENOPROTOOPT:
      return "no_protocol_option";
    case ENOTSOCK:
      return "not_a_socket";
    case ENOTCONN:
      return "not_connected";
    case EWOULDBLOCK:
      return "operation_would_block";
    case EACCES:
      return "permission_denied";
    case EPROTONOSUPPORT:
      return "protocol_not_supported";
    case EPROTOTYPE:
      return "wrong_protocol_type";
    case EPIPE:
      return "connection_reset";  // writing to a connection the peer reset
    default:
      return UnknownFailure(std::strerror(err));
  }
}

std::string FailureFromErrorCode(const std::error_code& ec) {
  if (!ec) return "";
  if (ec == asio::error::eof) return std::string(kEofError);
  if (ec == asio::ssl::error::stream_truncated) return std::string(kEofError);
  if (ec.category() == asio::error::get_system_category()) return FailureFromErrno(ec.value());
  if (ec.category() == asio::error::get_netdb_category()) {
    if (ec == asio::error::host_not_found) return "dns_nxdomain_error";
    if (ec == asio::error::host_not_found_try_again) return "dns_temporary_failure";
    if (ec == asio::error::no_data) return "dns_no_answer";
    if (ec == asio::error::no_recovery) return "dns_non_recoverable_failure";
  }
  // Certificate problems are classified from the verify result by the TLS observer;
  // any other OpenSSL error during a handshake is OONI's catch-all.
  if (ec.category() == asio::error::get_ssl_category()) return "ssl_failed_handshake";
  return UnknownFailure(ec.message());
}

std::string FailureFromAresStatus(int status) {
  switch (status) {
    case ARES_SUCCESS:
      return "";
    case ARES_ENOTFOUND:
      return "dns_nxdomain_error";
    case ARES_ENODATA:
      return "dns_no_answer";
    case ARES_ESERVFAIL:
      return "dns_servfail_error";
    case ARES_EREFUSED:
      return "dns_refused_error";
    case ARES_ETIMEOUT:
      return std::string(kGenericTimeoutError);
    case ARES_ECONNREFUSED:
      return "connection_refused";
    case ARES_EFORMERR:
    case ARES_EBADRESP:
    case ARES_ENOTIMP:
      return "dns_server_misbehaving";
    case ARES_ECANCELLED:
      return "interrupted";
    case ARES_EBADNAME:
      return "dns_invalid_name";
    default:
      return UnknownFailure(ares_strerror(status));
  }
}

std::string FailureFromDnsRcode(int rcode, bool has_answers) {
  switch (rcode) {
    case 0:
      return has_answers ? "" : "dns_no_answer";
    case 2:
      return "dns_servfail_error";
    case 3:
      return "dns_nxdomain_error";
    case 5:
      return "dns_refused_error";
    default:
      return "dns_server_misbehaving";  // FORMERR, NOTIMP and the rest
  }
}

std::string FailureFromTlsVerifyResult(long verify_result) {
  switch (verify_result) {
    case X509_V_OK:
      return "";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return "ssl_invalid_hostname";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
      return "ssl_unknown_authority";
    default:
      return "ssl_invalid_certificate";  // expired, not yet valid, revoked, bad signature, ...
  }
}

namespace {

bool IsAddressChar(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
}

// True when `token` is an IP address, or an IPv4 address with a ":port".
bool IsAddressToken(const std::string& token) {
  unsigned char buf[sizeof(struct in6_addr)];
  if (inet_pton(AF_INET, token.c_str(), buf) == 1) return true;
  if (inet_pton(AF_INET6, token.c_str(), buf) == 1) return true;
  // "1.2.3.4:443"
  if (auto colon = token.rfind(':'); colon != std::string::npos && token.find(':') == colon &&
                                     inet_pton(AF_INET, token.substr(0, colon).c_str(), buf) == 1) {
    return true;
  }
  return false;
}

}  // namespace

std::string ScrubAddresses(std::string_view text) {
  // Exact, not a pattern: a token is replaced only when inet_pton accepts it, so
  // "std::string" or a version number survive and every real address goes.
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (!IsAddressChar(text[i])) {
      out += text[i++];
      continue;
    }
    size_t j = i;
    while (j < text.size() && IsAddressChar(text[j])) ++j;
    // Punctuation after an address ("1.2.3.4:443: reset", "at 1.2.3.4.") stays.
    size_t core_end = j;
    while (core_end > i + 1 && (text[core_end - 1] == '.' || text[core_end - 1] == ':')) --core_end;
    const std::string core(text.substr(i, core_end - i));
    out += IsAddressToken(core) ? std::string("[scrubbed]") : core;
    out += text.substr(core_end, j - core_end);
    i = j;
  }
  return out;
}

std::string UnknownFailure(std::string_view message) {
  return "unknown_failure: " + ScrubAddresses(message);
}

}  // namespace vigil
