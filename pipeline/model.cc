#include "pipeline/model.h"

#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <numbers>
#include <set>
#include <utility>

#include "base/file.h"
#include "base/stats.h"
#include "base/strings.h"
#include "base/time.h"
#include "pipeline/partition.h"
#include "pipeline/precompute.h"

namespace nbaprops::pipeline {
namespace {

using nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kFormat = "nbaprops-points-model";
constexpr int kFormatVersion = 2;  // 2: the minutes booster

Status XgbError(const std::string& what) { return InternalError("xgboost: " + what + ": " + XGBGetLastError()); }

#define XGB_CHECK(call, what) \
  if ((call) != 0) return XgbError(what)

// What a booster regresses. Minutes learn a correction to the player's last-10 minutes; points a
// correction to his EWMA (with the minutes projection as one more column after the contract's
// when TrainOptions::minutes_feature).
enum class Target { kPoints, kMinutes };

double BaseMargin(const FeatureRow& r, Target target) {
  double base = r.at(target == Target::kPoints ? "pts_ewma" : "minutes_avg_l10");
  return std::isnan(base) ? 0 : base;
}

// The booster does not see the player's points line: the market system adds it, and xgboost and
// ensemble stay a line-blind comparison (the minutes projection they read is line-blind too).
const std::vector<bool>& HiddenFromBooster() {
  static const std::vector<bool> kHidden = [] {
    std::vector<bool> h;
    for (const FeatureSpec& f : FeatureContract()) h.push_back(f.source == "upcoming_player_lines");
    return h;
  }();
  return kHidden;
}

// The input of one booster: rows, and the minutes projection of each row when it is a column.
struct BoosterInput {
  Target target;
  std::vector<const FeatureRow*> rows;
  std::vector<double> minutes;  // empty, or one per row
};

// Owns a DMatrix built from feature rows.
class Matrix {
 public:
  ~Matrix() {
    if (h_) XGDMatrixFree(h_);
  }
  Status Build(const BoosterInput& in, const std::vector<float>* labels) {
    const size_t nfeat = FeatureContract().size(), ncol = nfeat + (in.minutes.empty() ? 0 : 1);
    const size_t n = in.rows.size();
    std::vector<float> data(n * ncol);
    const std::vector<bool>& hidden = HiddenFromBooster();
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < nfeat; ++j) {
        data[i * ncol + j] = hidden[j] ? std::numeric_limits<float>::quiet_NaN() : static_cast<float>(in.rows[i]->values[j]);
      }
      if (ncol > nfeat) data[i * ncol + nfeat] = static_cast<float>(in.minutes[i]);
    }
    XGB_CHECK(XGDMatrixCreateFromMat(data.data(), n, ncol, std::numeric_limits<float>::quiet_NaN(), &h_),
              "building the feature matrix");
    if (labels) XGB_CHECK(XGDMatrixSetFloatInfo(h_, "label", labels->data(), labels->size()), "setting labels");
    std::vector<float> margin(n);
    for (size_t i = 0; i < n; ++i) margin[i] = static_cast<float>(BaseMargin(*in.rows[i], in.target));
    XGB_CHECK(XGDMatrixSetFloatInfo(h_, "base_margin", margin.data(), margin.size()), "setting the base margin");
    return OkStatus();
  }
  DMatrixHandle get() const { return h_; }

 private:
  DMatrixHandle h_ = nullptr;
};

// Owns a booster.
class Booster {
 public:
  Booster() = default;
  explicit Booster(BoosterHandle h) : h_(h) {}
  Booster(Booster&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  Booster& operator=(Booster&& o) noexcept {
    std::swap(h_, o.h_);
    return *this;
  }
  ~Booster() {
    if (h_) XGBoosterFree(h_);
  }
  BoosterHandle get() const { return h_; }
  BoosterHandle release() { return std::exchange(h_, nullptr); }

 private:
  BoosterHandle h_ = nullptr;
};

StatusOr<Booster> TrainBooster(const BoosterInput& in, const std::vector<float>& labels, const TrainOptions& o) {
  Matrix m;
  RETURN_IF_ERROR(m.Build(in, &labels));
  DMatrixHandle dm = m.get();
  BoosterHandle h = nullptr;
  XGB_CHECK(XGBoosterCreate(&dm, 1, &h), "creating the booster");
  Booster b(h);
  const int rounds = in.target == Target::kPoints ? o.rounds : o.minutes_rounds;
  auto set = [&](const char* k, const std::string& v) { return XGBoosterSetParam(h, k, v.c_str()); };
  int rc = set("objective", o.objective) | set("tree_method", "hist") | set("seed", "0") |
           set("max_depth", std::to_string(o.max_depth)) | set("eta", Fmt(o.eta)) | set("subsample", Fmt(o.subsample)) |
           set("colsample_bytree", Fmt(o.colsample)) | set("min_child_weight", Fmt(o.min_child_weight)) |
           set("nthread", std::to_string(o.threads)) | set("verbosity", "0");
  if (rc != 0) return XgbError("setting parameters");
  for (int i = 0; i < rounds; ++i) {
    XGB_CHECK(XGBoosterUpdateOneIter(h, i, dm), "training round " + std::to_string(i));
  }
  return b;
}

StatusOr<std::vector<double>> Predict(BoosterHandle b, const BoosterInput& in) {
  if (in.rows.empty()) return std::vector<double>{};
  Matrix m;
  RETURN_IF_ERROR(m.Build(in, nullptr));
  bst_ulong n = 0;
  const float* out = nullptr;
  XGB_CHECK(XGBoosterPredict(b, m.get(), 0, 0, 0, &n, &out), "predicting");
  return std::vector<double>(out, out + n);
}

// Out-of-fold minutes of `rows` (ascending by date): the dates are cut into `minutes_folds`
// consecutive blocks, the last being [last_fold_from, end), and each block is predicted by a
// booster trained on the other blocks, so no row's projection comes from a booster that saw its
// minutes. Without `every_block` only the last block is predicted (the others stay NaN).
StatusOr<std::vector<double>> OutOfFoldMinutes(const std::vector<const FeatureRow*>& rows,
                                               const std::vector<double>& minutes, const std::string& last_fold_from,
                                               const TrainOptions& o, bool every_block) {
  std::vector<std::string> cuts;  // first date of each block after the first
  std::vector<std::string> early;
  for (const FeatureRow* r : rows) {
    if (r->game_date < last_fold_from && (early.empty() || early.back() != r->game_date)) early.push_back(r->game_date);
  }
  const int folds = std::max(2, o.minutes_folds);
  for (int k = 1; k < folds - 1; ++k) {
    const size_t at = early.size() * k / (folds - 1);
    if (at > 0 && at < early.size() && (cuts.empty() || cuts.back() < early[at])) cuts.push_back(early[at]);
  }
  cuts.push_back(last_fold_from);
  auto block_of = [&](const std::string& date) {
    return static_cast<size_t>(std::upper_bound(cuts.begin(), cuts.end(), date) - cuts.begin());
  };
  std::vector<double> out(rows.size(), kNaN);
  for (size_t k = every_block ? 0 : cuts.size(); k <= cuts.size(); ++k) {
    BoosterInput train{Target::kMinutes, {}, {}}, held{Target::kMinutes, {}, {}};
    std::vector<float> y;
    std::vector<size_t> at;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (block_of(rows[i]->game_date) == k) {
        held.rows.push_back(rows[i]);
        at.push_back(i);
      } else {
        train.rows.push_back(rows[i]);
        y.push_back(static_cast<float>(minutes[i]));
      }
    }
    if (held.rows.empty() || train.rows.empty()) continue;
    ASSIGN_OR_RETURN(Booster b, TrainBooster(train, y, o));
    ASSIGN_OR_RETURN(auto p, Predict(b.get(), held));
    for (size_t j = 0; j < at.size(); ++j) out[at[j]] = p[j];
  }
  return out;
}

double MedianResidual(const std::vector<double>& pred, const std::vector<double>& actual) {
  std::vector<double> r;
  for (size_t i = 0; i < pred.size(); ++i) {
    if (!std::isnan(pred[i])) r.push_back(actual[i] - pred[i]);
  }
  if (r.empty()) return 0;
  std::nth_element(r.begin(), r.begin() + r.size() / 2, r.end());
  return r[r.size() / 2];
}

double Mae(const std::vector<double>& pred, const std::vector<double>& actual) {
  double s = 0;
  for (size_t i = 0; i < pred.size(); ++i) s += std::abs(pred[i] - actual[i]);
  return pred.empty() ? kNaN : s / static_cast<double>(pred.size());
}

json SpreadJson(const Spread& s) {
  return {{"abs_residual_intercept", s.intercept}, {"abs_residual_slope", s.slope}, {"calibration", s.calibration}};
}
double Logit(double p) {
  p = std::clamp(p, 1e-6, 1 - 1e-6);
  return std::log(p / (1 - p));
}

Spread SpreadFrom(const json& j) {
  return {j.at("abs_residual_intercept").get<double>(), j.at("abs_residual_slope").get<double>(),
          j.at("calibration").get<double>()};
}

}  // namespace

double Spread::Sd(double predicted) const {
  return std::max(kMinSd, (intercept + slope * predicted) / std::sqrt(2 / std::numbers::pi));
}

double Spread::ProbOver(double line, double predicted) const {
  return NormalCdf(calibration * (predicted - line) / Sd(predicted));
}

void Spread::Calibrate(const std::vector<double>& predicted, const std::vector<double>& line,
                       const std::vector<double>& actual) {
  std::vector<size_t> use;
  for (size_t i = 0; i < predicted.size(); ++i) {
    if (!std::isnan(predicted[i]) && !std::isnan(line[i]) && actual[i] != line[i]) use.push_back(i);
  }
  if (use.size() < kMinCalibrationRows) return;
  double best = std::numeric_limits<double>::infinity();
  for (int k = 0; k <= 30; ++k) {
    Spread trial = *this;
    trial.calibration = k / 20.0;
    std::vector<double> p;
    std::vector<int> y;
    for (size_t i : use) {
      p.push_back(trial.ProbOver(line[i], predicted[i]));
      y.push_back(actual[i] > line[i] ? 1 : 0);
    }
    double loss = LogLoss(p, y);
    if (loss < best) best = loss, calibration = trial.calibration;
  }
}

double MarketBlend::Points(double line, double xgboost) const {
  if (std::isnan(line)) return kNaN;
  return std::isnan(xgboost) ? line + shift : line + shift + weight * (xgboost - line);
}

namespace {
// logistic(logit(p_market) + a + b x d); p_market NaN is an even market.
double MarketLogistic(double p_market, double a, double b, double d) {
  return 1 / (1 + std::exp(-(Logit(std::isnan(p_market) ? 0.5 : p_market) + a + b * d)));
}
}  // namespace

double MarketBlend::ProbOver(double p_market, double line, double xgboost) const {
  if (std::isnan(line)) return kNaN;
  return MarketLogistic(p_market, intercept, slope, std::isnan(xgboost) ? 0 : xgboost - line);
}

void MarketBlend::Fit(const std::vector<double>& xgboost, const std::vector<double>& line,
                      const std::vector<double>& p_market, const std::vector<double>& actual) {
  *this = MarketBlend{};
  std::vector<size_t> use;
  for (size_t i = 0; i < line.size(); ++i) {
    if (!std::isnan(line[i]) && !std::isnan(xgboost[i])) use.push_back(i);
  }
  if (use.size() < kMinRows) return;
  n_fit = static_cast<int64_t>(use.size());
  // Points: the grid point with the least absolute error; ties keep the one nearer the line.
  double best = std::numeric_limits<double>::infinity();
  for (int w = 0; w <= 20; ++w) {
    for (int s = -10; s <= 10; ++s) {
      double err = 0;
      for (size_t i : use) err += std::abs(line[i] + s / 10.0 + w / 20.0 * (xgboost[i] - line[i]) - actual[i]);
      if (err < best - 1e-9) best = err, weight = w / 20.0, shift = s / 10.0;
    }
  }
  // P(over): Newton's method on the ridge-penalised log loss (pushes carry no information).
  double a = 0, c = 0;
  for (int iter = 0; iter < 50; ++iter) {
    double ga = kRidge * a, gc = kRidge * c, haa = kRidge, hac = 0, hcc = kRidge;
    for (size_t i : use) {
      if (actual[i] == line[i]) continue;
      const double d = xgboost[i] - line[i], y = actual[i] > line[i] ? 1 : 0;
      const double p = MarketLogistic(p_market[i], a, c, d);
      const double w = p * (1 - p);
      ga += p - y, gc += (p - y) * d;
      haa += w, hac += w * d, hcc += w * d * d;
    }
    const double det = haa * hcc - hac * hac;
    if (!(det > 0)) break;
    const double da = (hcc * ga - hac * gc) / det, dc = (haa * gc - hac * ga) / det;
    a -= da, c -= dc;
    if (std::abs(da) + std::abs(dc) < 1e-10) break;
  }
  intercept = a, slope = c;
}

Spread Spread::Fit(const std::vector<double>& predicted, const std::vector<double>& actual) {
  std::vector<double> x, y;
  for (size_t i = 0; i < predicted.size(); ++i) {
    if (std::isnan(predicted[i])) continue;
    x.push_back(predicted[i]);
    y.push_back(std::abs(actual[i] - predicted[i]));
  }
  if (x.size() < 30) return Spread{};
  LinearFit f = FitLinear(x, y);
  return {f.intercept, f.slope};
}

StatusOr<TrainingSet> LoadTrainingSet(store::Transaction& t, const std::string& from, const std::string& before) {
  TrainingSet set;
  RETURN_IF_ERROR(t.Query(std::string("SELECT ") + kFeatureRowColumns +
                              ", p.points, p.minutes FROM precompute_ml_feature_store f JOIN analytics_player_game_summary p "
                              "ON p.game_id = f.game_id AND p.player_id = f.player_id WHERE f.game_date >= ? AND "
                              "f.game_date < ? AND f.is_production_ready = 1 AND p.minutes > 0 "
                              "ORDER BY f.game_date, f.player_id",
                          {from, before}, [&](const store::Row& r) -> Status {
                            ASSIGN_OR_RETURN(auto f, FeatureRowFrom(r));
                            set.rows.push_back(std::move(f));
                            set.points.push_back(r.Double(11));
                            set.minutes.push_back(r.Double(12));
                            return OkStatus();
                          }));
  return set;
}

double MovingAveragePoints(const FeatureRow& row) {
  const int l5 = FeatureIndex("pts_avg_l5"), l10 = FeatureIndex("pts_avg_l10"), season = FeatureIndex("pts_avg_season");
  return MovingAverage(row.values[l5], row.values[l10], row.values[season]);
}

double MovingAverage(double l5, double l10, double season) {
  if (std::isnan(l5) || std::isnan(l10) || std::isnan(season)) return kNaN;
  return 0.5 * l5 + 0.3 * l10 + 0.2 * season;
}

Model::Model() = default;
Model::~Model() {
  if (booster_) XGBoosterFree(booster_);
  if (minutes_booster_) XGBoosterFree(minutes_booster_);
}

StatusOr<std::unique_ptr<Model>> Model::Train(const TrainingSet& data, const TrainOptions& options,
                                              const std::string& trained_until) {
  if (data.size() < 500) {
    return FailedPreconditionError("only " + std::to_string(data.size()) + " production-ready player-games before " +
                                   trained_until + " to train on (need 500); run phases 3-4 for earlier dates first");
  }
  if (data.minutes.size() != data.size()) {
    return InvalidArgumentError("the training set has " + std::to_string(data.minutes.size()) + " minutes for " +
                                std::to_string(data.size()) + " rows");
  }
  for (const FeatureRow& r : data.rows) {
    if (r.game_date >= trained_until) {
      return InvalidArgumentError("training row of " + r.game_date + " is not before " + trained_until);
    }
  }
  // Holdout: the last dates of the window; the booster that makes the spreads never saw them. Its
  // size is a fraction of the latest season's dates, so that earlier seasons in the window add
  // training rows without moving the holdout (and the market fit) out of the current season.
  std::vector<std::string> dates;
  for (const FeatureRow& r : data.rows) {
    if (dates.empty() || dates.back() != r.game_date) dates.push_back(r.game_date);
  }
  const std::string latest_season = FormatIsoDate(SeasonStart(*ParseIsoDate(dates.back())));
  const auto season_dates = static_cast<size_t>(
      dates.end() - std::lower_bound(dates.begin(), dates.end(), latest_season));
  size_t holdout_dates = std::max<size_t>(1, static_cast<size_t>(season_dates * options.holdout_fraction));
  const std::string holdout_from = dates[dates.size() - holdout_dates];
  std::vector<const FeatureRow*> fit_rows, hold_rows, all_rows;
  std::vector<float> fit_y, all_y;
  std::vector<double> hold_y;
  for (size_t i = 0; i < data.size(); ++i) {
    all_rows.push_back(&data.rows[i]);
    all_y.push_back(static_cast<float>(data.points[i]));
    if (data.rows[i].game_date < holdout_from) {
      fit_rows.push_back(&data.rows[i]);
      fit_y.push_back(static_cast<float>(data.points[i]));
    } else {
      hold_rows.push_back(&data.rows[i]);
      hold_y.push_back(data.points[i]);
    }
  }
  std::unique_ptr<Model> m(new Model());
  m->trained_until_ = trained_until;
  m->window_from = dates.front();
  m->window_to = dates.back();
  m->n_train = static_cast<int64_t>(data.size());

  // Minutes first. The holdout's projections come from a booster fitted on the fit rows alone.
  // As a column of the points boosters (minutes_feature), every row's projection is out of fold,
  // so they learn how far to trust a projection as good as the one an unseen game gets.
  const bool feed = options.minutes_feature;
  ASSIGN_OR_RETURN(std::vector<double> minutes,
                   OutOfFoldMinutes(all_rows, data.minutes, holdout_from, options, feed));
  std::vector<double> fit_minutes, hold_minutes, hold_minutes_y, hold_minutes_l10;
  for (size_t i = 0; i < data.size(); ++i) {
    if (data.rows[i].game_date < holdout_from) {
      fit_minutes.push_back(minutes[i]);
    } else {
      hold_minutes.push_back(minutes[i]);
      hold_minutes_y.push_back(data.minutes[i]);
      hold_minutes_l10.push_back(data.rows[i].at("minutes_avg_l10"));
    }
  }
  m->minutes_feature = feed;
  m->minutes_shift = MedianResidual(hold_minutes, hold_minutes_y);
  for (auto* v : {&minutes, &fit_minutes, &hold_minutes}) {
    for (double& p : *v) p += m->minutes_shift;
  }
  if (!feed) minutes.clear(), fit_minutes.clear();
  ASSIGN_OR_RETURN(Booster probe, TrainBooster({Target::kPoints, fit_rows, fit_minutes}, fit_y, options));
  auto hold_xgb = Predict(probe.get(), {Target::kPoints, hold_rows, feed ? hold_minutes : std::vector<double>{}});
  RETURN_IF_ERROR(hold_xgb.status());
  // Points are right-skewed: the trees predict a mean, MAE rewards the median. Each fitted system
  // is shifted by its median held-out residual.
  m->xgb_shift = MedianResidual(*hold_xgb, hold_y);
  for (double& p : *hold_xgb) p += m->xgb_shift;
  std::vector<double> hold_ma;
  for (const FeatureRow* r : hold_rows) hold_ma.push_back(MovingAveragePoints(*r));
  // Ensemble weight: the grid value with the lowest held-out absolute error.
  double best = std::numeric_limits<double>::infinity();
  for (int k = 0; k <= 20; ++k) {
    double w = k / 20.0, err = 0;
    for (size_t i = 0; i < hold_rows.size(); ++i)
      err += std::abs(w * (*hold_xgb)[i] + (1 - w) * hold_ma[i] - hold_y[i]);
    if (err < best) best = err, m->ensemble_weight = w;
  }
  std::vector<double> hold_ens;
  for (size_t i = 0; i < hold_rows.size(); ++i) {
    hold_ens.push_back(m->ensemble_weight * (*hold_xgb)[i] + (1 - m->ensemble_weight) * hold_ma[i]);
  }
  m->ensemble_shift = MedianResidual(hold_ens, hold_y);
  for (double& p : hold_ens) p += m->ensemble_shift;
  m->ma_spread = Spread::Fit(hold_ma, hold_y);
  m->xgb_spread = Spread::Fit(*hold_xgb, hold_y);
  m->ensemble_spread = Spread::Fit(hold_ens, hold_y);
  std::vector<double> hold_line, hold_p_market;
  for (const FeatureRow* r : hold_rows) {
    hold_line.push_back(r->at("line"));
    hold_p_market.push_back(r->at("line_implied_over"));
  }
  m->market.Fit(*hold_xgb, hold_line, hold_p_market, hold_y);
  m->ma_spread.Calibrate(hold_ma, hold_line, hold_y);
  m->xgb_spread.Calibrate(*hold_xgb, hold_line, hold_y);
  m->ensemble_spread.Calibrate(hold_ens, hold_line, hold_y);

  std::vector<float> all_minutes_y(data.minutes.begin(), data.minutes.end());
  ASSIGN_OR_RETURN(Booster minutes_booster, TrainBooster({Target::kMinutes, all_rows, {}}, all_minutes_y, options));
  ASSIGN_OR_RETURN(Booster booster, TrainBooster({Target::kPoints, all_rows, minutes}, all_y, options));
  m->minutes_booster_ = minutes_booster.release();
  m->booster_ = booster.release();
  ASSIGN_OR_RETURN(auto fitted, Predict(m->booster_, {Target::kPoints, all_rows, minutes}));
  std::vector<double> all_yd(all_y.begin(), all_y.end());
  json metrics = {{"n_train", data.size()},
                  {"n_holdout", hold_rows.size()},
                  {"holdout_from", holdout_from},
                  {"mae_train_xgboost", Mae(fitted, all_yd)},
                  {"mae_holdout_xgboost", Mae(*hold_xgb, hold_y)},
                  {"mae_holdout_moving_average", Mae(hold_ma, hold_y)},
                  {"mae_holdout_ensemble", Mae(hold_ens, hold_y)},
                  {"n_holdout_with_line", m->market.n_fit},
                  {"mae_holdout_minutes", Mae(hold_minutes, hold_minutes_y)},
                  {"mae_holdout_minutes_avg_l10", Mae(hold_minutes_l10, hold_minutes_y)},
                  {"params",
                   {{"rounds", options.rounds},
                    {"objective", options.objective},
                    {"max_depth", options.max_depth},
                    {"eta", options.eta},
                    {"subsample", options.subsample},
                    {"colsample_bytree", options.colsample},
                    {"min_child_weight", options.min_child_weight},
                    {"minutes_feature", options.minutes_feature},
                    {"minutes_rounds", options.minutes_rounds},
                    {"minutes_folds", options.minutes_folds}}}};
  m->metrics_json = metrics.dump();
  bst_ulong len = 0;
  const char* raw = nullptr;
  XGB_CHECK(XGBoosterSaveModelToBuffer(m->booster_, "{\"format\": \"ubj\"}", &len, &raw), "serializing");
  std::string both(raw, len);
  XGB_CHECK(XGBoosterSaveModelToBuffer(m->minutes_booster_, "{\"format\": \"ubj\"}", &len, &raw), "serializing");
  both.append(raw, len);
  m->version_ = "xgb-" + trained_until + "-" + Sha256Hex(both).substr(0, 8);
  return m;
}

namespace {
StatusOr<json> BoosterJson(BoosterHandle b) {
  bst_ulong len = 0;
  const char* raw = nullptr;
  XGB_CHECK(XGBoosterSaveModelToBuffer(b, "{\"format\": \"json\"}", &len, &raw), "serializing");
  json out = json::parse(std::string_view(raw, len), nullptr, false);
  if (out.is_discarded()) return InternalError("xgboost produced a model that is not JSON");
  return out;
}

StatusOr<BoosterHandle> BoosterFrom(const json& j, const std::string& path) {
  const std::string text = j.dump();
  BoosterHandle h = nullptr;
  XGB_CHECK(XGBoosterCreate(nullptr, 0, &h), "creating the booster");
  Booster b(h);
  XGB_CHECK(XGBoosterLoadModelFromBuffer(h, text.data(), text.size()), "loading a booster of '" + path + "'");
  return b.release();
}
}  // namespace

Status Model::Save(const std::string& path) const {
  ASSIGN_OR_RETURN(json booster, BoosterJson(booster_));
  ASSIGN_OR_RETURN(json minutes_booster, BoosterJson(minutes_booster_));
  json features = json::array();
  for (const FeatureSpec& f : FeatureContract()) features.push_back(f.name);
  json doc = {
      {"format", kFormat},
      {"format_version", kFormatVersion},
      {"feature_version", kFeatureVersion},
      {"features", features},
      {"trained_until", trained_until_},
      {"training_window", {{"from", window_from}, {"to", window_to}}},
      {"metrics", json::parse(metrics_json)},
      {"systems",
       {{"moving_average", {{"version", "ma-1"}, {"spread", SpreadJson(ma_spread)}}},
        {"xgboost", {{"version", version_}, {"shift", xgb_shift}, {"spread", SpreadJson(xgb_spread)}}},
        {"ensemble",
         {{"weight_xgboost", ensemble_weight}, {"shift", ensemble_shift}, {"spread", SpreadJson(ensemble_spread)}}},
        {"market",
         {{"weight_xgboost", market.weight},
          {"shift", market.shift},
          {"prob_intercept", market.intercept},
          {"prob_slope", market.slope},
          {"n_fit", market.n_fit}}}}},
      {"minutes", {{"shift", minutes_shift}, {"feeds_points", minutes_feature}, {"booster", minutes_booster}}},
      {"booster", booster}};
  return WriteFileAtomic(path, doc.dump() + "\n");
}

StatusOr<std::unique_ptr<Model>> Model::Load(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.value("format", "") != kFormat) {
    return InvalidArgumentError("model file '" + path + "' is not an nbaprops model (train one with nbaprops train)");
  }
  if (const int format = doc.value("format_version", 0); format != kFormatVersion) {
    return FailedPreconditionError("model file '" + path + "' has format version " + std::to_string(format) +
                                   " but this build reads " + std::to_string(kFormatVersion) +
                                   " (version 2 added the minutes projection); retrain it with nbaprops train "
                                   "--until DATE");
  }
  std::string fv = doc.value("feature_version", "");
  if (fv != kFeatureVersion) {
    return FailedPreconditionError("model file '" + path + "' was trained on feature version '" + fv +
                                   "' but this build computes '" + std::string(kFeatureVersion) +
                                   "'; retrain it with nbaprops train --until DATE");
  }
  try {
    std::unique_ptr<Model> m(new Model());
    m->trained_until_ = doc.at("trained_until").get<std::string>();
    m->window_from = doc.at("training_window").at("from").get<std::string>();
    m->window_to = doc.at("training_window").at("to").get<std::string>();
    m->metrics_json = doc.at("metrics").dump();
    m->n_train = doc.at("metrics").value("n_train", 0);
    const json& s = doc.at("systems");
    m->version_ = s.at("xgboost").at("version").get<std::string>();
    m->ma_spread = SpreadFrom(s.at("moving_average").at("spread"));
    m->xgb_spread = SpreadFrom(s.at("xgboost").at("spread"));
    m->ensemble_spread = SpreadFrom(s.at("ensemble").at("spread"));
    m->ensemble_weight = s.at("ensemble").at("weight_xgboost").get<double>();
    m->xgb_shift = s.at("xgboost").at("shift").get<double>();
    m->ensemble_shift = s.at("ensemble").at("shift").get<double>();
    const json& market = s.at("market");
    m->market.weight = market.at("weight_xgboost").get<double>();
    m->market.shift = market.at("shift").get<double>();
    m->market.intercept = market.at("prob_intercept").get<double>();
    m->market.slope = market.at("prob_slope").get<double>();
    m->market.n_fit = market.at("n_fit").get<int64_t>();
    m->minutes_shift = doc.at("minutes").at("shift").get<double>();
    m->minutes_feature = doc.at("minutes").at("feeds_points").get<bool>();
    ASSIGN_OR_RETURN(m->booster_, BoosterFrom(doc.at("booster"), path));
    ASSIGN_OR_RETURN(m->minutes_booster_, BoosterFrom(doc.at("minutes").at("booster"), path));
    return m;
  } catch (const json::exception& e) {
    return InvalidArgumentError("model file '" + path + "' is incomplete: " + e.what());
  }
}

StatusOr<std::vector<double>> Model::PredictMinutes(const std::vector<const FeatureRow*>& rows) const {
  ASSIGN_OR_RETURN(auto out, Predict(minutes_booster_, {Target::kMinutes, rows, {}}));
  for (double& p : out) p += minutes_shift;
  return out;
}

StatusOr<std::vector<double>> Model::PredictXgboost(const std::vector<const FeatureRow*>& rows) const {
  std::vector<double> minutes;
  if (minutes_feature) {
    ASSIGN_OR_RETURN(minutes, PredictMinutes(rows));
  }
  ASSIGN_OR_RETURN(auto out, Predict(booster_, {Target::kPoints, rows, std::move(minutes)}));
  for (double& p : out) p += xgb_shift;
  return out;
}

StatusOr<std::vector<SystemPoints>> PredictSystems(const std::vector<const FeatureRow*>& rows, const Model* model,
                                                   const Spread& ma_spread) {
  std::vector<SystemPoints> out;
  SystemPoints ma{"moving_average", "ma-1", {}, model ? model->ma_spread : ma_spread, {}};
  for (const FeatureRow* r : rows) ma.points.push_back(MovingAveragePoints(*r));
  out.push_back(std::move(ma));
  if (!model) return out;
  ASSIGN_OR_RETURN(auto xgb, model->PredictXgboost(rows));
  SystemPoints ens{"ensemble", model->version() + "-w" + Fmt(model->ensemble_weight), {}, model->ensemble_spread, {}};
  for (size_t i = 0; i < rows.size(); ++i) {
    double m = out[0].points[i];
    ens.points.push_back(std::isnan(m) ? kNaN
                                       : model->ensemble_weight * xgb[i] + (1 - model->ensemble_weight) * m +
                                             model->ensemble_shift);
  }
  const MarketBlend& b = model->market;
  SystemPoints market{"market", model->version() + "-m" + Fmt(b.weight), {}, {}, {}};
  for (size_t i = 0; i < rows.size(); ++i) {
    const double line = rows[i]->at("line");
    market.points.push_back(b.Points(line, xgb[i]));
    market.prob_over.push_back(b.ProbOver(rows[i]->at("line_implied_over"), line, xgb[i]));
  }
  out.push_back({"xgboost", model->version(), std::move(xgb), model->xgb_spread, {}});
  out.push_back(std::move(ens));
  out.push_back(std::move(market));
  return out;
}

ModelInForce FindModelInForce(const std::string& model_path, const std::string& date) {
  ModelInForce m;
  std::error_code ec;
  if (!std::filesystem::is_directory(model_path, ec)) {
    m.file = model_path;
    return m;
  }
  m.directory = true;
  for (const auto& e : std::filesystem::directory_iterator(model_path, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() != 22 || name.rfind("points-", 0) != 0 || name.substr(17) != ".json") continue;
    const std::string until = name.substr(7, 10);
    if (IsIsoDate(until) && until <= date && until > m.trained_until) m.trained_until = until;
  }
  if (!m.trained_until.empty()) m.file = model_path + "/points-" + m.trained_until + ".json";
  return m;
}

}  // namespace nbaprops::pipeline
