// Guards: the deadlines the pipeline must meet, and the signs that the model has stopped earning
// its keep. Both turn what the tables say into incidents (engine/incidents.h) with stable keys, so
// a problem seen every minute is one incident with a count, resolved when the problem clears.
//
// DEADLINES (CheckDeadlines), one row per (deadline_key, data_date) in `deadlines` (times in ms).
// Only a game date with at least one game that is not postponed has deadlines; an unknown tip-off
// counts as 19:00 ET (as pipeline/plan.h does). Each check looks at yesterday, today and tomorrow
// (Eastern) and at every earlier date still holding a pending, at_risk or missed row.
//
//   predictions      due `predictions_lead` (60 min) before the date's first tip-off. Met when a
//                    player_prop_predictions run for the date succeeded with rows and live
//                    predictions exist; met_at = the first such run's finish.
//   grading          due 10:00 ET the day after the games. Met when a prediction_accuracy run
//                    succeeded with rows (or there was nothing to grade: no live predictions) and
//                    prediction_accuracy holds the date; met_at = the first such run's finish.
//                    Details carry the latency from the last box-score ingest to the grading.
//   results_latency  end to end: due `results_max_latency` (6 h) after the last box score of the
//                    date was ingested (its parse_payload run, else the payload's fetch time); no
//                    row until a box score of the date is in. Met when results were graded after
//                    that box score and then exported (export_results succeeded, not halted);
//                    details: the box-score, graded and exported times and both latencies.
//   today_json       during game hours (first tip - 60 min .. last tip + 3 h) the
//                    `predictions/today.json` under the export dir must be for the date and at most
//                    `today_json_max_age` (10 min) old, by its `generated_at` (file mtime when that
//                    is missing; a halted document keeps its old generated_at, so it goes stale).
//                    due_at = the start of game hours. Unlike the others it is re-judged on every
//                    check until game hours end: met (fresh), at_risk (older than
//                    `today_json_at_risk_age`, 5 min), missed (stale, missing or another date's),
//                    met_late (fresh again after a miss on that date). When game hours end the
//                    last state stays (at_risk becomes met / met_late) and its incidents resolve:
//                    the requirement lapsed. Game hours that passed unobserved stay pending.
//
// States of the one-shot deadlines (predictions, grading, results_latency), from the tables and
// `now`: met / met_late once met (final; met_late when met_at > due_at); else missed when now >=
// due_at; else at_risk when now >= due_at - `at_risk_margin` (30 min) or the latest run of the
// processor the deadline waits for is dead (it will not be met without a person); else pending.
//
// Incidents, per deadline and date:
//   deadline_at_risk:<key>:<date>   warning;  opened while at_risk
//   deadline_missed:<key>:<date>    critical; opened while missed (an at-risk incident stays open
//                                   beside it: both resolve together when the deadline is met)
// Both resolve when the deadline is met (on time or late) or is pending again; at_risk resolves
// the missed one (for a one-shot deadline only a due time that moved, e.g. a later box score, can
// do that). A date whose games all disappear or are postponed loses its unmet rows, and their
// incidents are resolved.
//
// MODEL GUARD (CheckModelGuard), for a date D (the serve loop passes today):
//   model_hit_rate:<system>  warning. Over the last `window_graded_days` (14) graded days up to D
//                            (rows of prediction_performance_daily, so a break in the schedule does
//                            not shrink the window), with at least `min_window_picks` decided
//                            picks: hit rate below `hit_rate_floor` (50%) AND the 95% Wilson upper
//                            bound below `break_even_hit_rate` (52.4%, break-even at -110), i.e.
//                            the model is losing money beyond reasonable doubt.
//   model_mae:<system>       warning. Same window, at least `min_window_mae` graded picks: the
//                            model's MAE exceeds the line's MAE by more than `mae_margin` points.
//   model_stale              warning. The model in force for D (model_path: a file, or the newest
//                            points-YYYY-MM-DD.json trained until D or earlier in a directory, as
//                            the predictions processor chooses it) was trained until more than
//                            `model_max_age_days` (30) before D, or there is none / it cannot be
//                            read. No model_path configured: not checked (moving_average only).
//   zero_picks:<date>        critical. Predictions for D succeeded, players have lines for D, and
//                            no live prediction of any system is an OVER or UNDER pick. Not judged
//                            before predictions ran; no lines means no picks are expected.
// Each incident carries the numbers in its summary and a JSON `details`; each resolves when its
// condition clears (too little data to judge neither opens nor resolves).
//
// Thread-safety: the functions share nothing; each runs in one store transaction (a write one, or
// a read one with `dry_run`), so rows and incidents commit together.
#ifndef NBAPROPS_PIPELINE_GUARDS_H_
#define NBAPROPS_PIPELINE_GUARDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace nbaprops::pipeline {

inline constexpr char kDeadlinePredictions[] = "predictions";
inline constexpr char kDeadlineGrading[] = "grading";
inline constexpr char kDeadlineResultsLatency[] = "results_latency";
inline constexpr char kDeadlineTodayJson[] = "today_json";

struct GuardOptions {
  // Deadlines.
  int64_t predictions_lead_ms = 3'600'000;  // 60 min
  int64_t at_risk_margin_ms = 1'800'000;    // 30 min
  int grading_due_hour_et = 10;             // on the day after the games
  int grading_due_minute_et = 0;
  int64_t results_max_latency_ms = 21'600'000;         // 6 h
  int64_t game_hours_before_first_tip_ms = 3'600'000;  // 60 min
  int64_t game_hours_after_last_tip_ms = 10'800'000;   // 3 h
  int64_t today_json_max_age_ms = 600'000;             // 10 min
  int64_t today_json_at_risk_age_ms = 300'000;         // 5 min
  // Model guard.
  int window_graded_days = 14;
  int64_t min_window_picks = 30;
  double hit_rate_floor = 0.50;
  double break_even_hit_rate = 110.0 / 210.0;  // -110 both ways: 52.38%
  int64_t min_window_mae = 30;
  double mae_margin = 0.25;  // points
  int model_max_age_days = 30;
  // Judge and report only: no deadline rows or incidents are written (for `nbaprops status`).
  bool dry_run = false;
};

// One judged item, for a CLI table.
struct GuardCheck {
  std::string check;    // deadline key, or model_hit_rate | model_mae | model_stale | zero_picks
  std::string subject;  // the date (deadlines, zero_picks), the system, or the model file
  // Deadlines: pending | at_risk | met | missed | met_late | dropped (no games any more).
  // Model guard: ok | alert | skipped (nothing to judge).
  std::string outcome;
  std::string summary;       // one line with the numbers
  std::string incident_key;  // the incident this check holds open; empty when none
  std::string severity;      // of that incident
  int64_t due_at_ms = 0;     // deadlines only
  std::optional<int64_t> met_at_ms;
};

struct GuardReport {
  int64_t checked_at_ms = 0;
  std::vector<GuardCheck> checks;
  int64_t incidents_open = 0;      // checks holding an incident open after this check
  int64_t incidents_resolved = 0;  // incidents this check resolved
};

// Judges every deadline of the recent dates (see above) at `now_ms`, upserting their rows and
// opening / resolving their incidents. `export_dir` is where predictions/today.json lives
// (Config::export_dir).
// Game hours of a date (first tip - 60 min .. last tip + 3 h, per the options), in Unix ms; nullopt
// when the date has no games. During them today.json must stay fresh.
StatusOr<std::optional<std::pair<int64_t, int64_t>>> GameHours(store::Store& store, const GuardOptions& options,
                                                               const std::string& date);

// The last `days` graded days (rows of prediction_performance_daily, so a break in the schedule
// does not shrink the window) up to `date`, per system: record, and the MAE of the model and of
// the line over the graded picks with errors. The model guard and the daily health summary
// both judge the model on this window.
struct GradedWindow {
  std::string system, from, to;
  int64_t days = 0, wins = 0, losses = 0, n_mae = 0;
  std::optional<double> mae_model, mae_line;
};
StatusOr<std::vector<GradedWindow>> LoadGradedWindows(store::Transaction& t, const std::string& date, int days);

StatusOr<GuardReport> CheckDeadlines(store::Store& store, const GuardOptions& options, const std::string& export_dir,
                                     int64_t now_ms);

// Judges the model guard for `date` (YYYY-MM-DD; kInvalidArgument otherwise). `model_path` is
// Config::model_path (empty: no model configured).
StatusOr<GuardReport> CheckModelGuard(store::Store& store, const GuardOptions& options, const std::string& model_path,
                                      const std::string& date, int64_t now_ms);

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_GUARDS_H_
