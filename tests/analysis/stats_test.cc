// The statistics an analyst cites: Fisher's exact test, the intervals and Holm's
// adjustment against published values (R's fisher.test, binom.test and prop.test, and
// Newcombe's 1998 worked examples), and tables of millions that must neither overflow
// nor underflow.
#include "analysis/stats/stats.h"

#include <gtest/gtest.h>

#include <cmath>

namespace vigil::analysis::stats {
namespace {

// Relative closeness, for p-values spanning many orders of magnitude.
::testing::AssertionResult Near(double actual, double expected, double relative) {
  if (std::abs(actual - expected) <= relative * std::abs(expected)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << actual << " is not within " << relative << " (relative) of " << expected;
}

TEST(FisherExactTest, MatchesRForTheTeaTastingTable) {
  // fisher.test(matrix(c(3, 1, 1, 3), 2)): p = 0.4857; alternative = "greater" (R's odds
  // ratio > 1, here: group 2 blocked less) p = 0.2429.
  const Table2x2 tea{3, 1, 1, 3};
  EXPECT_TRUE(Near(FisherExact(tea), 17.0 / 35, 1e-9));
  EXPECT_TRUE(Near(FisherExact(tea, Alternative::kLess), 17.0 / 70, 1e-9));
  EXPECT_TRUE(Near(FisherExact(tea, Alternative::kGreater), 69.0 / 70, 1e-9));
}

TEST(FisherExactTest, MatchesRForTheConvictionsTable) {
  // R's ?fisher.test: Convictions <- matrix(c(2, 10, 15, 3), 2): 2 of 17 dizygotic and 10
  // of 13 monozygotic twins convicted; alternative = "less" gives p = 0.0004652.
  const Table2x2 convictions{2, 15, 10, 3};
  EXPECT_TRUE(Near(FisherExact(convictions, Alternative::kGreater), 0.00046518094336290503, 1e-9));
  EXPECT_TRUE(Near(FisherExact(convictions), 0.0005367241191434358, 1e-9));
  EXPECT_TRUE(Near(FisherExact(convictions, Alternative::kLess), 0.9999845190186861, 1e-9));
}

TEST(FisherExactTest, TwoSidedCountsTablesAsLikelyAsTheObservedOne) {
  // A symmetric law: the mirror table is exactly as likely, and rounding must not drop it
  // (R's relative tolerance of 1e-7).
  EXPECT_TRUE(Near(FisherExact({0, 10, 10, 0}), 1.082508822446903e-05, 1e-9));
  EXPECT_TRUE(Near(FisherExact({10, 0, 0, 10}), 1.082508822446903e-05, 1e-9));
  EXPECT_TRUE(Near(FisherExact({7, 3, 2, 8}), 0.06977851869492736, 1e-9));
  EXPECT_TRUE(Near(FisherExact({7, 3, 2, 8}, Alternative::kLess), 0.03488925934746368, 1e-9));
  EXPECT_DOUBLE_EQ(FisherExact({5, 5, 5, 5}), 1.0);
}

TEST(FisherExactTest, EmptyRowOrColumnGivesOne) {
  for (Alternative alt : {Alternative::kTwoSided, Alternative::kGreater, Alternative::kLess}) {
    EXPECT_EQ(FisherExact({0, 0, 3, 4}, alt), 1.0);
    EXPECT_EQ(FisherExact({3, 4, 0, 0}, alt), 1.0);
    EXPECT_EQ(FisherExact({0, 4, 0, 9}, alt), 1.0);
    EXPECT_EQ(FisherExact({4, 0, 9, 0}, alt), 1.0);
    EXPECT_EQ(FisherExact({}, alt), 1.0);
  }
}

TEST(FisherExactTest, TablesOfMillionsNeitherOverflowNorUnderflow) {
  // 20 % vs 20.072 % of ten million each (z about 4); reference summed term by term.
  const Table2x2 big{2'000'000, 8'000'000, 2'007'200, 7'992'800};
  EXPECT_TRUE(Near(FisherExact(big), 5.779137317185233e-05, 1e-5));
  EXPECT_TRUE(Near(FisherExact(big, Alternative::kGreater), 2.8895686585926395e-05, 1e-5));
  EXPECT_TRUE(Near(FisherExact(big, Alternative::kLess), 0.9999712410944692, 1e-9));
  EXPECT_TRUE(Near(FisherExact({1000, 9000, 1100, 8900}), 0.022378874800472886, 1e-6));

  // A difference of a whole percentage point over millions: p below any double, 0 but
  // never NaN; the other direction is certain.
  const Table2x2 huge{2'000'000, 8'000'000, 2'100'000, 7'900'000};
  EXPECT_EQ(FisherExact(huge), 0.0);
  EXPECT_EQ(FisherExact(huge, Alternative::kGreater), 0.0);
  EXPECT_DOUBLE_EQ(FisherExact(huge, Alternative::kLess), 1.0);
  // The same share in both groups at that size.
  EXPECT_TRUE(Near(FisherExact({3'000'000, 7'000'000, 3'000'000, 7'000'000}), 1.0, 1e-6));
  EXPECT_GT(FisherExact({3'000'000, 7'000'000, 3'000'000, 7'000'000}, Alternative::kGreater), 0.5);
}

TEST(IntervalTest, WilsonMatchesPropTestWithoutCorrection) {
  // prop.test(81, 263, correct = FALSE)$conf.int: 0.2552885 0.3662096.
  const Interval w = WilsonInterval(81, 263);
  EXPECT_NEAR(w.low, 0.2552885198782742, 1e-9);
  EXPECT_NEAR(w.high, 0.36620957698280004, 1e-9);
  const Interval none = WilsonInterval(0, 10);
  EXPECT_EQ(none.low, 0.0);
  EXPECT_NEAR(none.high, 0.2775327998628892, 1e-9);
  EXPECT_EQ(WilsonInterval(10, 10).high, 1.0);
  const Interval empty = WilsonInterval(0, 0);
  EXPECT_EQ(empty.low, 0.0);
  EXPECT_EQ(empty.high, 1.0);
  // Wider at 99 %.
  EXPECT_LT(WilsonInterval(81, 263, 0.99).low, w.low);
}

TEST(IntervalTest, ClopperPearsonMatchesBinomTest) {
  // binom.test(7, 20)$conf.int: 0.1539092 0.5921885.
  const Interval cp = ClopperPearsonInterval(7, 20);
  EXPECT_NEAR(cp.low, 0.15390920478454112, 1e-8);
  EXPECT_NEAR(cp.high, 0.5921885345328282, 1e-8);
  EXPECT_EQ(ClopperPearsonInterval(0, 10).low, 0.0);
  EXPECT_NEAR(ClopperPearsonInterval(0, 10).high, 0.3084971078187607, 1e-8);
  EXPECT_NEAR(ClopperPearsonInterval(10, 10).low, 0.6915028921812392, 1e-8);
  EXPECT_EQ(ClopperPearsonInterval(10, 10).high, 1.0);
  EXPECT_NEAR(ClopperPearsonInterval(1, 1000).low, 2.5317487491294255e-05, 1e-10);
  EXPECT_NEAR(ClopperPearsonInterval(1, 1000).high, 0.0055589242798266825, 1e-9);
  EXPECT_EQ(ClopperPearsonInterval(0, 0).high, 1.0);
  // Millions: close to the share, inside [0, 1].
  const Interval big = ClopperPearsonInterval(2'000'000, 10'000'000);
  EXPECT_LT(big.low, 0.2);
  EXPECT_GT(big.high, 0.2);
  EXPECT_GT(big.low, 0.1997);
  EXPECT_LT(big.high, 0.2003);
}

TEST(IntervalTest, DifferenceMatchesNewcombesWorkedExamples) {
  // Newcombe (1998), Table II, method 10, for p1 - p2 of the pairs below; the interface
  // gives p2 - p1, so the groups are passed the other way round.
  struct Example {
    uint64_t k1, n1, k2, n2;
    double low, high;
  };
  for (const Example& e :
       {Example{56, 70, 48, 80, 0.0524, 0.3339}, Example{9, 10, 3, 10, 0.1705, 0.8090},
        Example{6, 7, 2, 7, 0.0582, 0.8062}, Example{5, 56, 0, 29, -0.0381, 0.1926},
        Example{0, 10, 0, 20, -0.1611, 0.2775}, Example{0, 10, 0, 10, -0.2775, 0.2775},
        Example{10, 10, 0, 20, 0.6791, 1.0}, Example{10, 10, 0, 10, 0.6075, 1.0}}) {
    const Interval d = DifferenceInterval(e.k2, e.n2, e.k1, e.n1);
    EXPECT_NEAR(d.low, e.low, 5e-5) << e.k1 << "/" << e.n1 << " - " << e.k2 << "/" << e.n2;
    EXPECT_NEAR(d.high, e.high, 5e-5) << e.k1 << "/" << e.n1 << " - " << e.k2 << "/" << e.n2;
  }
  const Interval mirrored = DifferenceInterval(56, 70, 48, 80);
  EXPECT_NEAR(mirrored.low, -0.3339, 5e-5);
  EXPECT_NEAR(mirrored.high, -0.0524, 5e-5);
  const Interval no_data = DifferenceInterval(0, 0, 3, 10);
  EXPECT_EQ(no_data.low, -1.0);
  EXPECT_EQ(no_data.high, 1.0);
}

TEST(HolmAdjustTest, MatchesPAdjustInTheOrderGiven) {
  // p.adjust(c(0.01, 0.04, 0.03, 0.05, 0.02), "holm"): 0.05 0.09 0.09 0.09 0.08.
  const std::vector<double> adjusted = HolmAdjust({0.01, 0.04, 0.03, 0.05, 0.02});
  const std::vector<double> expected = {0.05, 0.09, 0.09, 0.09, 0.08};
  ASSERT_EQ(adjusted.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(adjusted[i], expected[i], 1e-12) << i;
  EXPECT_EQ(HolmAdjust({0.5, 0.6}), (std::vector<double>{1.0, 1.0}));
  EXPECT_TRUE(HolmAdjust({}).empty());
}

TEST(LogChooseTest, SmallExactAndLargeFinite) {
  EXPECT_NEAR(LogChoose(10, 3), std::log(120.0), 1e-12);
  EXPECT_EQ(LogChoose(7, 0), 0.0);
  EXPECT_EQ(LogChoose(7, 7), 0.0);
  EXPECT_TRUE(std::isinf(LogChoose(3, 4)));
  // ln C(2n, n) ~ 2n ln 2 - ln(sqrt(pi n)).
  const double n = 5e6;
  EXPECT_NEAR(LogChoose(10'000'000, 5'000'000), 2 * n * std::log(2.0) - 0.5 * std::log(M_PI * n),
              1e-4);
}

}  // namespace
}  // namespace vigil::analysis::stats
