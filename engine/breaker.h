// Circuit breakers: one per external source (an API, a scraper endpoint), so that a source that
// is down is asked once in a while instead of by every run, and the runs that need it wait
// (deferred) instead of burning their retries and piling up dead letters.
//
// State machine (one row of circuit_breakers per source; a source with no row is closed):
//
//   closed --(N consecutive failures, or failure rate >= R over the window with >= M requests)-->
//   open --(now >= next_probe_at: the next run that asks is admitted as the probe)-->
//   half_open --(the probe succeeds)--> closed
//   half_open --(the probe fails)--> open again, cool-down doubled (capped)
//   any state --(a success)--> closed
//
// Invariants:
//   - closed admits every run; open admits none before next_probe_at; half_open admits only the
//     run in probe_run_id, unless that run is no longer running (finished, deferred, reaped, or
//     its lease expired): a dead probe must not wedge the breaker, so the next run takes over.
//   - While open or half_open, next_probe_at - opened_at is the current cool-down; a failed probe
//     sets opened_at = now and next_probe_at = now + min(2 * cool-down, max_cooldown_ms).
//   - The failure-rate window is tumbling: it starts at window_start and is reset by the first
//     outcome recorded window_ms or more later, and whenever the breaker closes.
//   - Only failures that say the source is unwell count (source_unavailable, rate_limited,
//     timeout; see IsSourceFailure). A success anywhere closes the breaker: the source answered.
//   - times_opened counts episodes (closed -> open), not failed probes.
//   - Opening (and every failed probe) opens or bumps the incident "breaker_open:<source>";
//     closing resolves it. The half_open step is not an incident change.
//
// Every function works inside the caller's write transaction, so a breaker decision commits or
// rolls back together with the ledger change it goes with (a claim's deferral, a run's output,
// a failure's retry). Thread-safety: as safe as the transaction; on SQLite the write lock taken
// at BEGIN serializes read-modify-write of a row (PostgreSQL will need SELECT ... FOR UPDATE).
// Times are Unix milliseconds.
#ifndef NBAPROPS_ENGINE_BREAKER_H_
#define NBAPROPS_ENGINE_BREAKER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/processor.h"
#include "store/store.h"

namespace nbaprops::engine {

struct BreakerOptions {
  int consecutive_failures_to_open = 5;
  // Failure-rate rule: opens when failures / requests >= failure_rate_to_open within one window
  // of window_ms, once the window has seen at least window_min_requests outcomes.
  double failure_rate_to_open = 0.5;
  int64_t window_ms = int64_t{10} * 60 * 1000;
  int window_min_requests = 10;
  // First cool-down before a half-open probe; doubled on every failed probe, up to the cap.
  int64_t cooldown_ms = 60'000;
  int64_t max_cooldown_ms = int64_t{30} * 60 * 1000;
  // Runs denied while a probe is in flight ask again after this long (the probe's outcome
  // decides; a success should not leave them waiting a whole cool-down).
  int64_t probe_wait_ms = 15'000;
};

enum class BreakerState { kClosed, kOpen, kHalfOpen };
std::string_view BreakerStateName(BreakerState s);  // closed | open | half_open

struct CircuitBreaker {
  std::string source;
  BreakerState state = BreakerState::kClosed;
  int64_t consecutive_failures = 0;
  int64_t window_start = 0, window_requests = 0, window_failures = 0;
  std::optional<int64_t> opened_at, next_probe_at, probe_run_id;
  int64_t times_opened = 0;
  std::string last_error;
  int64_t last_change_at = 0;  // last state change
};

struct Admission {
  bool allowed = true;
  bool probe = false;           // allowed as the half-open probe
  int64_t denied_until_ms = 0;  // when denied: ask again at this time
  std::string reason;           // when denied: for the run's error message
};

// Whether a failure of this category counts against the sources of the run.
bool IsSourceFailure(FailureCategory c);

// Decides whether `run_id` may call `source` now (see the state machine above). Writes only
// when it changes the breaker (open -> half_open, or a dead probe taken over).
StatusOr<Admission> Admit(store::Transaction& t, const std::string& source, int64_t run_id, int64_t now_ms,
                          const BreakerOptions& options = {});

// The source answered: closes the breaker (resolving its incident) and resets its counters; in
// the closed state only resets the consecutive count and counts the request in the window.
Status RecordSuccess(store::Transaction& t, const std::string& source, int64_t run_id, int64_t now_ms,
                     const BreakerOptions& options = {});

// The source failed `run_id`: counts the failure and opens the breaker per the rules; a failed
// probe re-opens it with a doubled cool-down. Failures of runs admitted before the breaker opened
// are counted but change nothing else. Returns the breaker as it is afterwards, so the caller can
// defer the failed run instead of retrying it against a source known to be down.
StatusOr<CircuitBreaker> RecordFailure(store::Transaction& t, const std::string& source, int64_t run_id,
                                       const std::string& error, int64_t now_ms, const BreakerOptions& options = {});

StatusOr<std::optional<CircuitBreaker>> GetBreaker(store::Transaction& t, const std::string& source);
// Every breaker with a row, by source.
StatusOr<std::vector<CircuitBreaker>> ListBreakers(store::Transaction& t);

// "breaker_open:<source>"
std::string BreakerIncidentKey(const std::string& source);

}  // namespace nbaprops::engine

#endif  // NBAPROPS_ENGINE_BREAKER_H_
