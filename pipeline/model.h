// Phase 5 prediction systems: each predicts a player's points from one ml_feature_store row and
// turns that into a probability of going over a line through a predictive distribution
// (normal, with a spread that grows with the prediction, fitted on residuals the system made on
// games it had not seen).
//
//   moving_average  0.5 x last-5 + 0.3 x last-10 + 0.2 x season points per game
//   xgboost         gradient-boosted trees (XGBoost C API) regressing points on the features,
//                   on a base margin of the player's EWMA
//   ensemble        w x xgboost + (1 - w) x moving_average, w fitted on the held-out days
//   market          the line plus what the features add to it (MarketBlend): starts from the
//                   sportsbook's line and its vig-free P(over), and moves off them only as far as
//                   the held-out player-games with a line say it should
// xgboost and ensemble do not see the player's points line (its features are hidden from the
// booster), so they remain a line-blind comparison. xgboost and ensemble add their median
// held-out residual (MAE rewards the median).
//
// Minutes first: a second booster projects the player's minutes (on a base margin of his last-10
// minutes; line-blind). Its MAE is reported; with TrainOptions::minutes_feature the projection is
// also a column of the points booster (out of fold in training).
//
// A model file (`nbaprops train`) holds both boosters, the spreads of all three systems, the
// ensemble weight, the feature version and the training window and metrics. It is refused under
// another feature version or file format.
#ifndef NBAPROPS_PIPELINE_MODEL_H_
#define NBAPROPS_PIPELINE_MODEL_H_

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "pipeline/features.h"
#include "store/store.h"

namespace nbaprops::pipeline {

// Standard deviation of actual points around a prediction: (a + b x predicted) / sqrt(2/pi),
// from a least-squares fit of |residual| on the prediction, at least kMinSd.
//
// prob_over = Phi(calibration x (predicted - line) / Sd(predicted)). The line knows things the
// features do not, so a disagreement with it is less telling than the spread alone says:
// `calibration` (0..1.5, 1 = none) is fitted by log loss on held-out player-games that had a line
// before the training cutoff; with fewer than kMinCalibrationRows such games it stays 1.
struct Spread {
  static constexpr double kMinSd = 2.0;
  static constexpr size_t kMinCalibrationRows = 300;
  double intercept = 4.0, slope = 0.2;  // |residual| fit; the defaults are only for no data
  double calibration = 1;
  double Sd(double predicted) const;
  double ProbOver(double line, double predicted) const;
  static Spread Fit(const std::vector<double>& predicted, const std::vector<double>& actual);
  // Sets `calibration` from (predicted, line, actual) triples; pushes and NaN are skipped.
  void Calibrate(const std::vector<double>& predicted, const std::vector<double>& line,
                 const std::vector<double>& actual);
};

// The market system. Points: line + shift + weight x (xgboost - line). P(over):
// logistic(logit(p_market) + intercept + slope x (xgboost - line)), p_market the vig-free
// P(over) of the line's prices (0.5 without them). Fitted on held-out player-games that had a
// line, which the booster did not see: weight (0..1) and shift (-1..1) by absolute error on a
// grid, intercept and slope by log loss with a ridge penalty (kRidge) that pulls them to 0.
// With fewer than kMinRows such games everything stays 0: the system is the market itself.
// Chosen before any evaluation, not tuned: there are no lines before the evaluation window.
struct MarketBlend {
  static constexpr size_t kMinRows = 300;
  static constexpr double kRidge = 20;
  double weight = 0, shift = 0, intercept = 0, slope = 0;
  int64_t n_fit = 0;  // held-out player-games with a line it was fitted on (0: not fitted)
  double Points(double line, double xgboost) const;  // NaN without a line
  double ProbOver(double p_market, double line, double xgboost) const;
  // Rows with NaN line or xgboost are skipped; p_market NaN counts as 0.5.
  void Fit(const std::vector<double>& xgboost, const std::vector<double>& line, const std::vector<double>& p_market,
           const std::vector<double>& actual);
};

// Feature rows with their outcome (points and minutes; the player played), ascending by date.
struct TrainingSet {
  std::vector<FeatureRow> rows;
  std::vector<double> points, minutes;
  size_t size() const { return rows.size(); }
};

// Production-ready feature rows of dates in [from, before) whose player played, with his points.
StatusOr<TrainingSet> LoadTrainingSet(store::Transaction& t, const std::string& from, const std::string& before);

double MovingAveragePoints(const FeatureRow& row);
double MovingAverage(double pts_avg_l5, double pts_avg_l10, double pts_avg_season);  // NaN if any is

// Chosen on 2023-24 games before 2024-01-24 only (dev window 2023-12-20..2024-01-23, monthly
// retraining; see docs/model.md): shallow trees on a base margin of the player's EWMA.
struct TrainOptions {
  std::string objective = "reg:squarederror";
  int rounds = 200;
  int max_depth = 2;
  double eta = 0.05;
  double subsample = 0.8;
  double colsample = 0.8;
  double min_child_weight = 5;
  int threads = 2;
  double holdout_fraction = 0.15;  // last dates of the window, for spreads and the ensemble weight
  // The minutes booster (same tree settings) and its rounds. With minutes_feature its projection
  // is a column of the points boosters, out of fold in training: `minutes_folds` consecutive
  // blocks of dates, the last one the holdout. Off: on the dev window the column did not lower
  // the points MAE (docs/model.md), and it costs minutes_folds more boosters per training.
  int minutes_rounds = 200;
  bool minutes_feature = false;
  int minutes_folds = 4;
};

class Model {
 public:
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // Trains on `data` (games before `trained_until`). Needs at least 500 rows.
  static StatusOr<std::unique_ptr<Model>> Train(const TrainingSet& data, const TrainOptions& options,
                                                const std::string& trained_until);
  static StatusOr<std::unique_ptr<Model>> Load(const std::string& path);
  Status Save(const std::string& path) const;

  // Booster predictions for the rows, in order: the minutes projection, and points (which read it).
  StatusOr<std::vector<double>> PredictMinutes(const std::vector<const FeatureRow*>& rows) const;
  StatusOr<std::vector<double>> PredictXgboost(const std::vector<const FeatureRow*>& rows) const;

  const std::string& trained_until() const { return trained_until_; }
  const std::string& version() const { return version_; }  // names the booster: "xgb-<until>-<hash>"
  Spread ma_spread, xgb_spread, ensemble_spread;
  MarketBlend market;
  double ensemble_weight = 0.5;              // of xgboost
  double xgb_shift = 0, ensemble_shift = 0;  // median held-out residuals, added to predictions
  double minutes_shift = 0;                  // median held-out residual of the minutes booster
  bool minutes_feature = false;              // the points booster reads the minutes projection
  std::string metrics_json = "{}";           // training and holdout metrics, as saved
  std::string window_from, window_to;
  int64_t n_train = 0;

 private:
  Model();
  void* booster_ = nullptr;          // BoosterHandle: points
  void* minutes_booster_ = nullptr;  // BoosterHandle: minutes
  std::string trained_until_, version_;
};

// The model file in force for predictions of `date` under `model_path` (predictions.model_path),
// the one rule the predictions processor and the model guards share. A file is in force as it is
// (`trained_until` empty: only the file knows it). A directory holds models named
// points-YYYY-MM-DD.json, as `nbaprops train` names them: the newest trained until `date` or
// earlier is in force; none (`file` empty) means moving_average only. Nothing is read but names.
struct ModelInForce {
  std::string file;
  std::string trained_until;  // from the file name (directory only)
  bool directory = false;
};
ModelInForce FindModelInForce(const std::string& model_path, const std::string& date);

// One system's prediction of a row.
struct SystemPoints {
  std::string system_id, version;
  std::vector<double> points;  // per row, NaN when the system has none
  Spread spread;
  std::vector<double> prob_over;  // market only: per row, against the row's own line (NaN without)
};

// Predictions of every available system: moving_average always (with `ma_spread` when there is
// no model), xgboost, ensemble and market when a model is given.
StatusOr<std::vector<SystemPoints>> PredictSystems(const std::vector<const FeatureRow*>& rows, const Model* model,
                                                   const Spread& ma_spread);

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_MODEL_H_
