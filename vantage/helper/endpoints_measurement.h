// The control helper's measurement of a messaging probe's endpoints (a request's
// x_endpoints, docs/helper.md): each name looked up with the helper's resolver, a TCP
// connect to every address (the probe's and the helper's own) on each port, and a TLS
// handshake with the probe's server name on its TLS ports, answered per name, per
// ip:port and per ip:port and server name in OONI's helper failure words. Bogon
// addresses are not contacted unless allowed, and at most max_endpoint_connects
// connects are made. Each run uses the coroutine's executor and nothing shared but the
// TLS context cache, so separate threads may run separate measurements at once.
#pragma once

#include <asio/awaitable.hpp>
#include <vector>

#include "probe/experiments/web_connectivity/control_protocol.h"
#include "vantage/helper/control_measurement.h"

namespace vigil {

/// Measures `endpoints` (they must have passed ControlRequestFromJson).
asio::awaitable<ControlEndpointsAnswer> MeasureControlEndpoints(
    const std::vector<ControlEndpoint>& endpoints, const ControlMeasurementOptions& options);

}  // namespace vigil
