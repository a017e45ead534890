// Statistics an analyst can cite, on counts of blocked measurements: Fisher's exact test
// on a 2x2 table, confidence intervals for a proportion and for the difference of two,
// and Holm's adjustment for many tests. Boost.Math gives the distributions; the tests
// themselves are written here because Boost has none. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <vector>

namespace vigil::analysis::stats {

/// A 2x2 table of counts: rows are two groups (before / after, in / out of scope),
/// columns are blocked / not blocked.
struct Table2x2 {
  uint64_t a = 0;  // group 1 blocked
  uint64_t b = 0;  // group 1 not blocked
  uint64_t c = 0;  // group 2 blocked
  uint64_t d = 0;  // group 2 not blocked
};

enum class Alternative : uint8_t {
  kTwoSided,  // the proportions differ
  kGreater,   // group 2's proportion is greater than group 1's
  kLess,      // group 2's proportion is less than group 1's
};

/// Fisher's exact test p-value (conditional on the margins; two-sided sums the
/// probabilities of tables no more likely than the observed one, as R's fisher.test).
/// 1 for a table with an empty row or column.
double FisherExact(const Table2x2& t, Alternative alternative = Alternative::kTwoSided);

struct Interval {
  double low = 0;
  double high = 0;
};

/// Wilson score interval for k successes of n (n = 0 gives [0, 1]).
Interval WilsonInterval(uint64_t k, uint64_t n, double confidence = 0.95);
/// Clopper-Pearson (exact) interval for k successes of n.
Interval ClopperPearsonInterval(uint64_t k, uint64_t n, double confidence = 0.95);
/// Newcombe's hybrid score interval (method 10) for p2 - p1, p1 = k1/n1, p2 = k2/n2.
Interval DifferenceInterval(uint64_t k1, uint64_t n1, uint64_t k2, uint64_t n2,
                            double confidence = 0.95);

/// Holm-Bonferroni: adjusted p-values in the order given (each >= its raw p, <= 1).
std::vector<double> HolmAdjust(const std::vector<double>& p_values);

/// log of the binomial coefficient C(n, k).
double LogChoose(uint64_t n, uint64_t k);

}  // namespace vigil::analysis::stats
