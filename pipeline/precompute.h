// Phase 4: precompute, one partition per game date, for the players and teams of that date.
//
//   team_defense_zone_analysis  per team playing: points allowed by zone (two, three, free throw)
//                               over its last 15 games against the league average; defensive
//                               rating and pace. Paint/mid-range columns wait for a play-by-play
//                               source and stay NULL.
//   player_shot_zone_analysis   per player: share of points by zone over the last 10 and 20 games
//                               played in the previous 8 weeks
//   player_daily_cache          per player: points averages (3/5/10/season, EWMA), spread, minutes,
//                               usage, true shooting, team pace and rating, recent load
//   player_composite_factors    fatigue, zone mismatch against tonight's defense, pace, usage
//                               freed by teammates listed OUT
//   ml_feature_store            the versioned feature rows (pipeline/features.h)
//
// Point in time: everything for date D is computed from box scores of earlier dates, and from
// the injury reports and line snapshots that upcoming_player_game_context kept because they were
// captured before tip-off. A processor that reads earlier dates' output checks in the ledger that
// those dates succeeded, so several workers never compute on a half-written history.
#ifndef NBAPROPS_PIPELINE_PRECOMPUTE_H_
#define NBAPROPS_PIPELINE_PRECOMPUTE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/config.h"
#include "engine/processor.h"
#include "pipeline/features.h"
#include "pipeline/lines.h"
#include "store/store.h"

namespace nbaprops::pipeline {

std::vector<std::unique_ptr<engine::Processor>> MakePrecomputeProcessors(const Config& config);

// The date's pre-tip line snapshots (analytics_upcoming_player_lines) by player.
Status LoadLineQuotes(store::Transaction& t, const std::string& date,
                      std::map<std::string, std::vector<LineQuote>>* quotes);

// Feature rows of a date as stored (ascending player id).
StatusOr<std::vector<FeatureRow>> LoadFeatureRows(store::Transaction& t, const std::string& date);

// The columns (of precompute_ml_feature_store aliased `f`) FeatureRowFrom reads, first in a
// SELECT; a row of another feature version is an error naming the date and the way out.
extern const char* const kFeatureRowColumns;
StatusOr<FeatureRow> FeatureRowFrom(const store::Row& r);

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_PRECOMPUTE_H_
