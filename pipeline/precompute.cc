#include "pipeline/precompute.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "base/strings.h"
#include "base/time.h"
#include "pipeline/lines.h"
#include "pipeline/partition.h"
#include "pipeline/plan.h"
#include "pipeline/played_games.h"

namespace nbaprops::pipeline {
namespace {

using engine::RunContext;
using store::Row;
using store::Transaction;

// One value of a row to insert. Unlike store::Param (a view for immediate execution) it owns its
// text, so rows can be built first and written later inside the output transaction.
class Cell {
 public:
  Cell() = default;
  Cell(int v) : type_(store::Param::Type::kInt), i_(v) {}                      // NOLINT
  Cell(int64_t v) : type_(store::Param::Type::kInt), i_(v) {}                  // NOLINT
  Cell(double v) : type_(store::Param::Type::kDouble), d_(v) {}                // NOLINT
  Cell(std::string v) : type_(store::Param::Type::kText), s_(std::move(v)) {}  // NOLINT
  Cell(const char* v) : type_(store::Param::Type::kText), s_(v) {}             // NOLINT
  Cell(std::string_view v) : type_(store::Param::Type::kText), s_(v) {}        // NOLINT
  store::Param param() const {
    switch (type_) {
      case store::Param::Type::kInt:
        return i_;
      case store::Param::Type::kDouble:
        return d_;
      case store::Param::Type::kText:
        return std::string_view(s_);
      default:
        return {};
    }
  }

 private:
  store::Param::Type type_ = store::Param::Type::kNull;
  int64_t i_ = 0;
  double d_ = 0;
  std::string s_;
};

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kTeamDefenseGames = 15;
constexpr int kTeamOffenseGames = 10;
constexpr int kTeamWindowDays = 45;  // 10 games fit in it even across the All-Star break
constexpr double kEwmaHalfLifeGames = 10;
constexpr int kLast20WindowDays = 56;    // 20 games take at most ~45 days, even across the All-Star break
constexpr double kRotationMinutes = 10;  // an OUT teammate below this average frees nothing

Cell Opt(double v) { return std::isnan(v) ? Cell() : Cell(v); }
double Nan(const Row& r, int col) { return r.IsNull(col) ? kNaN : r.Double(col); }

// Mean of the last `k` values of `v` (all when fewer), skipping NaN; NaN when none.
template <typename F>
double MeanLast(size_t n, size_t k, F value) {
  double sum = 0;
  int count = 0;
  for (size_t i = n - std::min(n, k); i < n; ++i) {
    double x = value(i);
    if (std::isnan(x)) continue;
    sum += x;
    ++count;
  }
  return count ? sum / count : kNaN;
}

struct ExpectedPlayer {
  std::string player_id, game_id, team, opponent;
  int home = 0;
  std::optional<int64_t> days_rest;
  int back_to_back = 0;
  std::string injury_status;
};

StatusOr<std::vector<ExpectedPlayer>> ExpectedPlayers(Transaction& t, const std::string& date) {
  std::vector<ExpectedPlayer> out;
  RETURN_IF_ERROR(
      t.Query("SELECT player_id, game_id, team, opponent, home, days_rest, back_to_back, "
              "COALESCE(injury_status, '') FROM analytics_upcoming_player_game_context WHERE game_date = ? "
              "ORDER BY player_id",
              {date}, [&](const Row& r) {
                out.push_back({r.Text(0), r.Text(1), r.Text(2), r.Text(3), static_cast<int>(r.Int(4)), r.OptInt(5),
                               static_cast<int>(r.Int(6)), r.Text(7)});
                return OkStatus();
              }));
  return out;
}

std::vector<std::string> PlayerIds(const std::vector<ExpectedPlayer>& players) {
  std::vector<std::string> out;
  for (const ExpectedPlayer& p : players) out.push_back(p.player_id);
  return out;
}

// Base for the phase-4 processors: declares phase and output, checks the partition is a date.
class PrecomputeProcessor : public engine::Processor {
 public:
  PrecomputeProcessor(std::string name, std::vector<std::string> inputs, std::string table)
      : name_(std::move(name)), inputs_(std::move(inputs)), table_(std::move(table)) {}
  std::string name() const override { return name_; }
  int phase() const override { return 4; }
  std::vector<std::string> inputs() const override { return inputs_; }
  std::vector<std::string> output_tables() const override { return {table_}; }
  // Its commit replaces the date's rows and writes nothing else (Processor::partition_local_commits).
  bool partition_local_commits() const override { return true; }
  // A date's run reads upstream tables only, so a backfill may run a range of dates at once.
  bool range_runs() const override { return true; }

  Status Run(RunContext& ctx) override {
    int32_t day;
    RETURN_IF_ERROR(RequireDate(ctx, &day));
    return Compute(ctx, ctx.data_date(), day);
  }

 protected:
  virtual Status Compute(RunContext& ctx, const std::string& date, int32_t day) = 0;

  // Replaces the date's partition with `rows` through the prepared INSERT. The write owns its
  // rows: in a range run it runs after Compute returned (Processor::range_runs).
  Status Replace(RunContext& ctx, const std::string& date, std::string insert, std::vector<std::vector<Cell>> rows) {
    ctx.records_out = static_cast<int64_t>(rows.size());
    return ctx.CommitOutput([this, date, insert = std::move(insert), rows = std::move(rows)](Transaction& t) -> Status {
      RETURN_IF_ERROR(t.Exec("DELETE FROM " + table_ + " WHERE game_date = ?", {date}).status());
      ASSIGN_OR_RETURN(auto st, t.Prepare(insert));
      std::vector<store::Param> params;
      for (const auto& row : rows) {
        params.clear();
        for (const Cell& c : row) params.push_back(c.param());
        RETURN_IF_ERROR(st->ExecLater(params));
      }
      return OkStatus();
    });
  }

 private:
  std::string name_;
  std::vector<std::string> inputs_;
  std::string table_;
};

// ---------------------------------------------------------------------------------------------
class TeamDefenseZoneProcessor final : public PrecomputeProcessor {
 public:
  explicit TeamDefenseZoneProcessor(std::shared_ptr<TeamDefenseGamesCache> games)
      : PrecomputeProcessor("team_defense_zone_analysis", {"upcoming_team_game_context"},
                            "precompute_team_defense_zone_analysis"),
        games_(std::move(games)) {}

 protected:
  Status Compute(RunContext& ctx, const std::string& date, int32_t day) override {
    std::vector<Game> games;
    std::map<std::string, std::vector<TeamDefenseGame>> by_team;
    RETURN_IF_ERROR(ctx.store().WithRead([&](Transaction& t) -> Status {
      ASSIGN_OR_RETURN(auto all, GamesOn(t, date));
      for (auto& g : all) {
        if (!g.postponed()) games.push_back(std::move(g));
      }
      ASSIGN_OR_RETURN(by_team, games_->AllBefore(ctx.store(), t, SeasonStart(day), SeasonStart(day), day, name()));
      return OkStatus();
    }));
    double league[4] = {0, 0, 0, 0};  // two, three, ft, possessions
    int league_n = 0;
    for (const auto& [team, v] : by_team) {  // by team, then by day: the summation order is fixed
      for (const TeamDefenseGame& a : v) {
        league[0] += a.two;
        league[1] += a.three;
        league[2] += a.ft;
        league[3] += std::isnan(a.possessions) ? 0 : a.possessions;
        ++league_n;
      }
    }
    auto avg = [&](int i) { return league_n ? league[i] / league_n : kNaN; };
    const double l_two = avg(0), l_three = avg(1), l_ft = avg(2), l_pace = avg(3);
    auto vs = [](double x, double league_avg) { return league_avg > 0 ? x / league_avg - 1 : kNaN; };
    std::vector<std::vector<Cell>> rows;
    for (const Game& g : games) {
      for (const std::string& team : {g.home, g.away}) {
        const auto& v = by_team[team];
        size_t n = v.size();
        auto mean = [&](double TeamDefenseGame::*f) {
          return MeanLast(n, kTeamDefenseGames, [&](size_t i) { return v[i].*f; });
        };
        double two = mean(&TeamDefenseGame::two), three = mean(&TeamDefenseGame::three),
               ft = mean(&TeamDefenseGame::ft);
        rows.push_back({date, team, g.Opponent(team), static_cast<int64_t>(std::min<size_t>(n, kTeamDefenseGames)),
                        Opt(mean(&TeamDefenseGame::points)), Opt(two), Opt(three), Opt(ft), Cell(), Cell(), Opt(l_two),
                        Opt(l_three), Opt(l_ft), Opt(vs(two, l_two)), Opt(vs(three, l_three)), Opt(vs(ft, l_ft)),
                        Opt(mean(&TeamDefenseGame::rating)), Opt(mean(&TeamDefenseGame::possessions)), Opt(l_pace)});
      }
    }
    ctx.expected_min_rows = static_cast<int64_t>(rows.size());
    return Replace(
        ctx, date,
        "INSERT INTO precompute_team_defense_zone_analysis (game_date, team, opponent, games, "
        "points_allowed, two_pt_allowed, three_pt_allowed, ft_allowed, paint_allowed, mid_range_allowed, "
        "league_two_pt, league_three_pt, league_ft, two_pt_vs_league, three_pt_vs_league, ft_vs_league, "
        "defensive_rating, pace, league_pace) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        std::move(rows));
  }

 private:
  std::shared_ptr<TeamDefenseGamesCache> games_;
};

// ---------------------------------------------------------------------------------------------
class PlayerShotZoneProcessor final : public PrecomputeProcessor {
 public:
  explicit PlayerShotZoneProcessor(std::shared_ptr<PlayedGamesCache> games)
      : PrecomputeProcessor("player_shot_zone_analysis", {"upcoming_player_game_context"},
                            "precompute_player_shot_zone_analysis"),
        games_(std::move(games)) {}

 protected:
  Status Compute(RunContext& ctx, const std::string& date, int32_t day) override {
    std::vector<ExpectedPlayer> players;
    std::vector<std::vector<PlayedGame>> played;  // by player, as in `players`
    RETURN_IF_ERROR(ctx.store().WithRead([&](Transaction& t) -> Status {
      ASSIGN_OR_RETURN(players, ExpectedPlayers(t, date));
      ASSIGN_OR_RETURN(played, games_->Before(ctx.store(), t, SeasonStart(day),
                                              std::max(SeasonStart(day), day - kLast20WindowDays), day,
                                              PlayerIds(players), name()));
      return OkStatus();
    }));
    std::vector<std::vector<Cell>> rows;
    for (size_t j = 0; j < players.size(); ++j) {
      const ExpectedPlayer& p = players[j];
      const std::vector<PlayedGame>& g = played[j];
      std::vector<Cell> row = {date, p.player_id, p.team};
      for (size_t k : {10, 20}) {
        size_t n = g.size(), from = n - std::min(n, k);
        double two = 0, three = 0, ft = 0;
        for (size_t i = from; i < n; ++i) {
          two += g[i].two;
          three += g[i].three;
          ft += g[i].ft;
        }
        double total = two + three + ft;
        row.push_back(static_cast<int64_t>(n - from));
        for (double part : {two, three, ft}) row.push_back(total > 0 ? Cell(part / total) : Cell());
      }
      row.push_back(Cell());  // paint: needs play-by-play
      row.push_back(Cell());  // mid-range: needs play-by-play
      rows.push_back(std::move(row));
    }
    ctx.expected_min_rows = static_cast<int64_t>(players.size());
    return Replace(ctx, date,
                   "INSERT INTO precompute_player_shot_zone_analysis (game_date, player_id, team, games_l10, "
                   "two_pt_share_l10, three_pt_share_l10, ft_share_l10, games_l20, two_pt_share_l20, "
                   "three_pt_share_l20, ft_share_l20, paint_share_l10, mid_range_share_l10) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   std::move(rows));
  }

 private:
  std::shared_ptr<PlayedGamesCache> games_;
};

// ---------------------------------------------------------------------------------------------
class PlayerDailyCacheProcessor final : public PrecomputeProcessor {
 public:
  PlayerDailyCacheProcessor(std::shared_ptr<PlayedGamesCache> games, std::shared_ptr<TeamOffenseGamesCache> teams)
      : PrecomputeProcessor("player_daily_cache", {"upcoming_player_game_context"}, "precompute_player_daily_cache"),
        games_(std::move(games)),
        teams_(std::move(teams)) {}

 protected:
  Status Compute(RunContext& ctx, const std::string& date, int32_t day) override {
    std::vector<ExpectedPlayer> players;
    std::vector<std::vector<PlayedGame>> played;  // by player, as in `players`
    std::map<std::string, std::vector<TeamOffenseGame>> team_games;
    RETURN_IF_ERROR(ctx.store().WithRead([&](Transaction& t) -> Status {
      ASSIGN_OR_RETURN(players, ExpectedPlayers(t, date));
      ASSIGN_OR_RETURN(played,
                       games_->Before(ctx.store(), t, SeasonStart(day), SeasonStart(day), day, PlayerIds(players), name()));
      ASSIGN_OR_RETURN(team_games, teams_->AllBefore(ctx.store(), t, SeasonStart(day),
                                                     std::max(SeasonStart(day), day - kTeamWindowDays), day, name()));
      return OkStatus();
    }));
    std::vector<std::vector<Cell>> rows;
    std::vector<double> decay;  // decay[k]: the EWMA weight of the game k games before the last
    for (size_t k = 0; k < players.size(); ++k) {
      const ExpectedPlayer& p = players[k];
      const std::vector<PlayedGame>& g = played[k];
      const size_t n = g.size();
      auto pts = [&](size_t i) { return g[i].points; };
      auto minutes = [&](size_t i) { return g[i].minutes; };
      double std10 = kNaN;
      if (n >= 2) {
        size_t from = n - std::min<size_t>(n, 10);
        double m = MeanLast(n, 10, pts), ss = 0;
        for (size_t i = from; i < n; ++i) ss += (g[i].points - m) * (g[i].points - m);
        std10 = std::sqrt(ss / static_cast<double>(n - from - 1));
      }
      double ewma = kNaN, wsum = 0, xsum = 0, fga = 0, fta = 0, points = 0;
      int games7 = 0, games14 = 0;
      double min7 = 0, min14 = 0;
      while (decay.size() < n) decay.push_back(std::pow(0.5, static_cast<double>(decay.size()) / kEwmaHalfLifeGames));
      for (size_t i = 0; i < n; ++i) {
        double w = decay[n - 1 - i];
        wsum += w;
        xsum += w * g[i].points;
        fga += g[i].fga;
        fta += g[i].fta;
        points += g[i].points;
        if (g[i].day >= day - 7) ++games7, min7 += g[i].minutes;
        if (g[i].day >= day - 14) ++games14, min14 += g[i].minutes;
      }
      if (wsum > 0) ewma = xsum / wsum;
      double ts = fga + 0.44 * fta > 0 ? points / (2 * (fga + 0.44 * fta)) : kNaN;
      const auto& tg = team_games[p.team];
      auto team_mean = [&](double TeamOffenseGame::*f) {
        return MeanLast(tg.size(), kTeamOffenseGames, [&](size_t i) { return tg[i].*f; });
      };
      rows.push_back({date,
                      p.player_id,
                      p.team,
                      static_cast<int64_t>(n),
                      n ? Cell(FormatIsoDate(g.back().day)) : Cell(),
                      Opt(MeanLast(n, 3, pts)),
                      Opt(MeanLast(n, 5, pts)),
                      Opt(MeanLast(n, 10, pts)),
                      Opt(MeanLast(n, n, pts)),
                      Opt(std10),
                      Opt(ewma),
                      Opt(MeanLast(n, 10, minutes)),
                      Opt(MeanLast(n, 10, [&](size_t i) { return g[i].usage; })),
                      Opt(ts),
                      Opt(team_mean(&TeamOffenseGame::pace)),
                      Opt(team_mean(&TeamOffenseGame::rating)),
                      games7,
                      games14,
                      min7,
                      min14,
                      Opt(MeanLast(n, 3, minutes)),
                      Opt(MeanLast(n, n, minutes))});
    }
    ctx.expected_min_rows = static_cast<int64_t>(players.size());
    return Replace(ctx, date,
                   "INSERT INTO precompute_player_daily_cache (game_date, player_id, team, games_season, "
                   "last_game_date, pts_avg_l3, pts_avg_l5, pts_avg_l10, pts_avg_season, pts_std_l10, pts_ewma, "
                   "minutes_avg_l10, usage_avg_l10, ts_season, team_pace_l10, team_off_rating_l10, games_last_7d, "
                   "games_last_14d, minutes_last_7d, minutes_last_14d, minutes_avg_l3, minutes_avg_season) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   std::move(rows));
  }

 private:
  std::shared_ptr<PlayedGamesCache> games_;
  std::shared_ptr<TeamOffenseGamesCache> teams_;
};

// ---------------------------------------------------------------------------------------------
// The per-date rows of the phase-4 tables, keyed for the composite and feature processors.
struct DateTables {
  std::vector<ExpectedPlayer> players;
  std::unordered_map<std::string, std::vector<double>> cache;      // player -> daily cache columns
  std::unordered_map<std::string, std::vector<double>> zones;      // player -> shot zone columns
  std::unordered_map<std::string, std::vector<double>> defense;    // team -> defense zone columns
  std::unordered_map<std::string, std::vector<double>> composite;  // player -> composite columns
};

// Reads the given columns of a precompute table for a date, keyed by `key`; NULL -> NaN.
Status ReadKeyed(Transaction& t, const std::string& table, const std::string& key, const std::string& columns,
                 int ncols, const std::string& date, std::unordered_map<std::string, std::vector<double>>* out) {
  return t.Query("SELECT " + key + ", " + columns + " FROM " + table + " WHERE game_date = ?", {date},
                 [&](const Row& r) {
                   auto& v = (*out)[r.Text(0)];
                   v.resize(ncols);
                   for (int i = 0; i < ncols; ++i) v[i] = Nan(r, i + 1);
                   return OkStatus();
                 });
}

// Column orders used below.
constexpr const char* kCacheCols =
    "games_season, pts_avg_l3, pts_avg_l5, pts_avg_l10, pts_avg_season, pts_std_l10, pts_ewma, minutes_avg_l10, "
    "usage_avg_l10, ts_season, team_pace_l10, team_off_rating_l10, games_last_7d, games_last_14d, minutes_last_7d, "
    "minutes_last_14d, minutes_avg_l3, minutes_avg_season";
enum Cache {
  kGames,
  kL3,
  kL5,
  kL10,
  kSeason,
  kStd10,
  kEwma,
  kMin10,
  kUsage10,
  kTs,
  kPace,
  kORtg,
  kG7,
  kG14,
  kM7,
  kM14,
  kMin3,
  kMinSeason,
  kCacheN
};
constexpr const char* kZoneCols = "two_pt_share_l10, three_pt_share_l10, ft_share_l10";
enum Zone { kTwoShare, kThreeShare, kFtShare, kZoneN };
constexpr const char* kDefenseCols =
    "games, two_pt_vs_league, three_pt_vs_league, ft_vs_league, defensive_rating, pace, league_pace";
enum Defense { kDefGames, kTwoVs, kThreeVs, kFtVs, kDRtg, kDPace, kLeaguePace, kDefenseN };
constexpr const char* kCompositeCols =
    "days_rest, back_to_back, fatigue_score, zone_mismatch, pace_factor, teammates_out, points_freed, usage_spike, "
    "minutes_freed";
enum Composite { kRest, kB2b, kFatigue, kMismatch, kPaceFactor, kOut, kFreed, kSpike, kMinFreed, kCompositeN };

const std::vector<double>* Find(const std::unordered_map<std::string, std::vector<double>>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? nullptr : &it->second;
}

class PlayerCompositeProcessor final : public PrecomputeProcessor {
 public:
  PlayerCompositeProcessor()
      : PrecomputeProcessor("player_composite_factors",
                            {"player_daily_cache", "player_shot_zone_analysis", "team_defense_zone_analysis"},
                            "precompute_player_composite_factors") {}

 protected:
  Status Compute(RunContext& ctx, const std::string& date, int32_t) override {
    DateTables d;
    RETURN_IF_ERROR(ctx.store().WithRead([&](Transaction& t) -> Status {
      ASSIGN_OR_RETURN(d.players, ExpectedPlayers(t, date));
      RETURN_IF_ERROR(ReadKeyed(t, "precompute_player_daily_cache", "player_id", kCacheCols, kCacheN, date, &d.cache));
      RETURN_IF_ERROR(
          ReadKeyed(t, "precompute_player_shot_zone_analysis", "player_id", kZoneCols, kZoneN, date, &d.zones));
      return ReadKeyed(t, "precompute_team_defense_zone_analysis", "team", kDefenseCols, kDefenseN, date, &d.defense);
    }));
    // Rotation players listed OUT, per team: what they leave to the others.
    struct Freed {
      int out = 0;
      double points = 0, minutes = 0, usage = 0;  // usage: share of team possessions while they would play
      double active_load = 0;        // sum of usage x minutes of everyone else
    };
    std::map<std::string, Freed> freed;
    for (const ExpectedPlayer& p : d.players) {
      const auto* c = Find(d.cache, p.player_id);
      if (!c || std::isnan((*c)[kMin10]) || (*c)[kMin10] < kRotationMinutes) continue;
      double usage = std::isnan((*c)[kUsage10]) ? 0 : (*c)[kUsage10];
      Freed& f = freed[p.team];
      if (p.injury_status == "out") {
        ++f.out;
        f.points += std::isnan((*c)[kL10]) ? 0 : (*c)[kL10];
        f.minutes += (*c)[kMin10];
        f.usage += usage * (*c)[kMin10] / 48;
      } else {
        f.active_load += usage * (*c)[kMin10];
      }
    }
    std::vector<std::vector<Cell>> rows;
    for (const ExpectedPlayer& p : d.players) {
      const auto* c = Find(d.cache, p.player_id);
      const auto* z = Find(d.zones, p.player_id);
      const auto* def = Find(d.defense, p.opponent);
      auto cv = [&](int i) { return c ? (*c)[i] : kNaN; };
      auto zero = [](double x) { return std::isnan(x) ? 0.0 : x; };
      double fatigue = 35.0 * p.back_to_back + 35.0 * std::min(1.0, zero(cv(kM7)) / 140.0) +
                       30.0 * std::min(1.0, zero(cv(kG14)) / 8.0);
      double mismatch = kNaN;
      if (z && def && !std::isnan((*z)[kTwoShare])) {
        mismatch =
            (*z)[kTwoShare] * (*def)[kTwoVs] + (*z)[kThreeShare] * (*def)[kThreeVs] + (*z)[kFtShare] * (*def)[kFtVs];
      }
      double pace = kNaN;
      if (def && !std::isnan(cv(kPace)) && (*def)[kLeaguePace] > 0) {
        pace = (cv(kPace) + (*def)[kDPace]) / 2 / (*def)[kLeaguePace] - 1;
      }
      const Freed& f = freed[p.team];
      double spike = kNaN;
      double load = zero(cv(kUsage10)) * zero(cv(kMin10));
      if (p.injury_status != "out" && f.active_load > 0) spike = f.usage * load / f.active_load;
      rows.push_back({date, p.player_id, p.team, p.opponent, p.days_rest ? Cell(*p.days_rest) : Cell(), p.back_to_back,
                      std::round(fatigue * 10) / 10, Opt(mismatch), Opt(pace), f.out, f.points, f.usage, Opt(spike),
                      f.minutes});
    }
    ctx.expected_min_rows = static_cast<int64_t>(d.players.size());
    return Replace(ctx, date,
                   "INSERT INTO precompute_player_composite_factors (game_date, player_id, team, opponent, days_rest, "
                   "back_to_back, fatigue_score, zone_mismatch, pace_factor, teammates_out, points_freed, "
                   "usage_freed, usage_spike, minutes_freed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   std::move(rows));
  }
};

// ---------------------------------------------------------------------------------------------
class FeatureStoreProcessor final : public PrecomputeProcessor, public DeclaresExpectations {
 public:
  explicit FeatureStoreProcessor(const Config& c)
      : PrecomputeProcessor("ml_feature_store",
                            {"player_daily_cache", "player_shot_zone_analysis", "team_defense_zone_analysis",
                             "player_composite_factors"},
                            "precompute_ml_feature_store"),
        chain_(c.sportsbooks),
        policy_(c.line_policy == "latest" ? LinePolicy::kLatest : LinePolicy::kOpening),
        injury_max_age_s_(static_cast<int64_t>(c.injury_max_age_hours) * 3600) {}

  // Before the games: a feature row per player with a line.
  When expected_when() const override { return When::kBeforeGames; }
  Status Expect(Transaction& t, const PlanDay& d, std::vector<engine::Expectation>* out) const override {
    ASSIGN_OR_RETURN(
        auto e,
        CountedExpectation(
            t, name(), d.date, "a feature row per player with a line", d.pre_due_ms,
            "SELECT COUNT(DISTINCT player_id) FROM analytics_upcoming_player_lines WHERE game_date = ?1",
            "SELECT COUNT(DISTINCT l.player_id) FROM analytics_upcoming_player_lines l JOIN "
            "precompute_ml_feature_store "
            "f ON f.game_date = l.game_date AND f.player_id = l.player_id WHERE l.game_date = ?1",
            "SELECT DISTINCT l.player_id FROM analytics_upcoming_player_lines l WHERE l.game_date = ?1 AND NOT EXISTS "
            "(SELECT 1 FROM precompute_ml_feature_store f WHERE f.game_date = l.game_date AND f.player_id = "
            "l.player_id)"));
    // Rows of another feature version (an upgrade changed the contract) are stale: the heal
    // recomputes them, and nothing predicts from them meanwhile (FeatureRowFrom refuses them).
    ASSIGN_OR_RETURN(auto old_version, t.QueryInt("SELECT COUNT(*) FROM precompute_ml_feature_store WHERE game_date = "
                                                  "? AND feature_version <> ?",
                                                  {d.date, std::string(kFeatureVersion)}));
    e.stale = old_version.value_or(0) > 0;
    out->push_back(std::move(e));
    return OkStatus();
  }

 protected:
  Status Compute(RunContext& ctx, const std::string& date, int32_t day) override {
    DateTables d;
    std::map<std::string, std::pair<double, double>> game_lines;  // team -> total, spread
    std::map<std::string, std::vector<LineQuote>> quotes;         // player -> pre-tip snapshots
    bool injury_feed = false;
    RETURN_IF_ERROR(ctx.store().WithRead([&](Transaction& t) -> Status {
      ASSIGN_OR_RETURN(d.players, ExpectedPlayers(t, date));
      ASSIGN_OR_RETURN(injury_feed, InjuryFeedBefore(t, date, day));
      RETURN_IF_ERROR(ReadKeyed(t, "precompute_player_daily_cache", "player_id", kCacheCols, kCacheN, date, &d.cache));
      RETURN_IF_ERROR(
          ReadKeyed(t, "precompute_player_shot_zone_analysis", "player_id", kZoneCols, kZoneN, date, &d.zones));
      RETURN_IF_ERROR(
          ReadKeyed(t, "precompute_team_defense_zone_analysis", "team", kDefenseCols, kDefenseN, date, &d.defense));
      RETURN_IF_ERROR(ReadKeyed(t, "precompute_player_composite_factors", "player_id", kCompositeCols, kCompositeN,
                                date, &d.composite));
      RETURN_IF_ERROR(
          t.Query("SELECT team, total, spread FROM analytics_upcoming_team_game_context WHERE game_date = ?", {date},
                  [&](const Row& r) {
                    game_lines[r.Text(0)] = {Nan(r, 1), Nan(r, 2)};
                    return OkStatus();
                  }));
      return LoadLineQuotes(t, date, &quotes);
    }));
    std::vector<std::vector<Cell>> rows;
    for (const ExpectedPlayer& p : d.players) {
      FeatureRow f = Build(p, d, game_lines, quotes, injury_feed);
      rows.push_back({date, p.game_id, p.player_id, p.team, p.opponent, f.version, EncodeValues(f.values), f.quality,
                      EncodeSources(f.sources), f.quality_score, f.production_ready ? 1 : 0,
                      f.not_ready_reason.empty() ? Cell() : Cell(f.not_ready_reason)});
    }
    ctx.expected_min_rows = static_cast<int64_t>(d.players.size());
    return Replace(ctx, date,
                   "INSERT INTO precompute_ml_feature_store (game_date, game_id, player_id, team, opponent, "
                   "feature_version, feature_values, feature_quality, feature_sources, quality_score, "
                   "is_production_ready, not_ready_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   std::move(rows));
  }

 private:
  // Whether an injury report was on hand before the date's first cutoff (captured within the
  // injury age limit). Without one, "nobody is out" is not known, only assumed: the injury
  // features of every player are then flagged defaulted (seasons imported without injury feeds).
  StatusOr<bool> InjuryFeedBefore(Transaction& t, const std::string& date, int32_t day) const {
    ASSIGN_OR_RETURN(std::vector<Game> games, GamesOn(t, date));
    if (games.empty()) return false;
    int64_t first_cutoff = Cutoff(games.front(), day);
    for (const Game& g : games) first_cutoff = std::min(first_cutoff, Cutoff(g, day));
    ASSIGN_OR_RETURN(auto hit, t.QueryInt("SELECT 1 FROM raw_injury_reports WHERE report_date BETWEEN ? AND ? AND "
                                          "captured_at < ? AND captured_at >= ? LIMIT 1",
                                          {FormatIsoDate(day - 2), date, first_cutoff, first_cutoff - injury_max_age_s_}));
    return hit.has_value();
  }

  FeatureRow Build(const ExpectedPlayer& p, const DateTables& d,
                   const std::map<std::string, std::pair<double, double>>& game_lines,
                   const std::map<std::string, std::vector<LineQuote>>& quotes, bool injury_feed) const {
    const auto& contract = FeatureContract();
    FeatureRow f;
    f.player_id = p.player_id;
    f.game_id = p.game_id;
    f.team = p.team;
    f.opponent = p.opponent;
    f.values.assign(contract.size(), kNaN);
    f.quality.assign(contract.size(), static_cast<char>(FeatureQuality::kMissing));
    f.sources.assign(contract.size(), "");
    for (size_t i = 0; i < contract.size(); ++i) f.sources[i] = std::string(contract[i].source);
    // Sets a feature; NaN stays missing. `enough` false marks a stand-in value as defaulted.
    auto set = [&](std::string_view name, double v, bool enough = true, const char* rule = "fewer_games") {
      int i = FeatureIndex(name);
      if (std::isnan(v)) return;
      f.values[i] = v;
      f.quality[i] = static_cast<char>(enough ? FeatureQuality::kObserved : FeatureQuality::kDefaulted);
      if (!enough) f.sources[i] = std::string("default:") + rule;
    };
    const auto* c = Find(d.cache, p.player_id);
    const auto* z = Find(d.zones, p.player_id);
    const auto* def = Find(d.defense, p.opponent);
    const auto* comp = Find(d.composite, p.player_id);
    const double games = c ? (*c)[kGames] : 0;
    if (c) {
      set("pts_avg_l3", (*c)[kL3], games >= 3);
      set("pts_avg_l5", (*c)[kL5], games >= 5);
      set("pts_avg_l10", (*c)[kL10], games >= 5);
      set("pts_avg_season", (*c)[kSeason], games >= 5);
      set("pts_std_l10", (*c)[kStd10], games >= 5);
      set("pts_ewma", (*c)[kEwma], games >= 5);
      set("minutes_avg_l10", (*c)[kMin10], games >= 5);
      set("minutes_avg_l3", (*c)[kMin3], games >= 3);
      set("minutes_avg_season", (*c)[kMinSeason], games >= 5);
      set("usage_avg_l10", (*c)[kUsage10], games >= 5);
      set("ts_season", (*c)[kTs], games >= 5);
      set("games_season", games);
      set("games_last_7d", (*c)[kG7]);
      set("minutes_last_7d", (*c)[kM7]);
      set("team_pace_l10", (*c)[kPace]);
      set("team_off_rating_l10", (*c)[kORtg]);
    }
    if (def) {
      bool enough = (*def)[kDefGames] >= 5;
      set("opp_def_rating_l15", (*def)[kDRtg], enough, "fewer_team_games");
      set("opp_pace_l15", (*def)[kDPace], enough, "fewer_team_games");
    }
    if (z) {
      set("three_pt_share_l10", (*z)[kThreeShare], games >= 5);
      set("ft_share_l10", (*z)[kFtShare], games >= 5);
    }
    if (comp) {
      set("days_rest", (*comp)[kRest]);
      set("back_to_back", (*comp)[kB2b]);
      set("fatigue_score", (*comp)[kFatigue]);
      set("zone_mismatch", (*comp)[kMismatch], games >= 5);
      set("teammates_out", (*comp)[kOut], injury_feed, "no_injury_report");
      set("points_freed", (*comp)[kFreed], injury_feed, "no_injury_report");
      set("minutes_freed", (*comp)[kMinFreed], injury_feed, "no_injury_report");
      set("usage_spike", (*comp)[kSpike], injury_feed, "no_injury_report");
    }
    set("home", p.home);
    set("injury_questionable",
        p.injury_status == "questionable" || p.injury_status == "doubtful" || p.injury_status == "probable" ? 1 : 0,
        injury_feed, "no_injury_report");
    if (auto q = quotes.find(p.player_id); q != quotes.end()) {
      if (auto line = ChooseLine(ByBook(q->second), chain_, policy_)) {
        set("line", line->quote.line);
        set("line_consensus", *line->consensus);
        set("line_spread_books", *line->spread_books);
        set("line_movement", *line->movement);
        if (auto p_over = VigFreeProbOver(line->quote)) set("line_implied_over", *p_over);
        if (c) set("line_minus_season_avg", line->quote.line - (*c)[kSeason], games >= 5);
      }
    }
    if (auto gl = game_lines.find(p.team); gl != game_lines.end()) {
      set("game_total", gl->second.first);
      set("team_spread", gl->second.second);
    }
    Assess(f);
    return f;
  }

  std::vector<std::string> chain_;
  LinePolicy policy_;
  int64_t injury_max_age_s_;
};

}  // namespace

std::vector<std::unique_ptr<engine::Processor>> MakePrecomputeProcessors(const Config& config) {
  std::vector<std::unique_ptr<engine::Processor>> out;
  out.push_back(std::make_unique<TeamDefenseZoneProcessor>(std::make_shared<TeamDefenseGamesCache>()));
  // Both read the season's box scores before the date: one cache of them for the two.
  auto games = std::make_shared<PlayedGamesCache>();
  out.push_back(std::make_unique<PlayerShotZoneProcessor>(games));
  out.push_back(
      std::make_unique<PlayerDailyCacheProcessor>(std::move(games), std::make_shared<TeamOffenseGamesCache>()));
  out.push_back(std::make_unique<PlayerCompositeProcessor>());
  out.push_back(std::make_unique<FeatureStoreProcessor>(config));
  return out;
}

const char* const kFeatureRowColumns =
    "f.game_date, f.game_id, f.player_id, f.team, f.opponent, f.feature_version, f.feature_values, "
    "f.feature_quality, f.quality_score, f.is_production_ready, COALESCE(f.not_ready_reason, '')";

StatusOr<FeatureRow> FeatureRowFrom(const Row& r) {
  FeatureRow f;
  f.game_date = r.Text(0);
  f.game_id = r.Text(1);
  f.player_id = r.Text(2);
  f.team = r.Text(3);
  f.opponent = r.Text(4);
  f.version = r.Text(5);
  if (f.version != kFeatureVersion) {
    return FailedPreconditionError("ml_feature_store rows for " + f.game_date + " have feature version " + f.version +
                                   ", this build uses " + std::string(kFeatureVersion) +
                                   "; re-run phase 4 for the date (nbaprops run --date " + f.game_date + " --phase 4)");
  }
  ASSIGN_OR_RETURN(f.values, DecodeValues(r.Text(6), FeatureContract().size()));
  f.quality = r.Text(7);
  f.quality_score = r.Double(8);
  f.production_ready = r.Int(9) != 0;
  f.not_ready_reason = r.Text(10);
  return f;
}

Status LoadLineQuotes(Transaction& t, const std::string& date, std::map<std::string, std::vector<LineQuote>>* quotes) {
  return t.Query(
      "SELECT player_id, sportsbook, source, captured_at, line, over_price, under_price FROM "
      "analytics_upcoming_player_lines WHERE game_date = ? ORDER BY player_id, sportsbook, captured_at, line",
      {date}, [&](const Row& r) {
        (*quotes)[r.Text(0)].push_back({r.Text(1), r.Text(2), r.Int(3), r.Double(4), r.OptInt(5), r.OptInt(6)});
        return OkStatus();
      });
}

StatusOr<std::vector<FeatureRow>> LoadFeatureRows(Transaction& t, const std::string& date) {
  std::vector<FeatureRow> rows;
  RETURN_IF_ERROR(t.Query(std::string("SELECT ") + kFeatureRowColumns +
                              " FROM precompute_ml_feature_store f WHERE f.game_date = ? ORDER BY f.player_id",
                          {date}, [&](const Row& r) -> Status {
                            ASSIGN_OR_RETURN(auto f, FeatureRowFrom(r));
                            rows.push_back(std::move(f));
                            return OkStatus();
                          }));
  return rows;
}

}  // namespace nbaprops::pipeline
