// The web_connectivity control protocol (OONI's test-helper API, ts-017): the
// request a probe POSTs to a control helper and the helper's answer, as plain
// values with their JSON, and vigil's extension for the messaging experiments
// (x_endpoints: names, addresses, ports and SNIs to measure from the helper's side;
// docs/helper.md). The probe builds requests and reads answers; `vigil
// helper` reads requests and builds answers, so both ends share one definition.
// Requests are parsed strictly (a helper must refuse what it cannot measure);
// answers leniently, since helpers of every age answer with fewer keys, nulls
// for empty maps, or no failure key at all. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "probe/measurement/measurement.h"

namespace vigil {

/// One endpoint of a messaging measurement for the helper to measure from its side:
/// a lookup of `host` when it is a name, a TCP connect to each of its addresses (the
/// probe's and, for a name, the helper's own) on each port, and a TLS handshake with
/// `sni` on the TLS ports.
struct ControlEndpoint {
  std::string host;                 // a name or an IP literal
  std::vector<std::string> addrs;   // IP literals: the addresses the probe contacted
  std::vector<uint16_t> ports;      // none: the lookup alone
  std::vector<uint16_t> tls_ports;  // each also in `ports`
  std::string sni;                  // "" = host
};

/// Limits of an x_endpoints request; a request beyond them is refused.
inline constexpr size_t kMaxControlEndpoints = 64;
inline constexpr size_t kMaxControlEndpointAddrs = 16;
inline constexpr size_t kMaxControlEndpointPorts = 16;

/// What the probe asks the helper to measure from its own vantage point. A request
/// has http_request (web_connectivity's), x_endpoints (a messaging measurement's), or
/// both.
struct ControlRequest {
  std::string http_request;  // the URL under test; "" in a request of x_endpoints alone
  std::map<std::string, std::vector<std::string>> http_request_headers;
  std::vector<std::string> tcp_connect;  // "ip:port" / "[ipv6]:port" the probe resolved
  bool x_quic_enabled = false;
  std::vector<ControlEndpoint> x_endpoints = {};
};

struct ControlTcpConnect {
  bool status = false;
  FailureString failure;
};

struct ControlTlsHandshake {
  std::string server_name;
  bool status = false;
  FailureString failure;
};

/// The helper's fetch of the URL. A failed fetch has body_length and status_code
/// -1, no headers and an empty title, as OONI's helpers answer.
struct ControlHttpRequest {
  int64_t body_length = -1;
  std::string discovered_h3_endpoint;  // "host:port" from Alt-Svc h3, or ""
  FailureString failure;
  std::string title;
  std::map<std::string, std::string> headers;  // one value per name
  int64_t status_code = -1;
};

struct ControlDns {
  FailureString failure;  // helper strings: dns_name_error (NXDOMAIN), dns_server_failure, ...
  std::vector<std::string> addrs;
};

/// Bits of ControlIpInfo::flags, OONI's meaning.
inline constexpr int64_t kIpInfoResolvedByProbe = 1;
inline constexpr int64_t kIpInfoResolvedByHelper = 2;
inline constexpr int64_t kIpInfoBogon = 4;
inline constexpr int64_t kIpInfoValidForDomain = 8;  // a verified TLS handshake for the URL's host

struct ControlIpInfo {
  int64_t asn = 0;  // 0: not known
  int64_t flags = 0;
};

/// The helper's view of a request's x_endpoints, keyed as the probe's steps are.
struct ControlEndpointsAnswer {
  std::map<std::string, ControlDns> dns;                 // by name looked up
  std::map<std::string, ControlTcpConnect> tcp_connect;  // by "ip:port"
  /// By "ip:port", then by server name.
  std::map<std::string, std::map<std::string, ControlTlsHandshake>> tls_handshake;
  /// "ip:port" → why it was not contacted: "bogon" or "limit".
  std::map<std::string, std::string> not_measured;
};

struct ControlResponse {
  std::map<std::string, ControlTcpConnect> tcp_connect;      // by "ip:port"
  std::map<std::string, ControlTlsHandshake> tls_handshake;  // by "ip:port"
  ControlHttpRequest http_request;
  ControlDns dns;
  std::map<std::string, ControlIpInfo> ip_info;            // by address
  std::optional<ControlEndpointsAnswer> x_endpoints = {};  // when the request had some
};

/// The helper failure string for NXDOMAIN; newer helpers may say dns_nxdomain_error.
inline constexpr std::string_view kControlNxdomain = "dns_name_error";

/// Deepest JSON nesting ParseControlJson accepts; real messages nest four levels.
inline constexpr int kMaxControlJsonDepth = 32;

/// Parses a request or answer body without recursing into hostile nesting. The
/// error says where the text stopped being acceptable JSON.
Result<Json> ParseControlJson(std::string_view text);

/// A request of x_endpoints alone has no OONI keys.
Json ToJson(const ControlRequest& r);
/// With "x_endpoints" only when r.x_endpoints is set.
Json ToJson(const ControlResponse& r);
Json ToJson(const ControlEndpointsAnswer& a);

/// A request as a helper accepts it: http_request an absolute http/https URL;
/// http_request_headers (optional) an object of string lists (a bare string is
/// taken as a one-element list); tcp_connect (optional) a list of IP-literal
/// endpoints; x_quic_enabled (optional) a boolean; x_endpoints a list of 1 to
/// kMaxControlEndpoints objects {host, addrs?, ports?, tls_ports?, sni?}, required
/// only without http_request. Other keys are ignored. The error names the offending
/// key.
Result<ControlRequest> ControlRequestFromJson(const Json& j);

/// Any helper's answer: missing keys and nulls read as empty; a key of the wrong
/// type is an error naming it.
Result<ControlResponse> ControlResponseFromJson(const Json& j);

}  // namespace vigil
