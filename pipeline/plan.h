// What must exist for each active game date, and by when: the pipeline's Planner for the
// reconciler (engine/reconciler.h) and for `nbaprops status --date D`.
//
// For a date with games (postponed ones excluded), with first and last tip-off from the schedule:
//   before first tip - 90 min (predictions are due 60 min before it):
//     every processor of the pre-game chain (phases 3-4) has succeeded for the date
//     upcoming_team_game_context   a row per team playing
//     upcoming_player_game_context rows for every team playing that has played this season
//     ml_feature_store             a feature row per player with a line
//     player_prop_predictions      a live prediction per feature row not listed OUT
//     export_predictions           exported after the latest predictions
//   after last tip + 4 h (games over, box scores scraped):
//     (source) box scores          both teams of every game; no processor can make these, so a
//                                  shortfall is a missing_input incident, and the steps below are
//                                  not expected until they arrive
//     player_game_summary          a row per player who played (minutes > 0, name resolved), and
//                                  newer than the box-score payloads of the date
//     team_offense_game_summary,
//     team_defense_game_summary    a row per team per game
//     prediction_accuracy          every live prediction graded, after the latest summaries
//     export_results               exported after the latest grading
// Active dates: the last `lookback_days` Eastern dates up to today (the reconciler's window), or
// exactly the date asked for. A date without games expects nothing.
#ifndef NBAPROPS_PIPELINE_PLAN_H_
#define NBAPROPS_PIPELINE_PLAN_H_

#include <string>
#include <vector>

#include "base/config.h"
#include "engine/reconciler.h"

namespace nbaprops::pipeline {

struct PlanOptions {
  // Processors that must have succeeded for the date before predictions are due (phases 3-4: the
  // runner's, see PreGameChain). Healing their roots lets triggers rebuild the whole chain.
  std::vector<std::string> pregame_chain;
  int lookback_days = 3;
  int64_t pregame_lead_ms = 90 * 60'000;
  int64_t postgame_delay_ms = 4 * 3'600'000;
};

class PipelinePlanner final : public engine::Planner {
 public:
  explicit PipelinePlanner(PlanOptions options = {}) : options_(options) {}
  StatusOr<std::vector<engine::Expectation>> Plan(store::Transaction& t, int64_t now_ms,
                                                  const std::string& only_date) override;

 private:
  PlanOptions options_;
};

// The date-partitioned processors of phases 3 and 4 registered on the runner, in order.
std::vector<std::string> PreGameChain(const engine::Runner& runner);

// The options `serve` and `nbaprops heal` plan and reconcile with ([engine] reconcile_*).
PlanOptions PlanOptionsFrom(const Config& config, const engine::Runner& runner);
engine::ReconcilerOptions ReconcilerOptionsFrom(const Config& config);

// The expectations of one date (met or not, due or not).
StatusOr<std::vector<engine::Expectation>> PlanDate(store::Transaction& t, const std::string& date,
                                                    const PlanOptions& options);

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_PLAN_H_
