// Walk-forward evaluation (`nbaprops evaluate`): the model used on day D was trained only on
// games before D (retrained weekly or monthly inside the window); predictions use the line known
// at prediction time (the opening pre-tip snapshot under the default policy); closing lines only
// feed closing-line value. Nothing here tunes anything: hyperparameters are TrainOptions'
// defaults, chosen on games before the default evaluation window.
//
// Reported overall (for the primary system), per system, per sportsbook and per edge band:
// n graded, picks, hit rate with a Wilson 95% interval, ROI at the actual prices, MAE of the
// model, of the line and of the season-average, last-10 and EWMA baselines, Brier score and log
// loss of prob_over against no-skill references, a 10-bin reliability table and average CLV.
#ifndef NBAPROPS_PIPELINE_EVALUATION_H_
#define NBAPROPS_PIPELINE_EVALUATION_H_

#include <functional>
#include <string>
#include <vector>

#include "pipeline/model.h"
#include "pipeline/predictions.h"
#include "store/store.h"

namespace nbaprops::pipeline {

struct EvalOptions {
  std::string from, to;
  std::string retrain = "weekly";  // weekly | monthly
  std::string primary_system = "ensemble";
  TrainOptions train;
  PredictionConfig config;
};

struct EvalResult {
  std::string json;             // one object, deterministic (sorted keys, rounded numbers)
  std::string reliability_svg;  // primary system
  std::string cumulative_svg;   // cumulative units won per system
};

// `progress(done, total, what)` after each retrain period.
StatusOr<EvalResult> Evaluate(store::Store& store, const EvalOptions& options,
                              const std::function<void(int, int, const std::string&)>& progress);

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_EVALUATION_H_
