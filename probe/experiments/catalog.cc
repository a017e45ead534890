#include "probe/experiments/catalog.h"

#include <algorithm>
#include <atomic>

namespace vigil {

namespace {
std::atomic<const ExperimentCatalog*> g_active{nullptr};  // null: the built-in one
}  // namespace

ExperimentCatalog::ExperimentCatalog(std::vector<ExperimentDescriptor> descriptors)
    : descriptors_(std::move(descriptors)) {}

const ExperimentCatalog& ExperimentCatalog::Builtin() {
  // One line per experiment, in name order (and one in registry.cc for how to make
  // it); the registry's test checks each line against its experiment's name, version
  // and input policy. OONI writes stunreachability's test_name both ways; the alias
  // below is the one place that knows.
  using D = ExperimentDescriptor;
  using P = InputPolicy;
  using S = ScorerKind;
  static const ExperimentCatalog catalog({
      D{"dnscheck", "0.1.0", {}, {}, {}, P::kRequired, DefaultInputSource::kNone, S::kDnscheck},
      D{"facebook_messenger",
        "0.5.0",
        {},
        {"im"},
        {"facebook_messenger"},
        P::kNone,
        DefaultInputSource::kNone,
        S::kFacebookMessenger},
      D{"messaging",
        "0.1.0",
        {},
        {"im"},
        {},
        P::kOptional,
        DefaultInputSource::kNone,
        S::kMessaging},
      D{"signal", "0.2.5", {}, {"im"}, {"signal"}, P::kNone, DefaultInputSource::kNone, S::kSignal},
      D{"sni_blocking",
        "0.1.0",
        {},
        {},
        {},
        P::kRequired,
        DefaultInputSource::kNone,
        S::kSniBlocking},
      D{"stunreachability",
        "0.1.0",
        {"stun_reachability"},
        {},
        {},
        P::kRequired,
        DefaultInputSource::kNone,
        S::kStun},
      D{"telegram",
        "0.3.0",
        {},
        {"im"},
        {"telegram"},
        P::kNone,
        DefaultInputSource::kNone,
        S::kTelegram},
      D{"web_connectivity",
        "0.4.9",
        {},
        {"websites"},
        {},
        P::kRequired,
        DefaultInputSource::kTestLists,
        S::kWebConnectivity},
      D{"wechat", "0.1.0", {}, {"im"}, {"wechat"}, P::kNone, DefaultInputSource::kNone, S::kWechat},
      D{"whatsapp",
        "0.11.0",
        {},
        {"im"},
        {"whatsapp"},
        P::kNone,
        DefaultInputSource::kNone,
        S::kWhatsapp},
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
