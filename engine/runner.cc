#include "engine/runner.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>

#include "base/log.h"
#include "base/time.h"
#include "engine/incidents.h"

namespace nbaprops::engine {
namespace {

std::string HostName() {
  char host[256] = "host";
  ::gethostname(host, sizeof host - 1);
  return host;
}

std::string DefaultWorkerId() { return HostName() + ":" + std::to_string(::getpid()); }

}  // namespace

Runner::Runner(store::Store& store, const Clock& clock, EngineOptions options)
    : store_(store), clock_(clock), options_(std::move(options)), commit_group_(store, options_.commit_group) {
  if (options_.worker_id.empty()) options_.worker_id = DefaultWorkerId();
  rng_.seed(options_.seed ? options_.seed : std::random_device{}());
}

Runner::~Runner() {
  {
    std::lock_guard<std::mutex> lock(lease_mu_);
    stop_heartbeats_ = true;
  }
  lease_cv_.notify_all();
  if (heartbeat_thread_.joinable()) heartbeat_thread_.join();
}

void Runner::HoldLease(int64_t run_id, int64_t token) {
  std::lock_guard<std::mutex> lock(lease_mu_);
  held_leases_[run_id] = token;
  if (!heartbeat_thread_.joinable()) heartbeat_thread_ = std::thread([this] { HeartbeatLoop(); });
}

void Runner::ReleaseLease(int64_t run_id) {
  std::lock_guard<std::mutex> lock(lease_mu_);
  held_leases_.erase(run_id);
}

void Runner::HeartbeatLoop() {
  // One thread extends every lease this process holds, every heartbeat interval (real time).
  std::unique_lock<std::mutex> lock(lease_mu_);
  while (!lease_cv_.wait_for(lock, std::chrono::milliseconds(options_.heartbeat_ms),
                             [this] { return stop_heartbeats_; })) {
    std::map<int64_t, int64_t> held = held_leases_;
    lock.unlock();
    // One transaction for them all. A lost lease is not retried here: the run's commit will be
    // fenced.
    if (!held.empty()) (void)Queue::Heartbeat(store_, held, clock_.NowMillis(), options_.lease_ms);
    lock.lock();
  }
}

int64_t Runner::NewToken() {
  std::lock_guard<std::mutex> lock(rng_mu_);
  return static_cast<int64_t>(rng_() >> 2) + 1;
}

double Runner::Jitter() {
  std::lock_guard<std::mutex> lock(rng_mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

Status Runner::Register(std::unique_ptr<Processor> p) {
  const std::string name = p->name();
  if (processors_.count(name)) return AlreadyExistsError("processor '" + name + "' registered twice");
  for (const std::string& in : p->inputs()) {
    if (!processors_.count(in)) {
      return FailedPreconditionError("processor '" + name + "' needs '" + in + "', which is not registered before it");
    }
  }
  order_.push_back(name);  // inputs are registered first, so registration order is topological
  processors_.emplace(name, std::move(p));
  return OkStatus();
}

Processor* Runner::Find(const std::string& name) const {
  auto it = processors_.find(name);
  return it == processors_.end() ? nullptr : it->second.get();
}

std::vector<Processor*> Runner::InOrder(int phase) const {
  std::vector<Processor*> out;
  for (const auto& n : order_) {
    Processor* p = processors_.at(n).get();
    if (phase == 0 || p->phase() == phase) out.push_back(p);
  }
  return out;
}

Status Runner::EnqueueDownstream(store::Transaction& t, const Processor& p, const RunRecord& run, bool* enqueued) {
  bool locked = false;
  for (const std::string& name : order_) {
    const Processor& q = *processors_.at(name);
    const auto ins = q.inputs();
    if (std::find(ins.begin(), ins.end(), p.name()) == ins.end()) continue;
    // Two inputs of the partition committing side by side (kRunCommit) would each miss the
    // other's success: whichever commits second must see the first.
    if (!locked) RETURN_IF_ERROR(t.LockKey("downstream:" + run.partition_key));
    locked = true;
    bool ready = true;
    for (const std::string& in : ins) {
      if (in == p.name()) continue;
      ASSIGN_OR_RETURN(auto last, Ledger::Latest(t, in, run.partition_key));
      if (!last || last->status != "succeeded") ready = false;
    }
    if (!ready) continue;
    // Downstream work goes ahead of new roots: a partition started is finished first.
    RunStart start{q.name(),   q.phase(), run.partition_key, run.data_date, "upstream",
                   run.run_id, 1,         run.priority + 1,  std::nullopt};
    RETURN_IF_ERROR(Ledger::Enqueue(t, start, clock_.NowSeconds()).status());
    *enqueued = true;
  }
  return OkStatus();
}

RunOutcome Runner::Execute(Processor& p, const std::string& partition_key, const std::string& data_date,
                           const std::string& trigger, std::optional<int64_t> caused_by) {
  std::optional<ClaimedRun> claimed;
  Status st = store_.WithWrite([&](store::Transaction& t) -> Status {
    RunStart start{p.name(), p.phase(), partition_key, data_date, trigger, caused_by, 1, 0, std::nullopt};
    ASSIGN_OR_RETURN(int64_t id, Ledger::Enqueue(t, start, clock_.NowSeconds()));
    ASSIGN_OR_RETURN(auto run, Ledger::Get(t, id));
    if (run->status == "running") {
      const int64_t left_s =
          std::max<int64_t>(0, (run->lease_expires_at.value_or(0) - clock_.NowMillis() + 999) / 1000);
      return AlreadyExistsError(p.name() + " for " + partition_key + " is already running (run " + std::to_string(id) +
                                ", worker " + run->worker_id + ", lease lapses in " + std::to_string(left_s) +
                                " s); if that worker is gone, run again after that");
    }
    ASSIGN_OR_RETURN(claimed,
                     Queue::ClaimRun(t, id, options_.worker_id, clock_.NowMillis(), options_.lease_ms, NewToken()));
    return OkStatus();
  });
  if (!st.ok()) {
    RunOutcome out;
    out.processor = p.name();
    out.status = st.WithContext("starting " + p.name() + " for " + partition_key);
    out.category = CategorizeFailure(st);
    return out;
  }
  return RunClaimed(p, *claimed);
}

std::optional<RunOutcome> Runner::AdmitSources(const Processor& p, const ClaimedRun& claimed,
                                               const std::vector<std::string>& sources) {
  RunOutcome out;
  out.run_id = claimed.run.run_id;
  out.processor = p.name();
  const int64_t now_ms = clock_.NowMillis();
  bool denied = false;
  Status st = store_.WithWrite([&](store::Transaction& t) -> Status {
    for (const std::string& source : sources) {
      ASSIGN_OR_RETURN(Admission a, Admit(t, source, claimed.run.run_id, now_ms, options_.breaker));
      if (a.allowed) continue;
      // Not an attempt: the source is known to be down, so the run waits for the breaker instead
      // of spending retries against it. A probe taken for an earlier source is given back by the
      // dead-probe rule (this run stops running now).
      denied = true;
      out.category = FailureCategory::kUpstreamIncomplete;
      out.status = FailedPreconditionError(a.reason + "; the run is deferred, not failed (`nbaprops breakers`)");
      FailureInfo f;
      f.category = out.category;
      f.message = out.status.message();
      f.started_at_ms = now_ms;
      f.defer_until_ms = a.denied_until_ms;
      return Queue::ApplyFailure(t, claimed.run, f, now_ms, options_.retry, Jitter());
    }
    return OkStatus();
  });
  if (st.ok() && !denied) return std::nullopt;
  // A store error leaves the run running without a heartbeat: the reaper retries it.
  if (!st.ok()) out.status = st.WithContext("admitting " + p.name() + " through its circuit breakers");
  out.status = out.status.WithContext(p.name() + " for " + claimed.run.partition_key);
  return out;
}

std::unique_ptr<RunContext> Runner::NewContext(Processor& p, const ClaimedRun& claimed,
                                               const std::vector<std::string>& sources, bool* triggered) {
  auto ctx = std::make_unique<RunContext>(store_, clock_, claimed.run.run_id, claimed.run.partition_key,
                                          claimed.run.data_date);
  ctx->started_at_ms = clock_.NowMillis();
  ctx->lease_token = claimed.lease_token;
  ctx->concurrent_commit = p.partition_local_commits() && sources.empty();
  if (ctx->concurrent_commit && options_.commit_group.max_members > 1) ctx->commit_group = &commit_group_;
  ctx->on_success = [this, &p, &claimed, &sources, triggered](store::Transaction& t) -> Status {
    RETURN_IF_ERROR(EnqueueDownstream(t, p, claimed.run, triggered));
    // A success ends any dead-letter episode of the partition (a heal, a retry or a manual run).
    RETURN_IF_ERROR(ResolveIncident(t, DeadLetterIncidentKey(p.name(), claimed.run.partition_key), clock_.NowMillis()));
    // The source answered: its breakers close in the same commit as the output.
    for (const std::string& source : sources) {
      RETURN_IF_ERROR(RecordSuccess(t, source, claimed.run.run_id, clock_.NowMillis(), options_.breaker));
    }
    return OkStatus();
  };
  return ctx;
}

void Runner::BlockForTest(const Processor& p, const RunRecord& run) const {
  if (options_.block_ms > 0 && run.attempt == 1 && p.name() == options_.block_processor &&
      (options_.block_partition.empty() || options_.block_partition == run.partition_key)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.block_ms));
  }
}

std::vector<RunOutcome> Runner::ExecuteRange(Processor& p, const std::vector<std::string>& dates,
                                             const std::string& trigger) {
  std::vector<RunOutcome> out(dates.size());
  auto one_by_one = [&] {
    for (size_t i = 0; i < dates.size(); ++i) out[i] = Execute(p, dates[i], dates[i], trigger);
    return out;
  };
  if (!p.range_runs() || !p.sources().empty() || dates.size() < 2) return one_by_one();
  // One transaction claims every date's run, each its own ledger row, all under one lease token.
  // A date another worker is running is left to Execute below, which reports it.
  std::vector<std::optional<ClaimedRun>> claimed(dates.size());
  const int64_t token = NewToken();
  Status st = store_.WithWrite([&](store::Transaction& t) -> Status {
    for (size_t i = 0; i < dates.size(); ++i) {
      claimed[i].reset();
      RunStart start{p.name(), p.phase(), dates[i], dates[i], trigger, std::nullopt, 1, 0, std::nullopt};
      ASSIGN_OR_RETURN(int64_t id, Ledger::Enqueue(t, start, clock_.NowSeconds()));
      ASSIGN_OR_RETURN(auto run, Ledger::Get(t, id));
      if (run->status == "running") continue;
      ASSIGN_OR_RETURN(claimed[i],
                       Queue::ClaimRun(t, id, options_.worker_id, clock_.NowMillis(), options_.lease_ms, token));
    }
    return OkStatus();
  });
  if (!st.ok()) return one_by_one();
  for (const auto& c : claimed) {
    if (c) HoldLease(c->run.run_id, c->lease_token);
  }
  // Each date is computed in turn, its output kept; then every date's output, success mark and
  // triggers commit in one transaction, fenced on each run's lease like a single run's commit.
  const std::vector<std::string> no_sources;
  std::vector<std::unique_ptr<RunContext>> ctxs(dates.size());
  bool triggered = false;
  Status s;
  for (size_t i = 0; i < dates.size() && s.ok(); ++i) {
    if (!claimed[i]) continue;
    ctxs[i] = NewContext(p, *claimed[i], no_sources, &triggered);
    ctxs[i]->keep_commit = true;
    BlockForTest(p, claimed[i]->run);
    s = p.Run(*ctxs[i]);
    if (s.ok() && !ctxs[i]->has_kept_commit()) s = InternalError("returned OK without an output");
  }
  if (s.ok()) {
    const int64_t commit_start_ms = clock_.NowMillis();
    s = store_.WithWrite([&](store::Transaction& t) -> Status {
      for (const auto& ctx : ctxs) {
        if (ctx) RETURN_IF_ERROR(ctx->CommitKept(t));
      }
      return OkStatus();
    });
    if (s.ok()) ShareCommitTime(ctxs, clock_.NowMillis() - commit_start_ms);
  }
  for (size_t i = 0; i < dates.size(); ++i) {
    if (!claimed[i]) {
      out[i] = Execute(p, dates[i], dates[i], trigger);
    } else if (s.ok()) {
      ReleaseLease(claimed[i]->run.run_id);
      out[i] = Outcome(p, *ctxs[i]);
    } else {
      // Nothing of the range is committed: each date runs by itself, so every success, failure
      // and retry is that date's own, exactly as without a range.
      out[i] = RunClaimed(p, *claimed[i]);
    }
  }
  if (s.ok() && triggered && listener_) listener_();
  return out;
}

void Runner::ShareCommitTime(const std::vector<std::unique_ptr<RunContext>>& ctxs, int64_t commit_ms) {
  std::vector<int64_t> ids;
  for (const auto& ctx : ctxs) {
    if (ctx) ids.push_back(ctx->run_id());
  }
  if (commit_ms <= 0 || ids.empty()) return;
  // Each date's duration_ms was its own computing; the range's commit is shared out equally (the
  // last date takes the remainder), so the durations of a range sum to its time, as run by run.
  const int64_t share = commit_ms / static_cast<int64_t>(ids.size());
  Status st = store_.WithWrite([&](store::Transaction& t) -> Status {
    for (size_t i = 0; i < ids.size(); ++i) {
      const int64_t add = i + 1 < ids.size() ? share : commit_ms - share * static_cast<int64_t>(ids.size() - 1);
      if (add > 0) {
        RETURN_IF_ERROR(
            t.ExecLater("UPDATE processor_runs SET duration_ms = duration_ms + ? WHERE run_id = ?", {add, ids[i]}));
      }
    }
    return OkStatus();
  });
  if (!st.ok()) LogWarn("range run: adding the commit's " + std::to_string(commit_ms) + " ms to its runs' durations: " +
                        st.ToString());
}

RunOutcome Runner::Outcome(const Processor& p, const RunContext& ctx) {
  RunOutcome out;
  out.run_id = ctx.run_id();
  out.processor = p.name();
  out.records_in = ctx.records_in;
  out.records_out = ctx.records_out;
  out.records_rejected = ctx.records_rejected;
  return out;
}

RunOutcome Runner::RunClaimed(Processor& p, const ClaimedRun& claimed) {
  const std::vector<std::string> sources = p.sources();
  if (!sources.empty()) {
    if (std::optional<RunOutcome> deferred = AdmitSources(p, claimed, sources)) {
      ReleaseLease(claimed.run.run_id);  // held since Claim, if claimed there
      return *deferred;
    }
  }
  bool triggered = false;
  std::unique_ptr<RunContext> owned = NewContext(p, claimed, sources, &triggered);
  RunContext& ctx = *owned;
  HoldLease(claimed.run.run_id, claimed.lease_token);
  BlockForTest(p, claimed.run);
  Status s = p.Run(ctx);
  ReleaseLease(claimed.run.run_id);
  if (s.ok() && !ctx.committed()) {
    s = InternalError("processor " + p.name() + " returned OK without committing its output");
  }
  RunOutcome out = Outcome(p, ctx);
  if (s.ok()) {
    if (triggered && listener_) listener_();
    return out;
  }
  out.category = ctx.category_override != FailureCategory::kNone ? ctx.category_override : CategorizeFailure(s);
  out.status = s.WithContext(p.name() + " for " + claimed.run.partition_key);
  FailureInfo f{out.category, s.message(),       ctx.records_in,     ctx.records_rejected,
                ctx.details,  ctx.started_at_ms, ctx.defer_until_ms, Find(p.name()) != &p};
  Status fs = store_.WithWrite([&](store::Transaction& t) -> Status {
    const int64_t now_ms = clock_.NowMillis();
    FailureInfo applied = f;
    if (IsSourceFailure(out.category)) {
      std::string open;
      int64_t until = 0;
      for (const std::string& source : sources) {
        ASSIGN_OR_RETURN(CircuitBreaker b,
                         RecordFailure(t, source, claimed.run.run_id, s.message(), now_ms, options_.breaker));
        if (b.state == BreakerState::kClosed) continue;
        const int64_t b_until =
            b.state == BreakerState::kOpen ? b.next_probe_at.value_or(now_ms) : now_ms + options_.breaker.probe_wait_ms;
        if (b_until > until) until = b_until;
        open += (open.empty() ? "" : ", ") + source;
      }
      // A failure that leaves a breaker open (the one that trips it, a failed probe, a run that
      // was in flight) waits for the next probe like the runs the breaker denies: a retry sooner
      // would only be denied, and charging attempts for it would dead-letter partitions during a
      // long outage. Deferrals are bounded by time (RetryPolicy::defer_max_ms) instead.
      if (until > 0) {
        applied.category = FailureCategory::kUpstreamIncomplete;
        applied.defer_until_ms = until;
        applied.message = std::string(FailureCategoryName(out.category)) + ": " + s.message() +
                          "; circuit breaker for " + open + " is open until " +
                          FormatIsoTimestamp((until + 999) / 1000) +
                          ", so the run is deferred, not retried (`nbaprops breakers`)";
      }
    }
    return Queue::ApplyFailure(t, claimed.run, applied, now_ms, options_.retry, Jitter());
  });
  if (!fs.ok()) out.status = out.status.WithContext("(and recording the failure failed: " + fs.message() + ")");
  if (listener_) listener_();  // a retry may be runnable at once
  return out;
}

StatusOr<std::vector<ClaimedRun>> Runner::Claim(const std::string& worker_id, int max_runs) {
  ASSIGN_OR_RETURN(auto runs,
                   Queue::ClaimBatch(store_, worker_id, clock_.NowMillis(), options_.lease_ms, NewToken(), max_runs));
  for (const ClaimedRun& c : runs) HoldLease(c.run.run_id, c.lease_token);
  return runs;
}

RunOutcome Runner::Run(const ClaimedRun& claimed) {
  if (Processor* p = Find(claimed.run.processor)) return RunClaimed(*p, claimed);
  ReleaseLease(claimed.run.run_id);
  RunOutcome out;
  out.run_id = claimed.run.run_id;
  out.processor = claimed.run.processor;
  out.category = FailureCategory::kConfigError;
  FailureInfo f;
  f.category = out.category;
  f.message = "no processor named '" + claimed.run.processor + "' in this build";
  out.status = FailedPreconditionError(f.message);
  Status st = store_.WithWrite([&](store::Transaction& t) {
    return Queue::ApplyFailure(t, claimed.run, f, clock_.NowMillis(), options_.retry, Jitter());
  });
  // Not recorded: the run stays running without a heartbeat, and the reaper fails it.
  if (!st.ok()) out.status = out.status.WithContext("(and recording the failure failed: " + st.message() + ")");
  return out;
}

StatusOr<std::optional<RunOutcome>> Runner::RunNext(const std::string& worker_id) {
  ASSIGN_OR_RETURN(auto claimed, Claim(worker_id, 1));
  if (claimed.empty()) return std::optional<RunOutcome>();
  return std::optional<RunOutcome>(Run(claimed.front()));
}

StatusOr<std::vector<RunOutcome>> Runner::DrainQueue() {
  std::vector<RunOutcome> outcomes;
  while (true) {
    ASSIGN_OR_RETURN(auto o, RunNext(options_.worker_id));
    if (!o) break;
    outcomes.push_back(std::move(*o));
  }
  return outcomes;
}

StatusOr<std::vector<int64_t>> Runner::Reap() {
  return Queue::ReapExpired(
      store_, clock_.NowMillis(), options_.retry, Jitter(),
      [this](const std::string& processor) { return Find(processor) != nullptr; }, &Runner::WorkerGone);
}

bool Runner::WorkerGone(const std::string& worker_id) {
  const std::string prefix = HostName() + ":";
  if (worker_id.compare(0, prefix.size(), prefix) != 0) return false;
  const std::string rest = worker_id.substr(prefix.size());
  const std::string digits = rest.substr(0, rest.find('/'));
  if (digits.empty() || digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return false;
  const pid_t pid = static_cast<pid_t>(std::stol(digits));
  if (pid <= 1 || pid == ::getpid()) return false;
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

}  // namespace nbaprops::engine
