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

std::vector<std::unique_ptr<Experiment>> MakeExperiments() {
  std::vector<std::unique_ptr<Experiment>> all;
  all.push_back(std::make_unique<DnscheckExperiment>());
  all.push_back(std::make_unique<FacebookMessengerExperiment>());
  all.push_back(std::make_unique<MessagingExperiment>());
  all.push_back(std::make_unique<SignalExperiment>());
  all.push_back(std::make_unique<SniBlockingExperiment>());
  all.push_back(std::make_unique<StunReachabilityExperiment>());
  all.push_back(std::make_unique<TelegramExperiment>());
  all.push_back(std::make_unique<WebConnectivityExperiment>());
  all.push_back(std::make_unique<WechatExperiment>());
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
    names = {"facebook_messenger", "messaging", "signal", "telegram", "wechat", "whatsapp"};
  } else if (group == "websites") {
    names = {"web_connectivity"};
  } else if (group == "all") {
    for (const auto& e : MakeExperiments()) names.emplace_back(e->name());
  }
  return names;
}

}  // namespace vigil
