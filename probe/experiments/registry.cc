#include "probe/experiments/registry.h"

#include "probe/experiments/dnscheck/dnscheck.h"
#include "probe/experiments/facebook_messenger/facebook_messenger.h"
#include "probe/experiments/messaging/messaging.h"
#include "probe/experiments/signal/signal.h"
#include "probe/experiments/sni_blocking/sni_blocking.h"
#include "probe/experiments/stunreachability/stunreachability.h"
#include "probe/experiments/telegram/telegram.h"
#include "probe/experiments/web_connectivity/web_connectivity.h"
#include "probe/experiments/wechat/wechat.h"
#include "probe/experiments/whatsapp/whatsapp.h"

namespace vigil {

namespace {

template <typename T>
std::pair<std::string, ExperimentRegistry::Factory> Line(std::string name) {
  return {std::move(name), [] { return std::make_unique<T>(); }};
}

}  // namespace

ExperimentRegistry::ExperimentRegistry(ExperimentCatalog catalog,
                                       std::vector<std::pair<std::string, Factory>> factories)
    : catalog_(std::move(catalog)), factories_(std::move(factories)) {}

const ExperimentRegistry& ExperimentRegistry::Builtin() {
  static const ExperimentRegistry registry(
      ExperimentCatalog::Builtin(), {
                                        Line<DnscheckExperiment>("dnscheck"),
                                        Line<FacebookMessengerExperiment>("facebook_messenger"),
                                        Line<MessagingExperiment>("messaging"),
                                        Line<SignalExperiment>("signal"),
                                        Line<SniBlockingExperiment>("sni_blocking"),
                                        Line<StunReachabilityExperiment>("stunreachability"),
                                        Line<TelegramExperiment>("telegram"),
                                        Line<WebConnectivityExperiment>("web_connectivity"),
                                        Line<WechatExperiment>("wechat"),
                                        Line<WhatsappExperiment>("whatsapp"),
                                    });
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
