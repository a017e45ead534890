#include "analysis/verdict/masking.h"

namespace vigil::analysis {

int MaskLayers(double mask_threshold, VerdictRow& row) {
  bool masking = false;
  double score = 0;
  int worst = -1;
  for (size_t i = 0; i < kLayerCount; ++i) {
    LayerVerdict& l = row.layers[i];
    if (!l.measured) continue;
    if (masking) {
      l.masked = true;
      continue;
    }
    if (worst < 0 || l.blocked > score) {
      score = l.blocked;
      worst = static_cast<int>(i);
    }
    if (l.blocked >= mask_threshold && l.blocked > 0) masking = true;
  }
  row.score = score;
  if (worst >= 0) row.worst_layer = static_cast<Layer>(worst);
  return worst;
}

}  // namespace vigil::analysis
