// ScoreDnsInjection: the dns_injection experiment's names (docs/evidence.md). A name the
// probe found injected is proof when one of its probes carries a flag that proves
// forgery (a sink that runs no DNS server answered, more replies than queries, a known
// forged address): dns.injected, confirmed, named by those flags. Every name clean is
// dns.ok. Anything else is no verdict: a name called injected without such a flag
// (dns_injection.unproven), inconclusive names (a resolver timed out, a Teredo answer
// alone), no names at all.
#include "analysis/verdict/scorers/scorers.h"
#include "analysis/verdict/scoring.h"

namespace vigil::analysis {
namespace {

// The fingerprint of the first probe of `name` whose flags prove forgery, or nullopt.
std::optional<std::string> NameProof(simdjson::dom::element name) {
  auto probes = Summary::Field(name, "probes");
  if (!probes || !probes->is_array()) return std::nullopt;
  const simdjson::dom::array list = probes->get_array().value_unsafe();
  for (auto probe : list) {
    auto flags = Summary::Field(probe, "flags");
    if (!flags) continue;
    if (std::optional<std::string> fingerprint = DnsInjectionFingerprint(*flags)) {
      return fingerprint;
    }
  }
  return std::nullopt;
}

}  // namespace

void ScoreDnsInjection(Scoring& c) {
  auto names = c.summary.Get("names");
  if (!names || !names->is_array() || names->get_array().value_unsafe().size() == 0) {
    c.Fail("dns_injection.no_names");
    return;
  }
  bool unproven = false, all_clean = true;
  std::optional<std::string> proof;
  const simdjson::dom::array list = names->get_array().value_unsafe();
  for (auto name : list) {
    auto verdict = Summary::StrOf(Summary::Field(name, "verdict"));
    if (IsStr(verdict, "injected")) {
      std::optional<std::string> fingerprint = NameProof(name);
      unproven = unproven || !fingerprint;
      if (fingerprint && !proof) proof = std::move(fingerprint);
    }
    all_clean = all_clean && IsStr(verdict, "clean");
  }
  if (proof) {
    // x_injection's own dns entry (ScoreInjection) may have decided the layer already.
    if (c.Fire(Rule::kDnsInjected) && c.row.fingerprint.empty()) c.row.fingerprint = *proof;
  } else if (unproven) {
    c.Fail("dns_injection.unproven");
  } else if (all_clean) {
    c.Fire(Rule::kDnsOk);
  } else {
    c.Fail("dns_injection.inconclusive");
  }
}

}  // namespace vigil::analysis
