// Technique: what the censor did to a measurement, named from a truth record (its action
// and what triggered it: a DNS name, a TLS SNI, an HTTP Host, keywords, an address, a
// residual block), and the one table saying which of the analyzer's blocking types
// (VerdictRow::blocking_type: dns, tcp_ip, tls, http-failure, http-diff, delivery) name
// that technique correctly. Constant tables; safe from any thread.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "analysis/truth/censor_truth.h"

namespace vigil::analysis {

enum class Technique : uint8_t {
  kDnsInjection,      // dns_inject: forged answers race the genuine one
  kDnsNxdomain,       // dns_nxdomain
  kDnsDrop,           // dns_drop: the query vanishes
  kSniReset,          // rst_inject on a TLS server name
  kHostReset,         // rst_inject on an HTTP Host (or path)
  kKeywordReset,      // rst_inject on keywords
  kReset,             // rst_inject on addresses alone
  kSniDrop,           // drop on a TLS server name
  kHostDrop,          // drop on an HTTP Host (or path)
  kBlackhole,         // drop on addresses alone
  kBlockPage,         // http_blockpage
  kKeywordDrop,       // keyword_drop: the packet carrying the words vanishes
  kResidualBlock,     // a later connection to a (client, server, port) an act blocked
  kThrottle,          // throttle
  kDelay,             // delay
  kIcmpUnreachable,   // icmp_unreachable: the censor answers for the server, "unreachable"
  kBlockRedirect,     // http_blockpage with a Location: a redirect to the censor's page
  kDnsInjectionLate,  // dns_inject held back: the genuine answer, let through, wins
};

/// Whether the technique blocks (a service under it does not work) rather than degrades
/// (throttle, delay: slow but open). A measurement only degraded is one the censor left
/// usable: flagging it is a false positive.
bool Blocks(Technique technique);

/// The technique a truth record names.
Technique TechniqueOf(const CensorAct& act);

/// "dns_injection", "sni_rst", "blackhole", "blockpage", ... (the words reports print).
std::string_view TechniqueName(Technique technique);

/// The analyzer's blocking types that name `technique` correctly. web_connectivity (as
/// OONI's) has no tls type, so a TLS failure there is http-failure: both count for SNI
/// techniques. A residual block, a bare RST, throttling and delay show wherever the
/// connection was when it met them (tcp_ip, tls or http-failure).
const std::vector<std::string_view>& ExpectedBlockingTypes(Technique technique);

}  // namespace vigil::analysis
