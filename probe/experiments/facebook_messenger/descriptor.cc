// facebook_messenger's descriptor in the experiment catalog (catalog.h): plain data in library
// vigil_catalog, which the analyzer links too, so it includes catalog.h and nothing
// else. catalog.cc calls it through experiments.def.
#include "probe/experiments/catalog.h"

namespace vigil {

ExperimentDescriptor FacebookMessengerDescriptor() {
  return {.name = "facebook_messenger",
          .version = "0.5.0",
          .groups = {"im"},
          .services = {"facebook_messenger"},
          .scorer = ScorerKind::kFacebookMessenger};
}

}  // namespace vigil
