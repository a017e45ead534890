#include "analysis/stats/stats.h"

#include <math.h>  // lgamma_r: std::lgamma writes the global signgam, a data race

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <cmath>
#include <limits>
#include <numeric>

namespace vigil::analysis::stats {
namespace {

double LogGamma(double x) {
  int sign = 0;
  return lgamma_r(x, &sign);
}

// The two-sided normal quantile: z with P(|Z| <= z) = confidence.
double NormalQuantile(double confidence) {
  return boost::math::quantile(
      boost::math::complement(boost::math::normal(), (1 - confidence) / 2));
}

// The law of the table's first cell given its margins (hypergeometric). Probabilities are
// taken in log space from lgamma at one point and walked from there by the ratio of
// neighbours, so tables of millions neither overflow nor underflow until a p-value itself
// is below the smallest double.
class Hypergeometric {
 public:
  explicit Hypergeometric(const Table2x2& t)
      : r1_(t.a + t.b), r2_(t.c + t.d), c1_(t.a + t.c), n_(r1_ + r2_) {
    lo_ = c1_ > r2_ ? c1_ - r2_ : 0;
    hi_ = std::min(r1_, c1_);
    log_total_ = LogChoose(n_, c1_);
    // A mode: floor((r1 + 1)(c1 + 1) / (n + 2)), nudged by the ratios against rounding.
    const long double m =
        std::floor((static_cast<long double>(r1_) + 1) * (static_cast<long double>(c1_) + 1) /
                   (static_cast<long double>(n_) + 2));
    mode_ = std::clamp(static_cast<uint64_t>(m), lo_, hi_);
    while (mode_ < hi_ && RatioUp(mode_) > 1) ++mode_;
    while (mode_ > lo_ && RatioUp(mode_ - 1) < 1) --mode_;
  }

  uint64_t lo() const { return lo_; }
  uint64_t hi() const { return hi_; }
  uint64_t mode() const { return mode_; }

  double LogP(uint64_t x) const { return LogChoose(r1_, x) + LogChoose(r2_, c1_ - x) - log_total_; }

  // P(X <= x) and P(X >= x).
  double Lower(uint64_t x) const {
    if (x <= mode_) return Tail(x, false);
    return std::clamp(1 - (x == hi_ ? 0 : Tail(x + 1, true)), 0.0, 1.0);
  }
  double Upper(uint64_t x) const {
    if (x >= mode_) return Tail(x, true);
    return std::clamp(1 - (x == lo_ ? 0 : Tail(x - 1, false)), 0.0, 1.0);
  }

  // The sum of P(y) over every y with P(y) <= P(x) * (1 + 1e-7), as R's fisher.test: the
  // law is unimodal, so those y are two tails, each found by bisection.
  double TwoSided(uint64_t x) const {
    const double limit = LogP(x) + std::log1p(1e-7);
    if (LogP(mode_) <= limit) return 1;
    double p = 0;
    if (mode_ > lo_ && LogP(lo_) <= limit) {
      uint64_t in = lo_, out = mode_;  // LogP(in) <= limit < LogP(out)
      while (out - in > 1) {
        const uint64_t mid = in + (out - in) / 2;
        (LogP(mid) <= limit ? in : out) = mid;
      }
      p += Tail(in, false);
    }
    if (mode_ < hi_ && LogP(hi_) <= limit) {
      uint64_t out = mode_, in = hi_;
      while (in - out > 1) {
        const uint64_t mid = out + (in - out) / 2;
        (LogP(mid) <= limit ? in : out) = mid;
      }
      p += Tail(in, true);
    }
    return std::min(p, 1.0);
  }

 private:
  // P(x + 1) / P(x).
  double RatioUp(uint64_t x) const {
    return static_cast<double>(r1_ - x) * static_cast<double>(c1_ - x) /
           (static_cast<double>(x + 1) * static_cast<double>(r2_ + x + 1 - c1_));
  }

  // The sum of P(y) from `from` away from the mode (up or down), where the terms only
  // shrink: stops once they no longer move the sum.
  double Tail(uint64_t from, bool up) const {
    double sum = 0, term = 1;  // relative to P(from)
    for (uint64_t x = from;;) {
      sum += term;
      if (x == (up ? hi_ : lo_)) break;
      term *= up ? RatioUp(x) : 1 / RatioUp(x - 1);
      x = up ? x + 1 : x - 1;
      if (term < sum * 1e-17) break;
    }
    return std::exp(LogP(from) + std::log(sum));
  }

  uint64_t r1_, r2_, c1_, n_;
  uint64_t lo_ = 0, hi_ = 0, mode_ = 0;
  double log_total_ = 0;
};

}  // namespace

double FisherExact(const Table2x2& t, Alternative alternative) {
  if (t.a + t.b == 0 || t.c + t.d == 0 || t.a + t.c == 0 || t.b + t.d == 0) return 1;
  const Hypergeometric law(t);
  switch (alternative) {
    case Alternative::kTwoSided:
      return law.TwoSided(t.a);
    case Alternative::kGreater:  // group 2 blocked more: group 1's cell `a` is small
      return law.Lower(t.a);
    case Alternative::kLess:
      return law.Upper(t.a);
  }
  return 1;
}

Interval WilsonInterval(uint64_t k, uint64_t n, double confidence) {
  if (n == 0) return {0, 1};
  const double z = NormalQuantile(confidence);
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(k) / nn;
  const double z2n = z * z / nn;
  const double center = (p + z2n / 2) / (1 + z2n);
  const double half = z * std::sqrt(p * (1 - p) / nn + z2n / (4 * nn)) / (1 + z2n);
  return {k == 0 ? 0 : std::max(0.0, center - half), k >= n ? 1 : std::min(1.0, center + half)};
}

Interval ClopperPearsonInterval(uint64_t k, uint64_t n, double confidence) {
  if (n == 0) return {0, 1};
  k = std::min(k, n);
  const double alpha = 1 - confidence;
  const double kk = static_cast<double>(k), nn = static_cast<double>(n);
  return {k == 0 ? 0 : boost::math::ibeta_inv(kk, nn - kk + 1, alpha / 2),
          k == n ? 1 : boost::math::ibeta_inv(kk + 1, nn - kk, 1 - alpha / 2)};
}

// Newcombe (1998), method 10: each proportion's Wilson interval bounds its own side of the
// difference, combined as the square root of the sum of squares.
Interval DifferenceInterval(uint64_t k1, uint64_t n1, uint64_t k2, uint64_t n2, double confidence) {
  if (n1 == 0 || n2 == 0) return {-1, 1};
  const double p1 = static_cast<double>(k1) / static_cast<double>(n1);
  const double p2 = static_cast<double>(k2) / static_cast<double>(n2);
  const Interval w1 = WilsonInterval(k1, n1, confidence);
  const Interval w2 = WilsonInterval(k2, n2, confidence);
  const double d = p2 - p1;
  return {std::max(-1.0, d - std::hypot(p2 - w2.low, w1.high - p1)),
          std::min(1.0, d + std::hypot(w2.high - p2, p1 - w1.low))};
}

std::vector<double> HolmAdjust(const std::vector<double>& p_values) {
  const size_t m = p_values.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t i, size_t j) { return p_values[i] < p_values[j]; });
  std::vector<double> adjusted(m);
  double running = 0;  // adjusted values never decrease along the sorted order
  for (size_t i = 0; i < m; ++i) {
    running = std::max(running, std::min(1.0, static_cast<double>(m - i) * p_values[order[i]]));
    adjusted[order[i]] = running;
  }
  return adjusted;
}

double LogChoose(uint64_t n, uint64_t k) {
  if (k > n) return -std::numeric_limits<double>::infinity();
  if (k == 0 || k == n) return 0;
  const double nn = static_cast<double>(n), kk = static_cast<double>(k);
  return LogGamma(nn + 1) - LogGamma(kk + 1) - LogGamma(nn - kk + 1);
}

}  // namespace vigil::analysis::stats
