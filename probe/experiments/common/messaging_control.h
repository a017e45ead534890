// MessagingControl: a messaging measurement's failed steps measured again from the
// control helper's side (`vigil helper`'s x_endpoints, docs/helper.md), so that a
// server that is down for everyone is not read as blocked here. The helper is asked
// about each failed step: the name whose lookup failed, the addresses the probe
// contacted (the stand-ins of mapped IP literals; the helper adds its own for a name)
// on the port that failed, with a TLS handshake and the probe's server name where the
// probe handshook. Its answer, and each failed step as the control saw it, are kept as
// test_keys.x_control; OONI's keys are left as OONI computes them. The exchange is not
// part of the measurement's records (as in web_connectivity). Pure functions but
// AddMessagingControl, which runs on the executor's thread.
#pragma once

#include <asio/awaitable.hpp>
#include <string_view>
#include <vector>

#include "probe/experiments/common/step_failure.h"
#include "probe/experiments/experiment.h"
#include "probe/experiments/web_connectivity/control_protocol.h"
#include "probe/measurement/measurement.h"

namespace vigil {

/// x_control.steps[].control: the control failed the step too (at it or at an
/// earlier layer; NXDOMAIN only by NXDOMAIN or an empty answer; a certificate failure
/// only by the same one); got through it (as far as it measures: DNS, TCP, TLS; a
/// certificate it could not verify came from a server that answered); or could not
/// compare (a DNS answer judged inconsistent, an address it did not contact).
inline constexpr std::string_view kControlFailedToo = "failed_too";
inline constexpr std::string_view kControlOk = "ok";
inline constexpr std::string_view kControlNotMeasured = "not_measured";

/// The endpoints to ask the helper about for `failures`, from the records in `keys`
/// (the names' answers, the handshakes' server names) and the context's address map;
/// at most the protocol's limits.
std::vector<ControlEndpoint> ControlEndpointsFor(const std::vector<StepFailure>& failures,
                                                 const TestKeys& keys,
                                                 const ExperimentContext& context);

/// x_control.steps: each of `failures` as {host, port, operation, failure} with the
/// control's outcome there (`control`, one of the words above) and its failure
/// (`control_failure`, the helper's word, or null).
Json ControlSteps(const std::vector<StepFailure>& failures,
                  const std::vector<ControlEndpoint>& asked, const ControlEndpointsAnswer& answer);

/// With context.helper_url set and some step failed (m's x_failures): asks the helper
/// (context.control_client, else a client of its own) about the failed steps and sets
/// x_control (the answer's x_endpoints with `steps`) and x_control_failure (null, or
/// why there is no answer: OONI's failure strings). Otherwise leaves `m` as it is.
asio::awaitable<void> AddMessagingControl(const ExperimentContext& context, Measurement& m);

/// Whether test_keys `keys` carry a control that failed every failed step
/// (x_failures) too, and no DNS answer was judged inconsistent: the service's server
/// is down, not blocked.
bool ControlFailedEveryStep(const Json& keys);

}  // namespace vigil
