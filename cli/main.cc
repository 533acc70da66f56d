// nbaprops: command-line entry point. Parses flags and dispatches to cli/commands.cc.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/alert_commands.h"
#include "cli/commands.h"
#include "cli/doctor_commands.h"

int main(int argc, char** argv) {
  using namespace nbaprops::cli;
  CLI::App app{
      "nbaprops: NBA player-points prop pipeline (ingest -> analytics -> features -> predictions -> "
      "grading -> export)"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags are accepted before or after the subcommand
  GlobalOptions g;
  app.add_option("--db", g.db,
                 "SQLite database file or postgresql://... URL (default ./nbaprops.db, or [database] path, or "
                 "NBAPROPS_DB)");
  app.add_option("--config", g.config, "TOML config file (see docs/configuration.md)");
  app.add_flag("--json", g.json, "machine-readable JSON output where supported");
  app.add_flag("-q,--quiet", g.quiet, "less output (no progress bars)");

  int rc = kExitOk;
  auto* init = app.add_subcommand("init", "create the database and run migrations");
  init->callback([&] { rc = CmdInit(g); });

  std::vector<std::string> paths;
  std::string kind;
  auto* imp = app.add_subcommand("import", "import files or directories (recursive; kind detected per file)");
  imp->add_option("paths", paths, "files or directories")->required();
  imp->add_option("--kind", kind,
                  "force the kind: schedule, box_scores, injuries, player_props, game_lines, players, "
                  "rotowire_props, balldontlie_stats, odds_api_event_odds");
  imp->callback([&] { rc = CmdImport(g, paths, kind); });

  std::string date;
  int phase = 0;
  bool queued = false;
  auto* run = app.add_subcommand("run", "run the pipeline for one game date");
  run->add_option("--date", date, "game date YYYY-MM-DD (America/New_York)");
  run->add_option("--phase", phase,
                  "only this phase (2 = re-parse the payloads of the date, 3 = analytics, 4 = precompute, "
                  "5 = predictions)")
      ->check(CLI::Range(0, 5));
  run->add_flag("--queued", queued, "run every queued run instead of a date");
  run->callback([&] {
    if (date.empty() && !queued) throw CLI::ValidationError("run", "give --date D or --queued");
    rc = CmdRun(g, date, phase, queued);
  });

  std::string from, to;
  auto* backfill = app.add_subcommand("backfill", "run a range of dates, oldest first, with a progress bar");
  backfill->add_option("--from", from, "first date YYYY-MM-DD (default: first date in the schedule)");
  backfill->add_option("--to", to, "last date YYYY-MM-DD (default: last date in the schedule)");
  backfill->add_option("--phase", phase, "only this phase (3 = analytics, 4 = precompute, 5 = predictions)")
      ->check(CLI::Range(0, 5));
  bool enqueue = false;
  backfill->add_flag("--enqueue", enqueue, "only queue the runs, for `serve` / `worker` processes to execute");
  int range_days = nbaprops::pipeline::kBackfillRangeDays;
  backfill
      ->add_option("--range-days", range_days,
                   "run each phase-4 processor over this many dates at once (one claim and one commit, a ledger "
                   "run per date); 1 runs date by date")
      ->default_val(nbaprops::pipeline::kBackfillRangeDays)
      ->check(CLI::Range(1, 366));
  backfill->callback([&] { rc = CmdBackfill(g, from, to, phase, enqueue, range_days); });

  std::string until, model_out, train_from;
  auto* train = app.add_subcommand("train", "train the points model on the games before --until");
  train->add_option("--until", until, "train on games before this date YYYY-MM-DD")->required();
  train->add_option("--train-from", train_from,
                    "first date of the training window YYYY-MM-DD (default: the season of --until; "
                    "earlier to learn from imported earlier seasons)");
  train->add_option("--out", model_out, "model file (default models/points-UNTIL.json)");
  bool minutes_feature = false;
  train->add_flag("--minutes-feature", minutes_feature,
                  "give the points booster the minutes projection as a column (off: it did not help on the dev "
                  "window, see docs/model.md)");
  train->callback([&] { rc = CmdTrain(g, until, train_from, model_out, minutes_feature); });

  auto* predict = app.add_subcommand("predict", "predictions for one date (phases 3-4 first when missing)");
  predict->add_option("--date", date, "game date YYYY-MM-DD")->required();
  predict->callback([&] { rc = CmdPredict(g, date); });

  auto* grade = app.add_subcommand("grade", "grade one date's predictions (every game must be final)");
  grade->add_option("--date", date, "game date YYYY-MM-DD")->required();
  grade->callback([&] { rc = CmdGrade(g, date); });

  std::string by = "system";
  auto* report = app.add_subcommand("report", "graded record over a range: hit rate, ROI, MAE, CLV by a group");
  report->add_option("--from", from, "first date")->required();
  report->add_option("--to", to, "last date")->required();
  report->add_option("--by", by, "system | sportsbook | line_source | confidence | edge")
      ->check(CLI::IsMember({"system", "sportsbook", "line_source", "confidence", "edge"}));
  report->callback([&] { rc = CmdReport(g, from, to, by); });

  std::string export_out;
  auto* exp = app.add_subcommand("export",
                                 "write the JSON documents of one date (fail closed: a halt when a phase "
                                 "is incomplete)");
  exp->add_option("--date", date, "game date YYYY-MM-DD")->required();
  exp->add_option("--out", export_out, "export directory (default [export] dir, exports/)");
  exp->callback([&] { rc = CmdExport(g, date, export_out); });

  EvaluateOptions eval;
  auto* evaluate = app.add_subcommand("evaluate",
                                      "walk-forward evaluation: hit rate, ROI, MAE vs baselines, "
                                      "calibration; writes JSON and SVG charts");
  evaluate->add_option("--from", eval.from, "first date (default 2024-01-24)");
  evaluate->add_option("--to", eval.to, "last date (default 2024-04-14)");
  evaluate->add_option("--retrain", eval.retrain, "retrain the model weekly or monthly")
      ->check(CLI::IsMember({"weekly", "monthly"}));
  evaluate->add_option("--system", eval.system, "system of the headline figures")
      ->check(CLI::IsMember({"moving_average", "xgboost", "ensemble", "market"}));
  evaluate->add_option("--out", eval.out_dir, "directory for evaluation.json and the SVG charts");
  evaluate->add_option("--train-from", eval.train_from,
                       "first date every retrained model learns from (default: the season of --from; earlier "
                       "to learn from imported earlier seasons)");
  evaluate->add_option("--seed", eval.seed, "seed of the bootstrap intervals (same seed, same report)");
  evaluate->add_flag("--minutes-feature", eval.minutes_feature,
                     "train every model with the minutes projection as a column of the points booster");
  evaluate->callback([&] { rc = CmdEvaluate(g, eval); });

  auto* status = app.add_subcommand("status", "what is stored and how the runs went (--date D for one date)");
  bool summary = false, dry_run = false;
  std::string migrate_from, migrate_to;
  auto* migrate = app.add_subcommand("migrate", "copy a whole database to another backend (e.g. SQLite -> PostgreSQL)");
  migrate->add_option("--from", migrate_from, "source: sqlite:FILE, a file path, or postgresql://...")->required();
  migrate->add_option("--to", migrate_to, "target (empty): postgresql://... or sqlite:FILE")->required();
  migrate->callback([&] { rc = CmdMigrate(g, migrate_from, migrate_to); });

  auto* breakers = app.add_subcommand("breakers", "circuit breakers of external sources: state, failures, next probe");
  breakers->callback([&] { rc = CmdBreakers(g); });
  auto* sources = app.add_subcommand("sources", "data sources: mode (file/http), last fetch, quota left, breaker");
  sources->callback([&] { rc = CmdSources(g); });
  std::string scrape_date, scrape_source;
  auto* scrape = app.add_subcommand("scrape", "fetch the HTTP sources (mode = \"http\") for one game date now");
  scrape->add_option("--date", scrape_date, "game date (YYYY-MM-DD)")->required();
  scrape->add_option("--source", scrape_source, "only this source: espn, balldontlie or odds_api");
  scrape->callback([&] { rc = CmdScrape(g, scrape_date, scrape_source); });
  auto* heal = app.add_subcommand("heal", "compare what must exist with what does, and re-run what is missing");
  heal->add_option("--date", date, "one game date (default: the reconciler's window of recent dates)");
  heal->add_flag("--dry-run", dry_run, "show what would be healed; change nothing");
  heal->callback([&] { rc = CmdHeal(g, date, dry_run); });
  status->add_option("--date", date, "one game date");
  status->add_flag("--summary", summary, "the daily health summary of --date (default: yesterday, Eastern time)");
  status->callback([&] { rc = summary ? CmdHealthSummary(g, date) : CmdStatus(g, date); });

  std::string run_status, processor;
  int limit = 50;
  auto* runs = app.add_subcommand("runs", "list runs from the ledger, newest first");
  runs->add_option("--status", run_status, "queued, running, succeeded, failed, skipped, deferred or dead")
      ->check(CLI::IsMember({"queued", "running", "succeeded", "failed", "skipped", "deferred", "dead"}));
  runs->add_option("--processor", processor, "only this processor");
  runs->add_option("--date", date, "only runs of this game date");
  runs->add_option("--limit", limit, "at most this many (default 50)")->check(CLI::PositiveNumber);
  runs->callback([&] { rc = CmdRuns(g, run_status, processor, date, limit); });

  ServeOptions serve_opts;
  auto* serve = app.add_subcommand("serve", "run the scheduler, the lease reaper and worker threads until SIGTERM");
  serve->add_option("--workers", serve_opts.workers, "worker threads (default [engine] workers)")
      ->check(CLI::Range(1, 64));
  serve->add_flag("--until-idle", serve_opts.until_idle, "exit once nothing is queued or running");
  serve->add_option("--replay-from", serve_opts.replay_from,
                    "replay: run the scheduler on simulated days from this date (e.g. 2024-01-24)");
  serve->add_option("--speed", serve_opts.speed, "replay speed, simulated seconds per second (default 3600)");
  serve->add_option("--replay-days", serve_opts.replay_days, "replay this many days (default: to the season's end)");
  auto* http = serve
                   ->add_option("--http", serve_opts.http_listen,
                                "also serve the HTTP API, /metrics and the dashboard on HOST:PORT (default [http] "
                                "listen, 127.0.0.1:8080)")
                   ->expected(0, 1);
  serve->callback([&] {
    serve_opts.http = http->count() > 0;
    rc = CmdServe(g, serve_opts);
  });
  auto* worker = app.add_subcommand("worker", "run worker threads (and the reaper) against the database until SIGTERM");
  worker->add_option("--workers", serve_opts.workers, "worker threads (default [engine] workers)")
      ->check(CLI::Range(1, 64));
  worker->add_flag("--until-idle", serve_opts.until_idle, "exit once nothing is queued or running");
  worker->callback([&] { rc = CmdWorker(g, serve_opts); });

  auto* alerts = app.add_subcommand("alerts", "alert channels (Slack, webhook, log file)");
  alerts->require_subcommand(1);
  std::string alert_channel;
  auto* alerts_test = alerts->add_subcommand("test",
                                             "send a test message on every channel (or --channel NAME) and "
                                             "print the HTTP result; exit 1 when one failed");
  alerts_test->add_option("--channel", alert_channel, "only this channel (a name from [[alerts.channels]])");
  alerts_test->callback([&] { rc = CmdAlertsTest(g, alert_channel); });

  auto* doctor = app.add_subcommand("doctor",
                                    "check config, store, migrations, alert channels, schedules, model, "
                                    "disk; exit 0 only when healthy");
  doctor->callback([&] { rc = CmdDoctor(g); });

  auto* dlq = app.add_subcommand("dlq", "dead letters: runs that will not be retried automatically");
  dlq->require_subcommand(1);
  std::string dlq_status = "open";
  int64_t dlq_id = 0;
  auto* dlq_list = dlq->add_subcommand("list", "list dead letters");
  dlq_list->add_option("--status", dlq_status, "open (default), retried, discarded or all")
      ->check(CLI::IsMember({"open", "retried", "discarded", "all"}));
  dlq_list->callback([&] { rc = CmdDlqList(g, dlq_status); });
  auto* dlq_show = dlq->add_subcommand("show", "show one dead letter with its run history");
  dlq_show->add_option("id", dlq_id)->required();
  dlq_show->callback([&] { rc = CmdDlqShow(g, dlq_id); });
  auto* dlq_retry = dlq->add_subcommand("retry", "queue the dead letter's work again (attempt 1) and run the queue");
  dlq_retry->add_option("id", dlq_id)->required();
  dlq_retry->callback([&] { rc = CmdDlqRetry(g, dlq_id); });
  auto* dlq_discard = dlq->add_subcommand("discard", "give up on a dead letter (kept, marked discarded)");
  dlq_discard->add_option("id", dlq_id)->required();
  dlq_discard->callback([&] { rc = CmdDlqDiscard(g, dlq_id); });

  auto* registry = app.add_subcommand("registry", "player registry: unresolved names, aliases");
  registry->require_subcommand(1);
  std::string backlog_status = "pending";
  auto* unresolved = registry->add_subcommand("unresolved", "names that could not be resolved with confidence");
  unresolved->add_option("--status", backlog_status, "pending (default), resolved, ignored or all")
      ->check(CLI::IsMember({"pending", "resolved", "ignored", "all"}));
  unresolved->callback([&] { rc = CmdRegistryUnresolved(g, backlog_status); });
  std::string alias_name, player_id;
  auto* alias = registry->add_subcommand("alias",
                                         "record NAME as another spelling of a player, and re-run the "
                                         "dates that were waiting on it");
  alias->add_option("name", alias_name, "the name as the source writes it")->required();
  alias->add_option("--player", player_id, "the player's id (see `nbaprops registry players`)")->required();
  bool alias_enqueue = false;
  alias->add_flag("--enqueue", alias_enqueue,
                  "only queue the affected dates' re-runs, for `serve` / `worker` processes to execute");
  alias->callback([&] { rc = CmdRegistryAlias(g, alias_name, player_id, alias_enqueue); });
  std::string query;
  auto* players = registry->add_subcommand("players", "search registered players by name");
  players->add_option("query", query, "part of a name");
  players->callback([&] { rc = CmdRegistryPlayers(g, query); });

  std::string data_dir;
  auto* demo = app.add_subcommand("demo", "init + import the bundled 2023-24 season + backfill + summary");
  demo->add_option("--data", data_dir, "data directory (default data/2023-24)");
  demo->callback([&] { rc = CmdDemo(g, data_dir); });

  auto* version = app.add_subcommand("version", "print the version");
  version->callback([&] { rc = CmdVersion(g); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return rc;
}
