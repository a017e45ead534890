// web_connectivity's verdict: what the probe saw (DNS, connects, TLS, the fetch)
// set against what the control helper saw, reduced to OONI's keys
// (dns_consistency, body/status/headers/title matches, accessible, blocking) and
// ours (per-layer x_*_verdict, x_blocking_rule naming the rule that decided).
// Blocking follows ts-017's order; see ClassifyWebConnectivity. Inputs are plain
// values so tests can craft any case. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "probe/experiments/web_connectivity/control_protocol.h"
#include "probe/measurement/measurement.h"

namespace vigil {

/// One TCP connect of the probe's connect step.
struct WebConnect {
  std::string ip;
  uint16_t port = 0;
  std::string failure;  // "" on success
};

/// One TLS handshake of the probe's connect step (https only).
struct WebTlsHandshake {
  std::string address;  // "ip:port"
  std::string server_name;
  std::string failure;  // "" on success (the chain verified for server_name)
};

/// The probe's fetch of the URL, following redirects.
struct WebFetch {
  std::string failure;           // "" when a final response arrived
  std::string failed_operation;  // resolve | connect | tls_handshake | http_round_trip
  std::string final_url;         // of the last hop tried
  int hops = 0;                  // requests made
  int64_t status_code = 0;       // of the last response that arrived; 0 when none did
  std::vector<std::pair<std::string, std::string>> headers;  // of that response
  int64_t body_length = 0;
  bool body_is_truncated = false;
  std::optional<std::string> title;
};

struct WebObservations {
  std::string host;                    // of the URL; an IP literal skips the DNS comparison
  std::string dns_failure;             // "" when the lookup produced addresses
  std::vector<std::string> addresses;  // the probe's, in answer order
  std::vector<WebConnect> connects;
  std::vector<WebTlsHandshake> tls_handshakes;
  WebFetch fetch;
  std::optional<ControlResponse> control;  // nullopt when the helper did not answer usably
  std::string control_failure;             // why not, when nullopt
  /// Address → AS number for addresses of either side whose AS is known (an ASN
  /// database, the helper's ip_info). Without any, OONI's "same AS is consistent"
  /// rule cannot apply and only the address, bogon and TLS rules decide.
  std::map<std::string, uint32_t> asns;
};

struct WebClassification {
  std::optional<std::string> dns_consistency;  // consistent | inconsistent | nullopt
  std::optional<bool> body_length_match;
  double body_proportion = 0;
  std::optional<bool> status_code_match;
  std::optional<bool> headers_match;
  std::optional<bool> title_match;
  std::optional<bool> accessible;
  Json blocking;                  // false, "dns", "tcp_ip", "http-failure", "http-diff", or null
  std::string rule;               // x_blocking_rule: which step of the decision settled `blocking`
  int64_t x_status = 0;           // OONI 0.4's status bits
  int64_t x_blocking_flags = 0;   // OONI 0.5's: 1 dns, 2 tcp_ip, 4 tls, 8 http, 16 diff, 32 ok
  int64_t x_dns_flags = 0;        // 1 bogon, 2 unexpected failure, 4 unexpected addresses
  int64_t x_null_null_flags = 0;  // blocking null: 1 no addresses, 2 connects, 4 TLS failed both
  /// Per layer: ok | blocked | anomaly (some endpoints blocked, some not) | down (the
  /// control failed too) | unknown (nothing to compare with); nullopt when the layer
  /// was not exercised (no lookup for an IP literal, no TLS for http://).
  std::optional<std::string> x_dns_verdict;
  std::optional<std::string> x_tcp_verdict;
  std::optional<std::string> x_tls_verdict;
  std::optional<std::string> x_http_verdict;
};

/// dns_consistency, in this order:
///  1. no control → null; 2. the host is an IP literal → consistent;
///  3. the probe's lookup failed: consistent when the control's failed too (NXDOMAIN
///     on both sides is the common case), else inconsistent;
///  4. bogon rule: a probe answer in bogon space, while the control's answers hold no
///     bogon, is inconsistent (a private address for a public name is a classic
///     forged answer; a name whose control answers are private lives in a private
///     network, so the rule then says nothing);
///  5. consistent when the control had no addresses to compare with, when an address
///     is on both sides, when both sides share a known non-zero AS (needs `asns`),
///     or when every probe-only address completed a verified TLS handshake for the
///     host; else inconsistent.
/// blocking, in ts-017's order: an https fetch that succeeded → false; no control →
/// null; NXDOMAIN on both sides (the helper's dns_name_error) → false; the probe's lookup failed
/// where the control's did not → dns; every connect failed → dns if inconsistent, else false with
/// accessible false (OONI 0.5's "website down") when the control failed to connect to those
/// addresses too and connected to none of them, else tcp_ip; the control's fetch failed → null;
/// the probe's fetch failed → dns if inconsistent on the first hop or the failure is a DNS one,
/// else http-failure; equal status codes and a matching body length, header set or title → false;
/// else dns if inconsistent, else null when the control got a 5xx (no page to compare with),
/// else http-diff.
WebClassification ClassifyWebConnectivity(const WebObservations& o);

/// Every web_connectivity key of test_keys the classification owns, with OONI's
/// types: dns_experiment_failure, dns_consistency, control_failure, control (null
/// without one), http_experiment_failure, the matches, body_proportion, accessible,
/// blocking, x_status, x_blocking_flags, x_dns_flags, x_null_null_flags, the
/// x_*_verdict keys and x_blocking_rule.
Json WebConnectivityKeys(const WebObservations& o, const WebClassification& c);

/// OONI's canonical header spelling, as its helpers write names: "content-type" and
/// "CONTENT-TYPE" → "Content-Type", "etag" → "Etag".
std::string CanonicalHeaderName(std::string_view name);

}  // namespace vigil
