// Helpers shared by the date-partitioned processors of phases 3-5: the games of a date, the
// point-in-time cutoff of a game, and the season a date belongs to.
#ifndef NBAPROPS_PIPELINE_PARTITION_H_
#define NBAPROPS_PIPELINE_PARTITION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/processor.h"
#include "store/store.h"

namespace nbaprops::pipeline {

struct Game {
  std::string game_id, home, away, status;
  std::optional<int64_t> tipoff;
  std::optional<int64_t> home_points, away_points;
  bool played() const { return status == "final"; }
  bool postponed() const { return status == "postponed"; }
  std::string Opponent(const std::string& team) const { return team == home ? away : home; }
};

// Every scheduled game of a date (any status), by game id.
StatusOr<std::vector<Game>> GamesOn(store::Transaction& t, const std::string& date);

// The games of a date that will be played there (postponed ones excluded), with first and last
// tip-off; an unknown tip-off counts as 19:00 ET, the usual first tip of an evening slate.
struct Slate {
  int64_t games = 0;
  int64_t first_tip_s = 0, last_tip_s = 0;
  bool tip_unknown = false;
};
StatusOr<Slate> SlateOf(store::Transaction& t, const std::string& date, int32_t day);

// The moment before which information counts as known for a game: its tip-off, or noon ET of the
// game date when the tip-off is unknown (earlier than any regular NBA tip-off, so never late).
int64_t Cutoff(const Game& g, int32_t day);

// The run's partition as a day number; an error naming the partition when it is not a date.
Status RequireDate(const engine::RunContext& ctx, int32_t* day);

// First day of the NBA season containing `day`: 1 September splits them. Seasons open in October
// (2020-21 in December); the latest regular-season game on record is 2019-20's bubble, 2020-08-14.
int32_t SeasonStart(int32_t day);

// Shortest text that reads back as the same double ("%.10g").
std::string Fmt(double v);

// Fails with a message naming the dates when `processor` has not succeeded for all of `dates`:
// a processor reading earlier partitions must not compute on an incomplete history.
Status RequireSucceeded(store::Transaction& t, const std::string& processor, const std::vector<std::string>& dates,
                        const std::string& reader);
// That failure, for the `pending` dates (empty: OK), when the caller already knows them.
Status NotCompleteFor(const std::string& processor, const std::vector<std::string>& pending, const std::string& reader);

// Dates in [from, before) with at least one final game in the schedule, ascending.
StatusOr<std::vector<std::string>> FinalGameDates(store::Transaction& t, const std::string& from,
                                                  const std::string& before);

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_PARTITION_H_
