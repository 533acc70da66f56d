#include "api/dashboard.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <vector>

#include "base/strings.h"
#include "base/svg_chart.h"
#include "base/time.h"
#include "engine/incidents.h"
#include "engine/queue.h"

namespace nbaprops::api {
namespace {

using store::Row;
using store::Transaction;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const char* PhaseName(int phase) {
  switch (phase) {
    case 1:
      return "sources";
    case 2:
      return "raw";
    case 3:
      return "analytics";
    case 4:
      return "precompute";
    case 5:
      return "predictions + grading";
    case 6:
      return "export";
    case 7:
      return "operations";
  }
  return "other";
}

// Worse states first: a cell shows the worst latest run of its phase.
int Badness(const std::string& state) {
  static const std::map<std::string, int> kOrder = {{"dead", 7},   {"failed", 6},  {"running", 5},  {"deferred", 4},
                                                    {"queued", 3}, {"skipped", 2}, {"succeeded", 1}};
  auto it = kOrder.find(state);
  return it == kOrder.end() ? 0 : it->second;
}

// Only [a-z_] reaches a class name.
std::string ClassToken(const std::string& s) {
  std::string out;
  for (char c : s) out += (c >= 'a' && c <= 'z') || c == '_' ? c : '_';
  return out.empty() ? "unknown" : out;
}

std::string IsoMs(int64_t ms) { return FormatIsoTimestamp(ms / 1000); }

std::string Pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  return buf;
}

const char* kStyle = R"CSS(
.banner { background: #b00020; color: #fff; padding: 10px 14px; font-weight: bold; margin: 0 0 12px 0; }
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:16px;color:#1d2329;background:#f6f7f9}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:0 0 8px}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:12px;margin:0 0 12px}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:12px}
.cols section{margin:0}
#summary{display:flex;gap:12px;flex-wrap:wrap}
.kpi{border:1px solid #dde1e6;border-radius:6px;padding:6px 12px;min-width:110px;background:#fff}
.kpi b{display:block;font-size:20px}
.kpi.bad b{color:#b42318}
table{border-collapse:collapse} th,td{padding:3px 6px;text-align:left;border-bottom:1px solid #eef0f3;vertical-align:top}
#grid td.cell{text-align:center;min-width:62px;font-size:12px;border:2px solid #fff;border-radius:4px}
#grid th.date{font-size:12px;white-space:nowrap}
.state-succeeded,.state-met{background:#d1f3dc;color:#0b5d2a}
.state-failed,.state-missed{background:#fbd5d2;color:#8a1c12}
.state-dead{background:#8a1c12;color:#fff}
.state-running{background:#cfe3ff;color:#123c7a}
.state-queued,.state-pending{background:#eceff3;color:#3d4753}
.state-deferred,.state-at_risk,.state-met_late,.state-half_open{background:#fdf0c4;color:#6b4c00}
.state-skipped{background:#f2f2f2;color:#666}
.state-none{background:#fafafa;color:#aab}
.state-open{background:#fbd5d2;color:#8a1c12} .state-closed{background:#d1f3dc;color:#0b5d2a}
.severity-critical{border-left:4px solid #b42318;padding-left:6px}
.severity-warning{border-left:4px solid #d49b00;padding-left:6px}
.severity-info{border-left:4px solid #7a8794;padding-left:6px}
ul{padding-left:0;list-style:none;margin:0} li{margin:0 0 6px}
.muted{color:#6b7580} .key{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
.chart svg{max-width:100%;height:auto}
footer{color:#6b7580;font-size:12px}
)CSS";

struct Page {
  std::string html;
  void Add(const std::string& s) { html += s; }
};

std::string Td(const std::string& text, const std::string& cls = "") {
  return "<td" + (cls.empty() ? "" : " class=\"" + cls + "\"") + ">" + MarkupEscape(text) + "</td>";
}

Status Summary(Transaction& t, int64_t now_ms, Page& p) {
  struct Kpi {
    const char* id;
    const char* label;
    const char* sql;
    bool bad_when_positive;
  };
  const std::vector<Kpi> kpis = {
      {"kpi-running", "running", "SELECT COUNT(*) FROM processor_runs WHERE status = 'running'", false},
      {"kpi-queued", "queued", "SELECT COUNT(*) FROM processor_runs WHERE status = 'queued'", false},
      {"kpi-failed-24h", "failed (24 h)",
       "SELECT COUNT(*) FROM processor_runs WHERE status IN ('failed', 'dead') AND queued_at >= ?", true},
      {"kpi-dead-letters", "open dead letters", "SELECT COUNT(*) FROM dead_letters WHERE status = 'open'", true},
      {"kpi-incidents", "open incidents", "SELECT COUNT(*) FROM incidents WHERE status = 'open'", true},
      {"kpi-backlog", "unresolved names", "SELECT COUNT(*) FROM unresolved_player_names WHERE status = 'pending'",
       false},
  };
  p.Add("<section id=\"summary\">");
  for (const Kpi& k : kpis) {
    store::Params params;
    if (std::string_view(k.sql).find('?') != std::string_view::npos) params.emplace_back(now_ms / 1000 - 86400);
    ASSIGN_OR_RETURN(auto n, t.QueryInt(k.sql, params));
    const int64_t v = n.value_or(0);
    p.Add(std::string("<div class=\"kpi") + (k.bad_when_positive && v > 0 ? " bad" : "") + "\" id=\"" + k.id +
          "\"><b>" + std::to_string(v) + "</b>" + k.label + "</div>");
  }
  p.Add("</section>\n");
  return OkStatus();
}

Status Grid(Transaction& t, const DashboardOptions& o, Page& p) {
  std::vector<std::string> dates;  // newest first
  RETURN_IF_ERROR(
      t.Query("SELECT DISTINCT data_date FROM processor_runs WHERE data_date IS NOT NULL AND data_date <> '' "
              "ORDER BY data_date DESC LIMIT ?",
              {o.grid_dates}, [&](const Row& r) {
                dates.push_back(r.Text(0));
                return OkStatus();
              }));
  p.Add("<section><h2>Runs by phase and game date</h2>");
  if (dates.empty()) {
    p.Add(
        "<p id=\"grid-empty\" class=\"muted\">No date-partitioned runs yet: `nbaprops backfill` or the schedules "
        "will fill this grid.</p></section>\n");
    return OkStatus();
  }
  // (phase, date) -> processor -> state -> partitions in that state (latest run of each).
  std::map<std::pair<int, std::string>, std::map<std::string, std::map<std::string, int>>> cells;
  std::set<int> phases = {3, 4, 5, 6};
  RETURN_IF_ERROR(t.Query(
      "SELECT r.phase, r.processor, r.data_date, r.status FROM processor_runs r JOIN (SELECT MAX(run_id) AS id FROM "
      "processor_runs WHERE data_date >= ? AND data_date <= ? GROUP BY processor, partition_key, data_date) l ON "
      "r.run_id = l.id",
      {dates.back(), dates.front()}, [&](const Row& r) {
        const int phase = static_cast<int>(r.Int(0));
        phases.insert(phase);
        ++cells[{phase, r.Text(2)}][r.Text(1)][r.Text(3)];
        return OkStatus();
      }));
  p.Add("<table id=\"grid\"><thead><tr><th>phase</th>");
  for (const auto& d : dates) p.Add("<th class=\"date\" data-date=\"" + d + "\">" + d + "</th>");
  p.Add("</tr></thead><tbody>");
  for (int phase : phases) {
    p.Add("<tr data-phase=\"" + std::to_string(phase) + "\"><th>" + std::to_string(phase) + " " + PhaseName(phase) +
          "</th>");
    for (const auto& d : dates) {
      std::string state = "none", title;
      int total = 0, ok = 0;
      auto it = cells.find({phase, d});
      if (it != cells.end()) {
        for (const auto& [processor, states] : it->second) {
          std::string parts;
          for (const auto& [s, n] : states) {
            if (Badness(s) > Badness(state)) state = s;
            total += n;
            if (s == "succeeded") ok += n;
            parts += (parts.empty() ? "" : ", ") + (n > 1 ? std::to_string(n) + " " : "") + s;
          }
          title += (title.empty() ? "" : "\n") + processor + ": " + parts;
        }
      }
      const std::string text = state == "none"        ? "-"
                               : state == "succeeded" ? std::to_string(ok) + "/" + std::to_string(total)
                                                      : state;
      p.Add("<td class=\"cell state-" + ClassToken(state) + "\" data-phase=\"" + std::to_string(phase) +
            "\" data-date=\"" + d + "\" title=\"" + MarkupEscape(title.empty() ? "no run" : title) + "\">" +
            MarkupEscape(text) + "</td>");
    }
    p.Add("</tr>");
  }
  p.Add(
      "</tbody></table><p class=\"muted\">Each cell: the latest run of every processor of the phase for the date "
      "(the worst state shows; hover for each processor). n/m = succeeded of all.</p></section>\n");
  return OkStatus();
}

// Above everything else: with a broken alert channel, incidents may reach nobody.
Status BrokenChannelBanner(Transaction& t, Page& p) {
  std::vector<std::string> broken;
  RETURN_IF_ERROR(
      t.Query("SELECT incident_key FROM incidents WHERE status = 'open' AND incident_key LIKE "
              "'alert_channel_broken:%' ORDER BY incident_key",
              {}, [&](const store::Row& r) {
                broken.push_back(MarkupEscape(r.Text(0).substr(std::string("alert_channel_broken:").size())));
                return OkStatus();
              }));
  if (broken.empty()) return OkStatus();
  p.Add("<div id=\"banner\" class=\"banner\" role=\"alert\">Alert channel" + std::string(broken.size() > 1 ? "s" : "") +
        " broken: " + Join(broken, ", ") +
        ". Incidents may reach nobody there: fix the URL, then <code>nbaprops alerts test</code>.</div>\n");
  return OkStatus();
}

Status Incidents(Transaction& t, Page& p) {
  ASSIGN_OR_RETURN(auto open, engine::ListIncidents(t, true));
  p.Add("<section><h2>Open incidents (" + std::to_string(open.size()) + ")</h2><ul id=\"incidents\">");
  for (const auto& i : open) {
    p.Add("<li class=\"incident severity-" + ClassToken(i.severity) + "\" data-key=\"" + MarkupEscape(i.key) +
          "\"><span class=\"key\">" + MarkupEscape(i.key) + "</span> <span class=\"muted\">" +
          MarkupEscape(i.severity) + ", x" + std::to_string(i.count) + ", since " + IsoMs(i.opened_at) + "</span><br>" +
          MarkupEscape(i.summary) + "</li>");
  }
  if (open.empty()) p.Add("<li class=\"muted\">none</li>");
  p.Add("</ul></section>\n");

  p.Add("<section><h2>Broken alert channels</h2><ul id=\"alert-channels\">");
  int broken = 0;
  for (const auto& i : open) {
    if (!StartsWith(i.key, "alert_channel_broken:")) continue;
    ++broken;
    p.Add("<li class=\"alert-channel severity-critical\" data-channel=\"" +
          MarkupEscape(i.key.substr(std::string("alert_channel_broken:").size())) + "\">" + MarkupEscape(i.summary) +
          " <span class=\"muted\">since " + IsoMs(i.opened_at) + "</span></li>");
  }
  if (!broken) p.Add("<li class=\"muted\">none: every configured channel delivers</li>");
  p.Add("</ul></section>\n");
  return OkStatus();
}

Status DeadLetters(Transaction& t, Page& p) {
  ASSIGN_OR_RETURN(auto open, engine::Queue::ListDeadLetters(t, "open"));
  p.Add("<section><h2>Dead letters (" + std::to_string(open.size()) +
        " open)</h2><table id=\"dead-letters\"><thead><tr><th>id</th><th>processor</th><th>partition</th>"
        "<th>category</th><th>error</th><th>do</th></tr></thead><tbody>");
  for (const auto& d : open) {
    p.Add("<tr data-id=\"" + std::to_string(d.id) + "\">" + Td(std::to_string(d.id)) + Td(d.processor) +
          Td(d.partition_key) + Td(d.category) + Td(Truncate(d.error, 160)) + Td(d.suggested_action) + "</tr>");
  }
  p.Add("</tbody></table>");
  if (open.empty()) p.Add("<p class=\"muted\">none</p>");
  p.Add("</section>\n");
  return OkStatus();
}

Status Breakers(Transaction& t, Page& p) {
  p.Add(
      "<section><h2>Circuit breakers</h2><table id=\"breakers\"><thead><tr><th>source</th><th>state</th>"
      "<th>failures</th><th>opened</th><th>next probe</th><th>last error</th></tr></thead><tbody>");
  int n = 0;
  RETURN_IF_ERROR(
      t.Query("SELECT source, state, consecutive_failures, times_opened, next_probe_at, last_error FROM "
              "circuit_breakers ORDER BY source",
              {}, [&](const Row& r) {
                ++n;
                const std::string state = r.Text(1);
                p.Add("<tr class=\"breaker state-" + ClassToken(state) + "\" data-source=\"" + MarkupEscape(r.Text(0)) +
                      "\">" + Td(r.Text(0)) + Td(state) + Td(std::to_string(r.Int(2))) + Td(std::to_string(r.Int(3))) +
                      Td(r.IsNull(4) || state == "closed" ? "" : IsoMs(r.Int(4))) +
                      Td(Truncate(r.OptText(5).value_or(""), 120)) + "</tr>");
                return OkStatus();
              }));
  p.Add("</tbody></table>");
  if (!n) p.Add("<p class=\"muted\">no breaker has recorded a failure: every source is closed</p>");
  p.Add("</section>\n");
  return OkStatus();
}

Status Deadlines(Transaction& t, Page& p) {
  p.Add(
      "<section><h2>Deadlines</h2><table id=\"deadlines\"><thead><tr><th>date</th><th>deadline</th><th>state</th>"
      "<th>due</th><th>summary</th></tr></thead><tbody>");
  int n = 0;
  RETURN_IF_ERROR(
      t.Query("SELECT deadline_key, data_date, status, due_at, details FROM deadlines ORDER BY data_date "
              "DESC, deadline_key LIMIT 40",
              {}, [&](const Row& r) {
                ++n;
                std::string summary;
                auto d = nlohmann::json::parse(r.OptText(4).value_or(""), nullptr, false);
                if (!d.is_discarded() && d.is_object() && d.contains("summary") && d["summary"].is_string()) {
                  summary = d["summary"].get<std::string>();
                }
                const std::string state = r.Text(2);
                p.Add("<tr class=\"deadline state-" + ClassToken(state) + "\" data-deadline=\"" +
                      MarkupEscape(r.Text(0)) + "\" data-date=\"" + MarkupEscape(r.Text(1)) + "\">" + Td(r.Text(1)) +
                      Td(r.Text(0)) + Td(state) + Td(IsoMs(r.Int(3))) + Td(Truncate(summary, 200)) + "</tr>");
                return OkStatus();
              }));
  p.Add("</tbody></table>");
  if (!n) p.Add("<p class=\"muted\">no deadline judged yet (`serve` checks them every minute)</p>");
  p.Add("</section>\n");
  return OkStatus();
}

Status RegistryBacklog(Transaction& t, Page& p) {
  ASSIGN_OR_RETURN(auto pending, t.QueryInt("SELECT COUNT(*) FROM unresolved_player_names WHERE status = 'pending'"));
  p.Add("<section><h2>Registry backlog</h2><div id=\"registry-backlog\" data-pending=\"" +
        std::to_string(pending.value_or(0)) + "\"><p>" + std::to_string(pending.value_or(0)) +
        " name(s) pending. Resolve with <span class=\"key\">nbaprops registry alias NAME --player ID</span> or POST "
        "/v1/registry/aliases.</p><table><thead><tr><th>name</th><th>source</th><th>seen</th><th>why</th></tr></thead>"
        "<tbody>");
  RETURN_IF_ERROR(
      t.Query("SELECT original_name, source, occurrences, reason FROM unresolved_player_names WHERE status = "
              "'pending' ORDER BY occurrences DESC, original_name LIMIT 10",
              {}, [&](const Row& r) {
                p.Add("<tr>" + Td(r.Text(0)) + Td(r.Text(1)) + Td(std::to_string(r.Int(2))) +
                      Td(Truncate(r.Text(3), 120)) + "</tr>");
                return OkStatus();
              }));
  p.Add("</tbody></table></div></section>\n");
  return OkStatus();
}

Status LatencyChart(Transaction& t, const DashboardOptions& o, Page& p) {
  std::vector<std::string> dates;
  Series graded{"box score -> graded", {}}, exported{"box score -> results exported", {}};
  RETURN_IF_ERROR(t.Query(
      "SELECT data_date, details FROM (SELECT data_date, details FROM deadlines WHERE deadline_key = 'results_latency' "
      "ORDER BY data_date DESC LIMIT ?) x ORDER BY data_date",
      {o.chart_dates}, [&](const Row& r) {
        auto d = nlohmann::json::parse(r.OptText(1).value_or(""), nullptr, false);
        auto minutes = [&](const char* key) {
          if (d.is_discarded() || !d.is_object() || !d.contains(key) || !d[key].is_number()) return kNaN;
          return d[key].get<double>() / 60.0;
        };
        dates.push_back(r.Text(0));
        graded.y.push_back(minutes("latency_box_score_to_graded_s"));
        exported.y.push_back(minutes("latency_box_score_to_exported_s"));
        return OkStatus();
      }));
  p.Add("<section><h2>End-to-end latency</h2><div id=\"latency-chart\" class=\"chart\" data-points=\"" +
        std::to_string(dates.size()) + "\">" +
        LineChartSvg("Results latency after the last box score", dates, {graded, exported}, "minutes") +
        "</div></section>\n");
  return OkStatus();
}

Status HitRateChart(Transaction& t, const DashboardOptions& o, Page& p) {
  // date -> system -> (wins, losses)
  std::map<std::string, std::map<std::string, std::pair<int64_t, int64_t>>> by_date;
  std::set<std::string> systems;
  RETURN_IF_ERROR(t.Query(
      "SELECT game_date, system_id, wins, losses FROM prediction_performance_daily WHERE game_date IN (SELECT DISTINCT "
      "game_date FROM prediction_performance_daily ORDER BY game_date DESC LIMIT ?)",
      {o.chart_dates + o.hit_rate_window - 1}, [&](const Row& r) {
        by_date[r.Text(0)][r.Text(1)] = {r.Int(2), r.Int(3)};
        systems.insert(r.Text(1));
        return OkStatus();
      }));
  std::vector<std::string> dates;
  for (const auto& [d, _] : by_date) dates.push_back(d);
  const size_t first = dates.size() > static_cast<size_t>(o.chart_dates) ? dates.size() - o.chart_dates : 0;
  std::vector<std::string> labels(dates.begin() + static_cast<std::ptrdiff_t>(first), dates.end());
  std::vector<Series> series;
  for (const auto& s : systems) {
    Series line{s, {}};
    for (size_t i = first; i < dates.size(); ++i) {
      int64_t w = 0, l = 0;
      const size_t from = i + 1 >= static_cast<size_t>(o.hit_rate_window) ? i + 1 - o.hit_rate_window : 0;
      for (size_t j = from; j <= i; ++j) {
        auto it = by_date[dates[j]].find(s);
        if (it == by_date[dates[j]].end()) continue;
        w += it->second.first;
        l += it->second.second;
      }
      line.y.push_back(w + l > 0 ? 100.0 * static_cast<double>(w) / static_cast<double>(w + l) : kNaN);
    }
    series.push_back(std::move(line));
  }
  if (!labels.empty()) series.push_back({"break-even at -110", std::vector<double>(labels.size(), 100.0 * 110 / 210)});
  p.Add("<section><h2>Hit rate</h2><div id=\"hit-rate-chart\" class=\"chart\" data-points=\"" +
        std::to_string(labels.size()) + "\">" +
        LineChartSvg("Hit rate of OVER/UNDER picks, rolling " + std::to_string(o.hit_rate_window) + " graded dates (" +
                         Pct(100.0 * 110 / 210) + "% breaks even)",
                     labels, series, "% of decided picks") +
        "</div></section>\n");
  return OkStatus();
}

}  // namespace

StatusOr<std::string> RenderDashboard(store::Store& store, int64_t now_ms, const DashboardOptions& o) {
  Page p;
  p.Add(
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta http-equiv=\"refresh\" content=\"" +
      std::to_string(o.refresh_s) +
      "\">"
      "<title>nbaprops: pipeline health</title><style>" +
      std::string(kStyle) + "</style></head><body>\n");
  p.Add("<header><h1>nbaprops pipeline health</h1><p class=\"muted\" id=\"generated\" data-generated-at=\"" +
        IsoMs(now_ms) + "\">generated " + IsoMs(now_ms) + ", refreshes every " + std::to_string(o.refresh_s) +
        " s. JSON: <a href=\"/v1/status.json\">status</a> <a href=\"/v1/runs\">runs</a> <a href=\"/v1/dlq\">dead "
        "letters</a> <a href=\"/v1/incidents\">incidents</a> <a href=\"/metrics\">metrics</a></p></header>\n");
  RETURN_IF_ERROR(store.WithRead([&](Transaction& t) -> Status {
    RETURN_IF_ERROR(BrokenChannelBanner(t, p));
    RETURN_IF_ERROR(Summary(t, now_ms, p));
    RETURN_IF_ERROR(Grid(t, o, p));
    p.Add("<div class=\"cols\">\n");
    RETURN_IF_ERROR(Incidents(t, p));
    RETURN_IF_ERROR(DeadLetters(t, p));
    RETURN_IF_ERROR(Breakers(t, p));
    RETURN_IF_ERROR(Deadlines(t, p));
    RETURN_IF_ERROR(RegistryBacklog(t, p));
    p.Add("</div>\n<div class=\"cols\" style=\"margin-top:12px\">\n");
    RETURN_IF_ERROR(LatencyChart(t, o, p));
    RETURN_IF_ERROR(HitRateChart(t, o, p));
    p.Add("</div>\n");
    return OkStatus();
  }));
  p.Add(
      "<footer><p>nbaprops serves this page from the database on each request; no script, no external "
      "asset.</p></footer></body></html>\n");
  return std::move(p.html);
}

}  // namespace nbaprops::api
