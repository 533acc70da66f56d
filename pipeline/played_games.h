// The season so far of the per-game tables the phase-4 processors read: every game a player played
// this season before a date (player_game_summary), every game's defense and offense of each team
// (team_defense_game_summary, team_offense_game_summary). Reading them afresh for each date costs
// O(season so far) per date, which made a season's backfill quadratic (docs/model.md, "Where
// phase 4's time goes").
//
// SeasonRowsCache keeps what it read of one such table from one run to the next, partition by
// partition, and trusts a kept partition only while the ledger's version of it is unchanged (no
// run has rewritten it since, engine::Ledger::OutputVersions). So date D reads the partitions that
// are new or rewritten since the last run, O(rows of one day) in the common case of dates in
// order, and returns exactly what a fresh read in the same transaction would.
//
// Thread-safe; one per store (it starts afresh when handed another).
#ifndef NBAPROPS_PIPELINE_PLAYED_GAMES_H_
#define NBAPROPS_PIPELINE_PLAYED_GAMES_H_

#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "engine/ledger.h"
#include "store/store.h"

namespace nbaprops::pipeline {

// What a SeasonRowsCache reads: `processor` writes `select`'s table by game date (the ledger's
// versions are its runs'). `select` reads the rows of the dates in [?1, ?2): the key first, the
// game date second, ordered by game date then key. `decode` makes a row's value; the cache sets
// its `day` (T has an int32_t day).
template <typename T>
struct SeasonRowsSource {
  std::string processor;
  std::string select;
  T (*decode)(const store::Row& r);
};

template <typename T>
class SeasonRowsCache {
 public:
  explicit SeasonRowsCache(SeasonRowsSource<T> source) : source_(std::move(source)) {}

  // Rows on days in [since, day) of each of `keys`, ascending by day, in the order of `keys`
  // (empty for a key without one). Fails (naming `reader`) when the source processor has not
  // succeeded for every final game date in that range. `t` is a transaction of `store`; `season`
  // is the first day of the date's season (the cache holds one season at a time).
  StatusOr<std::vector<std::vector<T>>> Before(const store::Store& store, store::Transaction& t, int32_t season,
                                               int32_t since, int32_t day, const std::vector<std::string>& keys,
                                               const std::string& reader);
  // The same for every key that has a row in the season before `day`, keys ascending (a key
  // whose rows are all before `since` maps to an empty vector).
  StatusOr<std::map<std::string, std::vector<T>>> AllBefore(const store::Store& store, store::Transaction& t,
                                                            int32_t season, int32_t since, int32_t day,
                                                            const std::string& reader);

  // Partitions read from the store over the cache's life (for tests and benchmarks).
  int64_t partitions_read() const;

 private:
  // Checks the range is complete and brings the kept partitions up to date; holds mu_.
  Status Prepare(const store::Store& store, store::Transaction& t, int32_t season, int32_t since, int32_t day,
                 const std::string& reader);
  // Makes the kept partitions those of `versions` (ascending): keeps the longest prefix that is
  // unchanged and reads the rest.
  Status Sync(store::Transaction& t, const std::vector<engine::Ledger::OutputVersion>& versions,
              const std::string& before);

  const SeasonRowsSource<T> source_;
  mutable std::mutex mu_;
  const store::Store* store_ = nullptr;
  int32_t season_ = 0;
  std::vector<engine::Ledger::OutputVersion> kept_;  // ascending by partition (a date)
  std::unordered_map<std::string, std::vector<T>> rows_;  // by key, ascending by day
  int64_t partitions_read_ = 0;
};

// A game a player played (minutes > 0), from player_game_summary; keyed by player.
struct PlayedGame {
  int32_t day = 0;
  double minutes = 0, points = 0, usage = std::numeric_limits<double>::quiet_NaN();
  double fga = 0, fta = 0, two = 0, three = 0, ft = 0;
};
class PlayedGamesCache : public SeasonRowsCache<PlayedGame> {
 public:
  PlayedGamesCache();
};

// What a team allowed in a game with a known score (NaN: not known), from
// team_defense_game_summary; keyed by team.
struct TeamDefenseGame {
  int32_t day = 0;
  double points = 0, two = 0, three = 0, ft = 0, rating = 0, possessions = 0;
};
class TeamDefenseGamesCache : public SeasonRowsCache<TeamDefenseGame> {
 public:
  TeamDefenseGamesCache();
};

// A team's pace and offensive rating in a game (NaN: not known), from team_offense_game_summary;
// keyed by team.
struct TeamOffenseGame {
  int32_t day = 0;
  double pace = 0, rating = 0;
};
class TeamOffenseGamesCache : public SeasonRowsCache<TeamOffenseGame> {
 public:
  TeamOffenseGamesCache();
};

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_PLAYED_GAMES_H_
