// Runner: executes processors for partitions through the queue and keeps the ledger honest.
//
// Every execution is a claimed run: `queued` -> `running` with a lease (worker id, fencing
// token, expiry) that a heartbeat thread extends while the processor works. It ends either in
// the processor's CommitOutput (rows + `succeeded` + downstream triggers in one transaction) or
// in Queue::ApplyFailure (`failed`, then a retry, a deferral or a dead letter). A processor that
// returns OK without committing is a bug and is recorded as one. Before a run executes, the
// circuit breaker of each of its processor's sources must admit it (engine/breaker.h); a denied
// run is deferred until the breaker may admit it, without running, and costs no attempt.
// Thread-safety: after registration, all methods may be called from several threads.
#ifndef NBAPROPS_ENGINE_RUNNER_H_
#define NBAPROPS_ENGINE_RUNNER_H_

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "engine/breaker.h"
#include "engine/commit_group.h"
#include "engine/failure_policy.h"
#include "engine/ledger.h"
#include "engine/processor.h"
#include "engine/queue.h"
#include "store/store.h"

namespace nbaprops::engine {

struct EngineOptions {
  int64_t lease_ms = 30'000;
  int64_t heartbeat_ms = 5'000;
  RetryPolicy retry;
  // Circuit breakers of the sources processors declare (Processor::sources()).
  BreakerOptions breaker;
  std::string worker_id;  // empty: host:pid
  uint64_t seed = 0;      // jitter and lease tokens; 0 = from std::random_device
  // Test hook for crash tests: the first attempt of this processor sleeps this long (while
  // heartbeating) before running, so a test can kill the worker in the middle of it.
  std::string block_processor;
  std::string block_partition;  // empty: any partition
  int64_t block_ms = 0;
  // Group commit of partition-local commits (engine/commit_group.h); max_members <= 1: off, each
  // run commits in a transaction of its own.
  CommitGroupOptions commit_group;
};

struct RunOutcome {
  int64_t run_id = 0;
  std::string processor;
  Status status;
  FailureCategory category = FailureCategory::kNone;
  int64_t records_in = 0, records_out = 0, records_rejected = 0;
};

class Runner {
 public:
  Runner(store::Store& store, const Clock& clock, EngineOptions options = {});
  ~Runner();

  Status Register(std::unique_ptr<Processor> p);
  Processor* Find(const std::string& name) const;
  // Processors of a phase (0: all), upstream before downstream.
  std::vector<Processor*> InOrder(int phase = 0) const;

  // Runs one processor for one partition now: reuses the partition's queued run or enqueues one,
  // claims it and runs it. Fails with kAlreadyExists when another worker is running it. A
  // processor that is not registered (one holding its input in memory, like the import's
  // store_payload) cannot be run from the queue: when it fails, or its lease lapses, no retry is
  // queued and the caller owns the retry.
  RunOutcome Execute(Processor& p, const std::string& partition_key, const std::string& data_date,
                     const std::string& trigger, std::optional<int64_t> caused_by = std::nullopt);
  // Runs one processor for each of `dates` (date partitions) as one range run, for backfills: every
  // date keeps its own ledger run, outcome, row counts and triggers, but the runs are claimed in
  // one transaction and their outputs committed in one. If any date fails, or the commit does,
  // nothing of the range is committed and each date runs by itself (RunClaimed), so each failure
  // is its own date's. A crash leaves the claimed runs running until their lease lapses, like a
  // single run's. Processors without Processor::range_runs(), and single dates, run one by one
  // (Execute). Outcomes are in the order of `dates`.
  std::vector<RunOutcome> ExecuteRange(Processor& p, const std::vector<std::string>& dates, const std::string& trigger);
  // Runs a run this worker has claimed.
  RunOutcome RunClaimed(Processor& p, const ClaimedRun& claimed);
  // Claims up to max_runs runnable runs in one transaction (Queue::ClaimBatch). Their leases are
  // held (heartbeated) from now on, so a claimed run may wait in this process for a free worker;
  // each must then be passed to Run.
  StatusOr<std::vector<ClaimedRun>> Claim(const std::string& worker_id, int max_runs);
  // Runs a run claimed with Claim; a run of a processor this build does not have fails with
  // config_error.
  RunOutcome Run(const ClaimedRun& claimed);
  // Claims and runs the next runnable run; empty when none is runnable now.
  StatusOr<std::optional<RunOutcome>> RunNext(const std::string& worker_id);
  // Runs runnable runs until none is left (retries waiting for not_before stay queued).
  StatusOr<std::vector<RunOutcome>> DrainQueue();
  // Fails runs whose lease expired, or whose worker was a process on this host that no longer
  // exists (WorkerGone), and schedules their retries (none for unregistered processors).
  StatusOr<std::vector<int64_t>> Reap();
  // True when `worker_id` names a worker of this host ("<hostname>:<pid>", optionally "/w<n>", the
  // default worker id) whose process is gone. Any other id, or a live or unknowable process, is
  // false: such runs wait for their lease. A wrong "gone" (a reused hostname elsewhere) costs only
  // the work of that run: its commit is fenced by the lease token.
  static bool WorkerGone(const std::string& worker_id);

  // Called after this process enqueues work (a trigger), so idle workers wake at once.
  void SetWorkListener(std::function<void()> listener) { listener_ = std::move(listener); }
  // For work enqueued outside the runner (an operator's request): wakes this process's workers.
  void NotifyWork() const {
    if (listener_) listener_();
  }

  const EngineOptions& options() const { return options_; }
  const CommitGroup& commit_group() const { return commit_group_; }
  const std::string& worker_id() const { return options_.worker_id; }
  store::Store& store() { return store_; }
  const Clock& clock() const { return clock_; }
  int64_t NewToken();
  double Jitter();

 private:
  // Asks the breaker of every source of `p` to admit the run; a denial defers the run (in the
  // same transaction) and returns its outcome. Empty when the run may execute.
  std::optional<RunOutcome> AdmitSources(const Processor& p, const ClaimedRun& claimed,
                                         const std::vector<std::string>& sources);
  // A claimed run's context: partition, lease token and the success hook (triggers, the partition's
  // dead-letter incident resolved, breakers closed). `claimed` and `sources` must outlive it.
  std::unique_ptr<RunContext> NewContext(Processor& p, const ClaimedRun& claimed, const std::vector<std::string>& sources,
                                         bool* triggered);
  // The test hook of EngineOptions::block_ms.
  void BlockForTest(const Processor& p, const RunRecord& run) const;
  static RunOutcome Outcome(const Processor& p, const RunContext& ctx);
  // Adds a committed range's commit time to the durations of its runs (ExecuteRange).
  void ShareCommitTime(const std::vector<std::unique_ptr<RunContext>>& ctxs, int64_t commit_ms);
  // Enqueues the downstream runs of `p` whose inputs have all succeeded for the partition.
  Status EnqueueDownstream(store::Transaction& t, const Processor& p, const RunRecord& run, bool* enqueued);

  store::Store& store_;
  const Clock& clock_;
  EngineOptions options_;
  std::map<std::string, std::unique_ptr<Processor>> processors_;
  std::vector<std::string> order_;  // topological
  void HoldLease(int64_t run_id, int64_t token);
  void ReleaseLease(int64_t run_id);
  void HeartbeatLoop();

  std::mutex rng_mu_;
  std::mt19937_64 rng_;  // guarded by rng_mu_
  std::function<void()> listener_;

  std::mutex lease_mu_;
  std::condition_variable lease_cv_;
  std::map<int64_t, int64_t> held_leases_;  // run id -> token; guarded by lease_mu_
  bool stop_heartbeats_ = false;            // guarded by lease_mu_
  std::thread heartbeat_thread_;

  CommitGroup commit_group_;
};

}  // namespace nbaprops::engine

#endif  // NBAPROPS_ENGINE_RUNNER_H_
