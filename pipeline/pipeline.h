// The NBA pipeline assembled on the engine: which processors exist, and the operations the CLI
// offers on them (run a date, backfill a range, summarize what is stored).
#ifndef NBAPROPS_PIPELINE_PIPELINE_H_
#define NBAPROPS_PIPELINE_PIPELINE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/config.h"
#include "engine/runner.h"
#include "engine/scheduler.h"
#include "store/store.h"

namespace nbaprops::pipeline {

engine::EngineOptions EngineOptionsFrom(const Config& config);

struct HttpSourceDeps;  // pipeline/http_sources.h

// Registers the processors of every phase: phase 1 runs per imported file, plus the inbox and the
// HTTP scrapers of the sources configured with mode = "http" (on libcurl and real sleeps, or on
// `deps` when given).
StatusOr<std::unique_ptr<engine::Runner>> MakeRunner(store::Store& store, const Clock& clock, const Config& config);
StatusOr<std::unique_ptr<engine::Runner>> MakeRunner(store::Store& store, const Clock& clock, const Config& config,
                                                     const HttpSourceDeps& deps);

struct DateRunResult {
  std::string date;
  std::vector<std::pair<std::string, engine::RunOutcome>> outcomes;  // processor -> outcome
  bool ok() const;
};

// Runs the date-partitioned processors of `phase` (0 = all phases) for one date, upstream first.
// A processor whose upstream failed for the date is not run (it is recorded as failed with
// category upstream_incomplete).
DateRunResult RunDate(engine::Runner& runner, const std::string& date, int phase, const std::string& trigger);

// Phase 2 for a date: re-parses every stored payload that has rows on that date.
DateRunResult ReparseDate(engine::Runner& runner, const std::string& date, const std::string& trigger);

// What RunDate does for each of `dates` (ascending), with phase 4 run as ranges: phase 3 date by
// date, then each phase-4 processor as one range run over the dates (Runner::ExecuteRange: one
// claim, one commit, a ledger run per date), then phases 5 and 6 date by date. The outputs are
// those of RunDate date by date: a phase-4 date reads phase 3 of earlier dates only.
std::vector<DateRunResult> RunDates(engine::Runner& runner, const std::vector<std::string>& dates, int phase,
                                    const std::string& trigger);

// The dates from..to inclusive through RunDates, `range_days` at a time (1: RunDate per date);
// `progress(done, total, date)` after each range.
inline constexpr int kBackfillRangeDays = 31;
std::vector<DateRunResult> Backfill(engine::Runner& runner, const std::string& from, const std::string& to, int phase,
                                    const std::function<void(int, int, const std::string&)>& progress,
                                    int range_days = kBackfillRangeDays);

// Queues the date-partitioned root processors (phase 3 with no inputs) for each date from..to,
// without running them: workers (`nbaprops serve` / `worker`) take them, and triggers queue the
// rest. Returns how many runs were queued.
StatusOr<int64_t> EnqueueDates(engine::Runner& runner, const std::string& from, const std::string& to,
                               const std::string& trigger);

// Queues the root processors of one date inside the caller's transaction (schedule actions);
// returns how many were queued.
StatusOr<int64_t> EnqueueDateRoots(store::Transaction& t, engine::Runner& runner, const std::string& date,
                                   const std::string& trigger);

// The pipeline's schedules (the times of the system we replace):
//   predictions_today  08:00 ET, refreshed 13:00 and 18:00 ET (after the 16 and 22 UTC scrapes):
//                      phase 3 for today's games; triggers carry it through features, predictions
//                      and exports. Failed runs retry under the engine's retry policy.
//   results_yesterday  04:00 ET (after the last game and the 07 UTC scrape), again 09:00 ET (one
//                      more chance before the 10:00 ET grading deadline): phase 3 for yesterday,
//                      whose triggers run grading and the results export
//   daily_health       07:00 ET: the daily health summary of yesterday (pipeline/health.h)
//   scrape_inbox       07, 12, 16, 22 UTC: import the [sources] inbox (only when one is configured)
//   scrape_http        07, 12, 16, 22 UTC: the HTTP sources (pipeline/http_sources.h): the ESPN
//                      scoreboard and The Odds API for today (ET), the ESPN scoreboard and
//                      balldontlie box scores for yesterday
// Fire times are read from the scheduler's clock, so a replay runs them on simulated days.
Status RegisterSchedules(engine::Scheduler& scheduler, engine::Runner& runner);

// Dates that have games in the stored schedule (or box scores), ascending.
StatusOr<std::vector<std::string>> GameDates(store::Store& store);

struct Summary {
  int64_t games = 0, games_final = 0, player_games = 0, box_score_rows = 0, lines = 0, injuries = 0;
  int64_t rejected = 0, unresolved_names = 0, unresolved_rows = 0, players = 0, payloads = 0;
  std::vector<std::pair<std::string, int64_t>> box_scores_by_source;
  int64_t line_names = 0, line_names_resolved = 0;
  std::vector<std::pair<std::string, int64_t>> runs_by_status;
  int64_t dead_letters_open = 0;
  std::vector<std::string> open_incidents;  // "severity key: summary"
  std::string first_date, last_date;
};
StatusOr<Summary> Summarize(store::Store& store);

struct AliasResult {
  std::string player_id, canonical_name;
  int64_t rows_resolved = 0;
  std::vector<std::string> requeued_dates;
  std::vector<int64_t> queued_runs;          // phase 3 of those dates
  std::vector<engine::RunOutcome> outcomes;  // with run_now: the queue, executed
};
// `nbaprops registry alias NAME --player ID` and POST /v1/registry/aliases: records NAME as an
// alias of the player, resolves every stored row that was waiting on that name, marks its
// backlog entries resolved, and queues phase 3 for the affected dates (trigger manual), all in
// one transaction. With run_now (the command's default) it then runs the queue; without, it
// wakes this process's workers and returns (the endpoint: `serve`'s workers do the work).
StatusOr<AliasResult> AddManualAlias(engine::Runner& runner, const std::string& name, const std::string& player_id,
                                     bool run_now = true);

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_PIPELINE_H_
