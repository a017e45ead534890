// delivery's descriptor in the experiment catalog (catalog.h); see catalog.cc.
#include "probe/experiments/catalog.h"

namespace vigil {

ExperimentDescriptor DeliveryDescriptor() {
  return {.name = "delivery",
          .version = "0.1.0",
          .services = {"delivery"},
          .input_policy = InputPolicy::kOptional,
          .scorer = ScorerKind::kDelivery};
}

}  // namespace vigil
