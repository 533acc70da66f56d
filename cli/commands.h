// Subcommand implementations of `nbaprops`. Each returns the process exit code:
//   0 success; 1 some work failed (runs failed, records rejected wholesale); 2 bad usage, config
//   or input path; 3 the database is unavailable or not initialized.
#ifndef NBAPROPS_CLI_COMMANDS_H_
#define NBAPROPS_CLI_COMMANDS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/config.h"
#include "engine/reconciler.h"
#include "engine/runner.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

namespace nbaprops::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitStore = 3;

// Everything a command needs: config, an open migrated store, a runner.
struct Env {
  Config config;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<engine::Runner> runner;
};

struct GlobalOptions;
// Opens the database; `create` allows a new file (init, demo). Returns an exit code on failure.
int OpenEnv(const GlobalOptions& g, bool create, Env* env);
int Fail(int code, const std::string& message);

struct GlobalOptions {
  std::string db;      // empty: from config
  std::string config;  // empty: defaults + env
  bool json = false;
  bool quiet = false;
};

// An error message for a flag value that is not a YYYY-MM-DD date (with a guess), or nothing.
std::optional<std::string> CheckDate(const std::string& d, const char* flag);

int CmdInit(const GlobalOptions& g);
int CmdImport(const GlobalOptions& g, const std::vector<std::string>& paths, const std::string& kind);
int CmdRun(const GlobalOptions& g, const std::string& date, int phase, bool queued);
int CmdBackfill(const GlobalOptions& g, const std::string& from, const std::string& to, int phase, bool enqueue,
                int range_days = pipeline::kBackfillRangeDays);
int CmdStatus(const GlobalOptions& g, const std::string& date);
// `status --summary`: builds the daily health summary of `date` (empty: yesterday) and prints it.
int CmdHealthSummary(const GlobalOptions& g, const std::string& date);
// `heal [--date D] [--dry-run]`: one reconciler cycle (all active dates, or one), then runs what it queued.
int CmdHeal(const GlobalOptions& g, const std::string& date, bool dry_run);
// What must exist for a date against what does, phase of each (heal_commands.cc).
StatusOr<std::vector<std::pair<int, engine::Expectation>>> DateExpectations(Env& env, const std::string& date);
std::string ExpectationsTable(const std::vector<std::pair<int, engine::Expectation>>& expected, int64_t now_ms);
int CmdRuns(const GlobalOptions& g, const std::string& status, const std::string& processor, const std::string& date,
            int limit);
int CmdRegistryUnresolved(const GlobalOptions& g, const std::string& status);
// Re-runs the affected dates before returning, or with `enqueue` only queues them.
int CmdRegistryAlias(const GlobalOptions& g, const std::string& name, const std::string& player_id, bool enqueue);
int CmdRegistryPlayers(const GlobalOptions& g, const std::string& query);
int CmdDemo(const GlobalOptions& g, const std::string& data_dir);
int CmdVersion(const GlobalOptions& g);
// cli/source_commands.cc
int CmdSources(const GlobalOptions& g);
int CmdScrape(const GlobalOptions& g, const std::string& date, const std::string& source);

// cli/engine_commands.cc
struct ServeOptions {
  int workers = 0;          // 0: from config
  bool until_idle = false;  // exit once nothing is queued or running (tests, one-shot drains)
  std::string replay_from;  // serve: run the scheduler on simulated days from this date
  double speed = 3600;      // simulated seconds per real second
  int replay_days = 0;      // 0: through the last date of the stored schedule
  bool http = false;        // serve: also run the HTTP API, /metrics and the dashboard (api/server.h)
  std::string http_listen;  // HOST:PORT; empty: Config::http_listen
};
int CmdServe(const GlobalOptions& g, const ServeOptions& o);   // scheduler + reaper + workers
int CmdWorker(const GlobalOptions& g, const ServeOptions& o);  // reaper + workers only
int CmdDlqList(const GlobalOptions& g, const std::string& status);
int CmdDlqShow(const GlobalOptions& g, int64_t id);
int CmdDlqRetry(const GlobalOptions& g, int64_t id);
int CmdDlqDiscard(const GlobalOptions& g, int64_t id);
int CmdBreakers(const GlobalOptions& g);
// cli/migrate_command.cc: copies a whole database between backends (SQLite file -> PostgreSQL).
int CmdMigrate(const GlobalOptions& g, const std::string& from,
               const std::string& to);  // cli/breaker_commands.cc: circuit breakers (--json)

// cli/model_commands.cc
int CmdTrain(const GlobalOptions& g, const std::string& until, const std::string& train_from, const std::string& out,
             bool minutes_feature);
int CmdPredict(const GlobalOptions& g, const std::string& date);
struct EvaluateOptions {
  std::string from = "2024-01-24", to = "2024-04-14";
  std::string retrain = "weekly";
  std::string system = "market";
  std::string out_dir = "evaluation";
  std::string train_from;  // empty: the season of `from`
  uint64_t seed = 1;
  bool minutes_feature = false;  // TrainOptions::minutes_feature
};
int CmdEvaluate(const GlobalOptions& g, const EvaluateOptions& o);
int CmdGrade(const GlobalOptions& g, const std::string& date);
int CmdReport(const GlobalOptions& g, const std::string& from, const std::string& to, const std::string& by);
int CmdExport(const GlobalOptions& g, const std::string& date, const std::string& out);

// The demo's season, walk-forward (cli/model_commands.cc): phases 3-4 for every date; from the
// first date with lines, a model retrained weekly on the earlier games; predictions, grading and
// exports for every date.
struct WalkForward {
  std::string from, to;  // the graded window
  std::vector<pipeline::DateRunResult> results;
};
StatusOr<WalkForward> RunWalkForward(Env& env, bool quiet);
// The season record after a walk-forward: per system, and per sportsbook for the headline system.
int PrintSeasonRecord(Env& env, const std::string& from, const std::string& to);

}  // namespace nbaprops::cli

#endif  // NBAPROPS_CLI_COMMANDS_H_
