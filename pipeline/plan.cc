#include "pipeline/plan.h"

#include <algorithm>
#include <optional>

#include "base/strings.h"
#include "base/time.h"
#include "pipeline/partition.h"

namespace nbaprops::pipeline {
namespace {

using engine::Expectation;
using store::Row;
using store::Transaction;

// At most this many examples of what is missing go into an expectation.
constexpr size_t kExamples = 5;

// Finish time (Unix s) of the latest succeeded run of a processor for a date.
StatusOr<std::optional<int64_t>> LastSuccess(Transaction& t, const char* processor, const std::string& date) {
  return t.QueryInt("SELECT MAX(finished_at) FROM processor_runs WHERE processor = ? AND partition_key = ? AND "
                    "status = 'succeeded'",
                    {processor, date});
}

StatusOr<int64_t> CountOf(Transaction& t, const std::string& sql, const std::string& date) {
  ASSIGN_OR_RETURN(auto n, t.QueryInt(sql, {date}));
  return n.value_or(0);
}

StatusOr<std::string> Examples(Transaction& t, const std::string& sql, const std::string& date) {
  std::vector<std::string> out;
  RETURN_IF_ERROR(t.Query(sql + " LIMIT " + std::to_string(kExamples), {date}, [&](const Row& r) {
    out.push_back(r.Text(0));
    return OkStatus();
  }));
  return Join(out, ", ");
}

// A count-type expectation: `actual_sql` counts what exists of what `expected_sql` says must;
// `missing_sql` lists examples of the difference (run only when short).
StatusOr<Expectation> Counted(Transaction& t, const char* processor, const std::string& date, const char* what,
                              int64_t due_ms, const std::string& expected_sql, const std::string& actual_sql,
                              const std::string& missing_sql) {
  Expectation e{processor, date, date, what, 0, 0, false, due_ms, ""};
  ASSIGN_OR_RETURN(e.expected, CountOf(t, expected_sql, date));
  ASSIGN_OR_RETURN(e.actual, CountOf(t, actual_sql, date));
  if (e.actual < e.expected && !missing_sql.empty()) {
    ASSIGN_OR_RETURN(e.missing, Examples(t, missing_sql, date));
  }
  return e;
}

// `processor` must have succeeded at or after the latest success of `after` (an export after the
// data it exports, grading after the summaries it grades against).
StatusOr<Expectation> Fresh(Transaction& t, const char* processor, const char* after, const std::string& date,
                            const char* what, int64_t due_ms) {
  Expectation e{processor, date, date, what, 1, 0, false, due_ms, ""};
  ASSIGN_OR_RETURN(auto mine, LastSuccess(t, processor, date));
  ASSIGN_OR_RETURN(auto theirs, LastSuccess(t, after, date));
  e.actual = mine ? 1 : 0;
  e.stale = mine && theirs && *mine < *theirs;
  return e;
}

}  // namespace

StatusOr<std::vector<Expectation>> PlanDate(Transaction& t, const std::string& date, const PlanOptions& o) {
  std::optional<int32_t> day = ParseIsoDate(date);
  if (!day) return InvalidArgumentError("plan date '" + date + "' is not YYYY-MM-DD");
  ASSIGN_OR_RETURN(Slate slate, SlateOf(t, date, *day));
  std::vector<Expectation> out;
  if (slate.games == 0) return out;
  const int64_t pre_due = slate.first_tip_s * 1000 - o.pregame_lead_ms;
  const int64_t post_due = slate.last_tip_s * 1000 + o.postgame_delay_ms;
  const int64_t teams = 2 * slate.games;
  const std::string live_games =
      " AND game_id IN (SELECT game_id FROM raw_schedule WHERE game_date = ?1 AND status != 'postponed')";

  for (const std::string& p : o.pregame_chain) {
    Expectation e{p, date, date, "a successful run of " + p, 1, 0, false, pre_due, ""};
    ASSIGN_OR_RETURN(auto at, LastSuccess(t, p.c_str(), date));
    e.actual = at ? 1 : 0;
    out.push_back(std::move(e));
  }
  auto add = [&](StatusOr<Expectation> e) -> Status {
    RETURN_IF_ERROR(e.status());
    out.push_back(std::move(e).value());
    return OkStatus();
  };
  Expectation utgc{"upcoming_team_game_context", date, date, "a context row per team playing", teams, 0, false,
                   pre_due, ""};
  ASSIGN_OR_RETURN(utgc.actual,
                   CountOf(t, "SELECT COUNT(*) FROM analytics_upcoming_team_game_context WHERE game_date = ?1" +
                                  live_games, date));
  out.push_back(utgc);
  // Rosters come from a team's earlier games this season, so a team's first game has none.
  Expectation upgc{"upcoming_player_game_context", date, date,
                   "player context rows for every team playing with a game earlier this season", 0, 0, false,
                   pre_due, ""};
  ASSIGN_OR_RETURN(
      upgc.expected,
      CountOf(t,
              "SELECT COUNT(*) FROM (SELECT home_team AS team FROM raw_schedule WHERE game_date = ?1 AND status != "
              "'postponed' UNION ALL SELECT away_team FROM raw_schedule WHERE game_date = ?1 AND status != "
              "'postponed') d WHERE EXISTS (SELECT 1 FROM raw_schedule e WHERE e.status = 'final' AND e.game_date < ?1 "
              "AND e.game_date >= '" + FormatIsoDate(SeasonStart(*day)) + "' AND (e.home_team = d.team OR e.away_team = "
              "d.team))",
              date));
  ASSIGN_OR_RETURN(upgc.actual, CountOf(t,
                                        "SELECT COUNT(DISTINCT game_id || team) FROM "
                                        "analytics_upcoming_player_game_context WHERE game_date = ?1" + live_games,
                                        date));
  out.push_back(upgc);
  RETURN_IF_ERROR(add(Counted(
      t, "ml_feature_store", date, "a feature row per player with a line", pre_due,
      "SELECT COUNT(DISTINCT player_id) FROM analytics_upcoming_player_lines WHERE game_date = ?1",
      "SELECT COUNT(DISTINCT l.player_id) FROM analytics_upcoming_player_lines l JOIN precompute_ml_feature_store f "
      "ON f.game_date = l.game_date AND f.player_id = l.player_id WHERE l.game_date = ?1",
      "SELECT DISTINCT l.player_id FROM analytics_upcoming_player_lines l WHERE l.game_date = ?1 AND NOT EXISTS "
      "(SELECT 1 FROM precompute_ml_feature_store f WHERE f.game_date = l.game_date AND f.player_id = l.player_id)")));
  const std::string not_out =
      "FROM precompute_ml_feature_store f WHERE f.game_date = ?1 AND NOT EXISTS (SELECT 1 FROM "
      "analytics_upcoming_player_game_context c WHERE c.game_date = f.game_date AND c.player_id = f.player_id AND "
      "c.injury_status = 'out')";
  const std::string predicted =
      " AND EXISTS (SELECT 1 FROM player_prop_predictions p WHERE p.game_date = f.game_date AND p.player_id = "
      "f.player_id AND p.superseded_by IS NULL)";
  ASSIGN_OR_RETURN(Expectation preds,
                   Counted(t, "player_prop_predictions", date,
                           "a live prediction per feature row not listed OUT", pre_due, "SELECT COUNT(*) " + not_out,
                           "SELECT COUNT(*) " + not_out + predicted,
                           "SELECT f.player_id " + not_out + " AND NOT" + predicted.substr(4)));
  ASSIGN_OR_RETURN(auto preds_at, LastSuccess(t, "player_prop_predictions", date));
  ASSIGN_OR_RETURN(auto features_at, LastSuccess(t, "ml_feature_store", date));
  preds.stale = preds_at && features_at && *preds_at < *features_at;
  out.push_back(preds);
  RETURN_IF_ERROR(add(Fresh(t, "export_predictions", "player_prop_predictions", date,
                            "predictions exported after the latest predictions", pre_due)));

  // After the games: nothing below can be made until the box scores are in.
  RETURN_IF_ERROR(add(Counted(
      t, "", date, "final games with box scores for both teams", post_due,
      "SELECT COUNT(*) FROM raw_schedule WHERE game_date = ?1 AND status != 'postponed'",
      "SELECT COUNT(*) FROM raw_schedule s WHERE s.game_date = ?1 AND s.status = 'final' AND (SELECT COUNT(DISTINCT "
      "b.team) FROM raw_box_scores b WHERE b.game_id = s.game_id) = 2",
      "SELECT s.game_id || ' ' || s.away_team || '@' || s.home_team || ' (' || s.status || ')' FROM raw_schedule s "
      "WHERE s.game_date = ?1 AND s.status != 'postponed' AND (s.status != 'final' OR (SELECT COUNT(DISTINCT b.team) "
      "FROM raw_box_scores b WHERE b.game_id = s.game_id) < 2)")));
  if (!out.back().met()) return out;

  const std::string played =
      "FROM (SELECT DISTINCT game_id, player_id FROM raw_box_scores WHERE game_date = ?1 AND minutes > 0 AND "
      "player_id IS NOT NULL) b";
  const std::string summarized =
      " WHERE EXISTS (SELECT 1 FROM analytics_player_game_summary a WHERE a.game_id = b.game_id AND a.player_id = "
      "b.player_id)";
  ASSIGN_OR_RETURN(Expectation pgs,
                   Counted(t, "player_game_summary", date, "a summary row per player who played", post_due,
                           "SELECT COUNT(*) " + played, "SELECT COUNT(*) " + played + summarized,
                           "SELECT b.game_id || ' ' || b.player_id " + played + " WHERE NOT" + summarized.substr(6)));
  ASSIGN_OR_RETURN(auto pgs_at, LastSuccess(t, "player_game_summary", date));
  ASSIGN_OR_RETURN(auto box_at, t.QueryInt("SELECT MAX(p.fetched_at) FROM raw_payloads p WHERE p.payload_id IN "
                                           "(SELECT payload_id FROM raw_box_scores WHERE game_date = ?1)",
                                           {date}));
  pgs.stale = pgs_at && box_at && *pgs_at < *box_at;
  out.push_back(pgs);
  for (const char* p : {"team_offense_game_summary", "team_defense_game_summary"}) {
    Expectation e{p, date, date, "a row per team per game", teams, 0, false, post_due, ""};
    ASSIGN_OR_RETURN(e.actual, CountOf(t,
                                       std::string("SELECT COUNT(*) FROM analytics_") + p +
                                           " WHERE game_date = ?1" + live_games,
                                       date));
    out.push_back(e);
  }
  ASSIGN_OR_RETURN(Expectation graded,
                   Counted(t, "prediction_accuracy", date, "every live prediction graded", post_due,
                           "SELECT COUNT(*) FROM player_prop_predictions WHERE game_date = ?1 AND superseded_by IS NULL",
                           "SELECT COUNT(*) FROM player_prop_predictions p WHERE p.game_date = ?1 AND p.superseded_by "
                           "IS NULL AND EXISTS (SELECT 1 FROM prediction_accuracy a WHERE a.prediction_id = "
                           "p.prediction_id)",
                           ""));
  ASSIGN_OR_RETURN(auto graded_at, LastSuccess(t, "prediction_accuracy", date));
  graded.stale = graded_at && pgs_at && *graded_at < *pgs_at;
  out.push_back(graded);
  RETURN_IF_ERROR(add(Fresh(t, "export_results", "prediction_accuracy", date,
                            "results exported after the latest grading", post_due)));
  return out;
}

std::vector<std::string> PreGameChain(const engine::Runner& runner) {
  std::vector<std::string> out;
  for (int phase : {3, 4}) {
    for (const engine::Processor* p : runner.InOrder(phase)) out.push_back(p->name());
  }
  return out;
}

PlanOptions PlanOptionsFrom(const Config& config, const engine::Runner& runner) {
  PlanOptions o;
  o.lookback_days = config.reconcile_lookback_days;
  o.pregame_chain = PreGameChain(runner);
  return o;
}

engine::ReconcilerOptions ReconcilerOptionsFrom(const Config& config) {
  engine::ReconcilerOptions o;
  o.max_heals_per_cycle = config.max_heals_per_cycle;
  return o;
}

StatusOr<std::vector<Expectation>> PipelinePlanner::Plan(Transaction& t, int64_t now_ms, const std::string& only_date) {
  if (!only_date.empty()) return PlanDate(t, only_date, options_);
  std::vector<Expectation> out;
  const int32_t today = EasternDate(now_ms / 1000);
  for (int32_t d = today - options_.lookback_days; d <= today; ++d) {
    ASSIGN_OR_RETURN(auto day, PlanDate(t, FormatIsoDate(d), options_));
    out.insert(out.end(), day.begin(), day.end());
  }
  return out;
}

}  // namespace nbaprops::pipeline
