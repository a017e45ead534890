#include "probe/experiments/common/service_verdict.h"

#include <utility>

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
  if (auto it = k.find("x_partial_blocking"); it != k.end() && *it == true) {
    return RunVerdict::kAnomaly;
  }
  return blocked ? RunVerdict::kBlocked : RunVerdict::kOk;
}

}  // namespace vigil
