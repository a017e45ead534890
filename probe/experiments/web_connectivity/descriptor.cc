// web_connectivity's descriptor in the experiment catalog (catalog.h): plain data in library
// vigil_catalog, which the analyzer links too, so it includes catalog.h and nothing
// else. catalog.cc calls it through experiments.def.
#include "probe/experiments/catalog.h"

namespace vigil {

ExperimentDescriptor WebConnectivityDescriptor() {
  return {.name = "web_connectivity",
          .version = "0.4.9",
          .groups = {"websites"},
          .input_policy = InputPolicy::kRequired,
          .default_inputs = DefaultInputSource::kTestLists,
          .scorer = ScorerKind::kWebConnectivity};
}

}  // namespace vigil
