#include "pipeline/pipeline.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "base/log.h"
#include "base/time.h"
#include "engine/incidents.h"
#include "pipeline/analytics.h"
#include "pipeline/export.h"
#include "pipeline/grading.h"
#include "pipeline/health.h"
#include "pipeline/http_sources.h"
#include "pipeline/ingest.h"
#include "pipeline/player_names.h"
#include "pipeline/precompute.h"
#include "pipeline/predictions.h"
#include "pipeline/registry.h"

namespace nbaprops::pipeline {

engine::EngineOptions EngineOptionsFrom(const Config& config) {
  engine::EngineOptions o;
  o.lease_ms = config.lease_ms;
  o.heartbeat_ms = config.heartbeat_ms;
  o.retry.max_attempts = config.max_attempts;
  o.retry.base_ms = config.retry_base_ms;
  o.retry.cap_ms = config.retry_cap_ms;
  o.retry.defer_max_ms = int64_t{config.defer_max_hours} * 3600 * 1000;
  o.breaker.consecutive_failures_to_open = config.breaker_failures;
  o.breaker.cooldown_ms = int64_t{config.breaker_cooldown_s} * 1000;
  // Test hook (crash tests): NBAPROPS_TEST_BLOCK="processor[/partition]:ms" blocks that processor's
  // first attempt (on that partition only, when given).
  if (const char* v = std::getenv("NBAPROPS_TEST_BLOCK")) {
    std::string hook(v);
    size_t colon = hook.find(':');
    if (colon != std::string::npos) {
      o.block_processor = hook.substr(0, colon);
      if (size_t slash = o.block_processor.find('/'); slash != std::string::npos) {
        o.block_partition = o.block_processor.substr(slash + 1);
        o.block_processor.resize(slash);
      }
      o.block_ms = std::atoll(hook.c_str() + colon + 1);
    }
  }
  return o;
}

StatusOr<std::unique_ptr<engine::Runner>> MakeRunner(store::Store& store, const Clock& clock, const Config& config) {
  return MakeRunner(store, clock, config, HttpSourceDeps{});
}

StatusOr<std::unique_ptr<engine::Runner>> MakeRunner(store::Store& store, const Clock& clock, const Config& config,
                                                     const HttpSourceDeps& deps) {
  auto runner = std::make_unique<engine::Runner>(store, clock, EngineOptionsFrom(config));
  RETURN_IF_ERROR(runner->Register(std::make_unique<ParsePayloadProcessor>()));
  if (!config.inbox.empty()) {
    RETURN_IF_ERROR(runner->Register(std::make_unique<ImportInboxProcessor>(*runner, config.inbox)));
  }
  RETURN_IF_ERROR(RegisterHttpSources(*runner, config, deps));
  for (auto& p : MakeAnalyticsProcessors(config)) RETURN_IF_ERROR(runner->Register(std::move(p)));
  for (auto& p : MakePrecomputeProcessors(config)) RETURN_IF_ERROR(runner->Register(std::move(p)));
  RETURN_IF_ERROR(runner->Register(MakePredictionProcessor(config)));
  RETURN_IF_ERROR(runner->Register(MakeGradingProcessor()));
  for (auto& p : MakeExportProcessors(config.export_dir)) RETURN_IF_ERROR(runner->Register(std::move(p)));
  RETURN_IF_ERROR(runner->Register(MakeHealthSummaryProcessor()));
  return runner;
}

bool DateRunResult::ok() const {
  for (const auto& [name, o] : outcomes) {
    if (!o.status.ok()) return false;
  }
  return true;
}

namespace {

// The outcome of `p` for `date` when one of its inputs is in `failed` (then `p` is added to it):
// not run, upstream_incomplete. Empty when every input ran.
std::optional<engine::RunOutcome> BlockedByUpstream(const engine::Processor& p, const std::string& date,
                                                    std::set<std::string>& failed) {
  std::string blocked;
  for (const std::string& in : p.inputs()) {
    if (failed.count(in)) blocked = in;
  }
  if (blocked.empty()) return std::nullopt;
  engine::RunOutcome o;
  o.status = FailedPreconditionError(p.name() + " for " + date + " not run: upstream " + blocked + " failed");
  o.category = engine::FailureCategory::kUpstreamIncomplete;
  failed.insert(p.name());
  return o;
}

// Runs the date-partitioned processors of `date` that `wanted` picks, upstream first; `failed`
// holds the date's failed processors across calls, so a downstream one is not run after them.
void RunProcessors(engine::Runner& runner, const std::string& date, const std::function<bool(int)>& wanted,
                   const std::string& trigger, std::set<std::string>& failed, DateRunResult& res) {
  for (engine::Processor* p : runner.InOrder(0)) {
    // Phases 1-2 run per payload, not per date; operations (phase 7) run by schedule only.
    if (p->phase() < 3 || p->phase() > 6 || !wanted(p->phase())) continue;
    if (std::optional<engine::RunOutcome> blocked = BlockedByUpstream(*p, date, failed)) {
      res.outcomes.emplace_back(p->name(), std::move(*blocked));
      continue;
    }
    engine::RunOutcome o = runner.Execute(*p, date, date, trigger);
    if (!o.status.ok()) failed.insert(p->name());
    res.outcomes.emplace_back(p->name(), std::move(o));
  }
}

}  // namespace

DateRunResult RunDate(engine::Runner& runner, const std::string& date, int phase, const std::string& trigger) {
  if (phase == 2) return ReparseDate(runner, date, trigger);
  DateRunResult res;
  res.date = date;
  std::set<std::string> failed;
  RunProcessors(runner, date, [phase](int ph) { return phase == 0 || ph == phase; }, trigger, failed, res);
  return res;
}

std::vector<DateRunResult> RunDates(engine::Runner& runner, const std::vector<std::string>& dates, int phase,
                                    const std::string& trigger) {
  if (phase == 2) {
    std::vector<DateRunResult> out;
    for (const std::string& d : dates) out.push_back(ReparseDate(runner, d, trigger));
    return out;
  }
  auto wants = [phase](int ph) { return phase == 0 || ph == phase; };
  std::vector<DateRunResult> out(dates.size());
  std::vector<std::set<std::string>> failed(dates.size());
  for (size_t i = 0; i < dates.size(); ++i) {
    out[i].date = dates[i];
    RunProcessors(runner, dates[i], [&](int ph) { return ph == 3 && wants(ph); }, trigger, failed[i], out[i]);
  }
  if (wants(4)) {
    for (engine::Processor* p : runner.InOrder(4)) {
      std::vector<std::string> range;
      std::vector<size_t> at;  // index into dates of each range date
      for (size_t i = 0; i < dates.size(); ++i) {
        if (std::optional<engine::RunOutcome> blocked = BlockedByUpstream(*p, dates[i], failed[i])) {
          out[i].outcomes.emplace_back(p->name(), std::move(*blocked));
        } else {
          range.push_back(dates[i]);
          at.push_back(i);
        }
      }
      std::vector<engine::RunOutcome> outcomes = runner.ExecuteRange(*p, range, trigger);
      for (size_t k = 0; k < at.size(); ++k) {
        if (!outcomes[k].status.ok()) failed[at[k]].insert(p->name());
        out[at[k]].outcomes.emplace_back(p->name(), std::move(outcomes[k]));
      }
    }
  }
  for (size_t i = 0; i < dates.size(); ++i) {
    RunProcessors(runner, dates[i], [&](int ph) { return ph >= 5 && wants(ph); }, trigger, failed[i], out[i]);
  }
  return out;
}

DateRunResult ReparseDate(engine::Runner& runner, const std::string& date, const std::string& trigger) {
  DateRunResult res;
  res.date = date;
  std::set<int64_t> payloads;
  Status s = runner.store().WithRead([&](store::Transaction& t) -> Status {
    for (const char* sql : {"SELECT DISTINCT payload_id FROM raw_box_scores WHERE game_date = ?",
                            "SELECT DISTINCT payload_id FROM raw_schedule WHERE game_date = ?",
                            "SELECT DISTINCT payload_id FROM raw_player_props WHERE game_date = ?",
                            "SELECT DISTINCT payload_id FROM raw_injury_reports WHERE report_date = ?",
                            "SELECT DISTINCT payload_id FROM raw_game_lines WHERE game_date = ?"}) {
      RETURN_IF_ERROR(t.Query(sql, {date}, [&](const store::Row& r) {
        payloads.insert(r.Int(0));
        return OkStatus();
      }));
    }
    return OkStatus();
  });
  if (!s.ok()) {
    engine::RunOutcome o;
    o.status = s;
    res.outcomes.emplace_back(kParsePayload, o);
    return res;
  }
  engine::Processor* p = runner.Find(kParsePayload);
  for (int64_t id : payloads) {
    res.outcomes.emplace_back(kParsePayload, runner.Execute(*p, "payload:" + std::to_string(id), "", trigger));
  }
  return res;
}

std::vector<DateRunResult> Backfill(engine::Runner& runner, const std::string& from, const std::string& to, int phase,
                                    const std::function<void(int, int, const std::string&)>& progress,
                                    int range_days) {
  // A backfill restarted after its process was killed finds that process's last runs still
  // "running": once their lease has lapsed they are failed and queued again here, so this
  // backfill can claim them instead of reporting them as running elsewhere.
  if (auto reaped = runner.Reap(); !reaped.ok())
    LogWarn("backfill: reaping expired leases: " + reaped.status().ToString());
  std::vector<DateRunResult> out;
  int32_t a = ParseIsoDate(from).value_or(0), b = ParseIsoDate(to).value_or(-1);
  int total = b >= a ? b - a + 1 : 0;
  const int32_t step = std::max(1, range_days);
  for (int32_t d = a; d <= b; d += step) {
    std::vector<std::string> dates;
    for (int32_t x = d; x <= std::min(b, d + step - 1); ++x) dates.push_back(FormatIsoDate(x));
    for (DateRunResult& r : RunDates(runner, dates, phase, "backfill")) out.push_back(std::move(r));
    if (progress) progress(static_cast<int>(out.size()), total, dates.back());
  }
  return out;
}

StatusOr<int64_t> EnqueueDateRoots(store::Transaction& t, engine::Runner& runner, const std::string& date,
                                   const std::string& trigger) {
  int64_t n = 0;
  for (engine::Processor* p : runner.InOrder(3)) {
    if (!p->inputs().empty()) continue;
    engine::RunStart start{p->name(), p->phase(), date, date, trigger, std::nullopt, 1, 0, std::nullopt};
    RETURN_IF_ERROR(engine::Ledger::Enqueue(t, start, runner.clock().NowSeconds()).status());
    ++n;
  }
  return n;
}

StatusOr<int64_t> EnqueueDates(engine::Runner& runner, const std::string& from, const std::string& to,
                               const std::string& trigger) {
  int32_t a = ParseIsoDate(from).value_or(0), b = ParseIsoDate(to).value_or(-1);
  int64_t queued = 0;
  RETURN_IF_ERROR(runner.store().WithWrite([&](store::Transaction& t) -> Status {
    for (int32_t d = a; d <= b; ++d) {
      ASSIGN_OR_RETURN(int64_t n, EnqueueDateRoots(t, runner, FormatIsoDate(d), trigger));
      queued += n;
    }
    return OkStatus();
  }));
  return queued;
}

Status RegisterSchedules(engine::Scheduler& scheduler, engine::Runner& runner) {
  struct Def {
    const char* name;
    const char* cron;
    int day_offset;
    const char* processor;  // nullptr: the date's phase-3 roots, whose triggers run phases 4-6
    int catch_up;           // missed fire times also fired after downtime (the rest heal covers)
  };
  // The daily summary is no expectation heal would fill, so a week of missed mornings is caught up.
  for (Def d : {Def{"predictions_today", "0 8,13,18 * * *", 0, nullptr, 0},
                Def{"results_yesterday", "0 4,9 * * *", -1, nullptr, 0},
                Def{"daily_health", "0 7 * * *", -1, kDailyHealthSummary, 7}}) {
    engine::Processor* p = d.processor ? runner.Find(d.processor) : nullptr;
    if (d.processor && !p) continue;
    engine::Scheduler::Schedule s;
    s.name = d.name;
    s.cron = d.cron;
    s.time_zone = "America/New_York";
    s.catch_up = d.catch_up;
    s.action = [&runner, p, offset = d.day_offset](store::Transaction& t, int64_t fire_ms) -> Status {
      const std::string date = FormatIsoDate(EasternDate(fire_ms / 1000) + offset);
      if (!p) return EnqueueDateRoots(t, runner, date, "schedule").status();
      engine::RunStart start{p->name(), p->phase(), date, date, "schedule", std::nullopt, 1, 0, std::nullopt};
      return engine::Ledger::Enqueue(t, start, fire_ms / 1000).status();
    };
    RETURN_IF_ERROR(scheduler.Register(std::move(s)));
  }
  // The scrape times of the system we replace; with file-mode sources a scrape imports the inbox.
  if (engine::Processor* inbox = runner.Find(kImportInbox)) {
    engine::Scheduler::Schedule s;
    s.name = "scrape_inbox";
    s.cron = "0 7,12,16,22 * * *";
    s.time_zone = "UTC";
    s.action = [&runner, inbox](store::Transaction& t, int64_t fire_ms) {
      engine::RunStart start{inbox->name(),
                             inbox->phase(),
                             "inbox:" + FormatIsoTimestamp(fire_ms / 1000),
                             FormatIsoDate(EasternDate(fire_ms / 1000)),
                             "schedule",
                             std::nullopt,
                             1,
                             0,
                             std::nullopt};
      return engine::Ledger::Enqueue(t, start, fire_ms / 1000).status();
    };
    RETURN_IF_ERROR(scheduler.Register(std::move(s)));
  }
  // The HTTP sources at the same times: today's schedule and props, yesterday's finals and box scores.
  struct Scrape {
    const char* processor;
    int day_offset;
  };
  std::vector<std::pair<engine::Processor*, int>> scrapes;
  for (Scrape sc :
       {Scrape{kScrapeEspn, 0}, Scrape{kScrapeEspn, -1}, Scrape{kScrapeBalldontlie, -1}, Scrape{kScrapeOddsApi, 0}}) {
    if (engine::Processor* p = runner.Find(sc.processor)) scrapes.emplace_back(p, sc.day_offset);
  }
  if (!scrapes.empty()) {
    engine::Scheduler::Schedule s;
    s.name = "scrape_http";
    s.cron = "0 7,12,16,22 * * *";
    s.time_zone = "UTC";
    s.action = [scrapes](store::Transaction& t, int64_t fire_ms) -> Status {
      for (const auto& [p, offset] : scrapes) {
        const std::string date = FormatIsoDate(EasternDate(fire_ms / 1000) + offset);
        engine::RunStart start{p->name(), p->phase(), date, date, "schedule", std::nullopt, 1, 0, std::nullopt};
        RETURN_IF_ERROR(engine::Ledger::Enqueue(t, start, fire_ms / 1000).status());
      }
      return OkStatus();
    };
    RETURN_IF_ERROR(scheduler.Register(std::move(s)));
  }
  return OkStatus();
}

StatusOr<std::vector<std::string>> GameDates(store::Store& store) {
  std::vector<std::string> dates;
  RETURN_IF_ERROR(store.WithRead([&](store::Transaction& t) {
    return t.Query("SELECT game_date FROM raw_schedule UNION SELECT game_date FROM raw_box_scores ORDER BY 1", {},
                   [&](const store::Row& r) {
                     dates.push_back(r.Text(0));
                     return OkStatus();
                   });
  }));
  return dates;
}

StatusOr<Summary> Summarize(store::Store& store) {
  Summary s;
  RETURN_IF_ERROR(store.WithRead([&](store::Transaction& t) -> Status {
    auto count = [&](const char* sql, int64_t* out) -> Status {
      ASSIGN_OR_RETURN(auto v, t.QueryInt(sql));
      *out = v.value_or(0);
      return OkStatus();
    };
    RETURN_IF_ERROR(count("SELECT COUNT(*) FROM raw_schedule", &s.games));
    RETURN_IF_ERROR(count("SELECT COUNT(*) FROM raw_schedule WHERE status = 'final'", &s.games_final));
    RETURN_IF_ERROR(count("SELECT COUNT(*) FROM analytics_player_game_summary", &s.player_games));
    RETURN_IF_ERROR(count("SELECT COUNT(*) FROM raw_box_scores", &s.box_score_rows));
    RETURN_IF_ERROR(count("SELECT COUNT(*) FROM raw_player_props", &s.lines));
    RETURN_IF_ERROR(count("SELECT COUNT(*) FROM raw_injury_reports", &s.injuries));
    RETURN_IF_ERROR(count("SELECT COUNT(*) FROM rejected_records", &s.rejected));
    RETURN_IF_ERROR(count("SELECT COUNT(*) FROM unresolved_player_names WHERE status = 'pending' AND occurrences > 0",
                          &s.unresolved_names));
    RETURN_IF_ERROR(
        count("SELECT (SELECT COUNT(*) FROM raw_box_scores WHERE player_id IS NULL) + (SELECT COUNT(*) "
              "FROM raw_player_props WHERE player_id IS NULL) + (SELECT COUNT(*) FROM raw_injury_reports "
              "WHERE player_id IS NULL)",
              &s.unresolved_rows));
    RETURN_IF_ERROR(count("SELECT COUNT(*) FROM reference_players", &s.players));
    RETURN_IF_ERROR(count("SELECT COUNT(*) FROM raw_payloads", &s.payloads));
    RETURN_IF_ERROR(count("SELECT COUNT(DISTINCT name_key) FROM raw_player_props", &s.line_names));
    RETURN_IF_ERROR(count("SELECT COUNT(DISTINCT name_key) FROM raw_player_props WHERE player_id IS NOT NULL",
                          &s.line_names_resolved));
    RETURN_IF_ERROR(t.Query("SELECT source, COUNT(*) FROM raw_box_scores GROUP BY source ORDER BY 2 DESC", {},
                            [&](const store::Row& r) {
                              s.box_scores_by_source.emplace_back(r.Text(0), r.Int(1));
                              return OkStatus();
                            }));
    RETURN_IF_ERROR(t.Query("SELECT status, COUNT(*) FROM processor_runs GROUP BY status ORDER BY status", {},
                            [&](const store::Row& r) {
                              s.runs_by_status.emplace_back(r.Text(0), r.Int(1));
                              return OkStatus();
                            }));
    RETURN_IF_ERROR(count("SELECT COUNT(*) FROM dead_letters WHERE status = 'open'", &s.dead_letters_open));
    ASSIGN_OR_RETURN(auto incidents, engine::ListIncidents(t, true));
    for (const auto& i : incidents) s.open_incidents.push_back(i.severity + " " + i.key + ": " + i.summary);
    ASSIGN_OR_RETURN(auto first, t.QueryText("SELECT MIN(game_date) FROM raw_schedule"));
    ASSIGN_OR_RETURN(auto last, t.QueryText("SELECT MAX(game_date) FROM raw_schedule"));
    s.first_date = first.value_or("");
    s.last_date = last.value_or("");
    return OkStatus();
  }));
  return s;
}

StatusOr<AliasResult> AddManualAlias(engine::Runner& runner, const std::string& name, const std::string& player_id,
                                     bool run_now) {
  AliasResult res;
  res.player_id = player_id;
  const std::string key = MakeNameKeys(name).full;
  if (key.empty()) return InvalidArgumentError("alias '" + name + "' has no letters");
  std::set<std::string> dates;
  RETURN_IF_ERROR(runner.store().WithWrite([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(PlayerRegistry registry, PlayerRegistry::Load(t));
    if (!registry.HasPlayer(player_id)) {
      return NotFoundError("no player with id '" + player_id + "'; find the id with `nbaprops registry players NAME`");
    }
    res.canonical_name = registry.CanonicalName(player_id);
    RETURN_IF_ERROR(registry.AddAlias(t, player_id, name, "manual"));
    for (const char* table : {"raw_box_scores", "raw_player_props"}) {
      RETURN_IF_ERROR(
          t.Query(std::string("SELECT DISTINCT game_date FROM ") + table + " WHERE name_key = ? AND player_id IS NULL",
                  {key}, [&](const store::Row& r) {
                    dates.insert(r.Text(0));
                    return OkStatus();
                  }));
    }
    RETURN_IF_ERROR(
        t.Query("SELECT DISTINCT report_date FROM raw_injury_reports WHERE name_key = ? AND player_id IS NULL", {key},
                [&](const store::Row& r) {
                  dates.insert(r.Text(0));
                  return OkStatus();
                }));
    for (const char* table : {"raw_box_scores", "raw_player_props", "raw_injury_reports"}) {
      ASSIGN_OR_RETURN(int64_t n, t.Exec(std::string("UPDATE ") + table +
                                             " SET player_id = ? WHERE name_key = ? AND player_id IS NULL",
                                         {player_id, key}));
      res.rows_resolved += n;
    }
    RETURN_IF_ERROR(t.Exec("UPDATE unresolved_player_names SET status = 'resolved', resolved_player_id = ?, "
                           "last_seen = ? WHERE normalized = ? AND status = 'pending'",
                           {player_id, runner.clock().NowSeconds(), key})
                        .status());
    RETURN_IF_ERROR(PlayerRegistry::RebuildTeamHistory(t));
    for (const std::string& d : dates) {
      for (engine::Processor* p : runner.InOrder(3)) {
        engine::RunStart start{p->name(), p->phase(), d, d, "manual", std::nullopt, 1, 0, std::nullopt};
        ASSIGN_OR_RETURN(int64_t id, engine::Ledger::Enqueue(t, start, runner.clock().NowSeconds()));
        res.queued_runs.push_back(id);
      }
    }
    return OkStatus();
  }));
  res.requeued_dates.assign(dates.begin(), dates.end());
  if (!run_now) {
    runner.NotifyWork();
    return res;
  }
  ASSIGN_OR_RETURN(res.outcomes, runner.DrainQueue());
  return res;
}

}  // namespace nbaprops::pipeline
