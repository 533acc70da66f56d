// The model guard (CheckModelGuard, pipeline/guards.h): judges the model in force on its recent
// graded picks and raises or clears its incidents.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/stats.h"
#include "base/strings.h"
#include "base/time.h"
#include "engine/incidents.h"
#include "engine/ledger.h"
#include "pipeline/guard_effects.h"
#include "pipeline/guards.h"
#include "pipeline/model.h"
#include "pipeline/partition.h"

namespace nbaprops::pipeline {

using guard_internal::CountOf;
using guard_internal::Effects;
using guard_internal::FirstSuccess;
using guard_internal::Fixed;
using guard_internal::kPredictionsProcessor;
using guard_internal::Percent;
using guard_internal::Round;
using nlohmann::json;
using store::Row;
using store::Transaction;

namespace {

// The model in force for `date` (FindModelInForce), with what makes it unjudgeable.
struct JudgedModel {
  std::string file;
  std::string trained_until;
  std::string problem;  // why there is none / it cannot be judged
};

JudgedModel FindModel(const std::string& model_path, const std::string& date) {
  const ModelInForce in_force = FindModelInForce(model_path, date);
  JudgedModel m{in_force.file.empty() ? model_path : in_force.file, in_force.trained_until, ""};
  if (in_force.directory) {
    if (in_force.file.empty()) {
      m.problem = "no model in " + model_path + " was trained until " + date +
                  " or earlier, so predictions use moving_average only";
    }
    return m;
  }
  auto text = ReadFile(model_path);
  if (!text.ok()) {
    m.problem = "model file " + model_path + " cannot be read (" + text.status().message() + ")";
    return m;
  }
  json doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("trained_until") || !doc["trained_until"].is_string() ||
      !IsIsoDate(doc["trained_until"].get<std::string>())) {
    m.problem = "model file " + model_path + " has no trained_until date (is it an nbaprops model?)";
    return m;
  }
  m.trained_until = doc["trained_until"].get<std::string>();
  return m;
}

using Window = GradedWindow;

}  // namespace

StatusOr<std::vector<GradedWindow>> LoadGradedWindows(Transaction& t, const std::string& date, int days) {
  std::vector<Window> out;
  RETURN_IF_ERROR(t.Query(
      "SELECT system_id, COUNT(*), MIN(game_date), MAX(game_date), SUM(wins), SUM(losses), SUM(n_mae), "
      "SUM(mae_model * n_mae) / NULLIF(SUM(CASE WHEN mae_model IS NULL THEN 0 ELSE n_mae END), 0), "
      "SUM(mae_line * n_mae) / NULLIF(SUM(CASE WHEN mae_line IS NULL THEN 0 ELSE n_mae END), 0) "
      "FROM (SELECT * FROM prediction_performance_daily p WHERE game_date <= ? AND game_date > COALESCE(("
      "SELECT game_date FROM prediction_performance_daily q WHERE q.system_id = p.system_id AND q.game_date <= ? "
      "ORDER BY game_date DESC LIMIT 1 OFFSET ?), '')) w GROUP BY system_id ORDER BY system_id",
      {date, date, days}, [&](const Row& r) {
        Window w;
        w.system = r.Text(0);
        w.days = r.Int(1);
        w.from = r.Text(2);
        w.to = r.Text(3);
        w.wins = r.Int(4);
        w.losses = r.Int(5);
        w.n_mae = r.Int(6);
        w.mae_model = r.OptDouble(7);
        w.mae_line = r.OptDouble(8);
        out.push_back(std::move(w));
        return OkStatus();
      }));
  return out;
}

namespace {

std::string WindowText(const Window& w) {
  return "the last " + std::to_string(w.days) + " graded days (" + w.from + ".." + w.to + ")";
}

// The incident details every window check starts from.
json WindowDetails(const Window& w) {
  return {{"system", w.system}, {"window", {{"graded_days", w.days}, {"from", w.from}, {"to", w.to}}}};
}

Status JudgeHitRate(Effects& fx, const GuardOptions& o, const Window& w, GuardReport* report) {
  GuardCheck c;
  c.check = "model_hit_rate";
  c.subject = w.system;
  const std::string key = "model_hit_rate:" + w.system;
  const int64_t n = w.wins + w.losses;
  if (n < o.min_window_picks) {
    c.outcome = "skipped";
    c.summary = w.system + ": " + std::to_string(n) + " decided picks in " + WindowText(w) + ", " +
                std::to_string(o.min_window_picks) + " needed to judge the hit rate";
    report->checks.push_back(std::move(c));
    return OkStatus();
  }
  const double hit = static_cast<double>(w.wins) / static_cast<double>(n);
  const Interval ci = WilsonInterval(w.wins, n);
  c.summary = w.system + " hit " + Percent(hit) + " (95% CI " + Percent(ci.lo) + "-" + Percent(ci.hi) + ") of " +
              std::to_string(n) + " decided picks (" + std::to_string(w.wins) + "-" + std::to_string(w.losses) +
              ") over " + WindowText(w);
  if (hit < o.hit_rate_floor && ci.hi < o.break_even_hit_rate) {
    c.outcome = "alert";
    c.summary += ": below " + Percent(o.hit_rate_floor) + " and, even at the top of the interval, below break-even " +
                 Percent(o.break_even_hit_rate) + " at -110. Retrain (`nbaprops train --until " + w.to +
                 "`) or stop publishing its picks";
    json details = WindowDetails(w);
    details.update({{"wins", w.wins},
                    {"losses", w.losses},
                    {"n", n},
                    {"hit_rate", Round(hit, 4)},
                    {"hit_rate_ci95", {Round(ci.lo, 4), Round(ci.hi, 4)}},
                    {"floor", o.hit_rate_floor},
                    {"break_even", Round(o.break_even_hit_rate, 4)}});
    RETURN_IF_ERROR(fx.Raise(c, key, "warning", c.summary, details));
  } else {
    c.outcome = "ok";
    RETURN_IF_ERROR(fx.Clear(key));
  }
  report->checks.push_back(std::move(c));
  return OkStatus();
}

Status JudgeMae(Effects& fx, const GuardOptions& o, const Window& w, GuardReport* report) {
  GuardCheck c;
  c.check = "model_mae";
  c.subject = w.system;
  const std::string key = "model_mae:" + w.system;
  if (w.n_mae < o.min_window_mae || !w.mae_model || !w.mae_line) {
    c.outcome = "skipped";
    c.summary = w.system + ": " + std::to_string(w.n_mae) + " graded picks with errors in " + WindowText(w) + ", " +
                std::to_string(o.min_window_mae) + " needed to judge the MAE";
    report->checks.push_back(std::move(c));
    return OkStatus();
  }
  const double gap = *w.mae_model - *w.mae_line;
  c.summary = w.system + " MAE " + Fixed(*w.mae_model, 2) + " vs line MAE " + Fixed(*w.mae_line, 2) + " (" +
              (gap >= 0 ? "+" : "") + Fixed(gap, 2) + ") over " + std::to_string(w.n_mae) + " graded picks in " +
              WindowText(w);
  if (gap > o.mae_margin) {
    c.outcome = "alert";
    c.summary += ": the model misses by more than the line does (allowed " + Fixed(o.mae_margin, 2) +
                 "), so its edges are noise. Retrain (`nbaprops train --until " + w.to + "`)";
    json details = WindowDetails(w);
    details.update({{"n_mae", w.n_mae},
                    {"mae_model", Round(*w.mae_model, 4)},
                    {"mae_line", Round(*w.mae_line, 4)},
                    {"difference", Round(gap, 4)},
                    {"margin", o.mae_margin}});
    RETURN_IF_ERROR(fx.Raise(c, key, "warning", c.summary, details));
  } else {
    c.outcome = "ok";
    RETURN_IF_ERROR(fx.Clear(key));
  }
  report->checks.push_back(std::move(c));
  return OkStatus();
}

Status JudgeModelAge(Effects& fx, const GuardOptions& o, const std::string& model_path, const JudgedModel& m,
                     const std::string& date, GuardReport* report) {
  GuardCheck c;
  c.check = "model_stale";
  const std::string key = "model_stale";
  if (model_path.empty()) {
    c.subject = "(none)";
    c.outcome = "skipped";
    c.summary = "no model_path configured: predictions use moving_average only";
    RETURN_IF_ERROR(fx.Clear(key));
    report->checks.push_back(std::move(c));
    return OkStatus();
  }
  c.subject = m.file;
  json details = {{"model_path", model_path}, {"date", date}, {"max_age_days", o.model_max_age_days}};
  if (!m.problem.empty()) {
    c.outcome = "alert";
    c.summary =
        "no usable model for " + date + ": " + m.problem + ". Train one with `nbaprops train --until " + date + "`";
    details["problem"] = m.problem;
    RETURN_IF_ERROR(fx.Raise(c, key, "warning", c.summary, details));
    report->checks.push_back(std::move(c));
    return OkStatus();
  }
  const int64_t age = *ParseIsoDate(date) - *ParseIsoDate(m.trained_until);
  details["file"] = m.file;
  details["trained_until"] = m.trained_until;
  details["age_days"] = age;
  if (age < 0) {
    // Predictions refuse a model that has seen the date; that failure is reported by their run.
    c.outcome = "skipped";
    c.summary = "model " + m.file + " was trained until " + m.trained_until + ", after " + date;
    report->checks.push_back(std::move(c));
    return OkStatus();
  }
  c.summary =
      "model " + m.file + " trained until " + m.trained_until + " is " + std::to_string(age) + " days old on " + date;
  if (age > o.model_max_age_days) {
    c.outcome = "alert";
    c.summary += " (at most " + std::to_string(o.model_max_age_days) +
                 " allowed): it has not seen the recent games. Retrain with `nbaprops train --until " + date + "`";
    RETURN_IF_ERROR(fx.Raise(c, key, "warning", c.summary, details));
  } else {
    c.outcome = "ok";
    RETURN_IF_ERROR(fx.Clear(key));
  }
  report->checks.push_back(std::move(c));
  return OkStatus();
}

Status JudgeZeroPicks(Effects& fx, const std::string& date, GuardReport* report) {
  Transaction& t = fx.txn();
  GuardCheck c;
  c.check = "zero_picks";
  c.subject = date;
  const std::string key = "zero_picks:" + date;
  ASSIGN_OR_RETURN(
      int64_t players_with_lines,
      CountOf(t, "SELECT COUNT(DISTINCT player_id) FROM analytics_upcoming_player_lines WHERE game_date = ?", {date}));
  ASSIGN_OR_RETURN(auto ran, FirstSuccess(t, kPredictionsProcessor, date, 0, false));
  json per_system = json::object();
  int64_t live = 0, picks = 0;
  RETURN_IF_ERROR(
      t.Query("SELECT system_id, recommendation, COUNT(*) FROM player_prop_predictions WHERE game_date = ? "
              "AND superseded_by IS NULL GROUP BY system_id, recommendation ORDER BY system_id",
              {date}, [&](const Row& r) {
                per_system[r.Text(0)][r.Text(1)] = r.Int(2);
                live += r.Int(2);
                if (r.Text(1) == "OVER" || r.Text(1) == "UNDER") picks += r.Int(2);
                return OkStatus();
              }));
  const std::string numbers = std::to_string(players_with_lines) + " players with lines, " + std::to_string(live) +
                              " live predictions, " + std::to_string(picks) + " picks";
  if (!ran) {
    c.outcome = "skipped";
    c.summary = date + ": predictions have not run yet (" + numbers + ")";
    report->checks.push_back(std::move(c));
    return OkStatus();
  }
  c.summary = date + ": " + numbers;
  if (players_with_lines > 0 && picks == 0) {
    c.outcome = "alert";
    std::vector<std::string> parts;
    for (auto sys = per_system.begin(); sys != per_system.end(); ++sys) {
      std::vector<std::string> recs;
      for (auto rec = sys->begin(); rec != sys->end(); ++rec) {
        recs.push_back(rec.key() + " " + std::to_string(rec->get<int64_t>()));
      }
      parts.push_back(sys.key() + ": " + Join(recs, ", "));
    }
    c.summary = "zero picks on " + date + " while " + std::to_string(players_with_lines) + " players have lines (" +
                std::to_string(live) + " live predictions" + (parts.empty() ? "" : "; " + Join(parts, "; ")) +
                "). A stale model (see model_stale) or thresholds no edge reaches (predictions.min_edge, "
                "min_probability); `nbaprops status --date " +
                date + "` shows the runs";
    json details = {{"date", date},
                    {"players_with_lines", players_with_lines},
                    {"live_predictions", live},
                    {"picks", picks},
                    {"by_system", per_system}};
    RETURN_IF_ERROR(fx.Raise(c, key, "critical", c.summary, details));
  } else {
    c.outcome = "ok";
    if (players_with_lines == 0) c.summary += " (no lines: no picks expected)";
    RETURN_IF_ERROR(fx.Clear(key));
  }
  report->checks.push_back(std::move(c));
  return OkStatus();
}

}  // namespace

StatusOr<GuardReport> CheckModelGuard(store::Store& store, const GuardOptions& options, const std::string& model_path,
                                      const std::string& date, int64_t now_ms) {
  if (!IsIsoDate(date)) {
    return InvalidArgumentError("model guard date '" + date + "' is not a YYYY-MM-DD calendar date");
  }
  GuardReport report;
  report.checked_at_ms = now_ms;
  // Read the model before taking the write lock: other writers need not wait on the disk.
  const JudgedModel model = model_path.empty() ? JudgedModel{} : FindModel(model_path, date);
  auto body = [&](Transaction& t) -> Status {
    Effects fx(t, options, now_ms, &report);
    ASSIGN_OR_RETURN(std::vector<Window> windows, LoadGradedWindows(t, date, options.window_graded_days));
    for (const Window& w : windows) {
      RETURN_IF_ERROR(JudgeHitRate(fx, options, w, &report));
      RETURN_IF_ERROR(JudgeMae(fx, options, w, &report));
    }
    RETURN_IF_ERROR(JudgeModelAge(fx, options, model_path, model, date, &report));
    return JudgeZeroPicks(fx, date, &report);
  };
  Status st = options.dry_run ? store.WithRead(body) : store.WithWrite(body);
  RETURN_IF_ERROR(st.WithContext("checking the model guard for " + date));
  return report;
}

}  // namespace nbaprops::pipeline
