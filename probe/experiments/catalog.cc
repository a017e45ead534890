#include "probe/experiments/catalog.h"

#include <algorithm>
#include <atomic>

namespace vigil {

namespace {
std::atomic<const ExperimentCatalog*> g_active{nullptr};  // null: the built-in one
}  // namespace

// Each experiment's descriptor, defined in its folder (<name>/descriptor.cc). The list
// is included by a path relative to this file: vigil_catalog's include folder holds
// catalog.h alone.
#define VIGIL_EXPERIMENT(name, Name) ExperimentDescriptor Name##Descriptor();
#include "experiments.def"
#undef VIGIL_EXPERIMENT

ExperimentCatalog::ExperimentCatalog(std::vector<ExperimentDescriptor> descriptors)
    : descriptors_(std::move(descriptors)) {}

const ExperimentCatalog& ExperimentCatalog::Builtin() {
  // In the list's order (name order); the registry's test checks each descriptor
  // against its experiment's name, version and input policy.
  static const ExperimentCatalog catalog({
#define VIGIL_EXPERIMENT(name, Name) Name##Descriptor(),
#include "experiments.def"
#undef VIGIL_EXPERIMENT
  });
  return catalog;
}

const ExperimentCatalog& ExperimentCatalog::Active() {
  const ExperimentCatalog* active = g_active.load(std::memory_order_acquire);
  return active ? *active : Builtin();
}

ScopedCatalog::ScopedCatalog(const ExperimentCatalog& catalog)
    : previous_(g_active.exchange(&catalog, std::memory_order_acq_rel)) {}

ScopedCatalog::~ScopedCatalog() { g_active.store(previous_, std::memory_order_release); }

const ExperimentDescriptor* ExperimentCatalog::Find(std::string_view test_name) const {
  for (const auto& d : descriptors_) {
    if (d.name == test_name) return &d;
    if (std::find(d.aliases.begin(), d.aliases.end(), test_name) != d.aliases.end()) return &d;
  }
  return nullptr;
}

std::string_view ExperimentCatalog::CanonicalName(std::string_view test_name) const {
  const ExperimentDescriptor* d = Find(test_name);
  return d ? std::string_view(d->name) : test_name;
}

std::vector<std::string> ExperimentCatalog::Group(std::string_view group) const {
  std::vector<std::string> names;
  for (const auto& d : descriptors_) {
    if (group == "all" || std::find(d.groups.begin(), d.groups.end(), group) != d.groups.end()) {
      names.push_back(d.name);
    }
  }
  return names;
}

std::vector<std::string> ExperimentCatalog::GroupNames() const {
  std::vector<std::string> groups;
  for (const auto& d : descriptors_) {
    for (const auto& g : d.groups) {
      if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
    }
  }
  groups.push_back("all");
  return groups;
}

}  // namespace vigil
