#include "pipeline/health.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>

#include "base/stats.h"
#include "base/time.h"
#include "engine/alerts.h"
#include "engine/incidents.h"
#include "pipeline/guards.h"
#include "pipeline/partition.h"

namespace nbaprops::pipeline {
namespace {

using json = nlohmann::json;
using store::Row;
using store::Transaction;

constexpr int kModelWindowDays = 14;

HealthSummary::System& SystemOf(HealthSummary& s, const std::string& id) {
  for (auto& sys : s.systems) {
    if (sys.system == id) return sys;
  }
  s.systems.push_back(HealthSummary::System{});
  s.systems.back().system = id;
  return s.systems.back();
}

std::string Fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

StatusOr<HealthSummary> BuildHealthSummary(Transaction& t, const std::string& date, int64_t now_ms) {
  std::optional<int32_t> day = ParseIsoDate(date);
  if (!day) return InvalidArgumentError("health summary date '" + date + "' is not YYYY-MM-DD");
  HealthSummary s;
  s.date = date;
  s.generated_at_ms = now_ms;
  RETURN_IF_ERROR(t.Query("SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'final' THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN status = 'postponed' THEN 1 ELSE 0 END), 0) "
                          "FROM raw_schedule WHERE game_date = ?",
                          {date}, [&](const Row& r) {
                            s.games = r.Int(0);
                            s.games_final = r.Int(1);
                            s.games_postponed = r.Int(2);
                            return OkStatus();
                          }));
  RETURN_IF_ERROR(t.Query("SELECT system_id, COUNT(*), COALESCE(SUM(CASE WHEN recommendation IN ('OVER', 'UNDER') THEN 1 ELSE 0 END), 0) "
                          "FROM player_prop_predictions WHERE game_date = ? AND superseded_by IS NULL "
                          "GROUP BY system_id ORDER BY system_id",
                          {date}, [&](const Row& r) {
                            auto& sys = SystemOf(s, r.Text(0));
                            sys.predictions = r.Int(1);
                            sys.picks = r.Int(2);
                            return OkStatus();
                          }));
  RETURN_IF_ERROR(t.Query("SELECT system_id, wins, losses, pushes, voids, units FROM prediction_performance_daily "
                          "WHERE game_date = ? ORDER BY system_id",
                          {date}, [&](const Row& r) {
                            auto& sys = SystemOf(s, r.Text(0));
                            sys.wins = r.Int(1);
                            sys.losses = r.Int(2);
                            sys.pushes = r.Int(3);
                            sys.voids = r.Int(4);
                            sys.units = r.Double(5);
                            return OkStatus();
                          }));
  ASSIGN_OR_RETURN(std::vector<GradedWindow> windows, LoadGradedWindows(t, date, kModelWindowDays));
  for (const GradedWindow& w : windows) {
    auto& sys = SystemOf(s, w.system);
    sys.window_days = w.days;
    sys.window_wins = w.wins;
    sys.window_losses = w.losses;
    sys.window_n_mae = w.n_mae;
    sys.window_mae_model = w.mae_model.value_or(0);
    sys.window_mae_line = w.mae_line.value_or(0);
    const int64_t n = sys.window_wins + sys.window_losses;
    if (n > 0) {
      sys.window_hit_rate = static_cast<double>(sys.window_wins) / static_cast<double>(n);
      Interval ci = WilsonInterval(sys.window_wins, n);
      sys.window_ci_lo = ci.lo;
      sys.window_ci_hi = ci.hi;
    }
  }
  const int64_t since_s = now_ms / 1000 - 24 * 3600;
  RETURN_IF_ERROR(t.Query("SELECT status, COUNT(*) FROM processor_runs WHERE queued_at >= ? GROUP BY status "
                          "ORDER BY status",
                          {since_s}, [&](const Row& r) {
                            s.runs_by_status.emplace_back(r.Text(0), r.Int(1));
                            return OkStatus();
                          }));
  ASSIGN_OR_RETURN(auto heals,
                   t.QueryInt("SELECT COUNT(*) FROM processor_runs WHERE trigger = 'self_heal' AND queued_at >= ?",
                              {since_s}));
  s.heals = heals.value_or(0);
  ASSIGN_OR_RETURN(auto open, t.QueryInt("SELECT COUNT(*) FROM dead_letters WHERE status = 'open'"));
  s.dead_letters_open = open.value_or(0);
  ASSIGN_OR_RETURN(auto fresh, t.QueryInt("SELECT COUNT(*) FROM dead_letters WHERE first_seen >= ?", {since_s}));
  s.dead_letters_new = fresh.value_or(0);
  ASSIGN_OR_RETURN(auto incidents, engine::ListIncidents(t, true));
  for (const auto& i : incidents) s.open_incidents.push_back(i.severity + " " + i.key + ": " + i.summary);
  RETURN_IF_ERROR(t.Query("SELECT deadline_key, status FROM deadlines WHERE data_date = ? ORDER BY due_at", {date},
                          [&](const Row& r) {
                            s.deadlines.emplace_back(r.Text(0), r.Text(1));
                            return OkStatus();
                          }));
  RETURN_IF_ERROR(t.Query("SELECT source, state FROM circuit_breakers WHERE state != 'closed' ORDER BY source", {},
                          [&](const Row& r) {
                            s.breakers.emplace_back(r.Text(0), r.Text(1));
                            return OkStatus();
                          }));
  return s;
}

std::string HealthSummaryJson(const HealthSummary& s) {
  json systems = json::array();
  for (const auto& sys : s.systems) {
    systems.push_back({{"system", sys.system},
                       {"predictions", sys.predictions},
                       {"picks", sys.picks},
                       {"graded", {{"wins", sys.wins}, {"losses", sys.losses}, {"pushes", sys.pushes},
                                   {"voids", sys.voids}, {"units", sys.units}}},
                       {"last_14_graded_days",
                        {{"days", sys.window_days},
                         {"wins", sys.window_wins},
                         {"losses", sys.window_losses},
                         {"hit_rate", sys.window_hit_rate},
                         {"hit_rate_ci95", {sys.window_ci_lo, sys.window_ci_hi}},
                         {"n_mae", sys.window_n_mae},
                         {"mae_model", sys.window_mae_model},
                         {"mae_line", sys.window_mae_line}}}});
  }
  json runs = json::object(), deadlines = json::object(), breakers = json::object();
  for (const auto& [status, n] : s.runs_by_status) runs[status] = n;
  for (const auto& [key, status] : s.deadlines) deadlines[key] = status;
  for (const auto& [source, state] : s.breakers) breakers[source] = state;
  return json{{"date", s.date},
              {"generated_at", FormatIsoTimestamp(s.generated_at_ms / 1000)},
              {"games", {{"scheduled", s.games}, {"final", s.games_final}, {"postponed", s.games_postponed}}},
              {"systems", systems},
              {"runs_last_24h", runs},
              {"heals_last_24h", s.heals},
              {"dead_letters", {{"open", s.dead_letters_open}, {"new_last_24h", s.dead_letters_new}}},
              {"open_incidents", s.open_incidents},
              {"deadlines", deadlines},
              {"breakers_not_closed", breakers}}
      .dump(2);
}

std::string HealthSummaryText(const HealthSummary& s) {
  std::string out = "nbaprops daily health for " + s.date + "\n";
  out += "games: " + std::to_string(s.games) + " scheduled, " + std::to_string(s.games_final) + " final";
  if (s.games_postponed > 0) out += ", " + std::to_string(s.games_postponed) + " postponed";
  out += "\n";
  if (s.systems.empty()) out += "predictions: none\n";
  for (const auto& sys : s.systems) {
    out += sys.system + ": " + std::to_string(sys.predictions) + " predictions, " + std::to_string(sys.picks) +
           " picks; graded " + std::to_string(sys.wins) + "-" + std::to_string(sys.losses) + "-" +
           std::to_string(sys.pushes) + " (" + std::to_string(sys.voids) + " void, " + Fixed(sys.units, 2) +
           " u)";
    if (sys.window_wins + sys.window_losses > 0) {
      out += "; last " + std::to_string(sys.window_days) + " graded days " + Fixed(100 * sys.window_hit_rate, 1) +
             "% [" + Fixed(100 * sys.window_ci_lo, 1) + ", " + Fixed(100 * sys.window_ci_hi, 1) + "] of " +
             std::to_string(sys.window_wins + sys.window_losses) + ", MAE model " + Fixed(sys.window_mae_model, 2) +
             " vs line " + Fixed(sys.window_mae_line, 2);
    }
    out += "\n";
  }
  out += "runs (24 h):";
  if (s.runs_by_status.empty()) out += " none";
  for (const auto& [status, n] : s.runs_by_status) out += " " + status + " " + std::to_string(n);
  out += "; heals " + std::to_string(s.heals) + "\n";
  out += "dead letters: " + std::to_string(s.dead_letters_open) + " open (" + std::to_string(s.dead_letters_new) +
         " new)\n";
  if (!s.deadlines.empty()) {
    out += "deadlines:";
    for (const auto& [key, status] : s.deadlines) out += " " + key + " " + status;
    out += "\n";
  }
  out += "breakers not closed: " + std::to_string(s.breakers.size());
  for (const auto& [source, state] : s.breakers) out += " " + source + " (" + state + ")";
  out += "\n";
  out += "open incidents: " + std::to_string(s.open_incidents.size()) + "\n";
  for (const auto& i : s.open_incidents) out += "  " + i + "\n";
  return out;
}

StatusOr<std::optional<std::string>> LoadHealthSummary(Transaction& t, const std::string& date) {
  return t.QueryText("SELECT body FROM health_summaries WHERE summary_date = ?", {date});
}

namespace {

class HealthSummaryProcessor final : public engine::Processor {
 public:
  std::string name() const override { return kDailyHealthSummary; }
  int phase() const override { return kOperationsPhase; }
  std::vector<std::string> output_tables() const override { return {"health_summaries"}; }

  Status Run(engine::RunContext& ctx) override {
    int32_t day;
    RETURN_IF_ERROR(RequireDate(ctx, &day));
    const int64_t now = ctx.clock().NowMillis();
    std::string body, text;
    RETURN_IF_ERROR(ctx.store().WithRead([&](Transaction& t) -> Status {
      ASSIGN_OR_RETURN(HealthSummary s, BuildHealthSummary(t, ctx.data_date(), now));
      body = HealthSummaryJson(s);
      text = HealthSummaryText(s);
      return OkStatus();
    }));
    ctx.expected_min_rows = 1;
    return ctx.CommitOutput([&](Transaction& t) -> Status {
      ASSIGN_OR_RETURN(int64_t n, t.Exec("INSERT INTO health_summaries (summary_date, generated_at, body) "
                                         "VALUES (?, ?, ?) ON CONFLICT (summary_date) DO UPDATE SET "
                                         "generated_at = excluded.generated_at, body = excluded.body",
                                         {ctx.data_date(), now, body}));
      ctx.records_out = n;
      // Sent once on the alert channels, with the summary in the same commit. Routed as a warning
      // so the usual (warning) channel gets the daily report and a critical-only pager does not.
      return engine::Announce(t, "daily_health:" + ctx.data_date(), "warning",
                              "nbaprops daily health for " + ctx.data_date(), text, now);
    });
  }
};

}  // namespace

std::unique_ptr<engine::Processor> MakeHealthSummaryProcessor() { return std::make_unique<HealthSummaryProcessor>(); }

}  // namespace nbaprops::pipeline
