// The web_connectivity control protocol (OONI's test-helper API, ts-017): the
// request a probe POSTs to a control helper and the helper's answer, as plain
// values with their JSON. The probe builds requests and reads answers; `vigil
// helper` reads requests and builds answers, so both ends share one definition.
// Requests are parsed strictly (a helper must refuse what it cannot measure);
// answers leniently, since helpers of every age answer with fewer keys, nulls
// for empty maps, or no failure key at all. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "probe/measurement/measurement.h"

namespace vigil {

/// What the probe asks the helper to measure from its own vantage point.
struct ControlRequest {
  std::string http_request;  // the URL under test
  std::map<std::string, std::vector<std::string>> http_request_headers;
  std::vector<std::string> tcp_connect;  // "ip:port" / "[ipv6]:port" the probe resolved
  bool x_quic_enabled = false;
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

struct ControlResponse {
  std::map<std::string, ControlTcpConnect> tcp_connect;      // by "ip:port"
  std::map<std::string, ControlTlsHandshake> tls_handshake;  // by "ip:port"
  ControlHttpRequest http_request;
  ControlDns dns;
  std::map<std::string, ControlIpInfo> ip_info;  // by address
};

/// The helper failure string for NXDOMAIN; newer helpers may say dns_nxdomain_error.
inline constexpr std::string_view kControlNxdomain = "dns_name_error";

/// Deepest JSON nesting ParseControlJson accepts; real messages nest four levels.
inline constexpr int kMaxControlJsonDepth = 32;

/// Parses a request or answer body without recursing into hostile nesting. The
/// error says where the text stopped being acceptable JSON.
Result<Json> ParseControlJson(std::string_view text);

Json ToJson(const ControlRequest& r);
Json ToJson(const ControlResponse& r);

/// A request as a helper accepts it: http_request an absolute http/https URL;
/// http_request_headers (optional) an object of string lists (a bare string is
/// taken as a one-element list); tcp_connect (optional) a list of IP-literal
/// endpoints; x_quic_enabled (optional) a boolean. Other keys are ignored. The
/// error names the offending key.
Result<ControlRequest> ControlRequestFromJson(const Json& j);

/// Any helper's answer: missing keys and nulls read as empty; a key of the wrong
/// type is an error naming it.
Result<ControlResponse> ControlResponseFromJson(const Json& j);

}  // namespace vigil
