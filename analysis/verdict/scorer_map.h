// The scorer map: which scorer judges a measurement of each test_name. A test's
// descriptor in the experiment catalog (probe/experiments/catalog.h) names its
// ScorerKind; one table (scorer_map.cc) maps each kind to its function. A test the
// catalog does not know, or one it describes as generic, is scored by ScoreGeneric
// from its steps. Reads ExperimentCatalog::Active(); safe from any thread that may
// read it.
#pragma once

#include <span>
#include <string_view>

#include "analysis/verdict/scorers/scorers.h"
#include "probe/experiments/catalog.h"

namespace vigil::analysis {

/// One row of the map.
struct KindScorer {
  ScorerKind kind;
  Scorer scorer;
};

/// Every scorer kind with its function (kGeneric included).
std::span<const KindScorer> KindScorers();

/// The function of `kind`.
Scorer ScorerFor(ScorerKind kind);

/// The scorer of `test_name` (or one of its aliases): its descriptor's, else ScoreGeneric.
Scorer ScorerFor(std::string_view test_name);

}  // namespace vigil::analysis
