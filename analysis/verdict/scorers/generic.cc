// ScoreGeneric: the middlebox tests (http_invalid_request_line,
// http_header_field_manipulation) and every test without a scorer of its own.
#include "analysis/verdict/scorers/scorers.h"
#include "analysis/verdict/scoring.h"

namespace vigil::analysis {

void ScoreGeneric(Scoring& c) {
  // Middlebox tests (http_invalid_request_line, http_header_field_manipulation) say
  // "tampering": true, or an object of booleans.
  if (auto t = c.summary.Get("tampering")) {
    bool tampered = false;
    if (t->is_bool()) tampered = t->get_bool().value_unsafe();
    if (t->is_object()) {
      const simdjson::dom::object fields = t->get_object().value_unsafe();
      for (auto field : fields) {
        if (field.value.is_bool() && field.value.get_bool().value_unsafe()) tampered = true;
      }
    }
    c.Fire(tampered ? Rule::kHttpTampering : Rule::kHttpOk);
    return;
  }
  // A middlebox test without `tampering` never compared anything (as OONI's fastpath
  // reads it): a failed request to its helper says nothing about the network.
  const std::string& test = c.m.measurement.test_name;
  if (test == "http_header_field_manipulation" || test == "http_invalid_request_line") {
    c.Fail("middlebox.no_comparison");
    return;
  }
  if (c.m.observations.empty()) {
    c.Fail("generic.no_data");
    return;
  }
  ScoreObservations(c);
}

}  // namespace vigil::analysis
