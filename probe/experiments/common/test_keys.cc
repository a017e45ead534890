#include "probe/experiments/common/test_keys.h"

#include <utility>

#include "probe/net/failure.h"

namespace vigil {

void WritePortStatus(const std::map<std::string, std::map<uint16_t, PortOutcome>>& outcomes,
                     Json* status, Json* failures) {
  *status = Json::object();
  *failures = Json::object();
  for (const auto& [host, ports] : outcomes) {
    Json& s = (*status)[host] = Json::object();
    for (const auto& [port, o] : ports) {
      s[std::to_string(port)] = o.worked() ? "ok" : o.no_ipv6 ? kNoIpv6Status : "blocked";
      if (!o.worked()) (*failures)[host][std::to_string(port)] = o.ok ? o.tls_failure : o.failure;
    }
  }
}

void FinishMeasurement(Measurement& m, Trace& trace, const Json& keys,
                       const ExperimentContext& context) {
  m.test_runtime = trace.Now();
  m.test_keys = std::move(trace.keys());
  Json& extra = m.test_keys.extra;
  // OONI's urlgetter names its HTTP client's redirect policy here; ours follows
  // redirects too.
  extra["agent"] = "redirect";
  // Legacy ooniprobe recorded the SOCKS proxy in use; we never use one.
  extra["socksproxy"] = nullptr;
  for (const auto& [key, value] : keys.items()) extra[key] = value;
  if (!context.resolver.ToString().empty()) extra["x_resolver"] = context.resolver.ToString();
}

}  // namespace vigil
