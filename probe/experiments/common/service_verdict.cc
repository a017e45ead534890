#include "probe/experiments/common/service_verdict.h"

#include <utility>

#include "probe/experiments/common/messaging_control.h"

namespace vigil {

EndpointTally::EndpointTally(std::set<std::string> dns_inconsistent)
    : dns_inconsistent_(std::move(dns_inconsistent)) {}

void EndpointTally::Add(const std::string& host, bool worked) {
  if (worked && !dns_inconsistent_.count(host)) {
    any_worked_ = true;
  } else {
    any_failed_ = true;
  }
}

RunVerdict ServiceVerdict(const Json& k, bool blocked) {
  auto it = k.find("x_partial_blocking");
  const bool partial = it != k.end() && *it == true;
  if (!partial && !blocked) return RunVerdict::kOk;
  // What failed here failed for the control too: the server's doing, not the network's.
  if (ControlFailedEveryStep(k)) return RunVerdict::kDown;
  return partial ? RunVerdict::kAnomaly : RunVerdict::kBlocked;
}

}  // namespace vigil
