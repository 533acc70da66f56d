#include "pipeline/registry.h"

#include <cctype>

#include "base/strings.h"
#include "pipeline/player_names.h"

namespace nbaprops::pipeline {

StatusOr<PlayerRegistry> PlayerRegistry::Load(store::Transaction& t) {
  PlayerRegistry r;
  RETURN_IF_ERROR(t.Query("SELECT player_id, canonical_name FROM reference_players", {}, [&](const store::Row& row) {
    r.names_[row.Text(0)] = row.Text(1);
    r.Index(row.Text(0), row.Text(1));
    return OkStatus();
  }));
  RETURN_IF_ERROR(t.Query("SELECT player_id, alias FROM reference_player_aliases", {}, [&](const store::Row& row) {
    r.Index(row.Text(0), row.Text(1));
    return OkStatus();
  }));
  RETURN_IF_ERROR(t.Query("SELECT player_id, team FROM reference_player_teams", {}, [&](const store::Row& row) {
    r.teams_[row.Text(0)].insert(row.Text(1));
    return OkStatus();
  }));
  return r;
}

void PlayerRegistry::Index(const std::string& id, std::string_view name) {
  NameKeys k = MakeNameKeys(name);
  if (k.full.empty()) return;
  by_full_[k.full].insert(id);
  by_no_suffix_[k.no_suffix].insert(id);
  by_nickname_[k.nickname].insert(id);
}

const std::string& PlayerRegistry::CanonicalName(const std::string& id) const {
  static const std::string kEmpty;
  auto it = names_.find(id);
  return it == names_.end() ? kEmpty : it->second;
}

std::string PlayerRegistry::Pick(const std::set<std::string>& ids, std::string_view team, std::string* problem) const {
  if (ids.size() == 1) return *ids.begin();
  // Several players share the key: prefer the only one who played for this team, or (without a
  // team) the only one who has played at all in the stored seasons.
  std::vector<std::string> fits;
  for (const auto& id : ids) {
    auto it = teams_.find(id);
    if (it == teams_.end()) continue;
    if (team.empty() || it->second.count(std::string(team))) fits.push_back(id);
  }
  if (fits.size() == 1) return fits[0];
  std::vector<std::string> names;
  for (const auto& id : ids) names.push_back(CanonicalName(id) + " (" + id + ")");
  *problem = "ambiguous: " + std::to_string(ids.size()) + " players match: " + Join(names, ", ");
  return "";
}

Resolution PlayerRegistry::Resolve(std::string_view name, std::string_view source_player_id,
                                   std::string_view team) const {
  Resolution r;
  if (!source_player_id.empty() && names_.count(std::string(source_player_id))) {
    r.player_id = std::string(source_player_id);
    r.method = "id";
    return r;
  }
  NameKeys k = MakeNameKeys(name);
  if (k.full.empty()) {
    r.problem = "name has no letters";
    return r;
  }
  struct Level {
    const std::unordered_map<std::string, std::set<std::string>>* index;
    const std::string* key;
    const char* method;
  };
  const Level levels[] = {{&by_full_, &k.full, "full"},
                          {&by_no_suffix_, &k.no_suffix, "no_suffix"},
                          {&by_nickname_, &k.nickname, "nickname"}};
  for (const Level& level : levels) {
    auto it = level.index->find(*level.key);
    if (it == level.index->end()) continue;
    std::string problem;
    std::string id = Pick(it->second, team, &problem);
    if (!id.empty()) {
      r.player_id = id;
      r.method = level.method;
      return r;
    }
    r.problem = problem;
    return r;  // an ambiguous strict match must not fall through to a looser one
  }
  r.problem = "no registered player matches '" + k.full + "'";
  return r;
}

Status PlayerRegistry::EnsurePlayer(store::Transaction& t, const std::string& id, const std::string& name,
                                    const std::string& origin, const std::string& birth_date) {
  if (!names_.count(id)) {
    RETURN_IF_ERROR(t.Exec("INSERT INTO reference_players (player_id, canonical_name, birth_date, origin) "
                           "VALUES (?, ?, ?, ?) ON CONFLICT (player_id) DO NOTHING",
                           {id, name, birth_date.empty() ? store::Param() : store::Param(birth_date), origin})
                        .status());
    names_[id] = name;
    Index(id, name);
    return OkStatus();
  }
  if (CanonicalName(id) != name) return AddAlias(t, id, name, origin);
  return OkStatus();
}

Status PlayerRegistry::AddAlias(store::Transaction& t, const std::string& id, const std::string& alias,
                                const std::string& source) {
  if (!names_.count(id)) return NotFoundError("no player with id '" + id + "'; see `nbaprops registry players`");
  RETURN_IF_ERROR(t.Exec("INSERT INTO reference_player_aliases (player_id, alias, source) VALUES (?, ?, ?) "
                         "ON CONFLICT (player_id, alias) DO NOTHING",
                         {id, alias, source})
                      .status());
  Index(id, alias);
  return OkStatus();
}

Status PlayerRegistry::RebuildTeamHistory(store::Transaction& t) {
  RETURN_IF_ERROR(t.Exec("DELETE FROM reference_player_teams").status());
  return t
      .Exec("INSERT INTO reference_player_teams (player_id, team, first_game_date, last_game_date, games) "
            "SELECT player_id, team, MIN(game_date), MAX(game_date), COUNT(*) FROM raw_box_scores "
            "WHERE player_id IS NOT NULL GROUP BY player_id, team")
      .status();
}

Status RefreshUnresolved(store::Transaction& t, const UnresolvedNames& names, int64_t now) {
  static constexpr const char* kCount =
      "SELECT game_date, opponent FROM ("
      " SELECT game_date, COALESCE(team || ' vs ' || opponent, team) AS opponent FROM raw_box_scores"
      "   WHERE player_id IS NULL AND source = ? AND name_key = ?"
      " UNION ALL SELECT game_date, COALESCE('vs ' || opponent, '') FROM raw_player_props"
      "   WHERE player_id IS NULL AND source = ? AND name_key = ?"
      " UNION ALL SELECT report_date, team FROM raw_injury_reports"
      "   WHERE player_id IS NULL AND source = ? AND name_key = ?) u ORDER BY game_date";
  for (const auto& [sk, info] : names) {
    const auto& [source, key] = sk;
    int64_t n = 0;
    std::vector<std::string> examples;
    RETURN_IF_ERROR(t.Query(kCount, {source, key, source, key, source, key}, [&](const store::Row& r) {
      ++n;
      std::string ex = r.Text(0) + " " + r.Text(1);
      if (examples.size() < 3 && (examples.empty() || examples.back() != ex)) examples.push_back(ex);
      return OkStatus();
    }));
    if (n == 0) {
      RETURN_IF_ERROR(t.Exec("UPDATE unresolved_player_names SET occurrences = 0, last_seen = ? "
                             "WHERE source = ? AND normalized = ? AND status = 'pending'",
                             {now, source, key})
                          .status());
      continue;
    }
    RETURN_IF_ERROR(
        t.Exec("INSERT INTO unresolved_player_names (source, original_name, normalized, occurrences, example_games, "
               "reason, status, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?) "
               "ON CONFLICT (source, normalized) DO UPDATE SET occurrences = excluded.occurrences, "
               "example_games = excluded.example_games, reason = excluded.reason, last_seen = excluded.last_seen",
               {source, info.original, key, n, Join(examples, "; "), info.reason, now, now})
            .status());
  }
  return OkStatus();
}

}  // namespace nbaprops::pipeline
