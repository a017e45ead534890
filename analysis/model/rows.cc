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

Outcome OutcomeOf(const VerdictRow& row) {
  return OutcomeOf(row.anomaly, row.confirmed, row.failure);
}

}  // namespace vigil::analysis
