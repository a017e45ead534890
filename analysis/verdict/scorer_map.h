// The test -> scorer map: which scorer judges a measurement of each test_name. One
// table (scorer_map.cc) says it; a test missing from it is scored by ScoreGeneric from
// its steps. Constant; safe from any thread.
#pragma once

#include <span>
#include <string_view>

#include "analysis/verdict/scorers/scorers.h"

namespace vigil::analysis {

/// One row of the map.
struct TestScorer {
  std::string_view test_name;
  Scorer scorer;
};

/// Every test with a scorer of its own.
std::span<const TestScorer> TestScorers();

/// The scorer of `test_name`: its own from the map, else ScoreGeneric.
Scorer ScorerFor(std::string_view test_name);

}  // namespace vigil::analysis
