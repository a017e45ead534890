#include "tests/lab/censor/truth_record.h"

namespace vigil::lab {

nlohmann::json PhaseStartRecord(double wall, int phase) {
  return {{"t", wall}, {"phase", phase}, {"event", "phase_start"}};
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
