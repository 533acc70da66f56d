// What must exist for each active game date, and by when: the pipeline's Planner for the
// reconciler (engine/reconciler.h) and for `nbaprops status --date D`.
//
// Each processor declares its own expectations next to its code (DeclaresExpectations); the
// planner collects them from the runner in registration order (upstream first), so a processor is
// covered -- healed by the reconciler, shown by `status` and `heal --dry-run` -- once registered.
// For a date with games (postponed ones excluded), with first and last tip-off from the schedule:
//   before first tip - 90 min (predictions are due 60 min before it):
//     every processor of the pre-game chain (phases 3-4) has succeeded for the date (the planner)
//     then each declaration "before the games" (today: the upcoming team and player contexts,
//     ml_feature_store, player_prop_predictions, export_predictions)
//   after last tip + 4 h (games over, box scores scraped):
//     (source) box scores          both teams of every game (the planner); no processor can make
//                                  these, so a shortfall is a missing_input incident, and the
//                                  declarations below are not expected until they arrive
//     then each declaration "after the games" (today: player_game_summary, the team offense and
//     defense summaries, prediction_accuracy, export_results)
// Active dates: the last `lookback_days` Eastern dates up to today (the reconciler's window), or
// exactly the date asked for. A date without games expects nothing.
#ifndef NBAPROPS_PIPELINE_PLAN_H_
#define NBAPROPS_PIPELINE_PLAN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/config.h"
#include "engine/reconciler.h"
#include "engine/runner.h"

namespace nbaprops::pipeline {

// A date with games, as declarations see it.
struct PlanDay {
  std::string date;
  int32_t day = 0;  // days since the epoch
  int64_t games = 0, teams = 0;
  int64_t pre_due_ms = 0, post_due_ms = 0;
  // " AND game_id IN (...)": the date's games that are not postponed (the date is parameter ?1).
  std::string live_games;
};

// Implemented by a processor (beside engine::Processor) to say what it must produce for a date
// with games. Expect appends its expectations, met or not; the planner sets nothing else.
class DeclaresExpectations {
 public:
  enum class When { kBeforeGames, kAfterGames };  // after: expected only once the box scores are in
  virtual ~DeclaresExpectations() = default;
  virtual When expected_when() const = 0;
  virtual Status Expect(store::Transaction& t, const PlanDay& day, std::vector<engine::Expectation>* out) const = 0;
};

// Helpers for declarations. Finish time (Unix s) of the latest succeeded run of a processor for
// a date; a COUNT(*) query over ?1 = date.
StatusOr<std::optional<int64_t>> LastSuccess(store::Transaction& t, const std::string& processor,
                                             const std::string& date);
StatusOr<int64_t> CountOf(store::Transaction& t, const std::string& sql, const std::string& date);
// A count-type expectation: `actual_sql` counts what exists of what `expected_sql` says must;
// `missing_sql` lists examples of the difference (run only when short).
StatusOr<engine::Expectation> CountedExpectation(store::Transaction& t, const std::string& processor,
                                                 const std::string& date, const std::string& what, int64_t due_ms,
                                                 const std::string& expected_sql, const std::string& actual_sql,
                                                 const std::string& missing_sql);
// `processor` must have succeeded at or after the latest success of `after` (an export after the
// data it exports).
StatusOr<engine::Expectation> FreshExpectation(store::Transaction& t, const std::string& processor,
                                               const std::string& after, const std::string& date,
                                               const std::string& what, int64_t due_ms);

struct PlanOptions {
  // Processors that must have succeeded for the date before predictions are due (phases 3-4: the
  // runner's, see PreGameChain). Healing their roots lets triggers rebuild the whole chain.
  std::vector<std::string> pregame_chain;
  // The registered processors' declarations, in registration order (Declarations).
  std::vector<const DeclaresExpectations*> declarations;
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

// The declarations of the runner's processors, in registration order.
std::vector<const DeclaresExpectations*> Declarations(const engine::Runner& runner);

// The pre-game chain and declarations of the runner, default windows.
PlanOptions PlanOptionsOf(const engine::Runner& runner);
// The options `serve` and `nbaprops heal` plan and reconcile with ([engine] reconcile_*).
PlanOptions PlanOptionsFrom(const Config& config, const engine::Runner& runner);
engine::ReconcilerOptions ReconcilerOptionsFrom(const Config& config);

// The expectations of one date (met or not, due or not).
StatusOr<std::vector<engine::Expectation>> PlanDate(store::Transaction& t, const std::string& date,
                                                    const PlanOptions& options);

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_PLAN_H_
