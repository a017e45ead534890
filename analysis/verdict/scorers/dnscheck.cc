// ScoreDnscheck: one resolver's answers per lookup (dnscheck's "lookups"); a lookup
// that failed before DNS is judged at the layer where it failed.
#include "analysis/verdict/scorers/scorers.h"
#include "analysis/verdict/scoring.h"

namespace vigil::analysis {
namespace {

// Whether a lookup that "succeeded" answered with an address no honest resolver gives
// for a public name: a bogon that the answer's own ASN lookup does not place in an AS
// (as Scoring::BogonAnswer judges the other tests' answers).
bool Forged(const Scoring& c, simdjson::dom::element lookup) {
  auto queries = Summary::Field(lookup, "queries");
  if (!queries || !queries->is_array()) return false;
  const simdjson::dom::array query_list = queries->get_array().value_unsafe();
  for (auto q : query_list) {
    auto answers = Summary::Field(q, "answers");
    if (!answers || !answers->is_array()) continue;
    const simdjson::dom::array answer_list = answers->get_array().value_unsafe();
    for (auto a : answer_list) {
      auto asn_field = Summary::Field(a, "asn");
      const int64_t asn =
          asn_field && asn_field->is_int64() ? asn_field->get_int64().value_unsafe() : 0;
      for (const char* key : {"ipv4", "ipv6"}) {
        auto ip = Summary::StrOf(Summary::Field(a, key));
        if (ip && c.BogonAddress(std::string(*ip), asn)) return true;
      }
    }
  }
  return false;
}

}  // namespace

void ScoreDnscheck(Scoring& c) {
  if (auto f = c.summary.Str("bootstrap_failure")) {
    c.Fire(Rule::kDnsFailure);
    return;
  }
  auto lookups = c.summary.Get("lookups");
  if (lookups && lookups->is_object()) {
    auto obj = lookups->get_object().value_unsafe();
    if (obj.size() == 0) {
      c.Fire(Rule::kDnsFailure);
      return;
    }
    bool any_ok = false, any_forged = false, all_answered = true;
    std::string_view first_op;
    for (auto field : obj) {
      auto failure = Summary::StrOf(Summary::Field(field.value, "failure"));
      if (!failure) {
        // An answer is not an honest one when it is forged.
        if (Forged(c, field.value)) {
          any_forged = true;
        } else {
          any_ok = true;
        }
        continue;
      }
      if (!Contains(c.config.dnscheck_answered_failures, *failure)) all_answered = false;
      if (first_op.empty()) {
        first_op = Summary::StrOf(Summary::Field(field.value, "failed_operation")).value_or("?");
      }
    }
    if (any_forged) {
      c.Fire(Rule::kDnsBogon);  // beside honest answers too: the resolver lies at times
    } else if (any_ok) {
      c.Fire(Rule::kDnsOk);
    } else if (all_answered) {
      c.Fire(Rule::kDnsResolverNoAddress);
    } else if (first_op == "connect") {
      c.Fire(Rule::kTcpAllFailed);
    } else if (first_op == "tls_handshake") {
      c.Fire(Rule::kTlsFailure);
    } else if (first_op == "http_round_trip") {
      c.Fire(Rule::kHttpFailure);
    } else {
      c.Fire(Rule::kDnsFailure);
    }
    return;
  }
  if (c.m.observations.empty()) {
    c.Fail("dnscheck.no_lookups");
    return;
  }
  ScoreObservations(c);
}

}  // namespace vigil::analysis
