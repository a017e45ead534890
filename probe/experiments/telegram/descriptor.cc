// telegram's descriptor in the experiment catalog (catalog.h): plain data in library
// vigil_catalog, which the analyzer links too, so it includes catalog.h and nothing
// else. catalog.cc calls it through experiments.def.
#include "probe/experiments/catalog.h"

namespace vigil {

ExperimentDescriptor TelegramDescriptor() {
  return {.name = "telegram",
          .version = "0.3.0",
          .groups = {"im"},
          .services = {"telegram"},
          .scorer = ScorerKind::kTelegram};
}

}  // namespace vigil
