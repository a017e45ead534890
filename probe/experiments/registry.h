// The registry: the experiments `vigil run` knows — the catalog's descriptors
// (name, version, groups, services, input policy, scorer) and, for each, how to make
// one. No static registration: adding an experiment means its folder (with its
// descriptor and its factory) and its line in experiments.def, the one explicit list
// both the catalog and the registry read. A run takes a registry, so a test can run
// an experiment of its own through the same path.
// Immutable once built; thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "probe/experiments/catalog.h"
#include "probe/experiments/experiment.h"

namespace vigil {

class ExperimentRegistry {
 public:
  using Factory = std::function<std::unique_ptr<Experiment>()>;

  /// `factories` names each experiment of `catalog` (by descriptor name) with how to
  /// make it; a descriptor without a factory cannot be run.
  ExperimentRegistry(ExperimentCatalog catalog,
                     std::vector<std::pair<std::string, Factory>> factories);

  /// Every experiment of this build (ExperimentCatalog::Builtin()), each made by the
  /// factory its folder defines (experiments.def).
  static const ExperimentRegistry& Builtin();

  const ExperimentCatalog& catalog() const { return catalog_; }

  /// The experiment called `name` (its test_name or an alias), or null.
  std::unique_ptr<Experiment> Make(std::string_view name) const;

  /// One instance of every experiment, in catalog order.
  std::vector<std::unique_ptr<Experiment>> MakeAll() const;

 private:
  ExperimentCatalog catalog_;
  std::vector<std::pair<std::string, Factory>> factories_;
};

/// One instance of every built-in experiment, in a stable order.
std::vector<std::unique_ptr<Experiment>> MakeExperiments();

/// The built-in experiment called `name` (OONI's test_name), or null when there is none.
std::unique_ptr<Experiment> MakeExperiment(std::string_view name);

/// The experiment names of a built-in group: "im" (messaging), "websites"
/// (web_connectivity), "all"; empty for an unknown group.
std::vector<std::string> ExperimentGroup(std::string_view group);

}  // namespace vigil
