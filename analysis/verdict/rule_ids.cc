#include "analysis/verdict/rule_ids.h"

namespace vigil::analysis {
namespace {

constexpr std::array<std::string_view, 26> kFailureReasons = {
    "envelope.probe_cc_zz",
    "envelope.asn_zero",
    "envelope.no_report_id",
    "envelope.start_in_future",
    "web_connectivity.blocking_null",
    "web_connectivity.no_test_keys",
    "web_connectivity.control_http_error",
    "signal.unreliable_failure",
    "sni_blocking.control_failed",
    "dnscheck.no_lookups",
    "generic.no_data",
    "middlebox.no_comparison",
    "delivery.transport_failure",
    "delivery.inconclusive",
    "delivery.no_status",
    "injection.malformed",
    "dns_injection.no_names",
    "dns_injection.unproven",
    "dns_injection.inconclusive",
    "residual_blocking.no_verdict",
    "residual_blocking.unproven",
    "residual_blocking.inconclusive",
    "censor_hop.no_verdict",
    "censor_hop.unavailable",
    "censor_hop.unproven",
    "censor_hop.inconclusive",
};

}  // namespace

const std::vector<std::string_view>& VerdictRuleIds() {
  static const std::vector<std::string_view> ids = [] {
    std::vector<std::string_view> v;
    for (const RuleInfo& r : kRules) v.push_back(r.id);
    return v;
  }();
  return ids;
}

const std::vector<std::string_view>& VerdictFailureReasons() {
  static const std::vector<std::string_view> reasons(kFailureReasons.begin(),
                                                     kFailureReasons.end());
  return reasons;
}

}  // namespace vigil::analysis
