#include "pipeline/played_games.h"

#include <algorithm>

#include "base/time.h"
#include "pipeline/partition.h"

namespace nbaprops::pipeline {

StatusOr<std::vector<std::vector<PlayedGame>>> PlayedGamesCache::Before(const store::Store& store,
                                                                        store::Transaction& t, int32_t season,
                                                                        int32_t since, int32_t day,
                                                                        const std::vector<std::string>& players,
                                                                        const std::string& reader) {
  const std::string date = FormatIsoDate(day);
  ASSIGN_OR_RETURN(auto finals, FinalGameDates(t, FormatIsoDate(since), date));
  ASSIGN_OR_RETURN(auto versions,
                   engine::Ledger::OutputVersions(t, "player_game_summary", FormatIsoDate(season), date));
  // The versions are those of the partitions with a succeeded run: a final date among them is done.
  std::vector<std::string> pending;
  auto v = versions.begin();
  for (const std::string& d : finals) {  // both ascending
    while (v != versions.end() && v->partition < d) ++v;
    if (v == versions.end() || v->partition != d) pending.push_back(d);
  }
  RETURN_IF_ERROR(NotCompleteFor("player_game_summary", pending, reader));
  std::lock_guard<std::mutex> lock(mu_);
  if (store_ != &store || season_ != season) {
    store_ = &store;
    season_ = season;
    kept_.clear();
    games_.clear();
  }
  RETURN_IF_ERROR(Sync(t, versions, date));
  std::vector<std::vector<PlayedGame>> out(players.size());
  for (size_t i = 0; i < players.size(); ++i) {
    auto it = games_.find(players[i]);
    if (it == games_.end()) continue;
    const std::vector<PlayedGame>& g = it->second;
    auto by_day = [](const PlayedGame& a, int32_t d) { return a.day < d; };
    auto lo = std::lower_bound(g.begin(), g.end(), since, by_day);
    out[i].assign(lo, std::lower_bound(lo, g.end(), day, by_day));
  }
  return out;
}

Status PlayedGamesCache::Sync(store::Transaction& t, const std::vector<engine::Ledger::OutputVersion>& versions,
                              const std::string& before) {
  size_t same = 0;
  while (same < versions.size() && same < kept_.size() && versions[same] == kept_[same]) ++same;
  if (same == versions.size()) return OkStatus();  // everything asked for is kept as it is
  // From the first new or rewritten partition on, what is kept is dropped and read again.
  const std::string& first = versions[same].partition;
  const int32_t first_day = ParseIsoDate(first).value_or(0);
  for (auto& [player, g] : games_) {
    g.erase(std::lower_bound(g.begin(), g.end(), first_day,
                             [](const PlayedGame& a, int32_t d) { return a.day < d; }),
            g.end());
  }
  kept_.resize(same);
  std::string last_date;
  int32_t last_day = 0;
  RETURN_IF_ERROR(t.Query(
      "SELECT player_id, game_date, minutes, points, usage_rate, COALESCE(fga, 0), COALESCE(fta, 0), "
      "COALESCE(two_pt_points, 0), COALESCE(three_pt_points, 0), COALESCE(ft_points, 0) "
      "FROM analytics_player_game_summary WHERE game_date >= ? AND game_date < ? AND minutes > 0 "
      "ORDER BY game_date, player_id, game_id",
      {first, before}, [&](const store::Row& r) {
        std::string d = r.Text(1);
        if (d != last_date) {
          last_day = ParseIsoDate(d).value_or(0);
          last_date = std::move(d);
        }
        games_[r.Text(0)].push_back({last_day, r.Double(2), r.Double(3), r.IsNull(4) ? PlayedGame{}.usage : r.Double(4),
                                     r.Double(5), r.Double(6), r.Double(7), r.Double(8), r.Double(9)});
        return OkStatus();
      }));
  kept_.insert(kept_.end(), versions.begin() + static_cast<std::ptrdiff_t>(same), versions.end());
  partitions_read_ += static_cast<int64_t>(versions.size() - same);
  return OkStatus();
}

int64_t PlayedGamesCache::partitions_read() const {
  std::lock_guard<std::mutex> lock(mu_);
  return partitions_read_;
}

}  // namespace nbaprops::pipeline
