// The daily health summary: one document per date saying how the pipeline did, for the people
// who run it (the observability issue sends it to alert channels; here it is built and kept).
//
// Built for a game date D, at time `now`:
//   games            scheduled / final / postponed on D
//   predictions      live predictions and picks (OVER/UNDER) per system for D
//   graded           the graded record of D per system (prediction_performance_daily)
//   model            the last 14 graded days before and including D, per system: hit rate with a
//                    95% Wilson interval, model MAE vs line MAE, picks
//   runs             runs queued in the 24 hours before `now`, by state; heals (trigger self_heal)
//   dead_letters     open, and first seen in those 24 hours
//   incidents        every open incident (severity, key, summary)
//   deadlines        the date's deadlines and how each went (pipeline/guards.h)
//   breakers         circuit breakers that are not closed
//
// The processor `daily_health_summary` (phase 7, operations: run by the 07:00 ET schedule for
// yesterday, never by a date backfill) writes it to health_summaries, replacing the date's row,
// and announces its text once on the alert channels (engine/alerts.h Announce).
#ifndef NBAPROPS_PIPELINE_HEALTH_H_
#define NBAPROPS_PIPELINE_HEALTH_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "engine/processor.h"
#include "store/store.h"

namespace nbaprops::pipeline {

inline constexpr char kDailyHealthSummary[] = "daily_health_summary";
inline constexpr int kOperationsPhase = 7;

struct HealthSummary {
  std::string date;
  int64_t generated_at_ms = 0;
  int64_t games = 0, games_final = 0, games_postponed = 0;
  struct System {
    std::string system;
    int64_t predictions = 0, picks = 0;
    int64_t wins = 0, losses = 0, pushes = 0, voids = 0;  // graded, on D
    double units = 0;
    // Rolling 14 graded days ending at D.
    int64_t window_days = 0, window_wins = 0, window_losses = 0, window_n_mae = 0;
    double window_hit_rate = 0, window_ci_lo = 0, window_ci_hi = 0, window_mae_model = 0, window_mae_line = 0;
  };
  std::vector<System> systems;
  std::vector<std::pair<std::string, int64_t>> runs_by_status;  // last 24 h
  int64_t heals = 0;
  int64_t dead_letters_open = 0, dead_letters_new = 0;
  std::vector<std::string> open_incidents;  // "severity key: summary"
  std::vector<std::pair<std::string, std::string>> deadlines;  // key -> pending | at_risk | met | missed | met_late
  std::vector<std::pair<std::string, std::string>> breakers;   // source -> open | half_open
};

StatusOr<HealthSummary> BuildHealthSummary(store::Transaction& t, const std::string& date, int64_t now_ms);
std::string HealthSummaryJson(const HealthSummary& s);
// Plain text, a few lines: what a channel message or a terminal shows.
std::string HealthSummaryText(const HealthSummary& s);

// The stored summary of a date (the JSON document), if any.
StatusOr<std::optional<std::string>> LoadHealthSummary(store::Transaction& t, const std::string& date);

std::unique_ptr<engine::Processor> MakeHealthSummaryProcessor();

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_HEALTH_H_
