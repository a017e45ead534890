// dnscheck's descriptor in the experiment catalog (catalog.h): plain data in library
// vigil_catalog, which the analyzer links too, so it includes catalog.h and nothing
// else. catalog.cc calls it through experiments.def.
#include "probe/experiments/catalog.h"

namespace vigil {

ExperimentDescriptor DnscheckDescriptor() {
  return {.name = "dnscheck",
          .version = "0.1.0",
          .input_policy = InputPolicy::kRequired,
          .scorer = ScorerKind::kDnscheck};
}

}  // namespace vigil
