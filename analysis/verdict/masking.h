// Masking and the score: once a layer is blocked (its blocked weight reaches the rules'
// mask_threshold), the layers after it say nothing and are masked; the score is the
// largest blocked weight of the layers before. A pure function of one VerdictRow.
#pragma once

#include "analysis/model/rows.h"

namespace vigil::analysis {

/// Masks the measured layers after the first blocked one and sets `row`'s score and
/// worst_layer. Returns the worst layer's index, or -1 when no layer was measured.
int MaskLayers(double mask_threshold, VerdictRow& row);

}  // namespace vigil::analysis
