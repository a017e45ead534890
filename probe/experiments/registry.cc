#include "probe/experiments/registry.h"

#include "probe/experiments/facebook_messenger/facebook_messenger.h"
#include "probe/experiments/signal/signal.h"
#include "probe/experiments/telegram/telegram.h"
#include "probe/experiments/web_connectivity/web_connectivity.h"
#include "probe/experiments/whatsapp/whatsapp.h"

namespace vigil {

std::vector<std::unique_ptr<Experiment>> MakeExperiments() {
  std::vector<std::unique_ptr<Experiment>> all;
  all.push_back(std::make_unique<FacebookMessengerExperiment>());
  all.push_back(std::make_unique<SignalExperiment>());
  all.push_back(std::make_unique<TelegramExperiment>());
  all.push_back(std::make_unique<WebConnectivityExperiment>());
  all.push_back(std::make_unique<WhatsappExperiment>());
  return all;
}

std::unique_ptr<Experiment> MakeExperiment(std::string_view name) {
  for (auto& e : MakeExperiments()) {
    if (e->name() == name) return std::move(e);
  }
  return nullptr;
}

std::vector<std::string> ExperimentGroup(std::string_view group) {
  std::vector<std::string> names;
  if (group == "im") {
    names = {"facebook_messenger", "signal", "telegram", "whatsapp"};
  } else if (group == "websites") {
    names = {"web_connectivity"};
  } else if (group == "all") {
    for (const auto& e : MakeExperiments()) names.emplace_back(e->name());
  }
  return names;
}

}  // namespace vigil
