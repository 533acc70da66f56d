#include "engine/worker_pool.h"

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
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_ || pending_; });
  pending_ = false;
}

void WorkerPool::WorkerLoop(int index) {
  const std::string worker_id = runner_.worker_id() + "/w" + std::to_string(index);
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    ++busy_;
    auto next = runner_.RunNext(worker_id);
    --busy_;
    if (!next.ok()) {
      LogWarn("worker " + worker_id + ": " + next.status().ToString());
      Wait(options_.idle_poll_ms);
      continue;
    }
    if (!*next) {
      last_claim_empty_ = true;
      Wait(options_.idle_poll_ms);
      continue;
    }
    last_claim_empty_ = false;
    ++executed_;
    if (!(*next)->status.ok()) ++failed_;
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
