// Clock: the only way code reads the current time, so tests and backtests can move time.
// Thread-safety: SystemClock is stateless; FakeClock is safe for concurrent use.
#ifndef NBAPROPS_BASE_CLOCK_H_
#define NBAPROPS_BASE_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace nbaprops {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMillis() const = 0;  // Unix epoch, UTC
  int64_t NowSeconds() const { return NowMillis() / 1000; }
};

class SystemClock final : public Clock {
 public:
  int64_t NowMillis() const override;
  static SystemClock& Default();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_millis = 0) : now_(now_millis) {}
  int64_t NowMillis() const override { return now_.load(); }
  void SetMillis(int64_t t) { now_.store(t); }
  void AdvanceMillis(int64_t d) { now_.fetch_add(d); }

 private:
  std::atomic<int64_t> now_;
};

// Simulated time for replays: starts at `start_millis` and runs `speed` times faster than `base`.
class ScaledClock final : public Clock {
 public:
  ScaledClock(const Clock& base, int64_t start_millis, double speed)
      : base_(base), origin_(base.NowMillis()), start_(start_millis), speed_(speed) {}
  int64_t NowMillis() const override {
    return start_ + static_cast<int64_t>(static_cast<double>(base_.NowMillis() - origin_) * speed_);
  }

 private:
  const Clock& base_;
  int64_t origin_, start_;
  double speed_;
};

}  // namespace nbaprops

#endif  // NBAPROPS_BASE_CLOCK_H_
