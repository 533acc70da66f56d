#include "pipeline/analytics.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <unordered_map>

#include "base/strings.h"
#include "base/time.h"
#include "engine/incidents.h"
#include "engine/ledger.h"
#include "pipeline/partition.h"
#include "pipeline/plan.h"

namespace nbaprops::pipeline {
namespace {

using engine::Expectation;
using engine::RunContext;
using store::Param;
using store::Row;
using store::Transaction;

int CountPlayed(const std::vector<Game>& games) {
  return static_cast<int>(std::count_if(games.begin(), games.end(), [](const Game& g) { return g.played(); }));
}

// ---------------------------------------------------------------------------------------------
class PlayerGameSummaryProcessor final : public engine::Processor, public DeclaresExpectations {
 public:
  explicit PlayerGameSummaryProcessor(const Config& c)
      : alert_below_(c.minutes_alert_below), block_below_(c.minutes_block_below) {}
  std::string name() const override { return "player_game_summary"; }
  int phase() const override { return 3; }
  std::vector<std::string> output_tables() const override { return {"analytics_player_game_summary"}; }

  // After the games: a summary row per player who played, newer than the date's box scores.
  When expected_when() const override { return When::kAfterGames; }
  Status Expect(Transaction& t, const PlanDay& d, std::vector<Expectation>* out) const override {
    const std::string played =
        "FROM (SELECT DISTINCT game_id, player_id FROM raw_box_scores WHERE game_date = ?1 AND minutes > 0 AND "
        "player_id IS NOT NULL) b";
    const std::string summarized =
        " WHERE EXISTS (SELECT 1 FROM analytics_player_game_summary a WHERE a.game_id = b.game_id AND a.player_id = "
        "b.player_id)";
    ASSIGN_OR_RETURN(
        Expectation e,
        CountedExpectation(t, name(), d.date, "a summary row per player who played", d.post_due_ms,
                           "SELECT COUNT(*) " + played, "SELECT COUNT(*) " + played + summarized,
                           "SELECT b.game_id || ' ' || b.player_id " + played + " WHERE NOT" + summarized.substr(6)));
    ASSIGN_OR_RETURN(auto mine, LastSuccess(t, name(), d.date));
    ASSIGN_OR_RETURN(auto box_at, t.QueryInt("SELECT MAX(p.fetched_at) FROM raw_payloads p WHERE p.payload_id IN "
                                             "(SELECT payload_id FROM raw_box_scores WHERE game_date = ?1)",
                                             {d.date}));
    e.stale = mine && box_at && *mine < *box_at;
    out->push_back(std::move(e));
    return OkStatus();
  }

  Status Run(RunContext& ctx) override {
    int32_t day;
    RETURN_IF_ERROR(RequireDate(ctx, &day));
    const std::string& date = ctx.data_date();
    struct Line {
      std::string game_id, team, opponent, player_id, player_name, source;
      double minutes;
      int64_t points;
      std::optional<int64_t> s[13];  // fgm fga fg3m fg3a ftm fta oreb dreb reb ast stl blk tov
      std::optional<int64_t> starter;
    };
    std::vector<Line> lines;
    std::map<std::string, Game> games;
    int64_t unresolved = 0, duplicates = 0, read = 0, played_games = 0;
    RETURN_IF_ERROR(ctx.store().WithRead([&](Transaction& t) -> Status {
      ASSIGN_OR_RETURN(auto gs, GamesOn(t, date));
      played_games = CountPlayed(gs);
      for (auto& g : gs) games[g.game_id] = g;
      std::set<std::pair<std::string, std::string>> seen;
      // Primary source first, so a secondary source's row for the same player-game is dropped.
      return t.Query(
          "SELECT game_id, team, COALESCE(opponent, ''), player_id, player_name, source, minutes, points, fgm, fga, "
          "fg3m, fg3a, ftm, fta, oreb, dreb, reb, ast, stl, blk, tov, starter FROM raw_box_scores "
          "WHERE game_date = ? ORDER BY game_id, team, CASE source WHEN 'nba_api' THEN 0 ELSE 1 END, name_key",
          {date}, [&](const Row& r) {
            ++read;
            if (r.IsNull(3)) {
              ++unresolved;
              return OkStatus();
            }
            if (!seen.emplace(r.Text(0), r.Text(3)).second) {
              ++duplicates;
              return OkStatus();
            }
            Line l{r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Double(6), r.Int(7), {}, {}};
            for (int i = 0; i < 13; ++i) l.s[i] = r.OptInt(8 + i);
            l.starter = r.OptInt(21);
            lines.push_back(std::move(l));
            return OkStatus();
          });
    }));
    // Team totals for usage rate.
    struct Totals {
      double minutes = 0, fga = 0, fta = 0, tov = 0;
      bool complete = true;
    };
    std::map<std::pair<std::string, std::string>, Totals> totals;
    for (const Line& l : lines) {
      Totals& tt = totals[{l.game_id, l.team}];
      tt.minutes += l.minutes;
      if (l.s[1] && l.s[5] && l.s[12]) {
        tt.fga += *l.s[1];
        tt.fta += *l.s[5];
        tt.tov += *l.s[12];
      } else {
        tt.complete = false;
      }
    }
    ctx.records_in = read;
    // Every played game needs box scores for both teams; otherwise the date is not complete and
    // nothing downstream may run on it.
    std::vector<std::string> missing;
    for (const auto& [id, g] : games) {
      if (!g.played()) continue;
      for (const std::string& team : {g.home, g.away}) {
        if (!totals.count({id, team})) missing.push_back(id + " " + team);
      }
    }
    if (!missing.empty()) {
      return FailedPreconditionError("no resolved box scores for " + std::to_string(missing.size()) +
                                     " team-game(s) of final games: " + Join(missing, ", ") +
                                     "; import the box scores (or resolve their names) and re-run the date");
    }
    // Minutes coverage per game: resolved players' minutes over the 480 two teams play in
    // regulation (overtime can take it past 1). Low coverage means rows are missing from the
    // source or names did not resolve; every per-player sum built on it would be too low.
    std::vector<std::string> low, blocked;
    double min_coverage = 1;
    for (const auto& [id, g] : games) {
      if (!g.played()) continue;
      const double coverage = (totals[{id, g.home}].minutes + totals[{id, g.away}].minutes) / 480.0;
      min_coverage = std::min(min_coverage, coverage);
      char pct[16];
      std::snprintf(pct, sizeof pct, "%.0f%%", 100 * coverage);
      const std::string text = id + " " + g.away + "@" + g.home + " " + pct;
      if (coverage < block_below_) {
        blocked.push_back(text);
      } else if (coverage < alert_below_) {
        low.push_back(text);
      }
    }
    const std::string blocked_key = "minutes_coverage_blocked:" + date, low_key = "minutes_coverage:" + date;
    // Blocking waits for a re-scrape to fill the gap; once grading is due (10:00 ET the next day)
    // no better data is coming in time, so the date proceeds with what it has, loudly.
    const bool past_deadline = ctx.clock().NowSeconds() >= EasternLocalToUtc(day + 1, 10, 0);
    if (!blocked.empty() && past_deadline) {
      for (std::string& b : blocked) low.push_back(b + " (below the block threshold; accepted after the deadline)");
      blocked.clear();
    }
    if (!blocked.empty()) {
      const std::string message = "box-score minutes cover less than " + Fmt(100 * block_below_) + "% of " +
                                  std::to_string(blocked.size()) + " game(s) of " + date + ": " + Join(blocked, ", ") +
                                  "; import the missing box-score rows or resolve their names (nbaprops registry "
                                  "unresolved), or lower [pipeline] minutes_block_below to accept them";
      RETURN_IF_ERROR(ctx.store().WithWrite([&](Transaction& t) {
        return engine::OpenIncident(t, blocked_key, "critical", message, "{}", ctx.clock().NowMillis());
      }));
      return FailedPreconditionError(message);
    }
    ctx.expected_min_rows = 2 * played_games;
    int64_t not_in_schedule = 0;
    return ctx.CommitOutput([&](Transaction& t) -> Status {
      const int64_t now = ctx.clock().NowMillis();
      RETURN_IF_ERROR(engine::ResolveIncident(t, blocked_key, now));
      if (low.empty()) {
        RETURN_IF_ERROR(engine::ResolveIncident(t, low_key, now));
      } else {
        RETURN_IF_ERROR(engine::OpenIncident(t, low_key, "warning",
                                             "box-score minutes cover less than " + Fmt(100 * alert_below_) + "% of " +
                                                 std::to_string(low.size()) + " game(s) of " + date + ": " +
                                                 Join(low, ", "),
                                             "{}", now));
      }
      RETURN_IF_ERROR(t.Exec("DELETE FROM analytics_player_game_summary WHERE game_date = ?", {date}).status());
      ASSIGN_OR_RETURN(
          auto st,
          t.Prepare(
              "INSERT INTO analytics_player_game_summary (game_date, game_id, player_id, player_name, team, opponent, "
              "home, minutes, points, fgm, fga, fg3m, fg3a, ftm, fta, oreb, dreb, reb, ast, stl, blk, tov, "
              "two_pt_points, "
              "three_pt_points, ft_points, usage_rate, true_shooting, starter, source) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      int64_t out = 0;
      for (const Line& l : lines) {
        auto git = games.find(l.game_id);
        std::string opponent = l.opponent;
        int home = 0;
        if (git != games.end()) {
          opponent = git->second.Opponent(l.team);
          home = git->second.home == l.team ? 1 : 0;
        } else {
          ++not_in_schedule;
        }
        const auto& s = l.s;
        std::optional<int64_t> two, three, ft;
        if (s[0] && s[2]) two = 2 * (*s[0] - *s[2]);
        if (s[2]) three = 3 * *s[2];
        if (s[4]) ft = *s[4];
        std::optional<double> usage, ts;
        const Totals& tt = totals[{l.game_id, l.team}];
        double denom = tt.fga + 0.44 * tt.fta + tt.tov;
        if (tt.complete && l.minutes > 0 && denom > 0 && s[1] && s[5] && s[12]) {
          usage = 100.0 * (*s[1] + 0.44 * *s[5] + *s[12]) * (tt.minutes / 5.0) / (l.minutes * denom);
        }
        if (s[1] && s[5] && (*s[1] + 0.44 * *s[5]) > 0) ts = l.points / (2.0 * (*s[1] + 0.44 * *s[5]));
        RETURN_IF_ERROR(st->ExecLater(
            {date,  l.game_id, l.player_id, l.player_name, l.team, opponent, home, l.minutes, l.points, s[0],
             s[1],  s[2],      s[3],        s[4],          s[5],   s[6],     s[7], s[8],      s[9],     s[10],
             s[11], s[12],     two,         three,         ft,     usage,    ts,   l.starter, l.source}));
        ++out;
      }
      ctx.records_out = out;
      ctx.records_rejected = unresolved + duplicates;
      ctx.details = "{\"unresolved_players\":" + std::to_string(unresolved) +
                    ",\"duplicate_rows\":" + std::to_string(duplicates) +
                    ",\"games_not_in_schedule\":" + std::to_string(not_in_schedule) +
                    ",\"min_minutes_coverage\":" + Fmt(min_coverage) + "}";
      return OkStatus();
    });
  }

 private:
  double alert_below_, block_below_;
};

// ---------------------------------------------------------------------------------------------
// A team-level summary computed in SQL from an upstream table of the same date: one row per
// team per played game.
class TeamSqlProcessor final : public engine::Processor, public DeclaresExpectations {
 public:
  TeamSqlProcessor(std::string name, std::string input, std::string table, std::string insert_select)
      : name_(std::move(name)),
        input_(std::move(input)),
        table_(std::move(table)),
        insert_select_(std::move(insert_select)) {}
  std::string name() const override { return name_; }
  int phase() const override { return 3; }
  std::vector<std::string> inputs() const override { return {input_}; }
  std::vector<std::string> output_tables() const override { return {table_}; }
  // Its commit replaces the date's rows and writes nothing else (Processor::partition_local_commits).
  bool partition_local_commits() const override { return true; }

  // After the games: a row per team per game.
  When expected_when() const override { return When::kAfterGames; }
  Status Expect(Transaction& t, const PlanDay& d, std::vector<Expectation>* out) const override {
    Expectation e{name_, d.date, d.date, "a row per team per game", d.teams, 0, false, d.post_due_ms, ""};
    ASSIGN_OR_RETURN(e.actual,
                     CountOf(t, "SELECT COUNT(*) FROM " + table_ + " WHERE game_date = ?1" + d.live_games, d.date));
    out->push_back(std::move(e));
    return OkStatus();
  }

  Status Run(RunContext& ctx) override {
    int32_t day;
    RETURN_IF_ERROR(RequireDate(ctx, &day));
    const std::string& date = ctx.data_date();
    std::vector<Game> games;
    RETURN_IF_ERROR(ctx.store().WithRead([&](Transaction& t) -> Status {
      ASSIGN_OR_RETURN(games, GamesOn(t, date));
      return OkStatus();
    }));
    ctx.expected_min_rows = 2 * CountPlayed(games);
    return ctx.CommitOutput([&](Transaction& t) -> Status {
      RETURN_IF_ERROR(t.Exec("DELETE FROM " + table_ + " WHERE game_date = ?", {date}).status());
      ASSIGN_OR_RETURN(ctx.records_out, t.Exec(insert_select_, {date}));
      return OkStatus();
    });
  }

 private:
  std::string name_, input_, table_, insert_select_;
};

// Official points come from the schedule; box_score_points may be lower when a player is missing
// from every box-score source (box_score_complete = 0 then). The CAST makes PostgreSQL compute in
// binary floating point as SQLite does; its literal 0.44 is an exact NUMERIC otherwise, and the
// two backends' ratings would differ in the last bits.
constexpr char kTeamOffenseSql[] = R"SQL(
INSERT INTO analytics_team_offense_game_summary (game_date, game_id, team, opponent, home, points, box_score_points,
  players, minutes, fgm, fga, fg3m, fg3a, ftm, fta, oreb, dreb, tov, ast, two_pt_points, three_pt_points, ft_points,
  possessions, pace, offensive_rating, box_score_complete)
SELECT p.game_date, p.game_id, p.team, MAX(p.opponent), MAX(p.home),
  CASE WHEN MAX(p.home) = 1 THEN MAX(s.home_points) ELSE MAX(s.away_points) END,
  SUM(p.points), COUNT(*), SUM(p.minutes), SUM(p.fgm), SUM(p.fga), SUM(p.fg3m), SUM(p.fg3a), SUM(p.ftm), SUM(p.fta),
  SUM(p.oreb), SUM(p.dreb), SUM(p.tov), SUM(p.ast), SUM(p.two_pt_points), SUM(p.three_pt_points), SUM(p.ft_points),
  SUM(p.fga) + CAST(0.44 AS DOUBLE PRECISION) * SUM(p.fta) - SUM(p.oreb) + SUM(p.tov),
  CASE WHEN SUM(p.minutes) > 0 THEN 48.0 * (SUM(p.fga) + CAST(0.44 AS DOUBLE PRECISION) * SUM(p.fta) - SUM(p.oreb) + SUM(p.tov)) / (SUM(p.minutes) / 5.0) END,
  CASE WHEN SUM(p.fga) + CAST(0.44 AS DOUBLE PRECISION) * SUM(p.fta) - SUM(p.oreb) + SUM(p.tov) > 0 THEN
    100.0 * COALESCE(CASE WHEN MAX(p.home) = 1 THEN MAX(s.home_points) ELSE MAX(s.away_points) END, SUM(p.points))
    / (SUM(p.fga) + CAST(0.44 AS DOUBLE PRECISION) * SUM(p.fta) - SUM(p.oreb) + SUM(p.tov)) END,
  CASE WHEN SUM(p.points) = CASE WHEN MAX(p.home) = 1 THEN MAX(s.home_points) ELSE MAX(s.away_points) END THEN 1 ELSE 0 END
FROM analytics_player_game_summary p LEFT JOIN raw_schedule s ON s.game_id = p.game_id
WHERE p.game_date = ? GROUP BY p.game_date, p.game_id, p.team
)SQL";

// Each team's defense is its opponent's offense in the same game.
constexpr char kTeamDefenseSql[] = R"SQL(
INSERT INTO analytics_team_defense_game_summary (game_date, game_id, team, opponent, home, points_allowed, opp_fga,
  opp_fg3a, opp_fta, opp_tov, opp_oreb, opp_two_pt_points, opp_three_pt_points, opp_ft_points, possessions,
  defensive_rating)
SELECT o.game_date, o.game_id, o.opponent, o.team, 1 - o.home, COALESCE(o.points, o.box_score_points), o.fga, o.fg3a,
  o.fta, o.tov, o.oreb, o.two_pt_points, o.three_pt_points, o.ft_points, o.possessions,
  CASE WHEN o.possessions > 0 THEN 100.0 * COALESCE(o.points, o.box_score_points) / o.possessions END
FROM analytics_team_offense_game_summary o WHERE o.game_date = ?
)SQL";

// Team schedule facts before a date: last game date and games in the previous 7 days.
struct TeamRest {
  std::optional<int32_t> last_game;
  int games_last_7 = 0;
};

StatusOr<std::map<std::string, TeamRest>> RestBefore(Transaction& t, int32_t day) {
  std::map<std::string, TeamRest> rest;
  RETURN_IF_ERROR(
      t.Query("SELECT home_team, away_team, game_date FROM raw_schedule WHERE game_date < ? AND "
              "game_date >= ? AND status != 'postponed'",
              {FormatIsoDate(day), FormatIsoDate(day - 30)}, [&](const Row& r) {
                int32_t d = ParseIsoDate(r.Text(2)).value_or(0);
                for (const std::string& team : {r.Text(0), r.Text(1)}) {
                  TeamRest& x = rest[team];
                  if (!x.last_game || d > *x.last_game) x.last_game = d;
                  if (d >= day - 7) ++x.games_last_7;
                }
                return OkStatus();
              }));
  return rest;
}

struct InjuryNote {
  std::string status;
  int64_t captured_at = 0;
};

// Latest injury status per player for these teams, captured in [cutoff - max_age, cutoff).
StatusOr<std::map<std::string, std::map<std::string, InjuryNote>>> InjuriesBefore(Transaction& t,
                                                                                  const std::vector<Game>& games,
                                                                                  int32_t day, int max_age_hours) {
  std::map<std::string, std::map<std::string, InjuryNote>> by_team;  // team -> player -> note
  std::map<std::string, int64_t> cutoff;
  int64_t max_cutoff = 0;
  for (const Game& g : games) {
    cutoff[g.home] = cutoff[g.away] = Cutoff(g, day);
    max_cutoff = std::max(max_cutoff, Cutoff(g, day));
  }
  const int64_t age = static_cast<int64_t>(max_age_hours) * 3600;
  RETURN_IF_ERROR(
      t.Query("SELECT team, player_id, status, captured_at FROM raw_injury_reports WHERE report_date "
              "BETWEEN ? AND ? AND player_id IS NOT NULL AND captured_at < ? ORDER BY captured_at",
              {FormatIsoDate(day - 2), FormatIsoDate(day), max_cutoff}, [&](const Row& r) {
                std::string team = r.Text(0);
                auto c = cutoff.find(team);
                int64_t at = r.Int(3);
                if (c == cutoff.end() || at >= c->second || at < c->second - age) return OkStatus();
                by_team[team][r.Text(1)] = {r.Text(2), at};
                return OkStatus();
              }));
  return by_team;
}

// ---------------------------------------------------------------------------------------------
class UpcomingTeamContextProcessor final : public engine::Processor, public DeclaresExpectations {
 public:
  explicit UpcomingTeamContextProcessor(const Config& c) : max_age_hours_(c.injury_max_age_hours) {}
  std::string name() const override { return "upcoming_team_game_context"; }
  int phase() const override { return 3; }
  std::vector<std::string> output_tables() const override { return {"analytics_upcoming_team_game_context"}; }
  // Its commit replaces the date's rows and writes nothing else (Processor::partition_local_commits).
  bool partition_local_commits() const override { return true; }

  // Before the games: a context row per team playing.
  When expected_when() const override { return When::kBeforeGames; }
  Status Expect(Transaction& t, const PlanDay& d, std::vector<Expectation>* out) const override {
    Expectation e{name(), d.date, d.date, "a context row per team playing", d.teams, 0, false, d.pre_due_ms, ""};
    ASSIGN_OR_RETURN(
        e.actual,
        CountOf(t, "SELECT COUNT(*) FROM analytics_upcoming_team_game_context WHERE game_date = ?1" + d.live_games,
                d.date));
    out->push_back(std::move(e));
    return OkStatus();
  }

  Status Run(RunContext& ctx) override {
    int32_t day;
    RETURN_IF_ERROR(RequireDate(ctx, &day));
    const std::string& date = ctx.data_date();
    std::vector<Game> games;
    std::map<std::string, TeamRest> rest;
    std::map<std::string, std::map<std::string, InjuryNote>> injuries;
    std::map<std::string, std::pair<std::optional<double>, std::optional<double>>> lines;  // game -> spread, total
    RETURN_IF_ERROR(ctx.store().WithRead([&](Transaction& t) -> Status {
      ASSIGN_OR_RETURN(auto all, GamesOn(t, date));
      for (auto& g : all) {
        if (!g.postponed()) games.push_back(g);
      }
      ASSIGN_OR_RETURN(rest, RestBefore(t, day));
      ASSIGN_OR_RETURN(injuries, InjuriesBefore(t, games, day, max_age_hours_));
      for (const Game& g : games) {
        // Only lines captured before tip-off; a closing line without a capture time is not used.
        RETURN_IF_ERROR(
            t.Query("SELECT spread_home, total FROM raw_game_lines WHERE game_date = ? AND home_team = ? "
                    "AND away_team = ? AND captured_at IS NOT NULL AND captured_at < ? "
                    "ORDER BY captured_at DESC LIMIT 1",
                    {date, g.home, g.away, Cutoff(g, day)}, [&](const Row& r) {
                      lines[g.game_id] = {r.OptDouble(0), r.OptDouble(1)};
                      return OkStatus();
                    }));
      }
      return OkStatus();
    }));
    ctx.expected_min_rows = 2 * static_cast<int64_t>(games.size());
    return ctx.CommitOutput([&](Transaction& t) -> Status {
      RETURN_IF_ERROR(t.Exec("DELETE FROM analytics_upcoming_team_game_context WHERE game_date = ?", {date}).status());
      ASSIGN_OR_RETURN(
          auto st,
          t.Prepare(
              "INSERT INTO analytics_upcoming_team_game_context (game_date, game_id, team, opponent, home, tipoff_utc, "
              "days_rest, back_to_back, games_last_7, players_out, players_questionable, spread, total) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      int64_t n = 0;
      for (const Game& g : games) {
        for (const std::string& team : {g.home, g.away}) {
          const TeamRest& r = rest[team];
          std::optional<int64_t> days_rest;
          if (r.last_game) days_rest = day - *r.last_game;
          int out = 0, questionable = 0;
          for (const auto& [player, note] : injuries[team]) {
            out += note.status == "out";
            questionable += note.status == "questionable" || note.status == "doubtful";
          }
          std::optional<double> spread, total;
          if (auto it = lines.find(g.game_id); it != lines.end()) {
            spread = it->second.first;
            if (spread && team != g.home) spread = -*spread;
            total = it->second.second;
          }
          RETURN_IF_ERROR(
              st->ExecLater({date, g.game_id, team, g.Opponent(team), team == g.home ? 1 : 0, g.tipoff, days_rest,
                             days_rest && *days_rest == 1 ? 1 : 0, r.games_last_7, out, questionable, spread, total}));
          ++n;
        }
      }
      ctx.records_out = n;
      return OkStatus();
    });
  }

 private:
  int max_age_hours_;
};

// ---------------------------------------------------------------------------------------------
class UpcomingPlayerContextProcessor final : public engine::Processor, public DeclaresExpectations {
  // How far back to look for a team's last N games; 10 NBA games span at most ~25 days outside
  // the All-Star break.
  static constexpr int kRosterWindowDays = 35;
  // A line captured within this many hours after the tip-off of the team's game the evening
  // before was scraped during or right after that game (late scrapes file it under the next date).
  static constexpr int64_t kLateScrapeHours = 6;

 public:
  explicit UpcomingPlayerContextProcessor(const Config& c)
      : roster_games_(c.upcoming_roster_games), max_age_hours_(c.injury_max_age_hours) {}
  // Before the games: player context rows for every team playing. Rosters come from a team's
  // earlier games this season, so a team's first game has none.
  When expected_when() const override { return When::kBeforeGames; }
  Status Expect(Transaction& t, const PlanDay& d, std::vector<Expectation>* out) const override {
    Expectation e{name(), d.date, d.date, "player context rows for every team playing with a game earlier this season",
                  0,      0,      false,  d.pre_due_ms,
                  ""};
    ASSIGN_OR_RETURN(
        e.expected,
        CountOf(t,
                "SELECT COUNT(*) FROM (SELECT home_team AS team FROM raw_schedule WHERE game_date = ?1 AND status != "
                "'postponed' UNION ALL SELECT away_team FROM raw_schedule WHERE game_date = ?1 AND status != "
                "'postponed') d WHERE EXISTS (SELECT 1 FROM raw_schedule e WHERE e.status = 'final' AND e.game_date < "
                "?1 AND e.game_date >= '" +
                    FormatIsoDate(SeasonStart(d.day)) +
                    "' AND (e.home_team = d.team OR "
                    "e.away_team = d.team))",
                d.date));
    ASSIGN_OR_RETURN(e.actual, CountOf(t,
                                       "SELECT COUNT(DISTINCT game_id || team) FROM "
                                       "analytics_upcoming_player_game_context WHERE game_date = ?1" +
                                           d.live_games,
                                       d.date));
    out->push_back(std::move(e));
    return OkStatus();
  }
  std::string name() const override { return "upcoming_player_game_context"; }
  int phase() const override { return 3; }
  std::vector<std::string> inputs() const override { return {"player_game_summary"}; }
  std::vector<std::string> output_tables() const override {
    return {"analytics_upcoming_player_game_context", "analytics_upcoming_player_lines"};
  }

  Status Run(RunContext& ctx) override {
    int32_t day;
    RETURN_IF_ERROR(RequireDate(ctx, &day));
    const std::string& date = ctx.data_date();

    struct Candidate {
      std::string name, team;
      std::set<std::string> reasons;
      std::optional<int32_t> last_game;
      std::string lines_json;
      int line_count = 0;
    };
    struct Prop {
      std::string book;
      double line;
      std::optional<int64_t> over, under;
      int64_t captured_at;
    };
    std::vector<Game> games;
    std::map<std::string, const Game*> game_of_team;
    std::map<std::string, TeamRest> rest;
    std::map<std::string, std::map<std::string, InjuryNote>> injuries;
    std::map<std::string, Candidate> cand;                     // player_id -> candidate
    std::map<std::string, std::map<std::string, Prop>> props;  // player_id -> book -> latest
    struct Snapshot {
      std::string player_id, game_id, book;
      int64_t captured_at;
      double line;
      std::optional<int64_t> over, under;
      std::optional<std::string> snapshot;
      std::string source;
    };
    std::vector<Snapshot> snapshots;  // every pre-tip line matched to this date's game
    int64_t late_scrapes = 0;
    int64_t teams_with_history = 0;

    RETURN_IF_ERROR(ctx.store().WithRead([&](Transaction& t) -> Status {
      ASSIGN_OR_RETURN(auto all, GamesOn(t, date));
      for (auto& g : all) {
        if (!g.postponed()) games.push_back(g);
      }
      for (const Game& g : games) game_of_team[g.home] = game_of_team[g.away] = &g;
      ASSIGN_OR_RETURN(rest, RestBefore(t, day));

      // Teams' played dates in the window, from the schedule.
      const std::string since = FormatIsoDate(day - kRosterWindowDays);
      std::map<std::string, std::set<int32_t>> team_dates;
      std::set<std::string> window;
      RETURN_IF_ERROR(
          t.Query("SELECT home_team, away_team, game_date FROM raw_schedule WHERE game_date < ? AND "
                  "game_date >= ? AND status = 'final'",
                  {date, since}, [&](const Row& r) {
                    int32_t d = ParseIsoDate(r.Text(2)).value_or(0);
                    team_dates[r.Text(0)].insert(d);
                    team_dates[r.Text(1)].insert(d);
                    window.insert(r.Text(2));
                    return OkStatus();
                  }));
      // This reads earlier dates' player_game_summary: with several workers an earlier date may
      // still be in flight, and computing now would silently miss its games.
      RETURN_IF_ERROR(RequireSucceeded(t, "player_game_summary", {window.begin(), window.end()}, name()));
      // Recent box scores: each player's latest game and team, each team's last N game dates.
      struct Seen {
        int32_t date = 0;
        std::string team;
      };
      std::unordered_map<std::string, Seen> latest;
      latest.reserve(1024);
      // Each player's most recent game in the window (a covering index scan).
      RETURN_IF_ERROR(
          t.Query("SELECT player_id, team, game_date FROM analytics_player_game_summary WHERE "
                  "game_date < ? AND game_date >= ?",
                  {date, since}, [&](const Row& r) {
                    int32_t d = ParseIsoDate(r.Text(2)).value_or(0);
                    auto& seen = latest[r.Text(0)];
                    if (d >= seen.date) {
                      seen.date = d;
                      seen.team = r.Text(1);
                    }
                    return OkStatus();
                  }));
      std::map<std::string, int32_t> roster_since;  // team -> earliest of its last N game dates
      for (auto& [team, dates] : team_dates) {
        if (!game_of_team.count(team)) continue;
        ++teams_with_history;
        auto it = dates.rbegin();
        for (int i = 1; i < roster_games_ && std::next(it) != dates.rend(); ++i) ++it;
        roster_since[team] = *it;
      }
      for (auto& [pid, s] : latest) {
        auto first_date = roster_since.find(s.team);
        if (first_date == roster_since.end() || s.date < first_date->second) continue;
        Candidate& c = cand[pid];
        c.team = s.team;
        c.last_game = s.date;
        c.reasons.insert("recent_games");
      }

      // Injury reports known before tip-off.
      ASSIGN_OR_RETURN(injuries, InjuriesBefore(t, games, day, max_age_hours_));
      for (auto& [team, players] : injuries) {
        for (auto& [pid, note] : players) {
          Candidate& c = cand[pid];
          if (c.team.empty()) c.team = team;
          if (c.team != team) continue;  // a stale report listing a traded player under his old team
          c.reasons.insert("injury_report");
          if (auto it = latest.find(pid); it != latest.end()) c.last_game = it->second.date;
        }
      }

      // Lines known before tip-off, matched to the game by player and opponent, not by the
      // date a scrape filed them under (late scrapes file last night's games under today).
      // A snapshot taken while (or soon after) the team's game of the previous evening was on belongs
      // to that game, whatever date it was filed under.
      int64_t max_cutoff = 0;
      for (const Game& g : games) max_cutoff = std::max(max_cutoff, Cutoff(g, day));
      std::map<std::string, int64_t> previous_tipoff;
      ASSIGN_OR_RETURN(auto yesterday, GamesOn(t, FormatIsoDate(day - 1)));
      for (const Game& g : yesterday) {
        if (g.tipoff && !g.postponed()) previous_tipoff[g.home] = previous_tipoff[g.away] = *g.tipoff;
      }
      RETURN_IF_ERROR(t.Query(
          "SELECT player_id, player_name, COALESCE(opponent, ''), sportsbook, line, over_price, under_price, "
          "captured_at, game_date, snapshot, source FROM raw_player_props WHERE game_date BETWEEN ? AND ? AND "
          "player_id IS NOT NULL "
          "AND market = 'player_points' AND captured_at < ? ORDER BY captured_at",
          {FormatIsoDate(day - 1), FormatIsoDate(day + 1), max_cutoff}, [&](const Row& r) {
            std::string pid = r.Text(0);
            std::string team;
            if (auto it = cand.find(pid); it != cand.end() && !it->second.team.empty()) {
              team = it->second.team;
            } else if (auto l = latest.find(pid); l != latest.end()) {
              team = l->second.team;
            }
            auto g = game_of_team.find(team);
            if (team.empty() || g == game_of_team.end()) return OkStatus();
            const Game& game = *g->second;
            std::string opp = r.Text(2);
            if (opp.empty() ? r.Text(8) != date : opp != game.Opponent(team)) return OkStatus();
            int64_t at = r.Int(7);
            int64_t cut = Cutoff(game, day);
            if (at >= cut || at < cut - 36 * 3600) return OkStatus();
            if (auto prev = previous_tipoff.find(team);
                prev != previous_tipoff.end() && at >= prev->second && at < prev->second + kLateScrapeHours * 3600) {
              ++late_scrapes;
              return OkStatus();
            }
            props[pid][r.Text(3)] = {r.Text(3), r.Double(4), r.OptInt(5), r.OptInt(6), at};
            snapshots.push_back(
                {pid, game.game_id, r.Text(3), at, r.Double(4), r.OptInt(5), r.OptInt(6), r.OptText(9), r.Text(10)});
            Candidate& c = cand[pid];
            if (c.team.empty()) c.team = team;
            c.reasons.insert("line");
            if (auto l = latest.find(pid); l != latest.end()) c.last_game = l->second.date;
            return OkStatus();
          }));
      // Canonical names from the registry.
      RETURN_IF_ERROR(t.Query("SELECT player_id, canonical_name FROM reference_players", {}, [&](const Row& r) {
        if (auto it = cand.find(r.Text(0)); it != cand.end()) it->second.name = r.Text(1);
        return OkStatus();
      }));
      for (auto& [pid, c] : cand) {
        if (c.name.empty()) c.name = pid;
      }
      return OkStatus();
    }));

    ctx.expected_min_rows = teams_with_history;
    return ctx.CommitOutput([&](Transaction& t) -> Status {
      RETURN_IF_ERROR(
          t.Exec("DELETE FROM analytics_upcoming_player_game_context WHERE game_date = ?", {date}).status());
      RETURN_IF_ERROR(t.Exec("DELETE FROM analytics_upcoming_player_lines WHERE game_date = ?", {date}).status());
      ASSIGN_OR_RETURN(auto lines, t.Prepare("INSERT INTO analytics_upcoming_player_lines (game_date, game_id, "
                                             "player_id, sportsbook, captured_at, line, "
                                             "over_price, under_price, snapshot, source) VALUES (?, ?, ?, ?, ?, ?, ?, "
                                             "?, ?, ?) ON CONFLICT DO NOTHING"));
      for (const Snapshot& x : snapshots) {
        RETURN_IF_ERROR(lines->ExecLater(
            {date, x.game_id, x.player_id, x.book, x.captured_at, x.line, x.over, x.under, x.snapshot, x.source}));
      }
      ASSIGN_OR_RETURN(
          auto st,
          t.Prepare(
              "INSERT INTO analytics_upcoming_player_game_context (game_date, game_id, player_id, player_name, team, "
              "opponent, home, tipoff_utc, days_rest, back_to_back, team_games_last_7, roster_reason, injury_status, "
              "injury_reported_at, line_count, lines) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      int64_t n = 0;
      for (auto& [pid, c] : cand) {
        auto g = game_of_team.find(c.team);
        if (g == game_of_team.end()) continue;
        const Game& game = *g->second;
        std::optional<int64_t> days_rest;
        if (c.last_game) days_rest = day - *c.last_game;
        const TeamRest& r = rest[c.team];
        bool b2b = r.last_game && day - *r.last_game == 1;
        std::optional<std::string> inj;
        std::optional<int64_t> inj_at;
        if (auto ti = injuries.find(c.team); ti != injuries.end()) {
          if (auto pi = ti->second.find(pid); pi != ti->second.end()) {
            inj = pi->second.status;
            inj_at = pi->second.captured_at;
          }
        }
        std::string json = "[";
        int count = 0;
        if (auto pp = props.find(pid); pp != props.end()) {
          for (auto& [book, p] : pp->second) {
            if (count++) json += ",";
            json += "{\"book\":\"" + book + "\",\"line\":" + Fmt(p.line) +
                    ",\"over\":" + (p.over ? std::to_string(*p.over) : "null") +
                    ",\"under\":" + (p.under ? std::to_string(*p.under) : "null") + ",\"captured_at\":\"" +
                    FormatIsoTimestamp(p.captured_at) + "\"}";
          }
        }
        json += "]";
        RETURN_IF_ERROR(st->ExecLater({date, game.game_id, pid, c.name, c.team, game.Opponent(c.team),
                                       c.team == game.home ? 1 : 0, game.tipoff, days_rest, b2b ? 1 : 0, r.games_last_7,
                                       Join(std::vector<std::string>(c.reasons.begin(), c.reasons.end()), ","), inj,
                                       inj_at, count, json}));
        ++n;
      }
      ctx.records_out = n;
      ctx.details = "{\"line_snapshots\":" + std::to_string(snapshots.size()) +
                    ",\"late_scrape_lines_dropped\":" + std::to_string(late_scrapes) + "}";
      return OkStatus();
    });
  }

 private:
  int roster_games_;
  int max_age_hours_;
};

}  // namespace

std::vector<std::unique_ptr<engine::Processor>> MakeAnalyticsProcessors(const Config& config) {
  std::vector<std::unique_ptr<engine::Processor>> out;
  out.push_back(std::make_unique<PlayerGameSummaryProcessor>(config));
  out.push_back(std::make_unique<TeamSqlProcessor>("team_offense_game_summary", "player_game_summary",
                                                   "analytics_team_offense_game_summary", kTeamOffenseSql));
  out.push_back(std::make_unique<TeamSqlProcessor>("team_defense_game_summary", "team_offense_game_summary",
                                                   "analytics_team_defense_game_summary", kTeamDefenseSql));
  out.push_back(std::make_unique<UpcomingTeamContextProcessor>(config));
  out.push_back(std::make_unique<UpcomingPlayerContextProcessor>(config));
  return out;
}

}  // namespace nbaprops::pipeline
