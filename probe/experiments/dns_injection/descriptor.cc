// dns_injection's descriptor in the experiment catalog (catalog.h): plain data in library
// vigil_catalog, which the analyzer links too, so it includes catalog.h and nothing
// else. catalog.cc calls it through experiments.def.
#include "probe/experiments/catalog.h"

namespace vigil {

ExperimentDescriptor DnsInjectionDescriptor() {
  return {.name = "dns_injection",
          .version = "0.1.0",
          .input_policy = InputPolicy::kOptional,
          .scorer = ScorerKind::kDnsInjection};
}

}  // namespace vigil
