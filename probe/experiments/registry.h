// The registry: the one explicit list of experiments `vigil run` knows, by name,
// and the named groups of them ("im" = the messaging experiments). No static
// registration: adding an experiment means adding a line to registry.cc.
// Pure functions; thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "probe/experiments/experiment.h"

namespace vigil {

/// One instance of every experiment, in a stable order.
std::vector<std::unique_ptr<Experiment>> MakeExperiments();

/// The experiment called `name` (OONI's test_name), or null when there is none.
std::unique_ptr<Experiment> MakeExperiment(std::string_view name);

/// The experiment names of a group: "im" (messaging), "websites" (web_connectivity), "all";
/// empty for an unknown group.
std::vector<std::string> ExperimentGroup(std::string_view group);

}  // namespace vigil
