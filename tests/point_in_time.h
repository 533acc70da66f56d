// The leakage tests' rewind of a store to what was known before a date's games: everything that
// happened from the date on is deleted, and the date's games are put back to "scheduled".
// Recomputing phases 3-4 for the date afterwards must give byte-identical feature rows.
#ifndef NBAPROPS_TESTS_POINT_IN_TIME_H_
#define NBAPROPS_TESTS_POINT_IN_TIME_H_

#include <string>

#include "base/status.h"
#include "base/time.h"
#include "store/store.h"

namespace nbaprops::testing {

// A date's feature rows as text, every stored column, in player order: what must not change.
inline std::string FeatureRowsOf(store::Store& s, const std::string& date) {
  std::string out;
  Status st = s.WithRead([&](store::Transaction& t) {
    return t.Query(
        "SELECT game_id, player_id, team, opponent, feature_version, feature_values, feature_quality, "
        "feature_sources, quality_score, is_production_ready, COALESCE(not_ready_reason, '') FROM "
        "precompute_ml_feature_store WHERE game_date = ? ORDER BY player_id",
        {date}, [&](const store::Row& r) {
          for (int i = 0; i < 11; ++i) out += r.Text(i) + "|";
          out += "\n";
          return OkStatus();
        });
  });
  return st.ok() ? out : "error: " + st.ToString();
}

inline Status DeleteTheFutureOf(store::Transaction& t, const std::string& date) {
  // Snapshots taken after the date's last tip-off can only be about later games. Seasons imported
  // without tip-off times count noon ET of the date, the cutoff the pipeline uses for them.
  const int64_t noon_et = EasternLocalToUtc(ParseIsoDate(date).value(), 12, 0);
  ASSIGN_OR_RETURN(auto last_tip, t.QueryInt("SELECT COALESCE(MAX(tipoff_utc), ?) FROM raw_schedule WHERE "
                                             "game_date = ?",
                                             {noon_et, date}));
  for (const char* sql : {"DELETE FROM raw_box_scores WHERE game_date >= ?", "DELETE FROM raw_schedule WHERE game_date > ?",
                          "UPDATE raw_schedule SET status = 'scheduled', home_points = NULL, away_points = NULL WHERE "
                          "game_date = ?",
                          "DELETE FROM analytics_player_game_summary WHERE game_date >= ?",
                          "DELETE FROM analytics_team_offense_game_summary WHERE game_date >= ?",
                          "DELETE FROM analytics_team_defense_game_summary WHERE game_date >= ?",
                          "DELETE FROM raw_player_props WHERE game_date > ?",
                          "DELETE FROM raw_injury_reports WHERE report_date > ?",
                          "DELETE FROM raw_game_lines WHERE game_date > ?"}) {
    RETURN_IF_ERROR(t.Exec(sql, {date}).status());
  }
  RETURN_IF_ERROR(t.Exec("DELETE FROM raw_player_props WHERE captured_at >= ?", {*last_tip}).status());
  RETURN_IF_ERROR(t.Exec("DELETE FROM raw_injury_reports WHERE captured_at >= ?", {*last_tip}).status());
  return t.Exec("DELETE FROM raw_game_lines WHERE captured_at >= ?", {*last_tip}).status();
}

}  // namespace nbaprops::testing

#endif  // NBAPROPS_TESTS_POINT_IN_TIME_H_
