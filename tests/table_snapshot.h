// What "the same outputs" means for the end-to-end tests that compare a disturbed run with a clean
// one (fault_sweep_test, soak_test): every domain table (raw_*, analytics_*, precompute_*,
// predictions, grades, rejected records, the registry) as sorted row texts, with the columns that
// depend on when or in which order rows were written left out (ids, *_at, *_run_id). Doubles are
// written as the shortest text that reads back to the same bits, so SQLite and PostgreSQL compare.
//
// Predictions are history: re-running a date appends a generation and points the old one at it
// (pipeline/predictions.h), and how often a date is re-run depends on timing and faults, so only
// the generation in force is compared; HistoryViolations checks the history itself.
#ifndef NBAPROPS_TESTS_TABLE_SNAPSHOT_H_
#define NBAPROPS_TESTS_TABLE_SNAPSHOT_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "store/store.h"
#include "tests/test_util.h"

namespace nbaprops::testing {

inline bool VolatileColumn(const std::string& col) {
  static const std::set<std::string> kIds = {"id",       "payload_id", "prediction_id",
                                             "fetch_id", "run_id",     "superseded_by"};
  auto ends = [&](const std::string& suffix) {
    return col.size() > suffix.size() && col.compare(col.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return kIds.count(col) > 0 || ends("_at") || ends("_run_id");
}

inline const std::vector<std::string>& DomainTables() {
  static const std::vector<std::string> kTables = {"raw_schedule",
                                                   "raw_box_scores",
                                                   "raw_injury_reports",
                                                   "raw_player_props",
                                                   "raw_game_lines",
                                                   "raw_payloads",
                                                   "rejected_records",
                                                   "reference_players",
                                                   "reference_player_aliases",
                                                   "reference_player_teams",
                                                   "unresolved_player_names",
                                                   "analytics_player_game_summary",
                                                   "analytics_team_offense_game_summary",
                                                   "analytics_team_defense_game_summary",
                                                   "analytics_upcoming_player_game_context",
                                                   "analytics_upcoming_team_game_context",
                                                   "analytics_upcoming_player_lines",
                                                   "precompute_team_defense_zone_analysis",
                                                   "precompute_player_shot_zone_analysis",
                                                   "precompute_player_composite_factors",
                                                   "precompute_player_daily_cache",
                                                   "precompute_ml_feature_store",
                                                   "player_prop_predictions",
                                                   "prediction_accuracy",
                                                   "prediction_performance_daily"};
  return kTables;
}

// One value as the snapshots compare it: NULL, the integer, the double to 17 digits, the text.
inline std::string CellText(const store::Row& r, int i) {
  switch (r.TypeOf(i)) {
    case store::Param::Type::kNull:
      return "NULL";
    case store::Param::Type::kInt:
      return std::to_string(r.Int(i));
    case store::Param::Type::kDouble: {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", r.Double(i));
      return buf;
    }
    case store::Param::Type::kText:
      return r.Text(i);
  }
  return "";
}

using TableSnapshot = std::map<std::string, std::vector<std::string>>;

inline TableSnapshot Snapshot(store::Store& s) {
  TableSnapshot out;
  for (const std::string& table : DomainTables()) {
    auto& rows = out[table];
    const char* where = table == "player_prop_predictions" ? " WHERE superseded_by IS NULL" : "";
    Status st = s.WithRead([&](store::Transaction& t) {
      return t.Query("SELECT * FROM " + table + where, {}, [&](const store::Row& r) {
        std::string line;
        for (int i = 0; i < r.size(); ++i) {
          if (VolatileColumn(r.ColumnName(i))) continue;
          line += r.ColumnName(i) + "=" + CellText(r, i) + "|";
        }
        rows.push_back(std::move(line));
        return OkStatus();
      });
    });
    EXPECT_TRUE(st.ok()) << table << ": " << st.ToString();
    std::sort(rows.begin(), rows.end());  // not ORDER BY: the backends collate text differently
  }
  return out;
}

// The first difference between two snapshots, or "".
inline std::string SnapshotDiff(const TableSnapshot& want, const TableSnapshot& got) {
  for (const auto& [table, rows] : want) {
    const auto& other = got.at(table);
    if (rows == other) continue;
    std::string msg = table + ": " + std::to_string(other.size()) + " rows, clean run " + std::to_string(rows.size());
    auto [a, b] = std::mismatch(rows.begin(), rows.end(), other.begin(), other.end());
    if (a != rows.end()) msg += "\n  clean: " + *a;
    if (b != other.end()) msg += "\n  here:  " + *b;
    return msg;
  }
  return "";
}

// What must hold of the predictions' and grades' history whatever happened: one prediction in
// force per (date, system, player), every superseded one pointing at a row that exists, one grade
// per (date, system, player). Returns the violations.
inline std::vector<std::string> HistoryViolations(store::Store& s) {
  std::vector<std::string> out;
  auto check = [&](const std::string& what, const std::string& sql) {
    if (int64_t n = Count(s, sql)) out.push_back(std::to_string(n) + " " + what);
  };
  check("players with two predictions in force",
        "SELECT COUNT(*) FROM (SELECT 1 FROM player_prop_predictions WHERE superseded_by IS NULL GROUP BY game_date, "
        "system_id, player_id HAVING COUNT(*) > 1) d");
  check("superseded predictions pointing at no successor",
        "SELECT COUNT(*) FROM player_prop_predictions o WHERE o.superseded_by > 0 AND NOT EXISTS (SELECT 1 FROM "
        "player_prop_predictions p WHERE p.prediction_id = o.superseded_by)");
  check("players graded twice",
        "SELECT COUNT(*) FROM (SELECT 1 FROM prediction_accuracy GROUP BY game_date, system_id, player_id, game_id "
        "HAVING COUNT(*) > 1) d");
  return out;
}

}  // namespace nbaprops::testing

#endif  // NBAPROPS_TESTS_TABLE_SNAPSHOT_H_
