// Scoring: one measurement being scored, as every scorer sees it: its facts, the rules,
// the fingerprints, its summary keys, and the VerdictRow being filled. Per layer the
// first rule fired decides (Fire ignores later rules of a decided layer), which is what
// makes a scorer read as an ordered list of rules. Lives for one Score call on one thread.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "analysis/model/rows.h"
#include "analysis/verdict/fingerprints.h"
#include "analysis/verdict/rule_config.h"
#include "analysis/verdict/rule_ids.h"
#include "analysis/verdict/summary.h"

namespace vigil::analysis {

struct Scoring {
  const ExtractedMeasurement& m;
  const RuleConfig& config;
  const FingerprintSet& fingerprints;
  const Summary& summary;
  VerdictRow& row;
  std::array<bool, kLayerCount> set{};
  // A fingerprint matched that does not confirm here: weak evidence, used only for a
  // layer the test's own rules left undecided.
  bool dns_unconfirmed = false;
  bool http_unconfirmed = false;
  // test_keys.x_injection held an entry the analyzer could not accept (malformed, or
  // contradicted by the capture): it proves nothing, and the measurement cannot be ok.
  bool injection_malformed = false;

  /// Fires `rule` unless an earlier rule already decided its layer; true when it did
  /// decide it. A rule resting on packet evidence that blocks confirms the verdict.
  bool Fire(Rule rule) {
    const RuleInfo& info = InfoOf(rule);
    const size_t layer = static_cast<size_t>(info.layer);
    if (set[layer]) return false;
    set[layer] = true;
    LayerVerdict& v = row.layers[layer];
    const Triple& t = config.TripleOf(rule);
    v.blocked = t.blocked;
    v.down = t.down;
    v.ok = t.ok;
    v.measured = true;
    v.rule_id = std::string(info.id);
    v.evidence = t.blocked > 0 ? info.evidence : Evidence::kNone;
    if (v.evidence == Evidence::kPacket) row.confirmed = true;
    return true;
  }
  /// Gives the measurement a failure reason (one of VerdictFailureReasons) unless it
  /// has one.
  void Fail(std::string_view reason) {
    if (row.failure_reason.empty()) row.failure_reason = std::string(reason);
  }
  /// A failure the rules say to read as success (messaging.ignored_failures).
  bool Ignored(const std::optional<std::string>& failure) const {
    return failure && Contains(config.ignored_failures, *failure);
  }
  /// A handshake of `o` that only asked whether the name passes (no fetch followed: the
  /// messaging sweeps' x_tls_handshakes) and that failed after the server answered with
  /// its certificate. Before a fetch the same failure is a failed fetch.
  bool TlsAnswered(const ObservationRow& o) const {
    return !o.http_measured && o.tls_failure &&
           Contains(config.tls_answered_failures, *o.tls_failure);
  }
  /// A failure that says the probe had no route, not that the path was blocked.
  bool NoRoute(const std::optional<std::string>& failure) const {
    return failure && Contains(config.no_route_failures, *failure);
  }
  /// The same, for an IPv6 address of `o` only (its ip, or its URL's bracketed host): a
  /// machine without IPv6 has no route there, while an IPv4 network that answers
  /// "unreachable" may be a censor's ICMP answer, which is data.
  bool NoIpv6Route(const ObservationRow& o, const std::optional<std::string>& failure) const {
    const bool v6 =
        o.ip.find(':') != std::string::npos || o.http_url.find("://[") != std::string::npos;
    return v6 && NoRoute(failure);
  }
  /// Whether DNS answer `i` of `o` is a bogon: an address of the bogon list that the
  /// probe's ASN database does not place in an AS. One it does place is routed where the
  /// probe is (an interference lab on the benchmarking range, 198.18.0.0/15, is judged
  /// by its own ASN database); in the wild no ASN database places a reserved address.
  bool BogonAnswer(const ObservationRow& o, size_t i) const {
    if (i >= o.dns_answers.size()) return false;
    return BogonAddress(o.dns_answers[i], i < o.dns_answer_asns.size() ? o.dns_answer_asns[i] : 0);
  }
  /// The same for an answer `ip` whose own ASN lookup gave `asn` (0: none).
  bool BogonAddress(const std::string& ip, int64_t asn) const {
    return asn == 0 && config.bogons.Contains(ip);
  }
};

}  // namespace vigil::analysis
