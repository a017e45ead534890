// The names a verdict carries: every rule id the engine can fire, each with its layer
// and the kind of evidence it rests on, and every reason it can give for a failure.
// The rules file must give a triple for each rule id here and for nothing else. The
// delivery layer's rules judge the delivery experiment's keywords (a test message lost
// between two benign controls that got through). The packet rules (dns.injected,
// *.rst_injected, tls.censor_located, http.censor_located) rest on the probe's packet evidence
// (test_keys.x_injection, the censor_hop experiment's hops; docs/evidence.md): a packet
// only a censor sends is proof, so they confirm a verdict and outrank the control-based
// and heuristic rules of their layer.
// Constant tables; safe from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "analysis/model/rows.h"

namespace vigil::analysis {

/// The rule ids, grouped by layer, in the rules file's order.
enum class Rule : uint8_t {
  kDnsFingerprint,
  kDnsInjected,
  kDnsFingerprintUnconfirmed,
  kDnsBogonNotInControl,
  kDnsBogon,
  kDnsFailureControlOk,
  kDnsFailureControlFailed,
  kDnsControlFailedToo,
  kDnsUnmatched,
  kDnsOutsideServiceAsn,
  kDnsProbeBlocking,
  kDnsSameAsnAsControl,
  kDnsMatchesControl,
  kDnsFailure,
  kDnsResolverNoAddress,
  kDnsOk,
  kTcpRstInjected,
  kTcpResidualBlock,
  kTcpFailControlOk,
  kTcpFailControlFailed,
  kTcpControlFailedToo,
  kTcpProbeBlocking,
  kTcpAllFailed,
  kTcpSomeFailed,
  kTcpStunNoResponse,
  kTcpOk,
  kTlsRstInjected,
  kTlsCensorLocated,
  kTlsFailControlOk,
  kTlsResetControlOk,
  kTlsFailControlFailed,
  kTlsControlFailedToo,
  kTlsSniInterference,
  kTlsSniTimeout,
  kTlsSniUnreachable,
  kTlsAllInterrupted,
  kTlsSomeInterrupted,
  kTlsFailure,
  kTlsOk,
  kHttpFingerprint,
  kHttpFingerprintUnconfirmed,
  kHttpRstInjected,
  kHttpCensorLocated,
  kHttpDiff,
  kHttpFailureControlOk,
  kHttpFailureControlFailed,
  kHttpControlFailedToo,
  kHttpFailure,
  kHttpTampering,
  kHttpOk,
  kDeliveryKeywordBlocked,
  kDeliveryStateful,
  kDeliveryOk,
  kCount
};
inline constexpr size_t kRuleCount = static_cast<size_t>(Rule::kCount);

/// What a rule id means: its name in the rules file, its layer (the word before the
/// first dot) and the kind of fact it rests on (ok rules say kNone).
struct RuleInfo {
  std::string_view id;
  Layer layer;
  Evidence evidence;
};

/// Every rule, indexed by Rule.
inline constexpr std::array<RuleInfo, kRuleCount> kRules = {{
    {"dns.fingerprint", Layer::kDns, Evidence::kConfirmed},
    {"dns.injected", Layer::kDns, Evidence::kPacket},
    {"dns.fingerprint_unconfirmed", Layer::kDns, Evidence::kHeuristic},
    {"dns.bogon_not_in_control", Layer::kDns, Evidence::kControl},
    {"dns.bogon", Layer::kDns, Evidence::kHeuristic},
    {"dns.failure_control_ok", Layer::kDns, Evidence::kControl},
    {"dns.failure_control_failed", Layer::kDns, Evidence::kControl},
    {"dns.control_failed_too", Layer::kDns, Evidence::kControl},
    {"dns.unmatched", Layer::kDns, Evidence::kControl},
    {"dns.outside_service_asn", Layer::kDns, Evidence::kHeuristic},
    {"dns.probe_blocking", Layer::kDns, Evidence::kControl},
    {"dns.same_asn_as_control", Layer::kDns, Evidence::kControl},
    {"dns.matches_control", Layer::kDns, Evidence::kNone},
    {"dns.failure", Layer::kDns, Evidence::kHeuristic},
    {"dns.resolver_no_address", Layer::kDns, Evidence::kHeuristic},
    {"dns.ok", Layer::kDns, Evidence::kNone},
    {"tcp.rst_injected", Layer::kTcp, Evidence::kPacket},
    {"tcp.residual_block", Layer::kTcp, Evidence::kControl},
    {"tcp.fail_control_ok", Layer::kTcp, Evidence::kControl},
    {"tcp.fail_control_failed", Layer::kTcp, Evidence::kControl},
    {"tcp.control_failed_too", Layer::kTcp, Evidence::kControl},
    {"tcp.probe_blocking", Layer::kTcp, Evidence::kControl},
    {"tcp.all_failed", Layer::kTcp, Evidence::kHeuristic},
    {"tcp.some_failed", Layer::kTcp, Evidence::kHeuristic},
    {"tcp.stun_no_response", Layer::kTcp, Evidence::kHeuristic},
    {"tcp.ok", Layer::kTcp, Evidence::kNone},
    {"tls.rst_injected", Layer::kTls, Evidence::kPacket},
    {"tls.censor_located", Layer::kTls, Evidence::kPacket},
    {"tls.fail_control_ok", Layer::kTls, Evidence::kControl},
    {"tls.reset_control_ok", Layer::kTls, Evidence::kControl},
    {"tls.fail_control_failed", Layer::kTls, Evidence::kControl},
    {"tls.control_failed_too", Layer::kTls, Evidence::kControl},
    {"tls.sni_interference", Layer::kTls, Evidence::kControl},
    {"tls.sni_timeout", Layer::kTls, Evidence::kControl},
    {"tls.sni_unreachable", Layer::kTls, Evidence::kHeuristic},
    {"tls.all_interrupted", Layer::kTls, Evidence::kHeuristic},
    {"tls.some_interrupted", Layer::kTls, Evidence::kHeuristic},
    {"tls.failure", Layer::kTls, Evidence::kHeuristic},
    {"tls.ok", Layer::kTls, Evidence::kNone},
    {"http.fingerprint", Layer::kHttp, Evidence::kConfirmed},
    {"http.fingerprint_unconfirmed", Layer::kHttp, Evidence::kHeuristic},
    {"http.rst_injected", Layer::kHttp, Evidence::kPacket},
    {"http.censor_located", Layer::kHttp, Evidence::kPacket},
    {"http.diff", Layer::kHttp, Evidence::kControl},
    {"http.failure_control_ok", Layer::kHttp, Evidence::kControl},
    {"http.failure_control_failed", Layer::kHttp, Evidence::kControl},
    {"http.control_failed_too", Layer::kHttp, Evidence::kControl},
    {"http.failure", Layer::kHttp, Evidence::kHeuristic},
    {"http.tampering", Layer::kHttp, Evidence::kControl},
    {"http.ok", Layer::kHttp, Evidence::kNone},
    {"delivery.keyword_blocked", Layer::kDelivery, Evidence::kControl},
    {"delivery.stateful", Layer::kDelivery, Evidence::kControl},
    {"delivery.ok", Layer::kDelivery, Evidence::kNone},
}};

/// The rule's entry in kRules.
constexpr const RuleInfo& InfoOf(Rule rule) { return kRules[static_cast<size_t>(rule)]; }

/// Every rule id the engine can fire, in the rules file's order.
const std::vector<std::string_view>& VerdictRuleIds();

/// Why a measurement is a failure (VerdictRow::failure_reason values).
const std::vector<std::string_view>& VerdictFailureReasons();

}  // namespace vigil::analysis
