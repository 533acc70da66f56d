#include "base/stats.h"

#include <gtest/gtest.h>

#include <cmath>

namespace nbaprops {
namespace {

TEST(StatsTest, WilsonIntervalMatchesPublishedValues) {
  Interval half = WilsonInterval(50, 100);
  EXPECT_NEAR(half.lo, 0.4038, 1e-4);
  EXPECT_NEAR(half.hi, 0.5962, 1e-4);

  // Never hit: lo is pinned to exactly 0 (callers compare with ==), hi = z^2 / (n + z^2).
  Interval none = WilsonInterval(0, 10);
  EXPECT_EQ(none.lo, 0.0);
  EXPECT_NEAR(none.hi, 0.2775, 1e-4);
  // Unpinned, the formula leaves center - half = 5.6e-17 at 0/3 and center + half = 1 - 1.1e-16 at 10/10.
  EXPECT_EQ(WilsonInterval(0, 3).lo, 0.0);
  Interval all = WilsonInterval(10, 10);
  EXPECT_EQ(all.hi, 1.0);
  EXPECT_NEAR(all.lo, 1 - 0.2775, 1e-4);

  // A wider z gives a wider interval around the same point.
  Interval wide = WilsonInterval(50, 100, 2.5758);
  EXPECT_LT(wide.lo, half.lo);
  EXPECT_GT(wide.hi, half.hi);
}

TEST(StatsTest, WilsonIntervalEdgeInputs) {
  Interval empty = WilsonInterval(0, 0);
  EXPECT_EQ(empty.lo, 0.0);
  EXPECT_EQ(empty.hi, 1.0);
  EXPECT_TRUE(std::isnan(WilsonInterval(11, 10).lo));
  EXPECT_TRUE(std::isnan(WilsonInterval(-1, 10).hi));
  EXPECT_TRUE(std::isnan(WilsonInterval(0, -1).lo));
}

TEST(StatsTest, NormalTails) {
  EXPECT_DOUBLE_EQ(NormalCdf(0), 0.5);
  EXPECT_NEAR(NormalCdf(1.959963984540054), 0.975, 1e-12);
  EXPECT_NEAR(NormalCdf(-1), 0.158655253931457, 1e-12);
  // Deep in the lower tail 1 - erf would have rounded to 0.
  EXPECT_GT(NormalCdf(-30), 0.0);

  EXPECT_DOUBLE_EQ(ProbAbove(24.5, 24.5, 6), 0.5);
  EXPECT_NEAR(ProbAbove(30.5, 24.5, 6), 0.158655253931457, 1e-12);
  EXPECT_NEAR(ProbAbove(18.5, 24.5, 6), 1 - 0.158655253931457, 1e-12);
  EXPECT_GT(ProbAbove(24.5 + 6 * 30, 24.5, 6), 0.0);
}

TEST(StatsTest, ProbAboveWithoutSpreadIsAStep) {
  EXPECT_EQ(ProbAbove(10, 11, 0), 1.0);
  EXPECT_EQ(ProbAbove(10, 9, 0), 0.0);
  EXPECT_EQ(ProbAbove(10, 10, 0), 0.0);  // strictly above
  EXPECT_EQ(ProbAbove(10, 11, -1), 1.0);
}

TEST(StatsTest, AmericanProfit) {
  EXPECT_DOUBLE_EQ(AmericanProfit(150), 1.5);
  EXPECT_NEAR(AmericanProfit(-110), 0.909090909, 1e-9);
  EXPECT_DOUBLE_EQ(AmericanProfit(-200), 0.5);
  EXPECT_DOUBLE_EQ(AmericanProfit(100), 1.0);
  EXPECT_DOUBLE_EQ(AmericanProfit(-100), 1.0);
  EXPECT_TRUE(std::isnan(AmericanProfit(0)));
  EXPECT_TRUE(std::isnan(AmericanProfit(99)));
  EXPECT_TRUE(std::isnan(AmericanProfit(-99)));
}

TEST(StatsTest, BrierAndLogLossByHand) {
  const std::vector<double> p = {0.8, 0.3, 0.5};
  const std::vector<int> y = {1, 0, 1};
  // (0.2^2 + 0.3^2 + 0.5^2) / 3 = (0.04 + 0.09 + 0.25) / 3
  EXPECT_NEAR(Brier(p, y), 0.38 / 3, 1e-12);
  // -(ln 0.8 + ln 0.7 + ln 0.5) / 3
  EXPECT_NEAR(LogLoss(p, y), -(std::log(0.8) + std::log(0.7) + std::log(0.5)) / 3, 1e-12);
  EXPECT_NEAR(LogLoss(p, y), 0.424322, 1e-6);

  EXPECT_DOUBLE_EQ(Brier({0.5, 0.5}, {0, 1}), 0.25);
  EXPECT_DOUBLE_EQ(Brier({1.0, 0.0}, {1, 0}), 0.0);
}

TEST(StatsTest, LogLossClipsCertainMisses) {
  // A certain, wrong forecast costs -ln(eps), not infinity.
  EXPECT_NEAR(LogLoss({0.0}, {1}), -std::log(1e-15), 1e-6);
  EXPECT_NEAR(LogLoss({1.0}, {0}, 1e-3), -std::log(1e-3), 1e-9);
  EXPECT_TRUE(std::isfinite(LogLoss({0.0, 1.0}, {1, 0})));
}

TEST(StatsTest, ScoresRejectEmptyAndMismatchedInput) {
  EXPECT_TRUE(std::isnan(Brier({}, {})));
  EXPECT_TRUE(std::isnan(LogLoss({}, {})));
  EXPECT_TRUE(std::isnan(Brier({0.5}, {1, 0})));
  EXPECT_TRUE(std::isnan(LogLoss({0.5, 0.5}, {1})));
}

TEST(StatsTest, ReliabilityBinsEdges) {
  const double just_below_09 = std::nextafter(0.9, 0.0);
  const std::vector<double> p = {0.0, 0.05, 0.1, 0.7, 0.75, just_below_09, 1.0, 1.0};
  const std::vector<int> y = {0, 1, 0, 1, 0, 0, 1, 1};
  auto bins = Reliability(p, y, 10);
  ASSERT_EQ(bins.size(), 10u);
  EXPECT_DOUBLE_EQ(bins[0].lo, 0.0);
  EXPECT_DOUBLE_EQ(bins[9].hi, 1.0);

  // 0.0 and 0.05 in the first bin; 0.1 is a lower edge, so it starts the second.
  EXPECT_EQ(bins[0].n, 2);
  EXPECT_DOUBLE_EQ(bins[0].mean_predicted, 0.025);
  EXPECT_DOUBLE_EQ(bins[0].observed_rate, 0.5);
  EXPECT_EQ(bins[1].n, 1);
  EXPECT_DOUBLE_EQ(bins[1].observed_rate, 0.0);

  EXPECT_EQ(bins[6].n, 0);
  EXPECT_EQ(bins[7].n, 2);
  EXPECT_DOUBLE_EQ(bins[7].mean_predicted, 0.725);

  // The largest double below 0.9 times 10 rounds to exactly 9.0; it must still land in the bin whose
  // reported [lo, hi) = [0.8, 0.9) contains it.
  EXPECT_EQ(bins[8].n, 1);
  EXPECT_EQ(bins[8].mean_predicted, just_below_09);

  // p == 1 belongs to the last bin rather than an eleventh.
  EXPECT_EQ(bins[9].n, 2);
  EXPECT_DOUBLE_EQ(bins[9].mean_predicted, 1.0);
  EXPECT_DOUBLE_EQ(bins[9].observed_rate, 1.0);

  // Empty bins are present, with n = 0 and NaN means.
  for (int b : {2, 3, 4, 5, 6}) {
    EXPECT_EQ(bins[b].n, 0) << b;
    EXPECT_TRUE(std::isnan(bins[b].mean_predicted)) << b;
    EXPECT_TRUE(std::isnan(bins[b].observed_rate)) << b;
    EXPECT_DOUBLE_EQ(bins[b].lo, b / 10.0);
    EXPECT_DOUBLE_EQ(bins[b].hi, (b + 1) / 10.0);
  }
  int64_t total = 0;
  for (const auto& b : bins) total += b.n;
  EXPECT_EQ(total, 8);
}

TEST(StatsTest, ReliabilityOddInput) {
  auto empty = Reliability({}, {}, 4);
  ASSERT_EQ(empty.size(), 4u);
  for (const auto& b : empty) EXPECT_EQ(b.n, 0);

  // Out-of-range forecasts go to the end bins; NaN is skipped.
  auto clamped = Reliability({-0.2, 1.3, std::nan("")}, {0, 1, 1}, 2);
  ASSERT_EQ(clamped.size(), 2u);
  EXPECT_EQ(clamped[0].n, 1);
  EXPECT_EQ(clamped[1].n, 1);

  EXPECT_TRUE(Reliability({0.5}, {1, 0}).empty());
  EXPECT_TRUE(Reliability({0.5}, {1}, 0).empty());
}

TEST(StatsTest, MeanAndStdDev) {
  EXPECT_DOUBLE_EQ(Mean({1, 2, 3, 4}), 2.5);
  EXPECT_TRUE(std::isnan(Mean({})));
  // Sample sd of 2,4,4,4,5,5,7,9: sum of squares 32 over n-1 = 7.
  EXPECT_DOUBLE_EQ(StdDev({2, 4, 4, 4, 5, 5, 7, 9}), std::sqrt(32.0 / 7));
  EXPECT_TRUE(std::isnan(StdDev({3})));
  EXPECT_TRUE(std::isnan(StdDev({})));
  // Large offset: a one-pass formula loses all precision here.
  EXPECT_NEAR(StdDev({1e9 + 1, 1e9 + 2, 1e9 + 3}), 1.0, 1e-9);
}

TEST(StatsTest, FitLinearRecoversExactLine) {
  std::vector<double> x = {-2, 0, 1, 3, 10}, y;
  for (double v : x) y.push_back(2 + 3 * v);
  LinearFit fit = FitLinear(x, y);
  EXPECT_NEAR(fit.intercept, 2, 1e-12);
  EXPECT_NEAR(fit.slope, 3, 1e-12);
}

TEST(StatsTest, FitLinearLeastSquares) {
  // Points (0,0), (1,1), (2,1): slope 0.5, intercept 1/6.
  LinearFit fit = FitLinear({0, 1, 2}, {0, 1, 1});
  EXPECT_NEAR(fit.slope, 0.5, 1e-12);
  EXPECT_NEAR(fit.intercept, 1.0 / 6, 1e-12);
}

TEST(StatsTest, FitLinearDegenerateInput) {
  // All x equal (0.1 summed three times is not 0.3, so this also checks we don't rely on mean(x) == x).
  LinearFit flat = FitLinear({0.1, 0.1, 0.1}, {1, 2, 6});
  EXPECT_EQ(flat.slope, 0.0);
  EXPECT_DOUBLE_EQ(flat.intercept, 3.0);
  LinearFit single = FitLinear({5}, {7});
  EXPECT_EQ(single.slope, 0.0);
  EXPECT_DOUBLE_EQ(single.intercept, 7.0);
  EXPECT_TRUE(std::isnan(FitLinear({}, {}).slope));
  EXPECT_TRUE(std::isnan(FitLinear({1, 2}, {1}).intercept));
}

}  // namespace
TEST(Stats, BootstrapMeanIntervalIsSeededAndCoversTheMean) {
  std::vector<double> v;
  for (int i = 0; i < 400; ++i) v.push_back((i * 7919 % 101) / 10.0 - 5);  // mean near 0, sd ~2.9
  Interval a = BootstrapMeanInterval(v, 1000, 42), b = BootstrapMeanInterval(v, 1000, 42);
  EXPECT_EQ(a.lo, b.lo);
  EXPECT_EQ(a.hi, b.hi);
  const double mean = Mean(v);
  EXPECT_LT(a.lo, mean);
  EXPECT_GT(a.hi, mean);
  // About 2 x 1.96 x sd / sqrt(n) wide.
  EXPECT_NEAR(a.hi - a.lo, 2 * 1.96 * StdDev(v) / 20, 0.1);
  EXPECT_NE(BootstrapMeanInterval(v, 1000, 43).lo, a.lo);
  EXPECT_TRUE(std::isnan(BootstrapMeanInterval({}, 1000, 1).lo));
}

}  // namespace nbaprops
