#include "probe/experiments/common/sni_endpoint_input.h"

#include "probe/http/url.h"

namespace vigil {

Result<SniEndpointInput> ParseSniEndpointInput(const Json& input) {
  auto parsed = ParseExperimentInput(input);
  if (!parsed.ok()) return Error{parsed.error()};
  SniEndpointInput out;
  out.raw = std::move(*parsed);
  out.sni = out.raw.target;
  if (out.sni.find("://") != std::string::npos) {
    auto url = ParseUrl(out.sni);
    if (!url.ok()) return Error{"input: " + url.error()};
    out.sni = url->host;
  }
  if (out.sni.empty() || out.sni.find_first_of(" /:@") != std::string::npos) {
    if (!IsIpLiteral(out.sni)) return Error{"'" + out.sni + "' is not a name"};
  }
  auto control_sni = StringOption(out.raw, "control_sni", kDefaultControlSni);
  if (!control_sni.ok()) return Error{control_sni.error()};
  out.control_sni = std::move(*control_sni);
  auto endpoint_text = StringOption(out.raw, "endpoint", JoinHostPort(out.sni, 443));
  if (!endpoint_text.ok()) return Error{endpoint_text.error()};
  out.endpoint_text = std::move(*endpoint_text);
  auto endpoint = ParseHostPort(out.endpoint_text);
  if (!endpoint.ok()) return Error{"endpoint: " + endpoint.error()};
  out.endpoint = std::move(*endpoint);
  return out;
}

}  // namespace vigil
