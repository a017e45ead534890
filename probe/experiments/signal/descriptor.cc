// signal's descriptor in the experiment catalog (catalog.h): plain data in library
// vigil_catalog, which the analyzer links too, so it includes catalog.h and nothing
// else. catalog.cc calls it through experiments.def.
#include "probe/experiments/catalog.h"

namespace vigil {

ExperimentDescriptor SignalDescriptor() {
  return {.name = "signal",
          .version = "0.2.5",
          .groups = {"im"},
          .services = {"signal"},
          .scorer = ScorerKind::kSignal};
}

}  // namespace vigil
