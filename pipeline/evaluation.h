// Walk-forward evaluation (`nbaprops evaluate`): the model used on day D was trained only on
// games before D (retrained weekly or monthly inside the window); predictions use the line known
// at prediction time (the opening pre-tip snapshot under the default policy); closing lines only
// feed closing-line value. Nothing here tunes anything: hyperparameters are TrainOptions'
// defaults, chosen on games before the default evaluation window.
//
// Reported overall (for the primary system), per system, per sportsbook and per edge band:
// n graded, picks, hit rate with a Wilson 95% interval, ROI at the actual prices, MAE of the
// model, of the line and of the season-average, last-10 and EWMA baselines, Brier score and log
// loss of prob_over against no-skill references and against the vig-free market probability of
// the same lines, a 10-bin reliability table of both, average CLV, the MAE difference model - line
// with a paired bootstrap 95% interval (seeded), and, for the primary system, W-L / ROI / CLV of
// betting its favoured side grouped by how much its P(side) beats the market's. Separately
// (`minutes`): the minutes projection's MAE against the last-10 minutes average on every
// production-ready player-game played, with the paired bootstrap interval of the difference.
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
  std::string train_from;          // first date the models learn from; empty: the season of `from`
  std::string primary_system = "market";
  uint64_t seed = 1;  // of the bootstrap intervals
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
