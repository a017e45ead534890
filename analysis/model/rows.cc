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

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kAnomaly:
      return "anomaly";
    case Outcome::kConfirmed:
      return "confirmed";
    case Outcome::kFailure:
      return "failure";
  }
  return "?";
}

Outcome OutcomeOf(bool anomaly, bool confirmed, bool failure) {
  if (confirmed) return Outcome::kConfirmed;
  if (failure) return Outcome::kFailure;
  if (anomaly) return Outcome::kAnomaly;
  return Outcome::kOk;
}

Outcome OutcomeOf(const VerdictRow& row) {
  return OutcomeOf(row.anomaly, row.confirmed, row.failure);
}

}  // namespace vigil::analysis
