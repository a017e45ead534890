#include "tests/lab/censor/rule_match.h"

#include <algorithm>

namespace vigil::lab {
namespace {

// Whether the packet is one the rule's action can act on at all.
bool ActionApplies(ActionKind action, Packet* p) {
  switch (action) {
    case ActionKind::kDnsInject:
    case ActionKind::kDnsNxdomain:
    case ActionKind::kDnsDrop:
      return p->f.udp && p->dns().has_value();
    case ActionKind::kRstInject:
    case ActionKind::kHttpBlockpage:
      return p->f.tcp;
    default:
      return true;
  }
}

// proto, dst_ip and dst_port.
bool AddressMatches(const Match& m, const Packet& p) {
  const Frame& f = p.f;
  if (m.proto == Proto::kTcp && !f.tcp) return false;
  if (m.proto == Proto::kUdp && !f.udp) return false;
  if (!m.dst_ip.empty() && std::none_of(m.dst_ip.begin(), m.dst_ip.end(), [&](const IpPrefix& c) {
        return c.Contains(p.server());
      })) {
    return false;
  }
  if (!m.dst_port.empty()) {
    if (!f.tcp && !f.udp) return false;
    if (std::find(m.dst_port.begin(), m.dst_port.end(), p.server_port()) == m.dst_port.end()) {
      return false;
    }
  }
  return true;
}

// dns_qname, sni, http_host and http_path.
bool NamesMatch(const Rule& rule, Packet* p, nlohmann::json* detail) {
  const Match& m = rule.match;
  if (m.dns_qname) {
    if (!p->up || !p->f.udp || !p->dns()) return false;
    auto hit = m.dns_qname->Match(p->dns()->qname);
    if (!hit) return false;
    (*detail)["matched"] = *hit;
    // The name the rule acted on, whatever the action (the ground truth names it).
    (*detail)["qname"] = p->dns()->qname;
  }
  const FlowState* flow = p->flow;
  if (!rule.reassemble && (m.sni || m.http_host || m.http_path)) {
    // Inspecting one packet at a time, the censor finds names only in a first data
    // segment that holds the whole ClientHello or request head.
    if (flow == nullptr || flow->stream_segments != 1) return false;
    (*detail)["reassemble"] = false;
  }
  if (m.sni) {
    if (flow == nullptr || flow->sni.empty()) return false;
    auto hit = m.sni->Match(flow->sni);
    if (!hit) return false;
    (*detail)["sni"] = flow->sni;
    (*detail)["matched"] = *hit;
  }
  if (m.http_host) {
    if (flow == nullptr || !flow->http) return false;
    auto hit = m.http_host->Match(flow->http_host);
    if (!hit) return false;
    (*detail)["host"] = flow->http_host;
    (*detail)["matched"] = *hit;
  }
  if (m.http_path) {
    if (flow == nullptr || !flow->http) return false;
    auto hit = m.http_path->Match(flow->http_path);
    if (!hit) return false;
    (*detail)["path"] = flow->http_path;
    (*detail)["matched_path"] = *hit;
  }
  return true;
}

}  // namespace

bool ActsOnServerTraffic(ActionKind action) {
  return action == ActionKind::kDrop || action == ActionKind::kThrottle ||
         action == ActionKind::kDelay;
}

bool RuleMatches(const Rule& rule, Packet* p, const KeywordSet& words, nlohmann::json* detail) {
  const Match& m = rule.match;
  if (!ActionApplies(rule.action, p)) return false;
  if ((rule.at == ActAt::kAppData && !p->app_data_now) ||
      (rule.at == ActAt::kResponse && !p->response_now)) {
    return false;
  }
  if (!AddressMatches(m, *p)) return false;
  if (!NamesMatch(rule, p, detail)) return false;
  if (!m.keywords.empty()) {
    // A combination matches the packet that completes it or carries one of its words
    // once all were seen; packets without any of its words pass.
    if (p->flow == nullptr || p->words_now.empty()) return false;
    const auto* combo = words.MatchingCombo(m.keywords, *p->flow, p->words_now);
    if (combo == nullptr) return false;
    (*detail)["keywords"] = *combo;
  }
  if (rule.at != ActAt::kMatch) (*detail)["at"] = ActAtName(rule.at);
  return true;
}

}  // namespace vigil::lab
