// `nbaprops serve`, `worker` and `dlq ...`.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>

#include "api/server.h"
#include "base/log.h"
#include "base/strings.h"
#include "base/time.h"
#include "cli/alert_commands.h"
#include "cli/commands.h"
#include "cli/table.h"
#include "engine/queue.h"
#include "engine/reconciler.h"
#include "engine/scheduler.h"
#include "engine/worker_pool.h"
#include "pipeline/export.h"
#include "pipeline/guards.h"
#include "pipeline/pipeline.h"
#include "pipeline/plan.h"

namespace nbaprops::cli {
namespace {

// Nothing queued (including retries waiting for their backoff) and nothing running anywhere.
bool QueueSettled(store::Store& store) {
  int64_t live = 1;
  (void)store.WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(auto n, t.QueryInt("SELECT COUNT(*) FROM processor_runs WHERE status IN ('queued', 'running')"));
    live = n.value_or(1);
    return OkStatus();
  });
  return live == 0;
}

// What `serve` runs beside the workers, on the reaper thread: the scheduler every tick, the
// reconciler every `reconcile_every_ms` of `clock` (the scheduler's clock, simulated in a replay).
// After each reconcile: deadlines and the model guard, and during game hours a fresh today.json
// (the live export must never be more than 10 minutes old while games are on).
struct Background {
  engine::Scheduler* scheduler = nullptr;
  engine::Reconciler* reconciler = nullptr;
  const Clock* clock = nullptr;
  const Config* config = nullptr;
  store::Store* store = nullptr;
  int64_t reconcile_every_ms = 0;
  int64_t next_reconcile_ms = 0;
  int64_t next_today_export_ms = 0;
  api::ApiServer* http = nullptr;  // `serve --http`: stopped first on SIGTERM, before the workers drain
  // A replay: its end on the simulated clock, and whether the scheduler has ticked at it. Ticks
  // come every reaper period, hours apart in simulated time, so the last one fires what was due
  // by the end, not what happens to be due when it comes (which would depend on the load).
  int64_t replay_end_ms = 0;
  std::atomic<bool> replay_ended{false};
};

void Reconcile(Background& b) {
  if (!b.reconciler || b.reconcile_every_ms <= 0 || b.clock->NowMillis() < b.next_reconcile_ms) return;
  const int64_t now = b.clock->NowMillis();
  b.next_reconcile_ms = now + b.reconcile_every_ms;
  auto r = b.reconciler->RunOnce(false);
  if (!r.ok()) LogWarn("reconciler: " + r.status().ToString());
  for (const auto& d : r.ok() ? r->unmet : std::vector<engine::HealDecision>{}) {
    if (d.decision == "enqueued") {
      LogInfo("self-heal: run " + std::to_string(d.run_id) + " " + d.expectation.processor + " " +
              d.expectation.partition_key + ": " + d.reason);
    }
  }
  const std::string today = FormatIsoDate(EasternDate(now / 1000));
  pipeline::GuardOptions g;
  auto hours = pipeline::GameHours(*b.store, g, today);
  if (hours.ok() && *hours && now >= (*hours)->first && now <= (*hours)->second && now >= b.next_today_export_ms) {
    b.next_today_export_ms = now + 5 * 60'000;
    auto e = pipeline::ExportPredictions(*b.store, *b.clock, b.config->export_dir, today);
    if (!e.ok()) LogWarn("refreshing today.json: " + e.status().ToString());
  }
  for (auto report : {pipeline::CheckDeadlines(*b.store, g, b.config->export_dir, now),
                      pipeline::CheckModelGuard(*b.store, g, b.config->model_path, today, now)}) {
    if (!report.ok()) LogWarn("guards: " + report.status().ToString());
  }
}

// Blocks SIGTERM/SIGINT in every thread (threads inherit the mask) and waits for one on this
// thread; with `until_idle`, also returns once the queue has settled. `done` (when given) must
// hold before an idle exit.
int RunPool(Env& env, const ServeOptions& o, const char* what, Background* background = nullptr,
            const std::function<bool()>& done = nullptr) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  engine::WorkerPoolOptions po;
  po.threads = o.workers > 0 ? o.workers : env.config.workers;
  po.reap_every_ms = std::max<int64_t>(100, std::min<int64_t>(1000, env.config.heartbeat_ms));
  if (background) {
    po.on_tick = [background] {
      if (background->replay_ended) return;  // a replay past its end schedules nothing more
      const int64_t end = background->replay_end_ms;
      const bool last = end > 0 && background->clock->NowMillis() >= end;
      auto r = last ? background->scheduler->Tick(end) : background->scheduler->Tick();
      if (!r.ok()) LogWarn("scheduler: " + r.status().ToString());
      for (const auto& name : r.ok() ? r->fired : std::vector<std::string>{}) LogInfo("scheduler fired " + name);
      Reconcile(*background);
      if (last) background->replay_ended = true;
    };
  }
  engine::WorkerPool pool(*env.runner, po);
  pool.Start();
  std::fprintf(stderr, "%s: %d worker(s) as %s on %s (lease %lld ms, heartbeat %lld ms); SIGTERM drains\n", what,
               po.threads, env.runner->worker_id().c_str(), env.store->description().c_str(),
               static_cast<long long>(env.config.lease_ms), static_cast<long long>(env.config.heartbeat_ms));
  int sig = 0;
  if (o.until_idle) {
    timespec tick{0, 100 * 1000 * 1000};
    int settled = 0;
    while (true) {
      sig = sigtimedwait(&set, nullptr, &tick);
      if (sig > 0) break;
      // Settled twice in a row, so a run finishing between the checks is not missed.
      settled = (!done || done()) && QueueSettled(*env.store) ? settled + 1 : 0;
      if (settled >= 2) break;
    }
  } else {
    sigwait(&set, &sig);
  }
  if (sig > 0) std::fprintf(stderr, "%s: %s received, draining\n", what, sig == SIGTERM ? "SIGTERM" : "SIGINT");
  if (background && background->http) background->http->Stop();
  pool.Stop();
  std::printf(
      "%s: %lld run(s) executed, %lld failed, %lld lease expiries reaped; %lld committed in a transaction "
      "shared with other runs\n",
      what, static_cast<long long>(pool.runs_executed()), static_cast<long long>(pool.runs_failed()),
      static_cast<long long>(pool.lease_expiries()), static_cast<long long>(env.runner->commit_group().commits()));
  return kExitOk;
}

// Alert delivery on its own thread, in `serve` and in every `worker`: alerts go out while any
// process of the system runs (the outbox claims keep each message to one sender). Its own thread,
// as a slow webhook must not hold up the lease reaper; real time even in a replay (rate limits
// and Retry-After are real). Null when no channel is configured.
StatusOr<std::unique_ptr<AlertLoop>> StartAlerts(Env& env) {
  ASSIGN_OR_RETURN(auto alerts, MakeAlertLoop(env, env.runner->clock()));
  if (alerts) alerts->Start();
  return alerts;
}

}  // namespace

int CmdServe(const GlobalOptions& g, const ServeOptions& o_in) {
  ServeOptions o = o_in;
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  auto alerts = StartAlerts(env);
  if (!alerts.ok()) return Fail(kExitUsage, alerts.status().message());
  pipeline::PipelinePlanner planner(pipeline::PlanOptionsFrom(env.config, *env.runner));
  const engine::ReconcilerOptions ro = pipeline::ReconcilerOptionsFrom(env.config);
  Background background;
  background.reconcile_every_ms = int64_t{env.config.reconcile_every_s} * 1000;
  background.config = &env.config;
  background.store = env.store.get();
  std::unique_ptr<api::ApiServer> http;
  if (o.http) {
    auto addr = api::ParseListenAddress(o.http_listen.empty() ? env.config.http_listen : o.http_listen);
    if (!addr.ok()) return Fail(kExitUsage, "--http: " + addr.status().message());
    // Threads inherit the signal mask: block SIGTERM/SIGINT before the HTTP threads exist, so
    // that only RunPool's sigwait receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    api::ApiServerOptions ho;
    ho.export_dir = env.config.export_dir;
    ho.token = env.config.http_token;
    http = std::make_unique<api::ApiServer>(*env.runner, ho);
    auto port = http->Start(addr->first, addr->second);
    if (!port.ok()) return Fail(kExitFailed, port.status().message());
    std::fprintf(stderr, "serve: HTTP API and dashboard on http://%s:%d/ (%s)\n", addr->first.c_str(), *port,
                 ho.token.empty() ? "no token configured: mutating endpoints answer 401"
                                  : "mutating endpoints need the bearer token");
    background.http = http.get();
  }
  if (o.replay_from.empty()) {
    engine::Scheduler scheduler(*env.store, env.runner->clock());
    Status st = pipeline::RegisterSchedules(scheduler, *env.runner);
    if (!st.ok()) return Fail(kExitFailed, st.message());
    engine::Reconciler reconciler(*env.runner, planner, env.runner->clock(), ro);
    background.scheduler = &scheduler;
    background.reconciler = &reconciler;
    background.clock = &env.runner->clock();
    return RunPool(env, o, "serve", &background);
  }
  // Replay: the scheduler lives on simulated days; leases and retries keep real time.
  auto from = ParseIsoDate(o.replay_from);
  if (!from) return Fail(kExitUsage, "--replay-from '" + o.replay_from + "' is not a date YYYY-MM-DD");
  if (o.speed <= 0) return Fail(kExitUsage, "--speed must be positive");
  int32_t last = *from + o.replay_days;
  if (o.replay_days <= 0) {
    auto dates = pipeline::GameDates(*env.store);
    if (!dates.ok() || dates->empty()) return Fail(kExitFailed, "no games stored to replay; import a season first");
    last = ParseIsoDate(dates->back()).value_or(*from) + 1;
  }
  ScaledClock sim(SystemClock::Default(), EasternLocalToUtc(*from, 0, 0) * 1000, o.speed);
  const int64_t end_ms = EasternLocalToUtc(last, 12, 0) * 1000;
  engine::Scheduler scheduler(*env.store, sim);
  Status st = pipeline::RegisterSchedules(scheduler, *env.runner);
  if (!st.ok()) return Fail(kExitFailed, st.message());
  std::fprintf(stderr, "replay: %s .. %s at %.0fx\n", o.replay_from.c_str(), FormatIsoDate(last).c_str(), o.speed);
  o.until_idle = true;
  engine::Reconciler reconciler(*env.runner, planner, sim, ro);
  background.scheduler = &scheduler;
  background.reconciler = &reconciler;
  background.clock = &sim;
  background.replay_end_ms = end_ms;
  return RunPool(env, o, "serve", &background, [&] { return background.replay_ended.load(); });
}

int CmdWorker(const GlobalOptions& g, const ServeOptions& o) {
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  auto alerts = StartAlerts(env);
  if (!alerts.ok()) return Fail(kExitUsage, alerts.status().message());
  return RunPool(env, o, "worker");
}

int CmdDlqList(const GlobalOptions& g, const std::string& status) {
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  std::vector<engine::DeadLetter> dls;
  Status st = env.store->WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(dls, engine::Queue::ListDeadLetters(t, status));
    return OkStatus();
  });
  if (!st.ok()) return Fail(kExitStore, st.message());
  Table t({"id", "processor", "partition", "category", "count", "status", "last seen", "error"});
  for (const auto& d : dls) {
    t.Add({std::to_string(d.id), d.processor, d.partition_key, d.category, std::to_string(d.count), d.status,
           FormatIsoTimestamp(d.last_seen), Truncate(d.error, 70)});
  }
  std::printf("%s%zu dead letter(s). `nbaprops dlq show ID` for details.\n", t.Render().c_str(), dls.size());
  return kExitOk;
}

int CmdDlqShow(const GlobalOptions& g, int64_t id) {
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  std::optional<engine::DeadLetter> d;
  std::vector<engine::RunRecord> runs;
  Status st = env.store->WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(d, engine::Queue::GetDeadLetter(t, id));
    if (!d) return NotFoundError("no dead letter " + std::to_string(id) + "; see `nbaprops dlq list`");
    engine::RunFilter f{"", d->processor, "", 20};
    ASSIGN_OR_RETURN(auto all, engine::Ledger::List(t, f));
    for (auto& r : all) {
      if (r.partition_key == d->partition_key) runs.push_back(std::move(r));
    }
    return OkStatus();
  });
  if (!st.ok()) return Fail(st.code() == StatusCode::kNotFound ? kExitUsage : kExitStore, st.message());
  std::printf(
      "dead letter %lld [%s]\n  processor   %s\n  partition   %s\n  input       %s\n  category    %s\n"
      "  error       %s\n  do          %s\n  seen        %lld time(s), first %s, last %s\n  run history:\n",
      static_cast<long long>(d->id), d->status.c_str(), d->processor.c_str(), d->partition_key.c_str(),
      d->input_ref.c_str(), d->category.c_str(), d->error.c_str(), d->suggested_action.c_str(),
      static_cast<long long>(d->count), FormatIsoTimestamp(d->first_seen).c_str(),
      FormatIsoTimestamp(d->last_seen).c_str());
  for (const auto& r : runs) {
    std::printf("    run %lld attempt %d %s (%s)%s%s\n", static_cast<long long>(r.run_id), r.attempt, r.status.c_str(),
                r.trigger.c_str(), r.error_category.empty() ? "" : ": ", r.error_category.c_str());
  }
  return kExitOk;
}

int CmdDlqRetry(const GlobalOptions& g, int64_t id) {
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  int64_t run_id = 0;
  Status st = env.store->WithWrite([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(run_id, engine::Queue::RetryDeadLetter(t, id, env.runner->clock().NowMillis()));
    return OkStatus();
  });
  if (!st.ok()) return Fail(st.code() == StatusCode::kNotFound ? kExitUsage : kExitFailed, st.message());
  std::printf("dead letter %lld re-queued as run %lld; running the queue now\n", static_cast<long long>(id),
              static_cast<long long>(run_id));
  auto outcomes = env.runner->DrainQueue();
  if (!outcomes.ok()) return Fail(kExitStore, outcomes.status().message());
  int failed = 0;
  for (const auto& o : *outcomes) {
    if (!o.status.ok()) {
      ++failed;
      std::printf("FAILED run %lld %s: %s\n", static_cast<long long>(o.run_id), o.processor.c_str(),
                  o.status.message().c_str());
    }
  }
  std::printf("%zu run(s) executed, %d failed\n", outcomes->size(), failed);
  return failed ? kExitFailed : kExitOk;
}

int CmdDlqDiscard(const GlobalOptions& g, int64_t id) {
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  Status st = env.store->WithWrite(
      [&](store::Transaction& t) { return engine::Queue::DiscardDeadLetter(t, id, env.runner->clock().NowMillis()); });
  if (!st.ok()) return Fail(st.code() == StatusCode::kNotFound ? kExitUsage : kExitFailed, st.message());
  std::printf("dead letter %lld discarded\n", static_cast<long long>(id));
  return kExitOk;
}

}  // namespace nbaprops::cli
