#include "base/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace nbaprops {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double Outcome(int y) { return y != 0 ? 1.0 : 0.0; }

}  // namespace

Interval WilsonInterval(int64_t successes, int64_t n, double z) {
  if (n < 0 || successes < 0 || successes > n) return {kNaN, kNaN};
  if (n == 0) return {0.0, 1.0};
  const double nd = static_cast<double>(n);
  const double p = static_cast<double>(successes) / nd;
  const double z2 = z * z;
  const double denom = 1.0 + z2 / nd;
  const double center = (p + z2 / (2.0 * nd)) / denom;
  const double half = z * std::sqrt(p * (1.0 - p) / nd + z2 / (4.0 * nd * nd)) / denom;
  // At 0/n and n/n the bound is mathematically 0 (or 1) but center - half only cancels to within
  // rounding; callers test "lo == 0" to spot a never-hit sample, so pin the bounds exactly.
  const double lo = successes == 0 ? 0.0 : std::max(0.0, center - half);
  const double hi = successes == n ? 1.0 : std::min(1.0, center + half);
  return {lo, hi};
}

double NormalCdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

double ProbAbove(double threshold, double mean, double sd) {
  if (sd <= 0) return mean > threshold ? 1.0 : 0.0;
  // erfc of the positive-side z keeps precision far into the upper tail, where 1 - NormalCdf would
  // round to 0.
  return 0.5 * std::erfc((threshold - mean) / (sd * std::sqrt(2.0)));
}

double AmericanProfit(int64_t price) {
  if (price >= 100) return static_cast<double>(price) / 100.0;
  if (price <= -100) return 100.0 / -static_cast<double>(price);
  return kNaN;
}

double Brier(const std::vector<double>& p, const std::vector<int>& y) {
  if (p.empty() || p.size() != y.size()) return kNaN;
  double sum = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double d = p[i] - Outcome(y[i]);
    sum += d * d;
  }
  return sum / static_cast<double>(p.size());
}

double LogLoss(const std::vector<double>& p, const std::vector<int>& y, double eps) {
  if (p.empty() || p.size() != y.size()) return kNaN;
  double sum = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double q = std::clamp(p[i], eps, 1.0 - eps);
    sum -= y[i] != 0 ? std::log(q) : std::log1p(-q);
  }
  return sum / static_cast<double>(p.size());
}

std::vector<ReliabilityBin> Reliability(const std::vector<double>& p, const std::vector<int>& y, int bins) {
  if (bins < 1 || p.size() != y.size()) return {};
  const double width = static_cast<double>(bins);
  std::vector<ReliabilityBin> out(bins);
  std::vector<double> sum_p(bins, 0.0), sum_y(bins, 0.0);
  for (int b = 0; b < bins; ++b) {
    // Edges from the index, not by accumulating 1/bins, so the last hi is exactly 1.
    out[b].lo = b / width;
    out[b].hi = (b + 1) / width;
    out[b].n = 0;
  }
  for (size_t i = 0; i < p.size(); ++i) {
    if (std::isnan(p[i])) continue;
    int b = static_cast<int>(std::clamp(std::floor(p[i] * width), 0.0, width - 1));
    // p * bins can round across an edge (e.g. 0.7 * 10); re-check against the edges we report so a
    // value always lands in the bin whose [lo, hi) contains it.
    if (b > 0 && p[i] < out[b].lo) --b;
    if (b < bins - 1 && p[i] >= out[b].hi) ++b;
    ++out[b].n;
    sum_p[b] += p[i];
    sum_y[b] += Outcome(y[i]);
  }
  for (int b = 0; b < bins; ++b) {
    const double n = static_cast<double>(out[b].n);
    out[b].mean_predicted = out[b].n > 0 ? sum_p[b] / n : kNaN;
    out[b].observed_rate = out[b].n > 0 ? sum_y[b] / n : kNaN;
  }
  return out;
}

double Mean(const std::vector<double>& v) {
  if (v.empty()) return kNaN;
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

double StdDev(const std::vector<double>& v) {
  if (v.size() < 2) return kNaN;
  // Two passes: sum of squared deviations from the mean does not suffer the cancellation of
  // sum(x^2) - n * mean^2 when the values are large and close together.
  const double m = Mean(v);
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

LinearFit FitLinear(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.empty() || x.size() != y.size()) return {kNaN, kNaN};
  const double mean_y = Mean(y);
  // "Zero variance" is tested on the data, not on the computed variance: the mean of identical values
  // need not equal them exactly, which would leave a tiny nonzero sxx and a meaningless slope.
  if (std::all_of(x.begin(), x.end(), [&](double v) { return v == x[0]; })) return {mean_y, 0.0};
  const double mean_x = Mean(x);
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double dx = x[i] - mean_x;
    sxy += dx * (y[i] - mean_y);
    sxx += dx * dx;
  }
  const double slope = sxy / sxx;
  return {mean_y - slope * mean_x, slope};
}

Interval BootstrapMeanInterval(const std::vector<double>& v, int resamples, uint64_t seed) {
  if (v.empty() || resamples < 1) return {NAN, NAN};
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, v.size() - 1);
  std::vector<double> means(static_cast<size_t>(resamples));
  for (double& m : means) {
    double sum = 0;
    for (size_t i = 0; i < v.size(); ++i) sum += v[pick(rng)];
    m = sum / static_cast<double>(v.size());
  }
  std::sort(means.begin(), means.end());
  auto at = [&](double q) { return means[static_cast<size_t>(std::floor(q * (means.size() - 1)))]; };
  return {at(0.025), at(0.975)};
}

}  // namespace nbaprops
