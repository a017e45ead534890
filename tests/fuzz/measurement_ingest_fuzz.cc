// Fuzz target for MeasurementExtractor, which turns every measurement the analyzer
// ingests (ours, or any OONI probe's) into facts. Besides crashes and sanitizer
// reports, it checks that an extractor reused across documents (as ingest reuses one
// per thread) gives the same facts as a fresh one: no field of a previous measurement
// may leak into the next. It also checks the facts' own promises (a uid, a two-letter
// country, ordered observation indices).
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "analysis/ingest/ingest.h"
#include "tests/fuzz/fuzz_check.h"

namespace vigil::analysis {
namespace {

// The facts as text, for comparing two extractions.
std::string Facts(const ExtractedMeasurement& m) {
  std::ostringstream out;
  const auto& row = m.measurement;
  out << row.measurement_uid << '|' << row.report_id << '|' << row.start_time << '|'
      << row.upload_time << '|' << row.probe_cc << '|' << row.probe_asn << '|'
      << row.probe_network_name << '|' << row.resolver_ip << '|' << row.resolver_asn << '|'
      << row.software_name << '|' << row.software_version << '|' << row.test_name << '|'
      << row.test_version << '|' << row.input << '|' << row.target << '|' << row.category_code
      << '|' << row.test_runtime << '\n'
      << m.summary_json << '\n';
  for (const auto& o : m.observations) {
    out << o.measurement_uid << '|' << o.index << '|' << o.hostname << '|' << o.ip << '|' << o.port
        << '|' << o.ip_asn << '|' << o.transaction_id << '|' << o.tag << '|' << o.dns_engine << '|'
        << o.dns_resolver << '|' << o.dns_failure.value_or("-") << '|' << o.dns_measured << '|'
        << static_cast<int>(o.tcp_success) << '|' << o.tcp_failure.value_or("-") << '|'
        << o.tls_server_name << '|' << static_cast<int>(o.tls_cert_valid) << '|'
        << o.tls_failure.value_or("-") << '|' << o.tls_measured << '|' << o.http_url << '|'
        << o.http_status << '|' << o.http_body_length << '|' << o.http_failure.value_or("-") << '|'
        << o.http_title << '|' << o.http_body_sample << '|' << o.http_measured;
    for (const auto& a : o.dns_answers) out << "|a:" << a;
    for (const auto asn : o.dns_answer_asns) out << "|n:" << asn;
    for (const auto& [name, value] : o.http_headers) out << "|h:" << name << '=' << value;
    out << '\n';
  }
  return out.str();
}

void CheckFacts(const ExtractedMeasurement& m) {
  FUZZ_CHECK(m.measurement.probe_cc.size() == 2);
  FUZZ_CHECK(!m.measurement.measurement_uid.empty());
  for (size_t i = 0; i < m.observations.size(); ++i) {
    FUZZ_CHECK(m.observations[i].measurement_uid == m.measurement.measurement_uid);
    if (i > 0) FUZZ_CHECK(m.observations[i - 1].index < m.observations[i].index);
    FUZZ_CHECK(m.observations[i].dns_answer_asns.empty() ||
               m.observations[i].dns_answer_asns.size() == m.observations[i].dns_answers.size());
  }
  // Not checked: that summary_json is JSON. simdjson's On-Demand parser validates only
  // what it reads, so a document broken inside a key kept as written (control,
  // network_events) is ingested with that text as its summary; the rules then read
  // no summary for it (docs/fuzzing.md).
}

}  // namespace
}  // namespace vigil::analysis

// The input is two documents, split at its first newline (the first may be empty):
// one extractor reads both, a fresh one reads the second.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil::analysis;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view first = newline == std::string_view::npos ? "" : input.substr(0, newline);
  const std::string_view second =
      newline == std::string_view::npos ? input : input.substr(newline + 1);

  IngestOptions options;
  options.categories.Add("https://www.example.org/", "NEWS");
  options.body_sample_bytes = 64;
  MeasurementExtractor reused(options);
  ExtractedMeasurement facts;
  if (reused.Extract(first, &facts).ok()) CheckFacts(facts);
  const auto reused_result = reused.Extract(second, &facts);

  MeasurementExtractor fresh(options);
  ExtractedMeasurement fresh_facts;
  const auto fresh_result = fresh.Extract(second, &fresh_facts);
  FUZZ_CHECK(reused_result.ok() == fresh_result.ok());
  if (!fresh_result.ok()) {
    FUZZ_CHECK(fresh_result.error() == reused_result.error() && !fresh_result.error().empty());
    return 0;
  }
  CheckFacts(fresh_facts);
  FUZZ_CHECK(Facts(facts) == Facts(fresh_facts));
  return 0;
}
