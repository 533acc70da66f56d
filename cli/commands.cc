#include "cli/commands.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>

#include "api/status_json.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/log.h"
#include "base/strings.h"
#include "base/time.h"
#include "cli/progress.h"
#include "cli/table.h"
#include "engine/ledger.h"
#include "engine/scheduler.h"
#include "pipeline/formats.h"
#include "pipeline/guards.h"
#include "pipeline/health.h"
#include "pipeline/ingest.h"
#include "pipeline/pipeline.h"
#include "store/migrations.h"
#include "store/store.h"

#ifndef NBAPROPS_VERSION
#define NBAPROPS_VERSION "0.0.0"
#endif

namespace nbaprops::cli {

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return code;
}

int OpenEnv(const GlobalOptions& g, bool create, Env* env) {
  auto config = LoadConfig(g.config);
  if (!config.ok()) return Fail(kExitUsage, config.status().message());
  env->config = *config;
  if (!g.db.empty()) env->config.db_path = g.db;
  static const std::map<std::string, LogLevel> kLevels = {{"debug", LogLevel::kDebug},
                                                          {"info", LogLevel::kInfo},
                                                          {"warn", LogLevel::kWarn},
                                                          {"error", LogLevel::kError},
                                                          {"off", LogLevel::kOff}};
  SetLogLevel(kLevels.at(env->config.log_level));
  const std::string& path = env->config.db_path;
  const std::string shown = store::PrintableDatabaseUrl(path);
  auto not_created = [&] {
    return Fail(kExitStore, "database '" + shown + "' does not exist; run `nbaprops init --db " + shown +
                                "` (or `make demo`) first, or pass --db");
  };
  std::error_code ec;
  if (!create && !store::IsPostgresUrl(path) && !std::filesystem::exists(path, ec)) return not_created();
  auto store = store::OpenStore(path);
  if (!store.ok()) return Fail(kExitStore, store.status().message());
  env->store = std::move(store).value();
  if (!create && store::IsPostgresUrl(path)) {  // the server exists; has nbaprops been set up in it?
    auto version = store::SchemaVersion(*env->store);
    if (!version.ok()) return Fail(kExitStore, version.status().message());
    if (*version == 0) return not_created();
  }
  auto applied = store::Migrate(*env->store);
  if (!applied.ok()) return Fail(kExitStore, "migrating " + shown + ": " + applied.status().message());
  auto runner = pipeline::MakeRunner(*env->store, SystemClock::Default(), env->config);
  if (!runner.ok()) return Fail(kExitFailed, runner.status().message());
  env->runner = std::move(runner).value();
  return kExitOk;
}

namespace {

void PrintImportResult(const pipeline::ImportResult& r) {
  if (r.skipped) {
    std::printf("skipped  %s: %s\n", r.path.c_str(), r.note.c_str());
    return;
  }
  if (!r.status.ok()) {
    std::printf("FAILED   %s: %s\n", r.path.c_str(), r.status.message().c_str());
    return;
  }
  std::printf("%s %s [%s]: read %lld = stored %lld + rejected %lld%s%s\n",
              r.already_imported ? "unchanged" : "imported", r.path.c_str(),
              std::string(pipeline::KindName(r.kind)).c_str(), static_cast<long long>(r.read),
              static_cast<long long>(r.stored), static_cast<long long>(r.rejected),
              r.unresolved ? (", unresolved names on " + std::to_string(r.unresolved) + " rows").c_str() : "",
              r.already_imported ? " (already imported; nothing new stored)" : "");
}

int ImportInto(Env& env, const std::vector<std::string>& paths, std::optional<pipeline::ImportKind> kind, bool quiet) {
  pipeline::Ingestor ingestor(*env.runner);
  int failed = 0, skipped = 0;
  int64_t read = 0, stored = 0, rejected = 0;
  auto results = ingestor.ImportPaths(paths, kind, [&](const pipeline::ImportResult& r) {
    if (!quiet || !r.status.ok()) PrintImportResult(r);
  });
  for (const auto& r : results) {
    failed += !r.status.ok();
    skipped += r.skipped;
    read += r.read;
    stored += r.stored;
    rejected += r.rejected;
  }
  std::printf("import: %zu files (%d skipped, %d failed); records read %lld = stored %lld + rejected %lld\n",
              results.size(), skipped, failed, static_cast<long long>(read), static_cast<long long>(stored),
              static_cast<long long>(rejected));
  if (rejected > 0) {
    std::printf("  see rejected records: %s %s 'SELECT location, reason FROM rejected_records'\n",
                env.store->backend() == "sqlite" ? "sqlite3" : "psql", env.store->description().c_str());
  }
  return failed ? kExitFailed : kExitOk;
}

int ReportDateRuns(const std::vector<pipeline::DateRunResult>& results, bool quiet) {
  int failed = 0;
  int64_t out = 0;
  for (const auto& d : results) {
    for (const auto& [name, o] : d.outcomes) {
      out += o.records_out;
      if (!o.status.ok()) {
        ++failed;
        std::printf("FAILED %s %s [%s]: %s\n", d.date.c_str(), name.c_str(),
                    std::string(engine::FailureCategoryName(o.category)).c_str(), o.status.message().c_str());
      } else if (!quiet && results.size() == 1) {
        std::printf("ok     %s %-30s rows %lld\n", d.date.c_str(), name.c_str(), static_cast<long long>(o.records_out));
      }
    }
  }
  std::printf("%zu date(s): %d failed run(s), %lld rows written\n", results.size(), failed,
              static_cast<long long>(out));
  return failed ? kExitFailed : kExitOk;
}

void PrintSummary(const pipeline::Summary& s) {
  auto n = [](int64_t v) { return static_cast<long long>(v); };
  std::printf("season %s .. %s\n", s.first_date.c_str(), s.last_date.c_str());
  std::printf("  games               %lld (%lld final)\n", n(s.games), n(s.games_final));
  std::printf("  player-games        %lld (box-score rows %lld:", n(s.player_games), n(s.box_score_rows));
  for (const auto& [src, c] : s.box_scores_by_source) std::printf(" %s %lld", src.c_str(), n(c));
  std::printf(")\n");
  std::printf("  lines               %lld (player names %lld, resolved %lld = %.1f%%)\n", n(s.lines), n(s.line_names),
              n(s.line_names_resolved), s.line_names ? 100.0 * s.line_names_resolved / s.line_names : 0.0);
  std::printf("  injury report rows  %lld\n", n(s.injuries));
  std::printf("  players             %lld\n", n(s.players));
  std::printf("  rejected records    %lld\n", n(s.rejected));
  std::printf("  unresolved names    %lld (on %lld rows; `nbaprops registry unresolved`)\n", n(s.unresolved_names),
              n(s.unresolved_rows));
  std::printf("  runs               ");
  for (const auto& [st, c] : s.runs_by_status) std::printf(" %s %lld", st.c_str(), n(c));
  std::printf("\n  dead letters        %lld open%s\n", n(s.dead_letters_open),
              s.dead_letters_open ? " (`nbaprops dlq list`)" : "");
  std::printf("  open incidents      %zu\n", s.open_incidents.size());
  for (const auto& i : s.open_incidents) std::printf("    %s\n", i.c_str());
}

}  // namespace

std::optional<std::string> CheckDate(const std::string& d, const char* flag) {
  if (IsIsoDate(d)) return std::nullopt;
  std::string msg = std::string(flag) + " '" + d + "' is not a date YYYY-MM-DD";
  if (auto g = GuessDate(d)) msg += "; did you mean " + FormatIsoDate(*g) + "?";
  return msg;
}

int CmdInit(const GlobalOptions& g) {
  Env env;
  if (int rc = OpenEnv(g, true, &env)) return rc;
  auto v = store::SchemaVersion(*env.store);
  std::printf("database %s ready (schema version %d)\n", env.store->description().c_str(), v.ok() ? *v : -1);
  return kExitOk;
}

int CmdImport(const GlobalOptions& g, const std::vector<std::string>& paths, const std::string& kind) {
  std::optional<pipeline::ImportKind> forced;
  if (!kind.empty()) {
    forced = pipeline::KindFromName(kind);
    if (!forced) return Fail(kExitUsage, "--kind '" + kind + "' is not one of " + pipeline::AllKindNames());
  }
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  return ImportInto(env, paths, forced, g.quiet);
}

int CmdRun(const GlobalOptions& g, const std::string& date, int phase, bool queued) {
  if (!queued) {
    if (auto bad = CheckDate(date, "--date")) return Fail(kExitUsage, *bad);
  }
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  if (queued) {
    auto outcomes = env.runner->DrainQueue();
    if (!outcomes.ok()) return Fail(kExitStore, outcomes.status().message());
    int failed = 0;
    for (const auto& o : *outcomes) {
      if (!o.status.ok()) {
        ++failed;
        std::printf("FAILED run %lld: %s\n", static_cast<long long>(o.run_id), o.status.message().c_str());
      }
    }
    std::printf("%zu queued run(s) executed, %d failed\n", outcomes->size(), failed);
    return failed ? kExitFailed : kExitOk;
  }
  auto res = pipeline::RunDate(*env.runner, date, phase, "manual");
  return ReportDateRuns({res}, g.quiet);
}

int CmdBackfill(const GlobalOptions& g, const std::string& from_in, const std::string& to_in, int phase, bool enqueue,
                int range_days) {
  if (!from_in.empty()) {
    if (auto bad = CheckDate(from_in, "--from")) return Fail(kExitUsage, *bad);
  }
  if (!to_in.empty()) {
    if (auto bad = CheckDate(to_in, "--to")) return Fail(kExitUsage, *bad);
  }
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  std::string from = from_in, to = to_in;
  if (from.empty() || to.empty()) {
    auto dates = pipeline::GameDates(*env.store);
    if (!dates.ok()) return Fail(kExitStore, dates.status().message());
    if (dates->empty()) return Fail(kExitFailed, "no games stored; import a schedule or box scores first");
    if (from.empty()) from = dates->front();
    if (to.empty()) to = dates->back();
  }
  if (from > to) return Fail(kExitUsage, "--from " + from + " is after --to " + to);
  if (enqueue) {
    auto n = pipeline::EnqueueDates(*env.runner, from, to, "backfill");
    if (!n.ok()) return Fail(kExitStore, n.status().message());
    std::printf("queued %lld run(s) for %s .. %s; `nbaprops serve` or `nbaprops worker` will run them\n",
                static_cast<long long>(*n), from.c_str(), to.c_str());
    return kExitOk;
  }
  Progress progress("backfill", g.quiet);
  auto results = pipeline::Backfill(
      *env.runner, from, to, phase, [&](int done, int total, const std::string& d) { progress.Update(done, total, d); },
      range_days);
  return ReportDateRuns(results, g.quiet);
}

int CmdStatus(const GlobalOptions& g, const std::string& date) {
  if (!date.empty()) {
    if (auto bad = CheckDate(date, "--date")) return Fail(kExitUsage, *bad);
  }
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  if (date.empty()) {
    // A schedule that should have fired and did not (no scheduler running?) becomes an incident.
    engine::Scheduler scheduler(*env.store, env.runner->clock());
    Status missed = scheduler.CheckMissed(15 * 60 * 1000);
    if (!missed.ok()) LogWarn("checking schedules: " + missed.ToString());
    auto s = pipeline::Summarize(*env.store);
    if (!s.ok()) return Fail(kExitStore, s.status().message());
    if (g.json) {
      std::printf("%s\n", api::SummaryJson(*s).c_str());
      return kExitOk;
    }
    PrintSummary(*s);
    // Deadlines and the model guard as they stand now, judged without writing (serve records them).
    pipeline::GuardOptions go;
    go.dry_run = true;
    const int64_t now = env.runner->clock().NowMillis();
    Table t({"check", "subject", "outcome", "summary"});
    for (auto report : {pipeline::CheckDeadlines(*env.store, go, env.config.export_dir, now),
                        pipeline::CheckModelGuard(*env.store, go, env.config.model_path,
                                                  FormatIsoDate(EasternDate(now / 1000)), now)}) {
      if (!report.ok()) {
        LogWarn("guards: " + report.status().ToString());
        continue;
      }
      for (const auto& c : report->checks) t.Add({c.check, c.subject, c.outcome, Truncate(c.summary, 90)});
    }
    std::printf("\ndeadlines and model guard (now):\n%s", t.Render().c_str());
    return kExitOk;
  }
  std::vector<engine::RunRecord> runs;
  Status st = env.store->WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(runs, engine::Ledger::LatestForDate(t, date));
    return OkStatus();
  });
  if (!st.ok()) return Fail(kExitStore, st.message());
  auto expected = DateExpectations(env, date);
  if (!expected.ok()) return Fail(kExitStore, expected.status().message());
  const int64_t now_ms = env.runner->clock().NowMillis();
  bool runs_ok = true;
  for (const auto& r : runs) runs_ok = runs_ok && r.status == "succeeded";
  int overdue = 0, unmet = 0;
  for (const auto& [phase, e] : *expected) {
    unmet += e.met() ? 0 : 1;
    overdue += !e.met() && now_ms >= e.due_ms ? 1 : 0;
  }
  if (g.json) {
    std::printf("%s\n", api::DateStatusJson(date, runs, *expected, now_ms).c_str());
  } else {
    Table t({"phase", "processor", "status", "attempt", "rows in", "rows out", "rejected", "error"});
    for (const auto& r : runs) {
      t.Add({std::to_string(r.phase), r.processor, r.status, std::to_string(r.attempt),
             std::to_string(r.records_in.value_or(0)), std::to_string(r.records_out.value_or(0)),
             std::to_string(r.records_rejected.value_or(0)),
             r.error_category.empty() ? "" : r.error_category + ": " + Truncate(r.error_message, 80)});
    }
    std::printf("%s", t.Render().c_str());
    if (expected->empty()) {
      std::printf("no games on %s: nothing is expected\n", date.c_str());
    } else {
      std::printf("\nexpected vs actual:\n%s", ExpectationsTable(*expected, now_ms).c_str());
    }
    std::string verdict = runs.empty() && expected->empty() ? "nothing has run for this date"
                          : runs_ok && unmet == 0           ? "complete"
                                                            : "INCOMPLETE";
    if (unmet > 0) {
      verdict += ": " + std::to_string(unmet) + " expectation(s) unmet, " + std::to_string(overdue) +
                 " past due (`nbaprops heal --date " + date + "` re-runs what can be re-run)";
    }
    std::printf("%s: %s\n", date.c_str(), verdict.c_str());
  }
  return runs_ok && overdue == 0 ? kExitOk : kExitFailed;
}

int CmdHealthSummary(const GlobalOptions& g, const std::string& date) {
  if (!date.empty()) {
    if (auto bad = CheckDate(date, "--date")) return Fail(kExitUsage, *bad);
  }
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  const Clock& clock = env.runner->clock();
  const std::string day = date.empty() ? FormatIsoDate(EasternDate(clock.NowSeconds()) - 1) : date;
  std::string out;
  Status st = env.store->WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(pipeline::HealthSummary s, pipeline::BuildHealthSummary(t, day, clock.NowMillis()));
    out = g.json ? pipeline::HealthSummaryJson(s) + "\n" : pipeline::HealthSummaryText(s);
    return OkStatus();
  });
  if (!st.ok()) return Fail(kExitStore, st.message());
  std::printf("%s", out.c_str());
  return kExitOk;
}

int CmdRuns(const GlobalOptions& g, const std::string& status, const std::string& processor, const std::string& date,
            int limit) {
  if (!date.empty()) {
    if (auto bad = CheckDate(date, "--date")) return Fail(kExitUsage, *bad);
  }
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  std::vector<engine::RunRecord> runs;
  Status st = env.store->WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(runs, engine::Ledger::List(t, engine::RunFilter{status, processor, date, limit}));
    return OkStatus();
  });
  if (!st.ok()) return Fail(kExitStore, st.message());
  if (g.json) {
    std::printf("%s\n", api::RunsJson(runs).c_str());
    return kExitOk;
  }
  Table t({"run", "processor", "partition", "status", "try", "trigger", "in", "out", "rej", "ms", "error"});
  for (const auto& r : runs) {
    t.Add({std::to_string(r.run_id), r.processor, r.partition_key, r.status, std::to_string(r.attempt), r.trigger,
           std::to_string(r.records_in.value_or(0)), std::to_string(r.records_out.value_or(0)),
           std::to_string(r.records_rejected.value_or(0)), std::to_string(r.duration_ms.value_or(0)),
           r.error_category.empty() ? "" : r.error_category + ": " + Truncate(r.error_message, 60)});
  }
  std::printf("%s", t.Render().c_str());
  return kExitOk;
}

int CmdRegistryUnresolved(const GlobalOptions& g, const std::string& status) {
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  Table t({"id", "source", "name", "normalized", "rows", "status", "examples", "reason"});
  std::string json = "[";
  Status st = env.store->WithRead([&](store::Transaction& tx) {
    return tx.Query(
        "SELECT id, source, original_name, normalized, occurrences, status, example_games, reason "
        "FROM unresolved_player_names WHERE (? = 'all' OR status = ?) AND occurrences > 0 "
        "ORDER BY occurrences DESC, id",
        {status, status}, [&](const store::Row& r) {
          t.Add({r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6), r.Text(7)});
          if (json.size() > 1) json += ",";
          json += "{\"id\":" + r.Text(0) + ",\"source\":" + api::JsonEscape(r.Text(1)) +
                  ",\"name\":" + api::JsonEscape(r.Text(2)) + ",\"normalized\":" + api::JsonEscape(r.Text(3)) +
                  ",\"occurrences\":" + r.Text(4) + ",\"status\":" + api::JsonEscape(r.Text(5)) +
                  ",\"examples\":" + api::JsonEscape(r.Text(6)) + ",\"reason\":" + api::JsonEscape(r.Text(7)) + "}";
          return OkStatus();
        });
  });
  if (!st.ok()) return Fail(kExitStore, st.message());
  if (g.json) {
    std::printf("%s]\n", json.c_str());
  } else {
    std::printf("%s", t.Render().c_str());
    std::printf("%zu name(s). Resolve one with: nbaprops registry alias \"NAME\" --player ID\n", t.size());
  }
  return kExitOk;
}

int CmdRegistryAlias(const GlobalOptions& g, const std::string& name, const std::string& player_id, bool enqueue) {
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  auto res = pipeline::AddManualAlias(*env.runner, name, player_id, !enqueue);
  if (!res.ok()) {
    return Fail(res.status().code() == StatusCode::kNotFound ? kExitUsage : kExitFailed, res.status().message());
  }
  if (enqueue) {
    std::printf(
        "'%s' is now an alias of %s (%s): %lld stored rows resolved; queued %zu run(s) for %zu date(s); "
        "`nbaprops serve` or `nbaprops worker` will run them\n",
        name.c_str(), res->canonical_name.c_str(), player_id.c_str(), static_cast<long long>(res->rows_resolved),
        res->queued_runs.size(), res->requeued_dates.size());
    return kExitOk;
  }
  int failed = 0;
  for (const auto& o : res->outcomes) failed += !o.status.ok();
  std::printf("'%s' is now an alias of %s (%s): %lld stored rows resolved; re-ran phase 3 for %zu date(s)%s\n",
              name.c_str(), res->canonical_name.c_str(), player_id.c_str(), static_cast<long long>(res->rows_resolved),
              res->requeued_dates.size(), failed ? (", " + std::to_string(failed) + " run(s) failed").c_str() : "");
  return failed ? kExitFailed : kExitOk;
}

int CmdRegistryPlayers(const GlobalOptions& g, const std::string& query) {
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  Table t({"player_id", "name", "teams", "aliases"});
  // One row per (player, team, alias); joined here rather than with GROUP_CONCAT, which only SQLite has.
  struct Found {
    std::string name;
    std::vector<std::string> teams, aliases;
  };
  std::vector<std::string> order;
  std::map<std::string, Found> found;
  auto add = [](std::vector<std::string>& v, std::optional<std::string> x) {
    if (x && std::find(v.begin(), v.end(), *x) == v.end()) v.push_back(std::move(*x));
  };
  Status st = env.store->WithRead([&](store::Transaction& tx) {
    return tx.Query(
        "SELECT p.player_id, p.canonical_name, t.team, a.alias FROM reference_players p "
        "LEFT JOIN reference_player_teams t ON t.player_id = p.player_id "
        "LEFT JOIN reference_player_aliases a ON a.player_id = p.player_id "
        "WHERE p.player_id IN (SELECT player_id FROM reference_players WHERE canonical_name LIKE ? UNION "
        "SELECT player_id FROM reference_player_aliases WHERE alias LIKE ?) "
        "ORDER BY p.canonical_name, p.player_id, t.first_game_date, t.team, a.alias",
        {"%" + query + "%", "%" + query + "%"}, [&](const store::Row& r) {
          if (order.size() == 200 && !found.count(r.Text(0))) return OkStatus();  // the first 200 players
          auto [it, fresh] = found.try_emplace(r.Text(0));
          if (fresh) {
            order.push_back(it->first);
            it->second.name = r.Text(1);
          }
          add(it->second.teams, r.OptText(2));
          add(it->second.aliases, r.OptText(3));
          return OkStatus();
        });
  });
  for (const std::string& id : order) {
    const Found& f = found[id];
    t.Add({id, f.name, Join(f.teams, " "), Truncate(Join(f.aliases, "; "), 60)});
  }
  if (!st.ok()) return Fail(kExitStore, st.message());
  std::printf("%s", t.Render().c_str());
  return kExitOk;
}

int CmdDemo(const GlobalOptions& g, const std::string& data_dir_in) {
  Env env;
  if (int rc = OpenEnv(g, true, &env)) return rc;
  std::string data_dir = data_dir_in.empty() ? env.config.data_dir : data_dir_in;
  std::error_code ec;
  if (!std::filesystem::is_directory(data_dir, ec)) {
    return Fail(kExitUsage, "data directory '" + data_dir + "' not found; run from the repository root or pass --data");
  }
  // Walk-forward models go to a directory the prediction processor picks from by date.
  if (env.config.model_path.empty()) env.config.model_path = "models";
  std::filesystem::create_directories(env.config.model_path, ec);
  auto runner = pipeline::MakeRunner(*env.store, SystemClock::Default(), env.config);
  if (!runner.ok()) return Fail(kExitFailed, runner.status().message());
  env.runner = std::move(runner).value();
  std::printf("== nbaprops demo: database %s, data %s, models %s/, exports %s/\n", env.store->description().c_str(),
              data_dir.c_str(), env.config.model_path.c_str(), env.config.export_dir.c_str());
  auto t0 = std::chrono::steady_clock::now();
  int rc_import = ImportInto(env, {data_dir}, std::nullopt, false);
  auto walk = RunWalkForward(env, g.quiet);
  if (!walk.ok()) return Fail(kExitFailed, walk.status().message());
  int rc_runs = ReportDateRuns(walk->results, true);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto s = pipeline::Summarize(*env.store);
  if (!s.ok()) return Fail(kExitStore, s.status().message());
  std::printf("== summary (%.1fs)\n", secs);
  PrintSummary(*s);
  if (int rc = PrintSeasonRecord(env, walk->from, walk->to)) return rc;
  std::printf(
      "next: nbaprops report --from %s --to %s --by sportsbook | nbaprops evaluate | nbaprops status "
      "--date 2024-01-31\n",
      walk->from.c_str(), walk->to.c_str());
  return rc_import ? rc_import : rc_runs;
}

int CmdVersion(const GlobalOptions& g) {
  std::printf("nbaprops %s (schema %d)\n", NBAPROPS_VERSION, store::LatestSchemaVersion());
  return kExitOk;
}

}  // namespace nbaprops::cli
