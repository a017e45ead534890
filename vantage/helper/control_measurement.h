// The control helper's measurement: given a probe's ControlRequest, look at the
// same URL from here with the probe's own observers — resolve the host, connect to
// every address (the probe's and ours) with TLS where https is spoken, fetch the
// URL following redirects — and answer in OONI's helper shapes and failure words.
// Each run uses the coroutine's executor and nothing shared but the TLS context
// cache, so separate threads may run separate measurements at once.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "probe/dns/dns_observer.h"
#include "probe/experiments/web_connectivity/control_protocol.h"
#include "probe/measurement/measurement.h"

namespace vigil {

class AsnDatabase;

struct ControlMeasurementOptions {
  ResolverSpec resolver;                    // the helper's own; system by default
  std::string ca_file;                      // "" = the system store
  std::chrono::milliseconds timeout{5000};  // per step; a whole fetch gets kFetchSteps of them
  /// Off: bogon addresses (private, loopback, ...) are neither connected to nor
  /// fetched from, so clients cannot use the helper to reach its own network.
  bool allow_bogons = false;
  /// IP → AS for ip_info's asn (null: asn stays 0, "not known").
  std::shared_ptr<const AsnDatabase> asn_db;
  size_t parallelism = 16;    // endpoints measured at once, per request
  size_t max_endpoints = 64;  // more addresses × ports than this are not measured
  /// x_endpoints (a messaging measurement's control): lookups and connects at once, per
  /// request, and the connects (address × port) measured in all; the rest are listed
  /// as not measured. Many at once, so that a request of blackholed endpoints still
  /// ends within a few deadlines.
  size_t endpoint_parallelism = 64;
  size_t max_endpoint_connects = 128;
  size_t body_cap = size_t{8} << 20;  // bytes of the page kept (its body_length caps here)
};

/// A fetch, redirects included, gets this many per-step deadlines in all.
inline constexpr int kFetchSteps = 3;

/// Measures what `request` asks (it must have passed ControlRequestFromJson).
/// Endpoints: every IP of the request's tcp_connect and of our own lookup, on the
/// URL's explicit port, else 443 for https, else 80 and 443 (as OONI's helper);
/// TLS on 443 and on an https URL's own port.
asio::awaitable<ControlResponse> MeasureControl(const ControlRequest& request,
                                                const ControlMeasurementOptions& options);

/// Our failure strings in the words OONI's helpers use (their clients compare
/// them): lookups → dns_name_error (NXDOMAIN), dns_server_failure, unknown_error,
/// and no failure at all for an empty answer; connects → connection_refused_error,
/// generic_timeout_error, connect_error; fetches → dns_lookup_error,
/// connection_refused_error, generic_timeout_error, unknown_error. "" → nullopt.
FailureString HelperDnsFailure(const std::string& failure);
FailureString HelperTcpFailure(const std::string& failure);
FailureString HelperHttpFailure(const std::string& failure, const std::string& failed_operation);

/// The h3 endpoint an Alt-Svc value advertises ("h3=\":443\"" → "host:443" with
/// `host` filled in when the value names none), or "".
std::string H3EndpointFromAltSvc(std::string_view alt_svc, const std::string& host);

}  // namespace vigil
