#include "analysis/verdict/technique.h"

#include <optional>
#include <string>

#include "analysis/verdict/rule_ids.h"
#include "analysis/verdict/summary.h"

namespace vigil::analysis {
namespace {

// What kind of failure an OONI failure string names.
enum class Kind { kNone, kReset, kTimeout, kRefused, kUnreachable, kEof, kNxdomain, kOther };

Kind KindOf(const std::optional<std::string>& failure) {
  if (!failure || failure->empty()) return Kind::kNone;
  const std::string_view f = *failure;
  if (f.find("connection_reset") != std::string_view::npos) return Kind::kReset;
  if (f.find("timeout") != std::string_view::npos ||
      f.find("timed_out") != std::string_view::npos) {
    return Kind::kTimeout;
  }
  if (f.find("refused") != std::string_view::npos) return Kind::kRefused;
  if (f.find("unreachable") != std::string_view::npos) return Kind::kUnreachable;
  if (f.find("eof") != std::string_view::npos) return Kind::kEof;
  if (f.find("nxdomain") != std::string_view::npos) return Kind::kNxdomain;
  return Kind::kOther;
}

// The first failure the probe saw at `layer` (kNone when every step there succeeded).
Kind FirstFailure(const ExtractedMeasurement& m, Layer layer) {
  for (const ObservationRow& o : m.observations) {
    std::optional<std::string> const* failure = nullptr;
    switch (layer) {
      case Layer::kDns:
        if (o.dns_measured) failure = &o.dns_failure;
        break;
      case Layer::kTcp:
        if (o.tcp_success != Tri::kUnknown) failure = &o.tcp_failure;
        break;
      case Layer::kTls:
        if (o.tls_measured) failure = &o.tls_failure;
        break;
      case Layer::kHttp:
        if (o.http_measured) failure = &o.http_failure;
        break;
      case Layer::kDelivery:
        break;
    }
    if (failure == nullptr) continue;
    if (const Kind k = KindOf(*failure); k != Kind::kNone) return k;
  }
  return Kind::kNone;
}

// The technique of the first keyword the delivery experiment lost (its test keys'
// "keywords"); the experiment names it from what became of the message.
std::string_view DeliveryTechnique(const ExtractedMeasurement& m) {
  static constexpr std::string_view kNames[] = {"keyword_drop", "keyword_rst", "keyword_alter",
                                                "keyword_stall"};
  const Summary summary(m.summary_json);
  auto keywords = summary.Get("keywords");
  if (keywords && keywords->is_array()) {
    // Bound first: the array of a temporary result would not outlive the loop's start.
    const simdjson::dom::array list = keywords->get_array().value_unsafe();
    for (auto k : list) {
      auto verdict = Summary::StrOf(Summary::Field(k, "verdict"));
      if (!verdict || (*verdict != "blocked" && *verdict != "stateful")) continue;
      auto technique = Summary::StrOf(Summary::Field(k, "technique"));
      for (std::string_view name : kNames) {
        if (technique && *technique == name) return name;
      }
    }
  }
  return kNames[0];
}

}  // namespace

std::string_view BlockingTechnique(const ExtractedMeasurement& m, const VerdictRow& row) {
  if (row.verdict != VerdictClass::kBlocked && row.verdict != VerdictClass::kAnomaly) return "";
  const Layer layer = row.worst_layer;
  const LayerVerdict& l = row.layers[static_cast<size_t>(layer)];
  if (!l.measured || l.blocked <= 0) return "";
  // Rules resting on packets or on a residual block's control name the technique
  // themselves, whatever failure the probe's own steps saw.
  if (l.rule_id == InfoOf(Rule::kDnsInjected).id) return "dns_injection";
  if (l.rule_id == InfoOf(Rule::kTcpRstInjected).id ||
      l.rule_id == InfoOf(Rule::kTlsRstInjected).id ||
      l.rule_id == InfoOf(Rule::kHttpRstInjected).id ||
      l.rule_id == InfoOf(Rule::kTlsCensorLocated).id ||
      l.rule_id == InfoOf(Rule::kHttpCensorLocated).id) {
    return "rst_injection";
  }
  if (l.rule_id == InfoOf(Rule::kTcpResidualBlock).id) return "residual_block";
  const Kind kind = FirstFailure(m, layer);
  switch (layer) {
    case Layer::kDns:
      switch (kind) {
        case Kind::kNone:  // an answer, judged forged
          return "dns_injection";
        case Kind::kNxdomain:
          return "dns_nxdomain";
        case Kind::kTimeout:
          return "dns_blackhole";
        case Kind::kRefused:
          return "dns_refused";
        default:
          return "dns_failure";
      }
    case Layer::kTcp:
      switch (kind) {
        case Kind::kReset:
          return "tcp_rst";
        case Kind::kTimeout:
          return "tcp_blackhole";
        case Kind::kRefused:
          return "tcp_refused";
        case Kind::kUnreachable:
          return "icmp_unreachable";
        default:
          return "tcp_failure";
      }
    case Layer::kTls:
      switch (kind) {
        case Kind::kReset:
          return "tls_sni_rst";
        case Kind::kTimeout:
          return "tls_sni_blackhole";
        case Kind::kEof:
          return "tls_eof";
        default:
          return "tls_failure";
      }
    case Layer::kHttp:
      if (!row.fingerprint.empty() || l.rule_id == "http.diff" ||
          l.rule_id.starts_with("http.fingerprint")) {
        return "blockpage";
      }
      switch (kind) {
        case Kind::kReset:
          return "http_rst";
        case Kind::kTimeout:
          return "http_blackhole";
        case Kind::kEof:
          return "http_eof";
        default:
          return "http_failure";
      }
    case Layer::kDelivery:
      return DeliveryTechnique(m);
  }
  return "";
}

}  // namespace vigil::analysis
