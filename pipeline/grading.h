// Phase 5B: grading. The processor `prediction_accuracy` (input player_prop_predictions) grades
// every live prediction of a date once all of the date's games are final:
//
//   correct / incorrect   an OVER or UNDER pick of a player who played (minutes > 0)
//   push                  the actual points equal the line
//   void                  a pick of a player who did not play, with a reason:
//                           listed_out     an injury report before tip-off listed him OUT
//                           late_scratch   listed questionable/doubtful/probable, or in the box
//                                          score with 0 minutes
//                           no_box_score   his team played, no source has him and no report
//                                          listed him: a source gap, not a scratch
//                           game_moved     the game was played on another date under the same id
//   not_graded            PASS / NO_LINE (errors are still recorded when he played), or the game
//                         was postponed and not yet played (reason postponed)
//
// It fails with upstream_incomplete (and is retried) while a game of the date is still scheduled.
// Closing-line value per pick: the same book's last pre-tip snapshot, when later than the line
// predicted against (OVER: close - line; UNDER: line - close). A snapshot at or after tip-off is
// never a close (upcoming_player_lines holds only pre-tip snapshots). Re-grading replaces the
// date's rows: grading twice changes nothing.
//
// Also writes prediction_performance_daily: per date and system, picks, record, units at the
// actual prices, MAE of the model and of the line on graded picks, average CLV.
#ifndef NBAPROPS_PIPELINE_GRADING_H_
#define NBAPROPS_PIPELINE_GRADING_H_

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/processor.h"
#include "store/store.h"

namespace nbaprops::pipeline {

std::unique_ptr<engine::Processor> MakeGradingProcessor();

// `nbaprops report`: graded predictions of [from, to] grouped by `by` (system, sportsbook,
// line_source, confidence, edge).
struct ReportRow {
  std::string group;
  int64_t n = 0, picks = 0, wins = 0, losses = 0, pushes = 0, voids = 0, not_graded = 0;
  double units = 0, roi = 0, hit_rate = 0, ci_lo = 0, ci_hi = 0;
  int64_t n_mae = 0, n_clv = 0;
  double mae_model = 0, mae_line = 0, clv_avg = 0;
};
struct Report {
  std::string from, to, by;
  ReportRow total;
  std::vector<ReportRow> groups;
};
// `system` non-empty keeps only that system's predictions.
StatusOr<Report> BuildReport(store::Store& store, const std::string& from, const std::string& to,
                             const std::string& by, const std::string& system = "");
std::string ReportJson(const Report& r);

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_GRADING_H_
