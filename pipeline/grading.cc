#include "pipeline/grading.h"

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/stats.h"
#include "base/strings.h"
#include "base/time.h"
#include "pipeline/lines.h"
#include "pipeline/partition.h"
#include "pipeline/plan.h"
#include "pipeline/precompute.h"
#include "pipeline/predictions.h"

namespace nbaprops::pipeline {
namespace {

using store::Param;
using store::Row;
using store::Transaction;

using Live = StoredPrediction;

struct Graded {
  const Live* p = nullptr;
  std::optional<int64_t> actual;
  std::optional<double> minutes, abs_error, signed_error, closing, clv, units;
  std::optional<int64_t> closing_at, price;
  std::string outcome, reason;
};

struct Box {
  double minutes = 0;
  int64_t points = 0;
};

bool IsPick(const std::string& rec) { return rec == "OVER" || rec == "UNDER"; }

class GradingProcessor final : public engine::Processor, public DeclaresExpectations {
 public:
  std::string name() const override { return "prediction_accuracy"; }

  // After the games: every live prediction graded, after the latest player summaries.
  When expected_when() const override { return When::kAfterGames; }
  Status Expect(Transaction& t, const PlanDay& d, std::vector<engine::Expectation>* out) const override {
    ASSIGN_OR_RETURN(auto e,
                     CountedExpectation(
                         t, name(), d.date, "every live prediction graded", d.post_due_ms,
                         "SELECT COUNT(*) FROM player_prop_predictions WHERE game_date = ?1 AND superseded_by IS NULL",
                         "SELECT COUNT(*) FROM player_prop_predictions p WHERE p.game_date = ?1 AND p.superseded_by "
                         "IS NULL AND EXISTS (SELECT 1 FROM prediction_accuracy a WHERE a.prediction_id = "
                         "p.prediction_id)",
                         ""));
    ASSIGN_OR_RETURN(auto mine, LastSuccess(t, name(), d.date));
    ASSIGN_OR_RETURN(auto summaries_at, LastSuccess(t, "player_game_summary", d.date));
    e.stale = mine && summaries_at && *mine < *summaries_at;
    out->push_back(std::move(e));
    return OkStatus();
  }
  int phase() const override { return 5; }
  std::vector<std::string> inputs() const override { return {"player_prop_predictions"}; }
  std::vector<std::string> output_tables() const override {
    return {"prediction_accuracy", "prediction_performance_daily"};
  }
  // Its commit replaces the date's rows and writes nothing else (Processor::partition_local_commits).
  bool partition_local_commits() const override { return true; }

  Status Run(engine::RunContext& ctx) override {
    int32_t day;
    RETURN_IF_ERROR(RequireDate(ctx, &day));
    const std::string& date = ctx.data_date();
    std::vector<Live> live;
    std::map<std::string, Game> game_by_id;                  // the games the predictions name, as scheduled now
    std::map<std::string, std::string> game_date_of;         // game id -> its current date
    std::map<std::pair<std::string, std::string>, Box> box;  // (game, player)
    std::map<std::string, std::string> injury;               // player -> latest pre-tip status
    std::map<std::string, std::vector<BookLines>> closes;    // player -> books
    std::vector<std::string> not_final;
    int64_t latest_tip = 0;
    RETURN_IF_ERROR(ctx.store().WithRead([&](Transaction& t) -> Status {
      ASSIGN_OR_RETURN(auto games, GamesOn(t, date));
      for (const Game& g : games) {
        if (g.played() || g.postponed()) continue;
        not_final.push_back(g.game_id + " " + g.away + "@" + g.home);
        latest_tip = std::max(latest_tip, Cutoff(g, day));
      }
      if (!not_final.empty()) return OkStatus();
      ASSIGN_OR_RETURN(live, LoadLivePredictions(t, date));

      // Where each predicted game is now: a game moved to another date keeps its id.
      RETURN_IF_ERROR(
          t.Query("SELECT s.game_id, s.game_date, s.home_team, s.away_team, s.status, s.tipoff_utc FROM "
                  "raw_schedule s WHERE s.game_id IN (SELECT DISTINCT game_id FROM "
                  "player_prop_predictions WHERE game_date = ?)",
                  {date}, [&](const Row& r) {
                    game_by_id[r.Text(0)] = {r.Text(0),   r.Text(2),    r.Text(3),   r.Text(4),
                                             r.OptInt(5), std::nullopt, std::nullopt};
                    game_date_of[r.Text(0)] = r.Text(1);
                    return OkStatus();
                  }));
      RETURN_IF_ERROR(
          t.Query("SELECT game_id, player_id, minutes, points FROM analytics_player_game_summary WHERE "
                  "game_date = ?",
                  {date}, [&](const Row& r) {
                    box[{r.Text(0), r.Text(1)}] = {r.Double(2), r.Int(3)};
                    return OkStatus();
                  }));
      // The latest injury status per player captured before his game's tip-off.
      RETURN_IF_ERROR(
          t.Query("SELECT i.player_id, i.status, i.team, i.captured_at FROM raw_injury_reports i WHERE "
                  "i.report_date BETWEEN ? AND ? AND i.player_id IS NOT NULL ORDER BY i.captured_at",
                  {FormatIsoDate(day - 1), date}, [&](const Row& r) {
                    for (const Game& g : games) {
                      if (g.home != r.Text(2) && g.away != r.Text(2)) continue;
                      if (r.Int(3) < Cutoff(g, day)) injury[r.Text(0)] = r.Text(1);
                    }
                    return OkStatus();
                  }));
      std::map<std::string, std::vector<LineQuote>> quotes;
      RETURN_IF_ERROR(LoadLineQuotes(t, date, &quotes));
      for (auto& [pid, q] : quotes) closes[pid] = ByBook(q);
      return OkStatus();
    }));
    if (!not_final.empty()) {
      // Games last about 2.5 hours: look again 3 hours after the last tip-off (at least).
      ctx.defer_until_ms = (latest_tip + 3 * 3600) * 1000;
      return FailedPreconditionError(std::to_string(not_final.size()) + " game(s) of " + date + " are not final yet: " +
                                     Join(not_final, ", ") + "; grading waits for every game of the date");
    }

    std::vector<Graded> graded;
    graded.reserve(live.size());
    for (const Live& p : live) {
      Graded g;
      g.p = &p;
      auto where = game_date_of.find(p.game_id);
      auto game = game_by_id.find(p.game_id);
      if (where != game_date_of.end() && where->second != date) {
        g.outcome = "void";
        g.reason = "game_moved: played on " + where->second + " under the same game id";
        graded.push_back(std::move(g));
        continue;
      }
      if (game != game_by_id.end() && game->second.postponed()) {
        g.outcome = "not_graded";
        g.reason = "postponed";
        graded.push_back(std::move(g));
        continue;
      }
      auto b = box.find({p.game_id, p.player_id});
      const bool played = b != box.end() && b->second.minutes > 0;
      if (played) {
        g.actual = b->second.points;
        g.minutes = b->second.minutes;
        if (p.predicted) {
          g.signed_error = *p.predicted - static_cast<double>(*g.actual);
          g.abs_error = std::abs(*g.signed_error);
        }
      } else if (b != box.end()) {
        g.minutes = b->second.minutes;
        g.actual = b->second.points;
      }
      if (!IsPick(p.recommendation) || !p.line) {
        g.outcome = "not_graded";
        g.reason = p.recommendation;
        graded.push_back(std::move(g));
        continue;
      }
      const bool over = p.recommendation == "OVER";
      if (!played) {
        g.outcome = "void";
        auto inj = injury.find(p.player_id);
        if (inj != injury.end() && inj->second == "out") {
          g.reason = "listed_out";
        } else if (inj != injury.end() || b != box.end()) {
          g.reason = "late_scratch";
        } else {
          g.reason = "no_box_score";
        }
        g.units = 0;
      } else if (static_cast<double>(*g.actual) == *p.line) {
        g.outcome = "push";
        g.units = 0;
      } else {
        const bool won = (static_cast<double>(*g.actual) > *p.line) == over;
        g.outcome = won ? "correct" : "incorrect";
        g.price = over ? p.over : p.under;
        g.units = won ? AmericanProfit(g.price.value_or(-110)) : -1.0;
      }
      // Closing-line value: the same book's last pre-tip quote, when later than the one used.
      if (auto c = closes.find(p.player_id); c != closes.end() && p.book) {
        for (const BookLines& bl : c->second) {
          if (bl.book != *p.book || !p.line_at || bl.latest.captured_at <= *p.line_at) continue;
          g.closing = bl.latest.line;
          g.closing_at = bl.latest.captured_at;
          g.clv = over ? bl.latest.line - *p.line : *p.line - bl.latest.line;
        }
      }
      graded.push_back(std::move(g));
    }

    // Daily per-system performance.
    struct Perf {
      int64_t predictions = 0, picks = 0, wins = 0, losses = 0, pushes = 0, voids = 0, not_graded = 0;
      int64_t n_mae = 0, n_clv = 0;
      double units = 0, model = 0, line = 0, clv = 0;
    };
    std::map<std::string, Perf> perf;
    for (const Graded& g : graded) {
      Perf& x = perf[g.p->system];
      ++x.predictions;
      if (g.outcome == "not_graded") {
        ++x.not_graded;
        continue;
      }
      ++x.picks;
      x.wins += g.outcome == "correct";
      x.losses += g.outcome == "incorrect";
      x.pushes += g.outcome == "push";
      x.voids += g.outcome == "void";
      x.units += g.units.value_or(0);
      if (g.abs_error && g.p->line) {
        ++x.n_mae;
        x.model += *g.abs_error;
        x.line += std::abs(*g.p->line - static_cast<double>(*g.actual));
      }
      if (g.clv) ++x.n_clv, x.clv += *g.clv;
    }

    ctx.records_in = static_cast<int64_t>(live.size());
    ctx.expected_min_rows = static_cast<int64_t>(live.size());
    return ctx.CommitOutput([&](Transaction& t) -> Status {
      RETURN_IF_ERROR(t.Exec("DELETE FROM prediction_accuracy WHERE game_date = ?", {date}).status());
      RETURN_IF_ERROR(t.Exec("DELETE FROM prediction_performance_daily WHERE game_date = ?", {date}).status());
      ASSIGN_OR_RETURN(
          auto st,
          t.Prepare("INSERT INTO prediction_accuracy (prediction_id, system_id, game_date, game_id, player_id, team, "
                    "sportsbook, line_source, line, recommendation, confidence, edge, predicted_points, actual_points, "
                    "minutes, "
                    "abs_error, signed_error, outcome, reason, price, units, closing_line, closing_captured_at, clv) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      for (const Graded& g : graded) {
        const Live& p = *g.p;
        RETURN_IF_ERROR(st->ExecLater({p.id,
                                       p.system,
                                       date,
                                       p.game_id,
                                       p.player_id,
                                       p.team,
                                       p.book,
                                       p.source,
                                       p.line,
                                       p.recommendation,
                                       p.confidence,
                                       p.edge,
                                       p.predicted,
                                       g.actual,
                                       g.minutes,
                                       g.abs_error,
                                       g.signed_error,
                                       g.outcome,
                                       g.reason.empty() ? Param() : Param(g.reason),
                                       g.price,
                                       g.units,
                                       g.closing,
                                       g.closing_at,
                                       g.clv}));
      }
      ASSIGN_OR_RETURN(auto pd, t.Prepare("INSERT INTO prediction_performance_daily (game_date, system_id, "
                                          "predictions, picks, wins, losses, pushes, "
                                          "voids, not_graded, units, n_mae, mae_model, mae_line, n_clv, avg_clv) "
                                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      for (const auto& [system, x] : perf) {
        auto mean = [](double s, int64_t n) { return n ? Param(s / static_cast<double>(n)) : Param(); };
        RETURN_IF_ERROR(pd->ExecLater({date, system, x.predictions, x.picks, x.wins, x.losses, x.pushes, x.voids,
                                       x.not_graded, x.units, x.n_mae, mean(x.model, x.n_mae), mean(x.line, x.n_mae),
                                       x.n_clv, mean(x.clv, x.n_clv)}));
      }
      ctx.records_out = static_cast<int64_t>(graded.size());
      int64_t voids = 0, no_box = 0;
      for (const Graded& g : graded) {
        voids += g.outcome == "void";
        no_box += g.reason == "no_box_score";
      }
      ctx.details = "{\"graded\":" + std::to_string(graded.size()) + ",\"voids\":" + std::to_string(voids) +
                    ",\"no_box_score\":" + std::to_string(no_box) + "}";
      return OkStatus();
    });
  }
};

std::string EdgeBandOf(double edge) {
  double a = std::abs(edge);
  if (a < 2) return "1.5-2";
  if (a < 3) return "2-3";
  if (a < 5) return "3-5";
  return "5+";
}

}  // namespace

std::unique_ptr<engine::Processor> MakeGradingProcessor() { return std::make_unique<GradingProcessor>(); }

StatusOr<Report> BuildReport(store::Store& store, const std::string& from, const std::string& to, const std::string& by,
                             const std::string& system) {
  static const std::map<std::string, std::string> kColumn = {{"system", "system_id"},
                                                             {"sportsbook", "COALESCE(sportsbook, '-')"},
                                                             {"line_source", "COALESCE(line_source, '-')"},
                                                             {"confidence", "COALESCE(confidence, '-')"},
                                                             {"edge", "edge"}};
  auto col = kColumn.find(by);
  if (col == kColumn.end()) {
    return InvalidArgumentError("--by '" + by + "' is not one of system, sportsbook, line_source, confidence, edge");
  }
  Report rep{from, to, by, {}, {}};
  rep.total.group = "all";
  std::map<std::string, ReportRow> groups;
  RETURN_IF_ERROR(store.WithRead([&](Transaction& t) {
    return t.Query("SELECT " + col->second +
                       ", outcome, units, abs_error, line, actual_points, clv FROM "
                       "prediction_accuracy WHERE game_date >= ? AND game_date <= ? AND (? = '' OR system_id = ?)",
                   {from, to, system, system}, [&](const Row& r) {
                     std::string key = by == "edge" ? (r.IsNull(0) ? "-" : EdgeBandOf(r.Double(0))) : r.Text(0);
                     for (ReportRow* x : {&rep.total, &groups[key]}) {
                       ++x->n;
                       const std::string outcome = r.Text(1);
                       if (outcome == "not_graded") {
                         ++x->not_graded;
                         continue;
                       }
                       ++x->picks;
                       x->wins += outcome == "correct";
                       x->losses += outcome == "incorrect";
                       x->pushes += outcome == "push";
                       x->voids += outcome == "void";
                       x->units += r.IsNull(2) ? 0 : r.Double(2);
                       if (!r.IsNull(3) && !r.IsNull(4) && !r.IsNull(5)) {
                         ++x->n_mae;
                         x->mae_model += r.Double(3);
                         x->mae_line += std::abs(r.Double(4) - r.Double(5));
                       }
                       if (!r.IsNull(6)) ++x->n_clv, x->clv_avg += r.Double(6);
                     }
                     return OkStatus();
                   });
  }));
  auto finish = [](ReportRow& x) {
    Interval ci = WilsonInterval(x.wins, x.wins + x.losses);
    x.ci_lo = ci.lo;
    x.ci_hi = ci.hi;
    int64_t decided = x.wins + x.losses;
    x.hit_rate = decided ? static_cast<double>(x.wins) / static_cast<double>(decided) : NAN;
    int64_t staked = x.picks - x.voids;
    x.roi = staked ? x.units / static_cast<double>(staked) : NAN;
    x.mae_model = x.n_mae ? x.mae_model / static_cast<double>(x.n_mae) : NAN;
    x.mae_line = x.n_mae ? x.mae_line / static_cast<double>(x.n_mae) : NAN;
    x.clv_avg = x.n_clv ? x.clv_avg / static_cast<double>(x.n_clv) : NAN;
  };
  finish(rep.total);
  for (auto& [k, x] : groups) {
    x.group = k;
    finish(x);
    rep.groups.push_back(x);
  }
  return rep;
}

std::string ReportJson(const Report& r) {
  using nlohmann::json;
  auto num = [](double v) -> json {
    if (std::isnan(v)) return nullptr;
    return std::round(v * 10000) / 10000;
  };
  auto row = [&](const ReportRow& x) {
    return json{{"n", x.n},
                {"picks", x.picks},
                {"wins", x.wins},
                {"losses", x.losses},
                {"pushes", x.pushes},
                {"voids", x.voids},
                {"not_graded", x.not_graded},
                {"hit_rate", num(x.hit_rate)},
                {"hit_rate_ci95", {num(x.ci_lo), num(x.ci_hi)}},
                {"units", num(x.units)},
                {"roi", num(x.roi)},
                {"n_mae", x.n_mae},
                {"mae_model", num(x.mae_model)},
                {"mae_line", num(x.mae_line)},
                {"n_clv", x.n_clv},
                {"clv_avg", num(x.clv_avg)}};
  };
  json doc = row(r.total);
  doc["from"] = r.from;
  doc["to"] = r.to;
  json groups = json::object();
  for (const ReportRow& g : r.groups) groups[g.group] = row(g);
  doc["by"] = {{"key", r.by}, {"groups", groups}};
  return doc.dump(2) + "\n";
}

}  // namespace nbaprops::pipeline
