#include "analysis/model/rows.h"

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

}  // namespace vigil::analysis
