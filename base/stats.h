// Statistics for evaluating probabilistic forecasts: confidence intervals for hit rates, normal tail
// probabilities, payout arithmetic for American odds, proper scoring rules (Brier, log loss),
// reliability binning for calibration plots, and simple descriptive statistics and least squares.
//
// Pure functions, thread-safe. Nothing here throws: input that has no meaningful answer (empty
// vectors, mismatched lengths, impossible odds) yields NaN so that one bad report row shows up as
// "nan" instead of aborting a whole evaluation run. Callers that must not propagate NaN check
// std::isnan at the boundary.
//
// Outcome vectors `y` hold 0 for "did not happen" and 1 for "happened"; any nonzero value counts as 1.
#ifndef NBAPROPS_BASE_STATS_H_
#define NBAPROPS_BASE_STATS_H_

#include <cstdint>
#include <vector>

namespace nbaprops {

// A closed interval [lo, hi]. For proportions, 0 <= lo <= hi <= 1.
struct Interval {
  double lo = 0, hi = 0;
};

// Wilson score interval for a binomial proportion successes/n; z = 1.96 gives ~95% coverage. Unlike the
// normal ("Wald") interval it stays inside [0, 1] and is not degenerate at 0/n or n/n, which matters
// for small samples. lo is exactly 0 when successes == 0 and hi exactly 1 when successes == n.
// n == 0 carries no information: {0, 1}. successes < 0, successes > n or n < 0: {NaN, NaN}.
Interval WilsonInterval(int64_t successes, int64_t n, double z = 1.959963984540054);

// Standard normal CDF, accurate in both tails (computed via std::erfc, not 1 - erf).
double NormalCdf(double x);

// P(X > threshold) for X ~ N(mean, sd). sd <= 0 means X == mean surely: 1 if mean > threshold, else 0.
double ProbAbove(double threshold, double mean, double sd);

// Profit per 1 unit staked when a bet at American odds wins: +150 -> 1.5, -110 -> 100/110.
// ±100 is even money (1.0). Prices strictly between -100 and +100 do not exist: NaN.
double AmericanProfit(int64_t price);

// Mean squared error of probabilities p against 0/1 outcomes y. Lower is better; 0.25 is what always
// predicting 0.5 scores. NaN if empty or p.size() != y.size().
double Brier(const std::vector<double>& p, const std::vector<int>& y);

// Mean negative log-likelihood (natural log) of outcomes y under probabilities p. p is clipped to
// [eps, 1 - eps] so that one confident miss costs -log(eps) instead of infinity. NaN if empty or
// p.size() != y.size().
double LogLoss(const std::vector<double>& p, const std::vector<int>& y, double eps = 1e-15);

// One bin of a reliability (calibration) diagram: the forecasts with lo <= p < hi (the last bin also
// holds p == hi == 1). For a calibrated forecaster observed_rate ≈ mean_predicted.
struct ReliabilityBin {
  double lo, hi;
  int64_t n;              // forecasts in this bin; 0 means the two means below are NaN
  double mean_predicted;  // average p in the bin
  double observed_rate;   // fraction of outcomes in the bin that happened
};

// Splits [0, 1] into `bins` equal-width bins and summarises the forecasts in each. Always returns
// exactly `bins` entries in ascending order, empty ones included, so plots and tables line up across
// runs. p outside [0, 1] is counted in the nearest end bin; NaN p is skipped. Returns an empty vector
// if bins < 1 or p.size() != y.size().
std::vector<ReliabilityBin> Reliability(const std::vector<double>& p, const std::vector<int>& y, int bins = 10);

// Arithmetic mean; NaN if empty.
double Mean(const std::vector<double>& v);

// Sample standard deviation (divides by n - 1); NaN if fewer than 2 values.
double StdDev(const std::vector<double>& v);

// y ≈ intercept + slope * x.
struct LinearFit {
  double intercept = 0, slope = 0;
};

// Ordinary least squares fit of y on x. If all x are equal the slope is undefined; we return slope 0
// and intercept mean(y), the best constant predictor. NaN in both fields if x is empty or
// x.size() != y.size().
LinearFit FitLinear(const std::vector<double>& x, const std::vector<double>& y);

// Percentile bootstrap 95% interval of the mean of v: `resamples` resamples of v's size drawn with
// replacement by a generator seeded with `seed` (same seed, same interval). For paired
// comparisons pass the per-item differences. {NaN, NaN} if v is empty or resamples < 1.
Interval BootstrapMeanInterval(const std::vector<double>& v, int resamples, uint64_t seed);

}  // namespace nbaprops

#endif  // NBAPROPS_BASE_STATS_H_
