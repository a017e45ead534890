#include "tests/lab/censor/truth_record.h"

namespace vigil::lab {

nlohmann::json PhaseStartRecord(double wall, int phase) {
  return {{"t", wall}, {"phase", phase}, {"event", "phase_start"}};
}

nlohmann::json LabSettingsRecord(double wall, const LabSettings& lab) {
  nlohmann::json failing = nlohmann::json::array();
  for (const FailingServer& s : lab.failing) {
    failing.push_back({{"name", s.name}, {"mode", ServerFailureName(s.mode)}});
  }
  return {{"t", wall},
          {"event", "lab_settings"},
          {"servers", {{"failing", std::move(failing)}}},
          {"keep_resolver_cache", lab.keep_resolver_cache}};
}

bool LabSettingsDiffer(const LabSettings& lab) {
  return !lab.failing.empty() || lab.keep_resolver_cache;
}

nlohmann::json RuleActedRecord(const Rule& rule, int phase, const Packet& p,
                               nlohmann::json detail) {
  nlohmann::json flow = {{"proto", p.f.tcp ? "tcp" : p.f.udp ? "udp" : "ip"}};
  if (p.f.tcp || p.f.udp) {
    flow["src"] = p.key.client.ToString();
    flow["sport"] = p.key.client_port;
    flow["dst"] = p.key.server.ToString();
    flow["dport"] = p.key.server_port;
  } else {
    flow["src"] = p.client().ToString();
    flow["dst"] = p.server().ToString();
    flow["ip_proto"] = p.f.proto;
  }
  return {{"t", p.now->wall},        {"phase", phase},
          {"rule", rule.id},         {"action", ActionName(rule.action)},
          {"flow", std::move(flow)}, {"detail", std::move(detail)}};
}

}  // namespace vigil::lab
