// Phase 3: analytics tables, one partition per game date.
//
//   player_game_summary          per player per game: minutes, points, splits, usage, true shooting
//   team_offense_game_summary    per team per game, from player_game_summary (+ schedule score)
//   team_defense_game_summary    per team per game: what the opponent's offense did against it
//   upcoming_team_game_context   per team per scheduled game: rest, back-to-back, injuries, lines
//   upcoming_player_game_context per expected player: opponent, rest, injury status and lines as
//                                known before tip-off
//
// Point in time: the upcoming_* tables read only rows captured before the game's tip-off (or,
// when the tip-off is unknown, before 12:00 ET on the game date) and box scores of earlier dates.
#ifndef NBAPROPS_PIPELINE_ANALYTICS_H_
#define NBAPROPS_PIPELINE_ANALYTICS_H_

#include <memory>
#include <vector>

#include "base/config.h"
#include "engine/processor.h"

namespace nbaprops::pipeline {

// The five phase-3 processors, upstream first.
std::vector<std::unique_ptr<engine::Processor>> MakeAnalyticsProcessors(const Config& config);

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_ANALYTICS_H_
