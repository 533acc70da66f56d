#include "pipeline/export.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/file.h"
#include "base/stats.h"
#include "base/strings.h"
#include "base/time.h"
#include "engine/ledger.h"
#include "pipeline/features.h"
#include "pipeline/partition.h"
#include "pipeline/plan.h"
#include "pipeline/precompute.h"
#include "pipeline/predictions.h"

namespace nbaprops::pipeline {
namespace {

using nlohmann::json;
using store::Row;
using store::Transaction;

constexpr int kMaxBestBets = 15;
constexpr int kMaxPerTeam = 2;

// What must be complete for a document group: processor -> its output table (by game_date).
const std::vector<std::pair<std::string, std::string>> kPredictionPhases = {
    {"upcoming_team_game_context", "analytics_upcoming_team_game_context"},
    {"upcoming_player_game_context", "analytics_upcoming_player_game_context"},
    {"team_defense_zone_analysis", "precompute_team_defense_zone_analysis"},
    {"player_shot_zone_analysis", "precompute_player_shot_zone_analysis"},
    {"player_daily_cache", "precompute_player_daily_cache"},
    {"player_composite_factors", "precompute_player_composite_factors"},
    {"ml_feature_store", "precompute_ml_feature_store"},
    {"player_prop_predictions", "player_prop_predictions"}};
const std::vector<std::pair<std::string, std::string>> kResultPhases = {
    {"player_game_summary", "analytics_player_game_summary"}, {"prediction_accuracy", "prediction_accuracy"}};

json Num(std::optional<double> v, int digits = 3) {
  if (!v || std::isnan(*v)) return nullptr;
  double f = std::pow(10.0, digits);
  return std::round(*v * f) / f;
}
json Opt(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

// Empty when every phase the documents rest on is complete for the date; otherwise why not.
StatusOr<std::string> Unhealthy(Transaction& t, const std::string& date,
                                const std::vector<std::pair<std::string, std::string>>& phases) {
  std::vector<std::string> problems;
  for (const auto& [processor, table] : phases) {
    ASSIGN_OR_RETURN(auto run, engine::Ledger::Latest(t, processor, date));
    if (!run) {
      problems.push_back(processor + " has not run");
      continue;
    }
    if (run->status != "succeeded") {
      problems.push_back(processor + " is " + run->status);
      continue;
    }
    ASSIGN_OR_RETURN(auto rows, t.QueryInt("SELECT COUNT(*) FROM " + table + " WHERE game_date = ?", {date}));
    if (run->records_out.value_or(0) > 0 && rows.value_or(0) == 0) {
      problems.push_back(processor + " wrote " + std::to_string(*run->records_out) + " rows but " + table +
                         " has none for the date");
    }
  }
  return Join(problems, "; ");
}

// Writes `doc` to dir/rel, or, when `halt` is set, re-writes the last good document there with
// the halt envelope (keeping halt_since of a halt already in force).
Status Publish(const std::string& dir, const std::string& rel, json doc, const std::string& halt, int64_t now,
               std::vector<std::string>* written) {
  const std::string path = dir + "/" + rel;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (!halt.empty()) {
    json last;
    if (auto text = ReadFile(path); text.ok()) last = json::parse(*text, nullptr, false);
    if (last.is_object() && !last.is_discarded()) {
      std::string since = last.value("halt_active", false) && last["halt_since"].is_string()
                              ? last["halt_since"].get<std::string>()
                              : FormatIsoTimestamp(now);
      doc = std::move(last);
      doc["halt_since"] = since;
    } else {
      doc["halt_since"] = FormatIsoTimestamp(now);
    }
    doc["halt_active"] = true;
    doc["halt_reason"] = halt;
  } else {
    doc["halt_active"] = false;
    doc["halt_reason"] = nullptr;
    doc["halt_since"] = nullptr;
  }
  RETURN_IF_ERROR(WriteFileAtomic(path, doc.dump(2) + "\n"));
  written->push_back(path);
  return OkStatus();
}

std::string Headline(const std::set<std::string>& systems) {
  for (const char* s : {"market", "ensemble", "xgboost", "moving_average"}) {
    if (systems.count(s)) return s;
  }
  return systems.empty() ? "" : *systems.begin();
}

using Pred = StoredPrediction;
constexpr double kMinutesReason = 3;  // a minutes projection this far from the last-10 average is a reason

std::string F1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Up to three plain-language reasons for a pick, strongest first, drawn from its features.
std::vector<std::string> Reasons(const Pred& p, const FeatureRow* f) {
  const bool over = p.recommendation == "OVER";
  std::vector<std::pair<double, std::string>> r;  // strength, text
  const double line = p.line.value_or(0);
  if (f) {
    double l5 = f->at("pts_avg_l5"), season = f->at("pts_avg_season"), out = f->at("teammates_out"),
           freed = f->at("points_freed"), zone = f->at("zone_mismatch"), b2b = f->at("back_to_back"),
           total = f->at("game_total"), rest = f->at("days_rest");
    if (!std::isnan(l5) && (l5 > line) == over && std::abs(l5 - line) >= 1) {
      r.push_back({std::abs(l5 - line), "Averaging " + F1(l5) + " points over his last 5 games, " +
                                            (over ? "above" : "below") + " the " + F1(line) + " line"});
    }
    if (!std::isnan(season) && (season > line) == over && std::abs(season - line) >= 1) {
      r.push_back({std::abs(season - line) * 0.8,
                   "Season average " + F1(season) + " points, " + (over ? "above" : "below") + " the line"});
    }
    if (over && !std::isnan(out) && out >= 1 && freed >= 8) {
      r.push_back({freed / 4, F1(out).substr(0, F1(out).size() - 2) + " rotation teammate(s) listed out, " + F1(freed) +
                                  " points per game to replace"});
    }
    if (!std::isnan(zone) && std::abs(zone) >= 0.03 && (zone > 0) == over) {
      r.push_back({std::abs(zone) * 40, std::string("Opponent allows ") + F1(std::abs(zone) * 100) + "% " +
                                            (zone > 0 ? "more" : "fewer") +
                                            " points than the league average where he scores"});
    }
    const double l10_minutes = f->at("minutes_avg_l10");
    if (p.projected_minutes && !std::isnan(l10_minutes) &&
        std::abs(*p.projected_minutes - l10_minutes) >= kMinutesReason &&
        (*p.projected_minutes > l10_minutes) == over) {
      r.push_back({std::abs(*p.projected_minutes - l10_minutes) / 2,
                   "Projected for " + F1(*p.projected_minutes) + " minutes, " + (over ? "up" : "down") + " from " +
                       F1(l10_minutes) + " over his last 10 games"});
    }
    if (!over && b2b == 1) r.push_back({1.5, "Second night of a back-to-back"});
    if (over && !std::isnan(rest) && rest >= 3)
      r.push_back({1.0, F1(rest).substr(0, F1(rest).size() - 2) + " days of rest"});
    if (!std::isnan(total) && ((over && total >= 235) || (!over && total <= 220))) {
      r.push_back({1.2, std::string(over ? "High" : "Low") + " game total (" + F1(total) + ")"});
    }
  }
  if (p.predicted && p.prob) {
    double side = over ? *p.prob : 1 - *p.prob;
    r.push_back({0.5, "Model projects " + F1(*p.predicted) + " points against " + F1(line) + " (" + F1(side * 100) +
                          "% to go " + (over ? "over" : "under") + ")"});
  }
  std::stable_sort(r.begin(), r.end(), [](auto& a, auto& b) { return a.first > b.first; });
  std::vector<std::string> out;
  for (size_t i = 0; i < r.size() && i < 3; ++i) out.push_back(r[i].second);
  return out;
}

// Running record of the headline system's graded picks through `through` (from the daily table:
// one row per date, not one per prediction).
StatusOr<json> Record(Transaction& t, const std::string& system, const std::string& through) {
  int64_t wins = 0, losses = 0, pushes = 0, voids = 0;
  double units = 0;
  RETURN_IF_ERROR(
      t.Query("SELECT COALESCE(SUM(wins), 0), COALESCE(SUM(losses), 0), COALESCE(SUM(pushes), 0), "
              "COALESCE(SUM(voids), 0), COALESCE(SUM(units), 0) FROM prediction_performance_daily WHERE "
              "system_id = ? AND game_date <= ?",
              {system, through}, [&](const Row& r) {
                wins = r.Int(0);
                losses = r.Int(1);
                pushes = r.Int(2);
                voids = r.Int(3);
                units = r.Double(4);
                return OkStatus();
              }));
  Interval ci = WilsonInterval(wins, wins + losses);
  return json{{"through", through},
              {"wins", wins},
              {"losses", losses},
              {"pushes", pushes},
              {"voids", voids},
              {"units", Num(units, 2)},
              {"hit_rate", wins + losses ? Num(static_cast<double>(wins) / (wins + losses)) : json(nullptr)},
              {"hit_rate_ci95", {Num(ci.lo), Num(ci.hi)}}};
}

StatusOr<json> StatusDoc(Transaction& t, int64_t now) {
  json processors = json::array();
  RETURN_IF_ERROR(t.Query(
      "SELECT p.processor, p.phase, p.last_ok, l.status, p.failed, p.queued FROM (SELECT processor, phase, "
      "MAX(CASE WHEN status = 'succeeded' THEN finished_at END) AS last_ok, MAX(run_id) AS last_id, "
      "SUM(CASE WHEN status IN ('failed', 'dead') THEN 1 ELSE 0 END) AS failed, SUM(CASE WHEN status = 'queued' THEN 1 "
      "ELSE 0 END) AS queued FROM processor_runs "
      "GROUP BY processor, phase) p JOIN processor_runs l ON l.run_id = p.last_id ORDER BY p.phase, p.processor",
      {}, [&](const Row& r) {
        processors.push_back({{"processor", r.Text(0)},
                              {"phase", r.Int(1)},
                              {"last_success_at", r.IsNull(2) ? json(nullptr) : json(FormatIsoTimestamp(r.Int(2)))},
                              {"last_status", r.Text(3)},
                              {"failed_runs", r.Int(4)},
                              {"queued_runs", r.Int(5)}});
        return OkStatus();
      }));
  json incidents = json::array(), broken_channels = json::array();
  constexpr std::string_view kBroken = "alert_channel_broken:";
  RETURN_IF_ERROR(
      t.Query("SELECT incident_key, severity, summary, opened_at FROM incidents WHERE status = 'open' "
              "ORDER BY opened_at",
              {}, [&](const Row& r) {
                const std::string key = r.Text(0);
                incidents.push_back({{"key", key},
                                     {"severity", r.Text(1)},
                                     {"summary", r.Text(2)},
                                     {"opened_at", FormatIsoTimestamp(r.Int(3) / 1000)}});  // ms
                if (key.rfind(kBroken, 0) == 0) broken_channels.push_back(key.substr(kBroken.size()));
                return OkStatus();
              }));
  ASSIGN_OR_RETURN(auto dead, t.QueryInt("SELECT COUNT(*) FROM dead_letters WHERE status = 'open'"));
  return json{{"schema", "nbaprops/status/v1"},
              {"generated_at", FormatIsoTimestamp(now)},
              {"processors", processors},
              {"incidents", incidents},
              // A broken alert channel means incidents may reach nobody: said on its own line.
              {"broken_alert_channels", broken_channels},
              {"dead_letters_open", dead.value_or(0)}};
}

bool IsToday(const Clock& clock, const std::string& date) {
  return FormatIsoDate(EasternDate(clock.NowSeconds())) == date;
}

}  // namespace

StatusOr<ExportResult> ExportPredictions(store::Store& store, const Clock& clock, const std::string& dir,
                                         const std::string& date) {
  ExportResult res;
  const int64_t now = clock.NowSeconds();
  json predictions, best, status;
  RETURN_IF_ERROR(store.WithRead([&](Transaction& t) -> Status {
    ASSIGN_OR_RETURN(res.halt_reason, Unhealthy(t, date, kPredictionPhases));
    ASSIGN_OR_RETURN(status, StatusDoc(t, now));
    ASSIGN_OR_RETURN(auto preds, LoadLivePredictions(t, date));
    ASSIGN_OR_RETURN(auto games, GamesOn(t, date));
    ASSIGN_OR_RETURN(auto rows, LoadFeatureRows(t, date));
    std::map<std::string, const FeatureRow*> feature;
    for (const FeatureRow& f : rows) feature[f.player_id] = &f;
    std::set<std::string> systems;
    for (const Pred& p : preds) systems.insert(p.system);
    const std::string headline = Headline(systems);

    json game_list = json::array();
    for (const Game& g : games) {
      json list = json::array();
      for (const Pred& p : preds) {
        if (p.game_id != g.game_id) continue;
        list.push_back({{"player_id", p.player_id},
                        {"player", p.player},
                        {"team", p.team},
                        {"home_away", p.home ? "home" : "away"},
                        {"system", p.system},
                        {"model_version", p.version},
                        {"predicted_points", Num(p.predicted, 2)},
                        {"projected_minutes", Num(p.projected_minutes, 1)},
                        {"line", Num(p.line, 1)},
                        {"sportsbook", Opt(p.book)},
                        {"line_source", Opt(p.source)},
                        {"was_line_fallback", p.fallback},
                        {"recommendation", p.recommendation},
                        {"edge", Num(p.edge, 2)},
                        {"prob_over", Num(p.prob)},
                        {"confidence", Opt(p.confidence)},
                        {"quality_tier", Opt(p.quality_tier)}});
      }
      game_list.push_back({{"game_id", g.game_id},
                           {"home_team", g.home},
                           {"away_team", g.away},
                           {"tipoff_utc", g.tipoff ? json(FormatIsoTimestamp(*g.tipoff)) : json(nullptr)},
                           {"status", g.status},
                           {"predictions", list}});
    }
    predictions = {{"schema", "nbaprops/predictions/v1"},
                   {"date", date},
                   {"generated_at", FormatIsoTimestamp(now)},
                   {"games", game_list}};

    // Best bets: the headline system's picks by the probability of the chosen side.
    std::vector<const Pred*> picks;
    for (const Pred& p : preds) {
      if (p.system == headline && (p.recommendation == "OVER" || p.recommendation == "UNDER") && p.prob) {
        picks.push_back(&p);
      }
    }
    auto side = [](const Pred* p) { return p->recommendation == "OVER" ? *p->prob : 1 - *p->prob; };
    std::stable_sort(picks.begin(), picks.end(), [&](const Pred* a, const Pred* b) {
      if (side(a) != side(b)) return side(a) > side(b);
      return std::abs(a->edge.value_or(0)) > std::abs(b->edge.value_or(0));
    });
    std::map<std::string, int> per_team;
    json ranked = json::array();
    for (const Pred* p : picks) {
      if (static_cast<int>(ranked.size()) >= kMaxBestBets) break;
      if (per_team[p->team] >= kMaxPerTeam) continue;
      ++per_team[p->team];
      auto f = feature.find(p->player_id);
      ranked.push_back({{"rank", ranked.size() + 1},
                        {"player_id", p->player_id},
                        {"player", p->player},
                        {"team", p->team},
                        {"opponent", p->opponent},
                        {"home_away", p->home ? "home" : "away"},
                        {"recommendation", p->recommendation},
                        {"line", Num(p->line, 1)},
                        {"sportsbook", Opt(p->book)},
                        {"price", p->recommendation == "OVER" ? (p->over ? json(*p->over) : json(nullptr))
                                                              : (p->under ? json(*p->under) : json(nullptr))},
                        {"predicted_points", Num(p->predicted, 2)},
                        {"projected_minutes", Num(p->projected_minutes, 1)},
                        {"edge", Num(p->edge, 2)},
                        {"probability", Num(side(p))},
                        {"confidence", Opt(p->confidence)},
                        {"reasons", Reasons(*p, f == feature.end() ? nullptr : f->second)}});
    }
    ASSIGN_OR_RETURN(auto record, Record(t, headline, FormatIsoDate(*ParseIsoDate(date) - 1)));
    best = {{"schema", "nbaprops/best-bets/v1"},
            {"date", date},
            {"generated_at", FormatIsoTimestamp(now)},
            {"system", headline.empty() ? json(nullptr) : json(headline)},
            {"picks", ranked},
            {"record", record}};
    return OkStatus();
  }));
  const bool today = IsToday(clock, date);
  for (auto& [rel, doc] : std::vector<std::pair<std::string, json*>>{{"predictions/" + date + ".json", &predictions},
                                                                     {"best-bets/" + date + ".json", &best}}) {
    RETURN_IF_ERROR(Publish(dir, rel, *doc, res.halt_reason, now, &res.written));
  }
  if (today) {
    RETURN_IF_ERROR(Publish(dir, "predictions/today.json", predictions, res.halt_reason, now, &res.written));
    RETURN_IF_ERROR(Publish(dir, "best-bets/today.json", best, res.halt_reason, now, &res.written));
  }
  RETURN_IF_ERROR(Publish(dir, "status.json", status, "", now, &res.written));
  return res;
}

StatusOr<ExportResult> ExportResults(store::Store& store, const Clock& clock, const std::string& dir,
                                     const std::string& date) {
  ExportResult res;
  const int64_t now = clock.NowSeconds();
  json results, performance, status;
  RETURN_IF_ERROR(store.WithRead([&](Transaction& t) -> Status {
    ASSIGN_OR_RETURN(res.halt_reason, Unhealthy(t, date, kResultPhases));
    ASSIGN_OR_RETURN(status, StatusDoc(t, now));
    json picks = json::array();
    RETURN_IF_ERROR(t.Query(
        "SELECT a.prediction_id, a.system_id, a.player_id, p.player_name, a.team, a.recommendation, a.line, "
        "a.sportsbook, a.predicted_points, a.actual_points, a.outcome, a.reason, a.units, a.closing_line, a.clv "
        "FROM prediction_accuracy a JOIN player_prop_predictions p ON p.prediction_id = a.prediction_id WHERE "
        "a.game_date = ? AND a.outcome != 'not_graded' ORDER BY a.system_id, p.player_name",
        {date}, [&](const Row& r) {
          picks.push_back({{"prediction_id", r.Int(0)},
                           {"system", r.Text(1)},
                           {"player_id", r.Text(2)},
                           {"player", r.Text(3)},
                           {"team", r.Text(4)},
                           {"recommendation", r.Text(5)},
                           {"line", Num(r.OptDouble(6), 1)},
                           {"sportsbook", Opt(r.OptText(7))},
                           {"predicted_points", Num(r.OptDouble(8), 2)},
                           {"actual_points", r.IsNull(9) ? json(nullptr) : json(r.Int(9))},
                           {"outcome", r.Text(10)},
                           {"reason", Opt(r.OptText(11))},
                           {"units", Num(r.OptDouble(12), 3)},
                           {"closing_line", Num(r.OptDouble(13), 1)},
                           {"clv", Num(r.OptDouble(14), 2)}});
          return OkStatus();
        }));
    auto perf_rows = [&](const std::string& where, const store::Params& params, json* out) {
      return t.Query(
          "SELECT system_id, SUM(predictions), SUM(picks), SUM(wins), SUM(losses), SUM(pushes), "
          "SUM(voids), SUM(units), SUM(n_mae), SUM(mae_model * n_mae), SUM(mae_line * n_mae), SUM(n_clv), "
          "SUM(avg_clv * n_clv) FROM prediction_performance_daily " +
              where + " GROUP BY system_id ORDER BY system_id",
          params, [&](const Row& r) {
            int64_t wins = r.Int(3), losses = r.Int(4), n_mae = r.Int(8), n_clv = r.Int(11);
            Interval ci = WilsonInterval(wins, wins + losses);
            (*out)[r.Text(0)] = {
                {"predictions", r.Int(1)},
                {"picks", r.Int(2)},
                {"wins", wins},
                {"losses", losses},
                {"pushes", r.Int(5)},
                {"voids", r.Int(6)},
                {"units", Num(r.Double(7), 2)},
                {"hit_rate", wins + losses ? Num(static_cast<double>(wins) / (wins + losses)) : json(nullptr)},
                {"hit_rate_ci95", {Num(ci.lo), Num(ci.hi)}},
                {"mae_model", n_mae ? Num(r.Double(9) / n_mae) : json(nullptr)},
                {"mae_line", n_mae ? Num(r.Double(10) / n_mae) : json(nullptr)},
                {"clv_avg", n_clv ? Num(r.Double(12) / n_clv) : json(nullptr)}};
            return OkStatus();
          });
    };
    json day = json::object(), season = json::object();
    RETURN_IF_ERROR(perf_rows("WHERE game_date = ?", {date}, &day));
    RETURN_IF_ERROR(perf_rows("", {}, &season));
    results = {{"schema", "nbaprops/results/v1"},
               {"date", date},
               {"generated_at", FormatIsoTimestamp(now)},
               {"systems", day},
               {"picks", picks}};
    performance = {
        {"schema", "nbaprops/performance/v1"}, {"generated_at", FormatIsoTimestamp(now)}, {"systems", season}};
    return OkStatus();
  }));
  RETURN_IF_ERROR(Publish(dir, "results/" + date + ".json", results, res.halt_reason, now, &res.written));
  RETURN_IF_ERROR(Publish(dir, "systems/performance.json", performance, "", now, &res.written));
  RETURN_IF_ERROR(Publish(dir, "status.json", status, "", now, &res.written));
  return res;
}

namespace {

class ExportProcessor final : public engine::Processor, public DeclaresExpectations {
 public:
  ExportProcessor(std::string name, std::string input, std::string dir, bool results)
      : name_(std::move(name)), input_(std::move(input)), dir_(std::move(dir)), results_(results) {}
  std::string name() const override { return name_; }
  int phase() const override { return 6; }
  std::vector<std::string> inputs() const override { return {input_}; }
  std::vector<std::string> output_tables() const override { return {}; }

  // Exported after the latest run of what it exports: predictions before the games, results after.
  When expected_when() const override { return results_ ? When::kAfterGames : When::kBeforeGames; }
  Status Expect(Transaction& t, const PlanDay& d, std::vector<engine::Expectation>* out) const override {
    ASSIGN_OR_RETURN(auto e, FreshExpectation(t, name_, input_, d.date,
                                              results_ ? "results exported after the latest grading"
                                                       : "predictions exported after the latest predictions",
                                              results_ ? d.post_due_ms : d.pre_due_ms));
    out->push_back(std::move(e));
    return OkStatus();
  }

  Status Run(engine::RunContext& ctx) override {
    int32_t day;
    RETURN_IF_ERROR(RequireDate(ctx, &day));
    auto res = results_ ? ExportResults(ctx.store(), ctx.clock(), dir_, ctx.data_date())
                        : ExportPredictions(ctx.store(), ctx.clock(), dir_, ctx.data_date());
    RETURN_IF_ERROR(res.status());
    ctx.records_out = static_cast<int64_t>(res->written.size());
    json details = {{"files", res->written.size()}, {"dir", dir_}};
    if (!res->halt_reason.empty()) details["halt"] = res->halt_reason;
    ctx.details = details.dump();
    // The files are the output; the ledger row records that they were written.
    return ctx.CommitOutput([](Transaction&) { return OkStatus(); });
  }

 private:
  std::string name_, input_, dir_;
  bool results_;
};

}  // namespace

std::vector<std::unique_ptr<engine::Processor>> MakeExportProcessors(const std::string& export_dir) {
  std::vector<std::unique_ptr<engine::Processor>> out;
  out.push_back(std::make_unique<ExportProcessor>("export_predictions", "player_prop_predictions", export_dir, false));
  out.push_back(std::make_unique<ExportProcessor>("export_results", "prediction_accuracy", export_dir, true));
  return out;
}

}  // namespace nbaprops::pipeline
