#include "analysis/model/rows.h"

#include <nlohmann/json.hpp>

#include "base/post_status.h"

namespace vigil::analysis {

const char* LayerName(Layer layer) {
  switch (layer) {
    case Layer::kDns:
      return "dns";
    case Layer::kTcp:
      return "tcp";
    case Layer::kTls:
      return "tls";
    case Layer::kHttp:
      return "http";
    case Layer::kDelivery:
      return "delivery";
  }
  return "?";
}

const char* EvidenceName(Evidence evidence) {
  switch (evidence) {
    case Evidence::kNone:
      return "none";
    case Evidence::kHeuristic:
      return "heuristic";
    case Evidence::kControl:
      return "control";
    case Evidence::kPacket:
      return "packet";
    case Evidence::kConfirmed:
      return "confirmed";
  }
  return "?";
}

uint8_t MeasuredLayers(const VerdictRow& row) {
  uint8_t bits = 0;
  for (size_t i = 0; i < kLayerCount; ++i) {
    if (row.layers[i].measured) bits |= static_cast<uint8_t>(1u << i);
  }
  return bits;
}

uint8_t MaskedLayers(const VerdictRow& row) {
  uint8_t bits = 0;
  for (size_t i = 0; i < kLayerCount; ++i) {
    if (row.layers[i].measured && row.layers[i].masked) bits |= static_cast<uint8_t>(1u << i);
  }
  return bits;
}

Outcome OutcomeOf(const VerdictRow& row) {
  return OutcomeOf(row.anomaly, row.confirmed, row.failure);
}

std::optional<PostRow> PostRowOf(const ExtractedMeasurement& m) {
  const EnvelopeRow& e = m.measurement;
  if (e.test_name != kPostsTestName) return std::nullopt;
  PostRow p;
  p.measurement_uid = e.measurement_uid;
  p.start_time = e.start_time;
  p.probe_cc = e.probe_cc;
  p.probe_asn = e.probe_asn;
  p.url = e.input;
  const auto keys = nlohmann::json::parse(m.summary_json, nullptr, false);
  if (keys.is_object()) {
    auto text = [&](const char* key) {
      auto it = keys.find(key);
      return it != keys.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    p.post_status = text("post_status");
    p.title = text("x_title");
    p.content_sha256 = text("x_content_sha256");
  }
  return p;
}

}  // namespace vigil::analysis
