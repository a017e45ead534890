#include "analysis/verdict/flags.h"

#include <string_view>

namespace vigil::analysis {

std::string_view BlockingType(Layer layer, std::string_view rule_id) {
  switch (layer) {
    case Layer::kDns:
      return "dns";
    case Layer::kTcp:
      return "tcp_ip";
    case Layer::kTls:
      return "tls";
    case Layer::kHttp:
      return rule_id == "http.diff" || rule_id.starts_with("http.fingerprint") ? "http-diff"
                                                                               : "http-failure";
    case Layer::kDelivery:
      return "delivery";
  }
  return "";
}

namespace {

// Why the envelope makes the measurement unusable, or "".
std::string_view EnvelopeFailure(const RuleConfig& config, const EnvelopeRow& env, int64_t now) {
  if (env.probe_cc.empty() || env.probe_cc == "ZZ") return "envelope.probe_cc_zz";
  if (env.probe_asn == 0) return "envelope.asn_zero";
  // OONI's fastpath fails a measurement without a report id (its collector assigns one
  // to every upload). vigil's own measurements get theirs when they are uploaded: one
  // read from a local run is scored by what it saw.
  if (env.report_id.empty() && env.software_name != "vigil") return "envelope.no_report_id";
  const int64_t reference = env.upload_time > 0 ? env.upload_time : now;
  if (env.start_time > reference + config.max_future_skew_seconds) {
    return "envelope.start_in_future";
  }
  return "";
}

}  // namespace

void SetFlags(const RuleConfig& config, const EnvelopeRow& env, int64_t now, int worst,
              VerdictRow& row) {
  const std::string_view envelope_failure = EnvelopeFailure(config, env, now);
  if (!envelope_failure.empty()) {
    row.failure_reason = std::string(envelope_failure);
    row.failure = true;
    row.confirmed = false;
    row.fingerprint.clear();
  } else if (row.confirmed) {
    row.failure_reason.clear();
  } else if (!row.failure_reason.empty()) {
    row.failure = true;
  } else {
    row.anomaly = row.score > config.anomaly_threshold;
  }
  if ((row.anomaly || row.confirmed) && worst >= 0) {
    const LayerVerdict& w = row.layers[static_cast<size_t>(worst)];
    row.blocking_type = std::string(BlockingType(row.worst_layer, w.rule_id));
  }
}

}  // namespace vigil::analysis
