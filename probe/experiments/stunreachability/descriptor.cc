// stunreachability's descriptor in the experiment catalog (catalog.h): plain data in library
// vigil_catalog, which the analyzer links too, so it includes catalog.h and nothing
// else. catalog.cc calls it through experiments.def.
#include "probe/experiments/catalog.h"

namespace vigil {

// OONI writes this test_name both ways: the alias below is the one place that knows.
ExperimentDescriptor StunReachabilityDescriptor() {
  return {.name = "stunreachability",
          .version = "0.1.0",
          .aliases = {"stun_reachability"},
          .input_policy = InputPolicy::kRequired,
          .scorer = ScorerKind::kStun};
}

}  // namespace vigil
