#include "engine/worker_pool.h"

#include <chrono>

#include "base/log.h"

namespace nbaprops::engine {

WorkerPool::WorkerPool(Runner& runner, WorkerPoolOptions options) : runner_(runner), options_(std::move(options)) {}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Start() {
  runner_.SetWorkListener([this] { Notify(); });
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this, i] { WorkerLoop(i); });
  if (options_.reaper) threads_.emplace_back([this] { ReaperLoop(); });
}

void WorkerPool::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  runner_.SetWorkListener(nullptr);
}

void WorkerPool::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ = true;
  }
  cv_.notify_all();
}

void WorkerPool::Wait(int64_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_ || pending_ || !handoff_.empty(); });
  pending_ = false;
}

std::optional<ClaimedRun> WorkerPool::NextRun(const std::string& worker_id, Status* status, bool* stop) {
  int batch = 1;
  {
    std::unique_lock<std::mutex> lock(mu_);
    // Another worker's claim may bring this one a run: wait for it rather than claim beside it.
    cv_.wait(lock, [this] { return !claiming_ || !handoff_.empty(); });
    if (!handoff_.empty()) {
      ClaimedRun run = std::move(handoff_.front());
      handoff_.pop_front();
      return run;
    }
    if (stopping_) {
      *stop = true;
      return std::nullopt;
    }
    claiming_ = true;
    batch = std::max(1, options_.threads - executing_.load());
    if (mean_run_micros_.load() < kShortRunMicros) batch += options_.threads;
  }
  ++busy_;
  auto claimed = runner_.Claim(worker_id, batch);
  --busy_;
  std::optional<ClaimedRun> mine;
  {
    std::lock_guard<std::mutex> lock(mu_);
    claiming_ = false;
    if (claimed.ok() && !claimed->empty()) {
      mine = std::move(claimed->front());
      for (size_t i = 1; i < claimed->size(); ++i) handoff_.push_back(std::move((*claimed)[i]));
    }
  }
  cv_.notify_all();
  if (!claimed.ok()) *status = claimed.status();
  return mine;
}

void WorkerPool::WorkerLoop(int index) {
  const std::string worker_id = runner_.worker_id() + "/w" + std::to_string(index);
  while (true) {
    Status claim_status;
    bool stop = false;
    std::optional<ClaimedRun> run = NextRun(worker_id, &claim_status, &stop);
    if (stop) return;
    if (!run) {
      if (!claim_status.ok()) {
        LogWarn("worker " + worker_id + ": " + claim_status.ToString());
      } else {
        last_claim_empty_ = true;
      }
      Wait(options_.idle_poll_ms);
      continue;
    }
    last_claim_empty_ = false;
    ++busy_;
    ++executing_;
    const auto started = std::chrono::steady_clock::now();
    RunOutcome outcome = runner_.Run(*run);
    const int64_t micros =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
    // Weight 1/8; races between workers lose an update at worst.
    mean_run_micros_ = mean_run_micros_.load() + (micros - mean_run_micros_.load()) / 8;
    --executing_;
    --busy_;
    ++executed_;
    if (!outcome.status.ok()) ++failed_;
  }
}

void WorkerPool::ReaperLoop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, std::chrono::milliseconds(options_.reap_every_ms), [this] { return stopping_; })) return;
    }
    auto reaped = runner_.Reap();
    if (!reaped.ok()) {
      LogWarn("reaper: " + reaped.status().ToString());
    } else if (!reaped->empty()) {
      reaped_ += static_cast<int64_t>(reaped->size());
      LogWarn("reaper: " + std::to_string(reaped->size()) + " run(s) lost their lease; retries scheduled");
      Notify();
    }
    if (options_.on_tick) options_.on_tick();
  }
}

}  // namespace nbaprops::engine
