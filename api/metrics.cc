#include "api/metrics.h"

#include <sys/stat.h>

#include <charconv>
#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "base/log.h"
#include "store/migrations.h"

namespace nbaprops::api {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

std::string Num(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

// Cumulative buckets: counts[i] = observations <= bounds[i]; +Inf is `count`.
struct HistogramData {
  std::vector<double> bounds;
  std::vector<int64_t> counts;
  double sum = 0;
  int64_t count = 0;
};

// Writes one text exposition. A family is declared (HELP, TYPE) before its samples, and its
// samples follow it contiguously, as the format requires.
class Exposition {
 public:
  void Family(const std::string& name, const char* type, const std::string& help) {
    out_ += "# HELP " + name + " " + EscapeHelp(help) + "\n# TYPE " + name + " " + type + "\n";
  }
  void Sample(const std::string& name, const Labels& labels, double value) {
    out_ += name;
    AppendLabels(labels);
    out_ += " " + Num(value) + "\n";
  }
  void Histogram(const std::string& name, Labels labels, const HistogramData& h) {
    labels.emplace_back("le", "");
    for (size_t i = 0; i < h.bounds.size(); ++i) {
      labels.back().second = Num(h.bounds[i]);
      Sample(name + "_bucket", labels, static_cast<double>(h.counts[i]));
    }
    labels.back().second = "+Inf";
    Sample(name + "_bucket", labels, static_cast<double>(h.count));
    labels.pop_back();
    Sample(name + "_sum", labels, h.sum);
    Sample(name + "_count", labels, static_cast<double>(h.count));
  }
  void Append(const Exposition& other) { out_ += other.out_; }
  std::string Take() { return std::move(out_); }

 private:
  void AppendLabels(const Labels& labels) {
    if (labels.empty()) return;
    out_ += "{";
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i) out_ += ",";
      out_ += labels[i].first + "=\"" + EscapeLabelValue(labels[i].second) + "\"";
    }
    out_ += "}";
  }
  std::string out_;
};

using SectionFn = std::function<Status(store::Transaction&, Exposition&)>;

// One group of families in its own read transaction: a failing query (a table another part has
// not created yet, a busy store) drops only this group.
void Section(store::Store& store, Exposition& out, const char* what, const SectionFn& fn, bool quiet = false) {
  Exposition part;
  Status s = store.WithRead([&](store::Transaction& t) { return fn(t, part); });
  if (!s.ok()) {
    // An expected absence (quiet: tables of an older schema) is only worth a debug line.
    Log(quiet ? LogLevel::kDebug : LogLevel::kWarn, std::string("/metrics: skipping ") + what + ": " + s.ToString());
    return;
  }
  out.Append(part);
}

const std::vector<double> kRunBucketsS = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
const std::vector<double> kLatencyBucketsS = {60, 300, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400};

Status RunFamilies(store::Transaction& t, Exposition& e, int64_t now_ms) {
  e.Family("nbaprops_runs", "gauge", "Runs in the ledger by processor, phase and state.");
  RETURN_IF_ERROR(
      t.Query("SELECT processor, phase, status, COUNT(*) FROM processor_runs GROUP BY processor, phase, "
              "status ORDER BY processor, status",
              {}, [&](const store::Row& r) {
                e.Sample("nbaprops_runs",
                         {{"processor", r.Text(0)}, {"phase", std::to_string(r.Int(1))}, {"status", r.Text(2)}},
                         static_cast<double>(r.Int(3)));
                return OkStatus();
              }));

  e.Family("nbaprops_run_duration_seconds", "histogram", "Durations of finished runs, per processor.");
  std::string sql = "SELECT processor, COUNT(*), SUM(duration_ms)";
  store::Params params;
  for (double b : kRunBucketsS) {
    sql += ", SUM(CASE WHEN duration_ms <= ? THEN 1 ELSE 0 END)";
    params.emplace_back(static_cast<int64_t>(std::llround(b * 1000)));
  }
  sql += " FROM processor_runs WHERE duration_ms IS NOT NULL GROUP BY processor ORDER BY processor";
  RETURN_IF_ERROR(t.Query(sql, params, [&](const store::Row& r) {
    HistogramData h;
    h.bounds = kRunBucketsS;
    h.count = r.Int(1);
    h.sum = static_cast<double>(r.OptInt(2).value_or(0)) / 1000.0;
    for (size_t i = 0; i < kRunBucketsS.size(); ++i) h.counts.push_back(r.OptInt(3 + static_cast<int>(i)).value_or(0));
    e.Histogram("nbaprops_run_duration_seconds", {{"processor", r.Text(0)}}, h);
    return OkStatus();
  }));

  int64_t runnable = 0, waiting = 0;
  std::optional<int64_t> oldest;
  RETURN_IF_ERROR(t.Query(
      "SELECT SUM(CASE WHEN not_before IS NULL OR not_before <= ? THEN 1 ELSE 0 END), "
      "SUM(CASE WHEN not_before > ? THEN 1 ELSE 0 END), "
      "MIN(CASE WHEN not_before IS NULL OR not_before <= ? THEN "
      "(CASE WHEN not_before IS NULL OR not_before < queued_at * 1000 THEN queued_at * 1000 ELSE not_before END) END) "
      "FROM processor_runs WHERE status = 'queued'",
      {now_ms, now_ms, now_ms}, [&](const store::Row& r) {
        runnable = r.OptInt(0).value_or(0);
        waiting = r.OptInt(1).value_or(0);
        oldest = r.OptInt(2);
        return OkStatus();
      }));
  e.Family("nbaprops_queue_depth", "gauge",
           "Queued runs: runnable now, or waiting for their not_before (retry backoff, deferral).");
  e.Sample("nbaprops_queue_depth", {{"state", "runnable"}}, static_cast<double>(runnable));
  e.Sample("nbaprops_queue_depth", {{"state", "waiting"}}, static_cast<double>(waiting));
  e.Family("nbaprops_oldest_runnable_age_seconds", "gauge",
           "How long the oldest runnable queued run has waited for a worker (0 when none).");
  e.Sample("nbaprops_oldest_runnable_age_seconds", {},
           oldest ? std::max<double>(0, static_cast<double>(now_ms - *oldest) / 1000.0) : 0);

  // A run still 'running' past its lease is a stuck run no live process has reaped yet (every
  // process's reaper fails such runs within seconds, so this stays 0 while any process runs).
  ASSIGN_OR_RETURN(auto overdue, t.QueryInt("SELECT COUNT(*) FROM processor_runs WHERE status = 'running' AND "
                                            "(lease_expires_at IS NULL OR lease_expires_at <= ?)",
                                            {now_ms}));
  e.Family("nbaprops_running_lease_overdue", "gauge",
           "Runs still running although their lease has expired: stuck, and not yet reaped.");
  e.Sample("nbaprops_running_lease_overdue", {}, static_cast<double>(overdue.value_or(0)));

  auto per_processor = [&](const char* name, const char* help, const char* where) -> Status {
    e.Family(name, "counter", help);
    return t.Query(std::string("SELECT processor, COUNT(*) FROM processor_runs WHERE ") + where +
                       " GROUP BY processor ORDER BY processor",
                   {}, [&](const store::Row& r) {
                     e.Sample(name, {{"processor", r.Text(0)}}, static_cast<double>(r.Int(1)));
                     return OkStatus();
                   });
  };
  RETURN_IF_ERROR(per_processor("nbaprops_lease_expiries_total",
                                "Attempts failed because their lease expired (a worker died or hung).",
                                "error_category = 'lease_expired'"));
  RETURN_IF_ERROR(per_processor("nbaprops_retries_total", "Runs queued by the retry policy after a failed attempt.",
                                "trigger = 'retry'"));

  e.Family("nbaprops_phase_last_success_timestamp_seconds", "gauge",
           "Finish time (Unix seconds) of the latest succeeded run of each phase.");
  return t.Query(
      "SELECT phase, MAX(finished_at) FROM processor_runs WHERE status = 'succeeded' AND finished_at IS NOT "
      "NULL GROUP BY phase ORDER BY phase",
      {}, [&](const store::Row& r) {
        e.Sample("nbaprops_phase_last_success_timestamp_seconds", {{"phase", std::to_string(r.Int(0))}},
                 static_cast<double>(r.Int(1)));
        return OkStatus();
      });
}

// How each system's graded predictions did over its latest kModelWindowDates graded dates
// (prediction_performance_daily), against the sportsbook line on the same predictions.
constexpr int kModelWindowDates = 14;

Status ModelFamilies(store::Transaction& t, Exposition& e) {
  struct Window {
    int64_t wins = 0, losses = 0, n_mae = 0;
    double model_abs = 0, line_abs = 0;
  };
  std::map<std::string, Window> by_system;
  RETURN_IF_ERROR(t.Query(
      "SELECT system_id, wins, losses, n_mae, mae_model, mae_line FROM (SELECT system_id, game_date, wins, losses, "
      "n_mae, mae_model, mae_line, ROW_NUMBER() OVER (PARTITION BY system_id ORDER BY game_date DESC) AS newest "
      "FROM prediction_performance_daily) AS p WHERE newest <= ? ORDER BY system_id, game_date",
      {kModelWindowDates}, [&](const store::Row& r) {
        Window& w = by_system[r.Text(0)];
        w.wins += r.Int(1);
        w.losses += r.Int(2);
        if (r.OptDouble(4) && r.OptDouble(5) && r.Int(3) > 0) {
          w.n_mae += r.Int(3);
          w.model_abs += *r.OptDouble(4) * static_cast<double>(r.Int(3));
          w.line_abs += *r.OptDouble(5) * static_cast<double>(r.Int(3));
        }
        return OkStatus();
      }));
  const std::string window = " over each system's latest " + std::to_string(kModelWindowDates) + " graded dates";
  e.Family("nbaprops_model_picks_graded", "gauge", "Graded picks (wins + losses)" + window + ".");
  for (const auto& [system, w] : by_system) {
    e.Sample("nbaprops_model_picks_graded", {{"system", system}}, static_cast<double>(w.wins + w.losses));
  }
  e.Family("nbaprops_model_hit_rate", "gauge",
           "Wins / (wins + losses) of the picks" + window +
               " (absent without graded picks; break-even at -110 is "
               "0.5238).");
  for (const auto& [system, w] : by_system) {
    if (w.wins + w.losses == 0) continue;
    e.Sample("nbaprops_model_hit_rate", {{"system", system}},
             static_cast<double>(w.wins) / static_cast<double>(w.wins + w.losses));
  }
  e.Family("nbaprops_model_mae_points", "gauge", "Mean absolute error of predicted points" + window + ".");
  for (const auto& [system, w] : by_system) {
    if (w.n_mae > 0) e.Sample("nbaprops_model_mae_points", {{"system", system}}, w.model_abs / double(w.n_mae));
  }
  e.Family("nbaprops_model_line_mae_points", "gauge",
           "Mean absolute error of the sportsbook line on the same predictions" + window + ": the number to beat.");
  for (const auto& [system, w] : by_system) {
    if (w.n_mae > 0) e.Sample("nbaprops_model_line_mae_points", {{"system", system}}, w.line_abs / double(w.n_mae));
  }
  return OkStatus();
}

Status ProblemFamilies(store::Transaction& t, Exposition& e) {
  e.Family("nbaprops_dead_letters", "gauge", "Dead letters by processor and status (open, retried, discarded).");
  RETURN_IF_ERROR(
      t.Query("SELECT processor, status, COUNT(*) FROM dead_letters GROUP BY processor, status ORDER BY "
              "processor, status",
              {}, [&](const store::Row& r) {
                e.Sample("nbaprops_dead_letters", {{"processor", r.Text(0)}, {"status", r.Text(1)}},
                         static_cast<double>(r.Int(2)));
                return OkStatus();
              }));
  std::map<std::string, int64_t> by_severity = {{"info", 0}, {"warning", 0}, {"critical", 0}};
  RETURN_IF_ERROR(t.Query("SELECT severity, COUNT(*) FROM incidents WHERE status = 'open' GROUP BY severity", {},
                          [&](const store::Row& r) {
                            by_severity[r.Text(0)] = r.Int(1);
                            return OkStatus();
                          }));
  e.Family("nbaprops_incidents_open", "gauge", "Open incidents by severity.");
  for (const auto& [severity, n] : by_severity) {
    e.Sample("nbaprops_incidents_open", {{"severity", severity}}, static_cast<double>(n));
  }
  // The kind is the key up to its first ':' (dead_letter, deadline_missed, model_mae, ...): a
  // fixed set, so the label stays bounded while the keys' dates and names are not.
  std::map<std::pair<std::string, std::string>, int64_t> by_kind;
  RETURN_IF_ERROR(
      t.Query("SELECT incident_key, severity FROM incidents WHERE status = 'open'", {}, [&](const store::Row& r) {
        const std::string key = r.Text(0);
        ++by_kind[{key.substr(0, key.find(':')), r.Text(1)}];
        return OkStatus();
      }));
  e.Family("nbaprops_incidents_open_by_kind", "gauge",
           "Open incidents by kind (the incident key up to its first ':') and severity.");
  for (const auto& [kind_severity, n] : by_kind) {
    e.Sample("nbaprops_incidents_open_by_kind", {{"kind", kind_severity.first}, {"severity", kind_severity.second}},
             static_cast<double>(n));
  }
  ASSIGN_OR_RETURN(auto broken, t.QueryInt("SELECT COUNT(*) FROM incidents WHERE status = 'open' AND incident_key "
                                           "LIKE 'alert_channel_broken:%'"));
  e.Family("nbaprops_alert_channels_broken_incidents", "gauge",
           "Open alert_channel_broken:* incidents (a channel that answered 403/404/410 or kept failing).");
  e.Sample("nbaprops_alert_channels_broken_incidents", {}, static_cast<double>(broken.value_or(0)));

  e.Family("nbaprops_circuit_breaker_state", "gauge",
           "Circuit breaker of each external source: 1 for its current state, 0 for the others.");
  std::vector<std::pair<std::string, int64_t>> opened;
  RETURN_IF_ERROR(
      t.Query("SELECT source, state, times_opened FROM circuit_breakers ORDER BY source", {}, [&](const store::Row& r) {
        const std::string state = r.Text(1);
        for (const char* s : {"closed", "open", "half_open"}) {
          e.Sample("nbaprops_circuit_breaker_state", {{"source", r.Text(0)}, {"state", s}}, state == s ? 1 : 0);
        }
        opened.emplace_back(r.Text(0), r.Int(2));
        return OkStatus();
      }));
  e.Family("nbaprops_circuit_breaker_opened_total", "counter", "Times each circuit breaker opened.");
  for (const auto& [source, n] : opened) {
    e.Sample("nbaprops_circuit_breaker_opened_total", {{"source", source}}, static_cast<double>(n));
  }

  e.Family("nbaprops_unresolved_player_names", "gauge", "Registry backlog: player names by status.");
  return t.Query("SELECT status, COUNT(*) FROM unresolved_player_names GROUP BY status ORDER BY status", {},
                 [&](const store::Row& r) {
                   e.Sample("nbaprops_unresolved_player_names", {{"status", r.Text(0)}}, static_cast<double>(r.Int(1)));
                   return OkStatus();
                 });
}

Status DeadlineFamilies(store::Transaction& t, Exposition& e) {
  e.Family("nbaprops_deadlines", "gauge",
           "Deadline rows by deadline and state (pending, at_risk, met, missed, met_late).");
  RETURN_IF_ERROR(t.Query(
      "SELECT deadline_key, status, COUNT(*) FROM deadlines GROUP BY deadline_key, status ORDER BY "
      "deadline_key, status",
      {}, [&](const store::Row& r) {
        e.Sample("nbaprops_deadlines", {{"deadline", r.Text(0)}, {"status", r.Text(1)}}, static_cast<double>(r.Int(2)));
        return OkStatus();
      }));
  e.Family("nbaprops_deadline_unmet_due_timestamp_seconds", "gauge",
           "Due time (Unix seconds) of each deadline not met yet (pending, at_risk or missed), latest 100.");
  RETURN_IF_ERROR(
      t.Query("SELECT deadline_key, data_date, status, due_at FROM deadlines WHERE status IN ('pending', "
              "'at_risk', 'missed') ORDER BY data_date DESC, deadline_key LIMIT 100",
              {}, [&](const store::Row& r) {
                e.Sample("nbaprops_deadline_unmet_due_timestamp_seconds",
                         {{"deadline", r.Text(0)}, {"date", r.Text(1)}, {"status", r.Text(2)}},
                         static_cast<double>(r.Int(3)) / 1000.0);
                return OkStatus();
              }));
  // End to end: from the date's last box score to its graded results being exported
  // (pipeline/guards.h, deadline results_latency; the latency is in the row's details).
  HistogramData h;
  h.bounds = kLatencyBucketsS;
  h.counts.assign(h.bounds.size(), 0);
  std::optional<double> last;
  RETURN_IF_ERROR(
      t.Query("SELECT data_date, details FROM deadlines WHERE deadline_key = 'results_latency' AND details "
              "IS NOT NULL ORDER BY data_date",
              {}, [&](const store::Row& r) {
                auto d = nlohmann::json::parse(r.Text(1), nullptr, false);
                if (d.is_discarded() || !d.is_object()) return OkStatus();
                auto it = d.find("latency_box_score_to_exported_s");
                if (it == d.end() || !it->is_number()) return OkStatus();
                const double v = it->get<double>();
                ++h.count;
                h.sum += v;
                for (size_t i = 0; i < h.bounds.size(); ++i) h.counts[i] += v <= h.bounds[i] ? 1 : 0;
                last = v;
                return OkStatus();
              }));
  e.Family("nbaprops_results_latency_seconds", "histogram",
           "End-to-end latency per game date: last box score ingested -> graded results exported.");
  e.Histogram("nbaprops_results_latency_seconds", {}, h);
  e.Family("nbaprops_results_latency_last_seconds", "gauge",
           "End-to-end results latency of the latest game date that has one.");
  if (last) e.Sample("nbaprops_results_latency_last_seconds", {}, *last);
  return OkStatus();
}

// alert_* tables belong to the alert dispatcher (engine/alerts.h); an older database lacks them.
Status AlertFamilies(store::Transaction& t, Exposition& e) {
  struct PerChannel {
    std::map<std::string, int64_t> messages;
    int64_t attempts = 0, sent = 0;
  };
  std::map<std::string, PerChannel> channels;
  RETURN_IF_ERROR(t.Query("SELECT channel, status, COUNT(*), SUM(attempts) FROM alert_outbox GROUP BY channel, status",
                          {}, [&](const store::Row& r) {
                            PerChannel& c = channels[r.Text(0)];
                            c.messages[r.Text(1)] = r.Int(2);
                            c.attempts += r.OptInt(3).value_or(0);
                            if (r.Text(1) == "sent") c.sent += r.Int(2);
                            return OkStatus();
                          }));
  std::map<std::string, bool> broken;
  RETURN_IF_ERROR(t.Query("SELECT name, state FROM alert_channels", {}, [&](const store::Row& r) {
    broken[r.Text(0)] = r.Text(1) == "broken";
    channels[r.Text(0)];
    return OkStatus();
  }));
  e.Family("nbaprops_alert_messages", "gauge",
           "Alert messages in the outbox by channel and status (pending, sent, dead).");
  for (const auto& [name, c] : channels) {
    for (const char* s : {"pending", "sent", "dead"}) {
      auto it = c.messages.find(s);
      e.Sample("nbaprops_alert_messages", {{"channel", name}, {"status", s}},
               static_cast<double>(it == c.messages.end() ? 0 : it->second));
    }
  }
  e.Family("nbaprops_alert_delivery_attempts_total", "counter", "Alert delivery attempts per channel.");
  for (const auto& [name, c] : channels) {
    e.Sample("nbaprops_alert_delivery_attempts_total", {{"channel", name}}, static_cast<double>(c.attempts));
  }
  e.Family("nbaprops_alert_delivery_failures_total", "counter",
           "Alert delivery attempts that did not deliver (attempts minus messages sent), per channel.");
  for (const auto& [name, c] : channels) {
    e.Sample("nbaprops_alert_delivery_failures_total", {{"channel", name}},
             static_cast<double>(std::max<int64_t>(0, c.attempts - c.sent)));
  }
  e.Family("nbaprops_alert_channel_broken", "gauge", "1 when the alert channel is marked broken.");
  for (const auto& [name, b] : broken) e.Sample("nbaprops_alert_channel_broken", {{"channel", name}}, b ? 1 : 0);
  return OkStatus();
}

}  // namespace

std::string EscapeLabelValue(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string EscapeHelp(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string MetricsText(store::Store& store, const std::string& export_dir, int64_t now_ms,
                        const std::vector<HttpRequestCount>& http) {
  Exposition e;
  auto version = store::SchemaVersion(store);
  e.Family("nbaprops_store_up", "gauge", "1 when the store answered this scrape.");
  e.Sample("nbaprops_store_up", {}, version.ok() ? 1 : 0);
  if (version.ok()) {
    e.Family("nbaprops_schema_version", "gauge", "Applied schema migration (latest known in the label).");
    e.Sample("nbaprops_schema_version", {{"latest", std::to_string(store::LatestSchemaVersion())}}, *version);
  }
  if (version.ok() && *version > 0) {
    Section(store, e, "run metrics", [&](store::Transaction& t, Exposition& x) { return RunFamilies(t, x, now_ms); });
    Section(store, e, "dead letters, incidents, breakers, registry", ProblemFamilies);
    Section(store, e, "deadlines", DeadlineFamilies);
    Section(store, e, "alert delivery", AlertFamilies, /*quiet=*/true);
    Section(store, e, "model vs line", ModelFamilies);
  }

  e.Family("nbaprops_export_generated_timestamp_seconds", "gauge",
           "Modification time (Unix seconds) of the live exported documents that exist.");
  for (const char* doc : {"predictions/today.json", "best-bets/today.json", "status.json"}) {
    struct stat st {};
    if (::stat((export_dir + "/" + doc).c_str(), &st) == 0) {
      e.Sample("nbaprops_export_generated_timestamp_seconds", {{"document", doc}}, static_cast<double>(st.st_mtime));
    }
  }
  e.Family("nbaprops_http_requests_total", "counter",
           "HTTP requests answered by this server, by route and status code.");
  for (const auto& h : http) {
    e.Sample("nbaprops_http_requests_total", {{"route", h.route}, {"code", std::to_string(h.code)}},
             static_cast<double>(h.count));
  }
  return e.Take();
}

}  // namespace nbaprops::api
