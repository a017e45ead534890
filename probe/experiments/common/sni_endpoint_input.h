// SniEndpointInput: the input of the experiments that send a ClientHello with a target
// SNI and with a control SNI to one endpoint (sni_blocking, residual_blocking,
// censor_hop): the target SNI (a domain, an IP literal, or a URL whose host is taken),
// and the options "control_sni" (default example.com) and "endpoint" (HOST:PORT or
// IP:PORT; default the target itself on 443). Pure functions; thread-safe.
#pragma once

#include <string>

#include "base/host_port.h"
#include "base/result.h"
#include "probe/experiments/common/experiment_input.h"
#include "probe/measurement/measurement.h"

namespace vigil {

inline constexpr const char* kDefaultControlSni = "example.com";

struct SniEndpointInput {
  ExperimentInput raw;  // as parsed; raw.target is what the measurement records
  std::string sni;      // the target SNI
  std::string control_sni;
  std::string endpoint_text;  // the endpoint as given (or its default)
  HostPort endpoint;
};

/// Reads `input`; an error says what is wrong with it.
Result<SniEndpointInput> ParseSniEndpointInput(const Json& input);

}  // namespace vigil
