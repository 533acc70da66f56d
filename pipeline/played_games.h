// The box scores the phase-4 player processors read: every game a player played this season
// before a date. Reading them afresh for each date costs O(season so far) per date, which made a
// season's backfill quadratic (docs/model.md, "Where phase 4's time goes").
//
// PlayedGamesCache keeps what it read of player_game_summary from one run to the next, partition
// by partition, and trusts a kept partition only while the ledger's version of it is unchanged
// (no run has rewritten it since, engine::Ledger::OutputVersions). So date D reads the
// partitions that are new or rewritten since the last run, O(players that day) in the common
// case of dates in order, and returns exactly what a fresh read in the same transaction would.
//
// Thread-safe; one per store (it starts afresh when handed another).
#ifndef NBAPROPS_PIPELINE_PLAYED_GAMES_H_
#define NBAPROPS_PIPELINE_PLAYED_GAMES_H_

#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "engine/ledger.h"
#include "store/store.h"

namespace nbaprops::pipeline {

struct PlayedGame {
  int32_t day = 0;
  double minutes = 0, points = 0, usage = std::numeric_limits<double>::quiet_NaN();
  double fga = 0, fta = 0, two = 0, three = 0, ft = 0;
};

class PlayedGamesCache {
 public:
  // Games played (minutes > 0) on days in [since, day) by each of `players`, ascending by day,
  // in the order of `players` (empty for a player without one). Fails (naming `reader`) when
  // player_game_summary has not succeeded for every final game date in that range. `t` is a transaction of `store`; `season` is the
  // first day of the date's season (the cache holds one season at a time).
  StatusOr<std::vector<std::vector<PlayedGame>>> Before(const store::Store& store, store::Transaction& t,
                                                        int32_t season, int32_t since, int32_t day,
                                                        const std::vector<std::string>& players,
                                                        const std::string& reader);

  // Partitions read from the store over the cache's life (for tests and benchmarks).
  int64_t partitions_read() const;

 private:
  // Makes the kept partitions those of `versions` (ascending): keeps the longest prefix that is
  // unchanged and reads the rest.
  Status Sync(store::Transaction& t, const std::vector<engine::Ledger::OutputVersion>& versions,
              const std::string& before);

  mutable std::mutex mu_;
  const store::Store* store_ = nullptr;
  int32_t season_ = 0;
  std::vector<engine::Ledger::OutputVersion> kept_;  // ascending by partition (a date)
  std::unordered_map<std::string, std::vector<PlayedGame>> games_;  // by player, ascending by day
  int64_t partitions_read_ = 0;
};

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_PLAYED_GAMES_H_
