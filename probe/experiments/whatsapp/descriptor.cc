// whatsapp's descriptor in the experiment catalog (catalog.h): plain data in library
// vigil_catalog, which the analyzer links too, so it includes catalog.h and nothing
// else. catalog.cc calls it through experiments.def.
#include "probe/experiments/catalog.h"

namespace vigil {

ExperimentDescriptor WhatsappDescriptor() {
  return {.name = "whatsapp",
          .version = "0.11.0",
          .groups = {"im"},
          .services = {"whatsapp"},
          .scorer = ScorerKind::kWhatsapp};
}

}  // namespace vigil
