// ScoreDnscheck: one resolver's answers per lookup (dnscheck's "lookups"); a lookup
// that failed before DNS is judged at the layer where it failed.
#include "analysis/verdict/scorers/scorers.h"
#include "analysis/verdict/scoring.h"

namespace vigil::analysis {

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
    bool any_ok = false, all_answered = true;
    std::string_view first_op;
    for (auto field : obj) {
      auto failure = Summary::StrOf(Summary::Field(field.value, "failure"));
      if (!failure) {
        any_ok = true;
        continue;
      }
      if (!Contains(c.config.dnscheck_answered_failures, *failure)) all_answered = false;
      if (first_op.empty()) {
        first_op = Summary::StrOf(Summary::Field(field.value, "failed_operation")).value_or("?");
      }
    }
    if (any_ok) {
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
