#include "analysis/truth/technique.h"

#include <array>

namespace vigil::analysis {
namespace {

struct TechniqueInfo {
  Technique technique;
  std::string_view name;
  std::vector<std::string_view> blocking_types;
  bool blocks = true;
};

const std::array<TechniqueInfo, 18>& Table() {
  static const std::array<TechniqueInfo, 18> table = {{
      {Technique::kDnsInjection, "dns_injection", {"dns"}},
      {Technique::kDnsNxdomain, "dns_nxdomain", {"dns"}},
      {Technique::kDnsDrop, "dns_drop", {"dns"}},
      {Technique::kSniReset, "sni_rst", {"tls", "http-failure"}},
      {Technique::kHostReset, "host_rst", {"http-failure"}},
      {Technique::kKeywordReset, "keyword_rst", {"http-failure", "delivery"}},
      {Technique::kReset, "rst", {"tcp_ip", "tls", "http-failure"}},
      {Technique::kSniDrop, "sni_drop", {"tls", "http-failure"}},
      {Technique::kHostDrop, "host_drop", {"http-failure"}},
      {Technique::kBlackhole, "blackhole", {"tcp_ip"}},
      {Technique::kBlockPage, "blockpage", {"http-diff"}},
      {Technique::kKeywordDrop, "keyword_drop", {"http-failure", "delivery"}},
      {Technique::kResidualBlock, "residual_block", {"tcp_ip", "tls", "http-failure"}},
      {Technique::kThrottle, "throttle", {"tcp_ip", "tls", "http-failure"}, false},
      {Technique::kDelay, "delay", {"tcp_ip", "tls", "http-failure"}, false},
      // A connect answered "unreachable", or a query to the resolver.
      {Technique::kIcmpUnreachable, "icmp_unreachable", {"tcp_ip", "dns"}},
      // The redirect's target may serve a page unlike the site's, or not answer at all.
      {Technique::kBlockRedirect, "blockpage_redirect", {"http-diff", "http-failure"}},
      // Forgeries that lose the race to the genuine answer change nothing a resolver
      // hands an application: attempted, not blocking (packet evidence sees them).
      {Technique::kDnsInjectionLate, "dns_injection_late", {"dns"}, false},
  }};
  return table;
}

const TechniqueInfo& InfoOf(Technique technique) {
  for (const TechniqueInfo& info : Table()) {
    if (info.technique == technique) return info;
  }
  return Table().front();  // unreachable: the table names every technique
}

}  // namespace

Technique TechniqueOf(const CensorAct& act) {
  if (act.residual) return Technique::kResidualBlock;
  const std::string& a = act.action;
  if (a == "dns_inject") {
    return act.min_delay_ms > 0 ? Technique::kDnsInjectionLate : Technique::kDnsInjection;
  }
  if (a == "dns_nxdomain") return Technique::kDnsNxdomain;
  if (a == "dns_drop") return Technique::kDnsDrop;
  if (a == "http_blockpage") {
    return act.location.empty() ? Technique::kBlockPage : Technique::kBlockRedirect;
  }
  if (a == "keyword_drop") return Technique::kKeywordDrop;
  if (a == "throttle") return Technique::kThrottle;
  if (a == "delay") return Technique::kDelay;
  if (a == "icmp_unreachable") return Technique::kIcmpUnreachable;
  if (a == "rst_inject") {
    if (!act.sni.empty()) return Technique::kSniReset;
    if (!act.host.empty()) return Technique::kHostReset;
    if (act.keywords) return Technique::kKeywordReset;
    return Technique::kReset;
  }
  // drop
  if (act.keywords) return Technique::kKeywordDrop;
  if (!act.sni.empty()) return Technique::kSniDrop;
  if (!act.host.empty()) return Technique::kHostDrop;
  return Technique::kBlackhole;
}

std::string_view TechniqueName(Technique technique) { return InfoOf(technique).name; }

bool Blocks(Technique technique) { return InfoOf(technique).blocks; }

const std::vector<std::string_view>& ExpectedBlockingTypes(Technique technique) {
  return InfoOf(technique).blocking_types;
}

}  // namespace vigil::analysis
