// Adapter for the ESPN NBA scoreboard (site.api.espn.com/apis/site/v2/sports/basketball/nba/
// scoreboard?dates=YYYYMMDD): the day's games, their tip-off, status and score. Parser only, pure and
// thread-safe, in the style of pipeline/api_formats.h (same two tiers of failure):
//   - kInvalidArgument: not JSON (a truncated download);
//   - kDataLoss ("schema_mismatch"): `events` is missing, or a field the adapter reads is absent from
//     every event (renamed upstream); the message names the field and what the events have instead;
//   - one unusable event becomes a Reject located by JSON path ("scoreboard.json:$.events[3]").
//
// An item read is one `events[]` element. Mapping, per event: game_id "espn:<id>"; tipoff_utc from
// `date` ("2024-03-02T00:00Z"); game_date = the Eastern date of the tip-off; home/away team from
// competitions[0].competitors[] by `homeAway`, team.abbreviation normalized ("GS" -> GSW); status
// from status.type.id (falling back to competitions[0].status): 1 scheduled, 2 in_progress, 3 final,
// others by name (STATUS_POSTPONED -> postponed, STATUS_CANCELED -> canceled) or status.type.state
// (pre / in / post). Scores are strings ("112"); they are kept for in-progress and final games only.
// An event whose tip-off falls on an Eastern date outside 1900-01-01 to 2200-12-31 is rejected.
#ifndef NBAPROPS_PIPELINE_ESPN_FORMAT_H_
#define NBAPROPS_PIPELINE_ESPN_FORMAT_H_

#include <string_view>

#include "base/status.h"
#include "pipeline/records.h"

namespace nbaprops::pipeline {

StatusOr<Parsed<GameRecord>> ParseEspnScoreboard(std::string_view json, std::string_view location);

// True when the document starts like an ESPN scoreboard (a root object with `leagues` and `events`).
bool LooksLikeEspnScoreboard(std::string_view json);

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_ESPN_FORMAT_H_
