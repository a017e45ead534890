#include "probe/experiments/registry.h"

namespace vigil {

// How to make each experiment, defined in its folder (<name>/<name>.cc).
#define VIGIL_EXPERIMENT(name, Name) std::unique_ptr<Experiment> Make##Name##Experiment();
#include "probe/experiments/experiments.def"
#undef VIGIL_EXPERIMENT

namespace {

// Each factory under its experiment's test_name, the first word of its line.
std::vector<std::pair<std::string, ExperimentRegistry::Factory>> BuiltinFactories() {
  return {
#define VIGIL_EXPERIMENT(name, Name) {#name, &Make##Name##Experiment},
#include "probe/experiments/experiments.def"
#undef VIGIL_EXPERIMENT
  };
}

}  // namespace

ExperimentRegistry::ExperimentRegistry(ExperimentCatalog catalog,
                                       std::vector<std::pair<std::string, Factory>> factories)
    : catalog_(std::move(catalog)), factories_(std::move(factories)) {}

const ExperimentRegistry& ExperimentRegistry::Builtin() {
  static const ExperimentRegistry registry(ExperimentCatalog::Builtin(), BuiltinFactories());
  return registry;
}

std::unique_ptr<Experiment> ExperimentRegistry::Make(std::string_view name) const {
  const ExperimentDescriptor* d = catalog_.Find(name);
  if (!d) return nullptr;
  for (const auto& [n, make] : factories_) {
    if (n == d->name) return make();
  }
  return nullptr;
}

std::vector<std::unique_ptr<Experiment>> ExperimentRegistry::MakeAll() const {
  std::vector<std::unique_ptr<Experiment>> all;
  for (const auto& d : catalog_.descriptors()) {
    if (auto e = Make(d.name)) all.push_back(std::move(e));
  }
  return all;
}

std::vector<std::unique_ptr<Experiment>> MakeExperiments() {
  return ExperimentRegistry::Builtin().MakeAll();
}

std::unique_ptr<Experiment> MakeExperiment(std::string_view name) {
  return ExperimentRegistry::Builtin().Make(name);
}

std::vector<std::string> ExperimentGroup(std::string_view group) {
  return ExperimentCatalog::Builtin().Group(group);
}

}  // namespace vigil
