// The analyzer's data contract: what ingest extracts from a measurement (facts:
// one EnvelopeRow, one ObservationRow per endpoint step), what the verdict rules
// derive from them (one VerdictRow per measurement, per rules version), and what
// the stores keep. Facts and verdicts live apart so history can be re-scored.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analysis/model/outcome.h"
#include "analysis/model/verdict_class.h"

namespace vigil::analysis {

/// One measurement's envelope: who measured what, where and when (a row of the stores'
/// measurements table; vantage's results database has a MeasurementRow of its own).
struct EnvelopeRow {
  std::string measurement_uid;  // OONI's uid when present, else derived (see ingest)
  std::string report_id;
  int64_t start_time = 0;   // measurement_start_time, Unix seconds UTC
  int64_t upload_time = 0;  // 0 when unknown
  std::string probe_cc = "ZZ";
  uint32_t probe_asn = 0;  // "AS30722" -> 30722; 0 = unknown
  std::string probe_network_name;
  std::string resolver_ip;
  uint32_t resolver_asn = 0;
  std::string software_name;
  std::string software_version;
  std::string test_name;  // normalised: "stun_reachability" -> "stunreachability"
  std::string test_version;
  std::string input;          // the measured URL or endpoint; empty for input-less tests
  std::string target;         // what the analyst queries by: domain of input, or the service
                              // for messaging tests ("whatsapp", "telegram", ...)
  std::string category_code;  // from a test list when known, else empty
  double test_runtime = 0;
  // Where it came from, for drill-down and error messages.
  std::string source_file;
  uint64_t source_line = 0;

  bool operator==(const EnvelopeRow&) const = default;
};

/// A tri-state fact: not measured, succeeded, failed.
enum class Tri : int8_t { kUnknown = -1, kNo = 0, kYes = 1 };

// Ingest refills these rows in place: it resets them by copying a default-constructed
// row over them, so a field added here starts empty for every measurement with no
// further edit (tests/analysis/ingest_test.cc compares whole rows with ==).

/// One endpoint step of a measurement (OONI v5's observation): a DNS lookup of a
/// name, a TCP connect to ip:port, a TLS handshake on it, an HTTP request over it.
/// Empty strings and nullopt mean "not measured" (a connect-only step has no HTTP).
struct ObservationRow {
  std::string measurement_uid;
  uint32_t index = 0;  // order within the measurement
  std::string hostname;
  std::string ip;
  uint16_t port = 0;
  uint32_t ip_asn = 0;
  int64_t transaction_id = 0;
  std::string tag;  // the probe's label for the step ("dc1", "registration", ...)

  // DNS
  std::string dns_engine;  // system, udp, tcp, dot, doh, ...
  std::string dns_resolver;
  std::optional<std::string> dns_failure;
  std::vector<std::string> dns_answers;   // A/AAAA/CNAME values in order
  std::vector<uint32_t> dns_answer_asns;  // same order as dns_answers, 0 when unknown
  bool dns_measured = false;

  // TCP
  Tri tcp_success = Tri::kUnknown;
  std::optional<std::string> tcp_failure;

  // TLS
  std::string tls_server_name;
  Tri tls_cert_valid = Tri::kUnknown;  // handshake completed and chain verified
  std::optional<std::string> tls_failure;
  bool tls_measured = false;

  // HTTP
  std::string http_url;
  int32_t http_status = -1;  // -1 = no response
  int64_t http_body_length = -1;
  std::optional<std::string> http_failure;
  std::string http_title;
  std::string http_body_sample;  // first bytes of the body, for block-page fingerprints
  std::vector<std::pair<std::string, std::string>> http_headers;  // for fingerprints
  bool http_measured = false;

  // Packet evidence and delivery (x_ keys), for experiments still to come: no experiment
  // records them yet and no verdict rule reads them; the stores keep the columns.
  std::string x_injection;  // e.g. "dns:two_answers", "tcp:rst_ttl_mismatch"; empty = none
  std::string x_delivery;   // delivered | dropped | delayed | ...; empty = not a delivery step

  bool operator==(const ObservationRow&) const = default;
};

/// The five layers a verdict is given for, in the order they are reached.
enum class Layer : uint8_t { kDns = 0, kTcp = 1, kTls = 2, kHttp = 3, kDelivery = 4 };
inline constexpr size_t kLayerCount = 5;
const char* LayerName(Layer layer);

/// How sure a verdict is.
enum class Evidence : uint8_t {
  kNone = 0,       // nothing fired (ok, or not measured)
  kHeuristic = 1,  // inferred from failures (a reset, a timeout)
  kControl = 2,    // contradicted by a control measurement that succeeded
  kPacket = 3,     // packet-level evidence (injected answers, RST TTL mismatch)
  kConfirmed = 4,  // a known DNS or block-page fingerprint matched
};
const char* EvidenceName(Evidence evidence);

/// One layer's outcome: OONI v5's (blocked, down, ok) triple plus the rule that fired.
struct LayerVerdict {
  double blocked = 0;
  double down = 0;
  double ok = 0;
  bool measured = false;
  bool masked = false;  // an earlier layer was blocked: this one says nothing
  std::string rule_id;  // "" when the layer was not measured
  Evidence evidence = Evidence::kNone;
};

/// A measurement's verdict under one rules version. The flags follow OONI's
/// aggregation semantics and do not overlap: exactly one of ok / anomaly /
/// confirmed / failure holds.
struct VerdictRow {
  std::string measurement_uid;
  std::string rules_version;
  std::array<LayerVerdict, kLayerCount> layers;
  Layer worst_layer = Layer::kDns;
  double score = 0;  // max blocked over layers
  bool anomaly = false;
  bool confirmed = false;
  bool failure = false;
  std::string blocking_type;   // dns, tcp_ip, tls, http-failure, http-diff, delivery, or ""
  std::string fingerprint;     // name of the fingerprint that confirmed, or ""
  std::string failure_reason;  // why `failure` holds ("envelope.probe_cc_zz", ...), or ""
  VerdictClass verdict = VerdictClass::kOk;  // the answer shown to people (verdict_class.h)
  // Bit i: Layer i blocked (measured, not masked, blocked weight at or above the rules'
  // mask threshold): what per-layer time series count (series/series.h).
  uint8_t blocked_layers = 0;
  // How the censor did it, for blocked and anomaly verdicts (verdict/technique.h:
  // "dns_injection", "tcp_rst", "tls_sni_blackhole", "blockpage", ...), else "".
  std::string technique;
};

/// Bit i set when layer i was measured / masked in `row`.
uint8_t MeasuredLayers(const VerdictRow& row);
uint8_t MaskedLayers(const VerdictRow& row);

/// The row's outcome (outcome.h): its flags, of which exactly one holds.
Outcome OutcomeOf(const VerdictRow& row);

/// Everything ingest produces for one measurement.
struct ExtractedMeasurement {
  EnvelopeRow measurement;
  std::vector<ObservationRow> observations;
  // test_keys facts the rules need that are not per endpoint (OONI's own summary
  // keys: "blocking", "accessible", "registration_server_status", ...), kept as
  // compact JSON text so the rules can read them without the whole measurement.
  std::string summary_json;

  bool operator==(const ExtractedMeasurement&) const = default;
};

/// What the stores keep of one wechat_posts measurement beside its facts (table posts):
/// the article it fetched and what had become of it, so that an article's history reads
/// one narrow table (correlate/removals.h). Written with the measurement, from its
/// summary keys; a fact, not a verdict: re-scoring leaves it alone.
struct PostRow {
  std::string measurement_uid;
  int64_t start_time = 0;
  std::string probe_cc;
  uint32_t probe_asn = 0;
  std::string url;             // the measurement's input (test_keys.post_url)
  std::string post_status;     // test_keys.post_status as written; "" when absent
  std::string title;           // x_title (an available article's); else ""
  std::string content_sha256;  // x_content_sha256 (an available article's); else ""

  bool operator==(const PostRow&) const = default;
};

/// The post row of a wechat_posts measurement (post_status.h's kPostsTestName); nullopt
/// for every other test. Keys that are absent or not strings read as "".
std::optional<PostRow> PostRowOf(const ExtractedMeasurement& m);

}  // namespace vigil::analysis
