// residual_blocking's descriptor in the experiment catalog (catalog.h): plain data in
// library vigil_catalog, which the analyzer links too, so it includes catalog.h and
// nothing else. catalog.cc calls it through experiments.def.
#include "probe/experiments/catalog.h"

namespace vigil {

ExperimentDescriptor ResidualBlockingDescriptor() {
  return {.name = "residual_blocking",
          .version = "0.1.0",
          .input_policy = InputPolicy::kRequired,
          .scorer = ScorerKind::kResidualBlocking};
}

}  // namespace vigil
