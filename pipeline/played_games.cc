#include "pipeline/played_games.h"

#include <algorithm>

#include "base/time.h"
#include "pipeline/partition.h"

namespace nbaprops::pipeline {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
double Nan(const store::Row& r, int col) { return r.IsNull(col) ? kNaN : r.Double(col); }

// The rows of `g` (ascending by day) on days in [since, day).
template <typename T>
std::vector<T> Slice(const std::vector<T>& g, int32_t since, int32_t day) {
  auto by_day = [](const T& a, int32_t d) { return a.day < d; };
  auto lo = std::lower_bound(g.begin(), g.end(), since, by_day);
  return std::vector<T>(lo, std::lower_bound(lo, g.end(), day, by_day));
}

}  // namespace

template <typename T>
Status SeasonRowsCache<T>::Prepare(const store::Store& store, store::Transaction& t, int32_t season, int32_t since,
                                   int32_t day, const std::string& reader) {
  const std::string date = FormatIsoDate(day);
  ASSIGN_OR_RETURN(auto finals, FinalGameDates(t, FormatIsoDate(since), date));
  ASSIGN_OR_RETURN(auto versions, engine::Ledger::OutputVersions(t, source_.processor, FormatIsoDate(season), date));
  // The versions are those of the partitions with a succeeded run: a final date among them is done.
  std::vector<std::string> pending;
  auto v = versions.begin();
  for (const std::string& d : finals) {  // both ascending
    while (v != versions.end() && v->partition < d) ++v;
    if (v == versions.end() || v->partition != d) pending.push_back(d);
  }
  RETURN_IF_ERROR(NotCompleteFor(source_.processor, pending, reader));
  if (store_ != &store || season_ != season) {
    store_ = &store;
    season_ = season;
    kept_.clear();
    rows_.clear();
  }
  return Sync(t, versions, date);
}

template <typename T>
StatusOr<std::vector<std::vector<T>>> SeasonRowsCache<T>::Before(const store::Store& store, store::Transaction& t,
                                                                int32_t season, int32_t since, int32_t day,
                                                                const std::vector<std::string>& keys,
                                                                const std::string& reader) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(Prepare(store, t, season, since, day, reader));
  std::vector<std::vector<T>> out(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    auto it = rows_.find(keys[i]);
    if (it != rows_.end()) out[i] = Slice(it->second, since, day);
  }
  return out;
}

template <typename T>
StatusOr<std::map<std::string, std::vector<T>>> SeasonRowsCache<T>::AllBefore(const store::Store& store,
                                                                              store::Transaction& t, int32_t season,
                                                                              int32_t since, int32_t day,
                                                                              const std::string& reader) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(Prepare(store, t, season, since, day, reader));
  std::map<std::string, std::vector<T>> out;
  for (const auto& [key, g] : rows_) {
    if (!g.empty() && g.front().day < day) out.emplace(key, Slice(g, since, day));
  }
  return out;
}

template <typename T>
Status SeasonRowsCache<T>::Sync(store::Transaction& t, const std::vector<engine::Ledger::OutputVersion>& versions,
                                const std::string& before) {
  size_t same = 0;
  while (same < versions.size() && same < kept_.size() && versions[same] == kept_[same]) ++same;
  if (same == versions.size()) return OkStatus();  // everything asked for is kept as it is
  // From the first new or rewritten partition on, what is kept is dropped and read again.
  const std::string& first = versions[same].partition;
  const int32_t first_day = ParseIsoDate(first).value_or(0);
  for (auto& [key, g] : rows_) {
    g.erase(std::lower_bound(g.begin(), g.end(), first_day, [](const T& a, int32_t d) { return a.day < d; }),
            g.end());
  }
  kept_.resize(same);
  std::string last_date;
  int32_t last_day = 0;
  RETURN_IF_ERROR(t.Query(source_.select, {first, before}, [&](const store::Row& r) {
    std::string d = r.Text(1);
    if (d != last_date) {
      last_day = ParseIsoDate(d).value_or(0);
      last_date = std::move(d);
    }
    T value = source_.decode(r);
    value.day = last_day;
    rows_[r.Text(0)].push_back(value);
    return OkStatus();
  }));
  kept_.insert(kept_.end(), versions.begin() + static_cast<std::ptrdiff_t>(same), versions.end());
  partitions_read_ += static_cast<int64_t>(versions.size() - same);
  return OkStatus();
}

template <typename T>
int64_t SeasonRowsCache<T>::partitions_read() const {
  std::lock_guard<std::mutex> lock(mu_);
  return partitions_read_;
}

template class SeasonRowsCache<PlayedGame>;
template class SeasonRowsCache<TeamDefenseGame>;
template class SeasonRowsCache<TeamOffenseGame>;

PlayedGamesCache::PlayedGamesCache()
    : SeasonRowsCache<PlayedGame>(
          {"player_game_summary",
           "SELECT player_id, game_date, minutes, points, usage_rate, COALESCE(fga, 0), COALESCE(fta, 0), "
           "COALESCE(two_pt_points, 0), COALESCE(three_pt_points, 0), COALESCE(ft_points, 0) "
           "FROM analytics_player_game_summary WHERE game_date >= ? AND game_date < ? AND minutes > 0 "
           "ORDER BY game_date, player_id, game_id",
           [](const store::Row& r) {
             return PlayedGame{0,           r.Double(2), r.Double(3), Nan(r, 4), r.Double(5),
                               r.Double(6), r.Double(7), r.Double(8), r.Double(9)};
           }}) {}

TeamDefenseGamesCache::TeamDefenseGamesCache()
    : SeasonRowsCache<TeamDefenseGame>(
          {"team_defense_game_summary",
           "SELECT team, game_date, points_allowed, opp_two_pt_points, opp_three_pt_points, opp_ft_points, "
           "defensive_rating, possessions FROM analytics_team_defense_game_summary WHERE game_date >= ? AND "
           "game_date < ? AND points_allowed IS NOT NULL ORDER BY game_date, team, game_id",
           [](const store::Row& r) {
             return TeamDefenseGame{0, r.Double(2), r.Double(3), r.Double(4), r.Double(5), Nan(r, 6), Nan(r, 7)};
           }}) {}

TeamOffenseGamesCache::TeamOffenseGamesCache()
    : SeasonRowsCache<TeamOffenseGame>(
          {"team_offense_game_summary",
           "SELECT team, game_date, pace, offensive_rating FROM analytics_team_offense_game_summary WHERE "
           "game_date >= ? AND game_date < ? ORDER BY game_date, team, game_id",
           [](const store::Row& r) { return TeamOffenseGame{0, Nan(r, 2), Nan(r, 3)}; }}) {}

}  // namespace nbaprops::pipeline
