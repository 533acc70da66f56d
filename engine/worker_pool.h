// WorkerPool: N worker threads claiming runs from the queue, plus a reaper thread that fails
// runs whose lease expired (in this process or any other sharing the database).
//
// One worker at a time claims, for itself and for the workers that are free: a batch of up to
// (threads - workers executing) runs in one transaction (Runner::Claim), which the free workers
// take from the pool's hand-off list. While recent runs have been short (under
// kShortRunMicros on average), it claims up to `threads` more, so that a stream of short runs
// is not claimed one statement per run; such a run waits at most about one short run. A claimed
// run's lease is heartbeated from the claim on.
//
// Stop() drains: workers stop claiming, run the runs already claimed and the run in hand
// (committing or failing each), and exit; nothing is left `running` by a clean stop.
// Thread-safety: Start/Stop from one thread; Notify from any.
#ifndef NBAPROPS_ENGINE_WORKER_POOL_H_
#define NBAPROPS_ENGINE_WORKER_POOL_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/runner.h"

namespace nbaprops::engine {

struct WorkerPoolOptions {
  int threads = 2;
  int64_t idle_poll_ms = 200;  // how often an idle worker looks for runs made runnable by time or other processes
  int64_t reap_every_ms = 1000;
  bool reaper = true;
  // Called on the reaper thread after each reap pass (e.g. scheduler ticks).
  std::function<void()> on_tick;
};

class WorkerPool {
 public:
  static constexpr int64_t kShortRunMicros = 5'000;

  WorkerPool(Runner& runner, WorkerPoolOptions options);
  ~WorkerPool();

  void Start();
  void Stop();
  void Notify();

  int64_t runs_executed() const { return executed_.load(); }
  int64_t runs_failed() const { return failed_.load(); }
  int64_t lease_expiries() const { return reaped_.load(); }
  // True when no worker is executing a run and the last claim found nothing runnable.
  bool Idle() const {
    std::lock_guard<std::mutex> lock(mu_);
    return busy_.load() == 0 && last_claim_empty_.load() && handoff_.empty();
  }

 private:
  void WorkerLoop(int index);
  // The next run for this worker: one claimed earlier, or a batch claimed now. Empty when the
  // pool is stopping and nothing claimed is left, or when nothing was runnable (then *status
  // says whether the claim failed).
  std::optional<ClaimedRun> NextRun(const std::string& worker_id, Status* status, bool* stop);
  void ReaperLoop();
  void Wait(int64_t ms);

  Runner& runner_;
  WorkerPoolOptions options_;
  std::vector<std::thread> threads_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool pending_ = false;   // guarded by mu_: work was announced since a worker last looked
  bool claiming_ = false;  // guarded by mu_: a worker is claiming a batch
  std::deque<ClaimedRun> handoff_;  // guarded by mu_: claimed runs no worker has taken yet
  std::atomic<int> executing_{0};
  std::atomic<int64_t> mean_run_micros_{kShortRunMicros};  // moving average of run durations
  std::atomic<int64_t> executed_{0}, failed_{0}, reaped_{0};
  std::atomic<int> busy_{0};
  std::atomic<bool> last_claim_empty_{false};
};

}  // namespace nbaprops::engine

#endif  // NBAPROPS_ENGINE_WORKER_POOL_H_
