#include "engine/breaker.h"

#include <algorithm>

#include "base/strings.h"
#include "base/time.h"
#include "engine/incidents.h"

namespace nbaprops::engine {
namespace {

constexpr const char* kColumns =
    "source, state, consecutive_failures, window_start, window_requests, window_failures, opened_at, next_probe_at, "
    "probe_run_id, times_opened, COALESCE(last_error, ''), last_change_at";

BreakerState ParseState(const std::string& s) {
  if (s == "open") return BreakerState::kOpen;
  if (s == "half_open") return BreakerState::kHalfOpen;
  return BreakerState::kClosed;
}

CircuitBreaker FromRow(const store::Row& r) {
  CircuitBreaker b;
  b.source = r.Text(0);
  b.state = ParseState(r.Text(1));
  b.consecutive_failures = r.Int(2);
  b.window_start = r.Int(3);
  b.window_requests = r.Int(4);
  b.window_failures = r.Int(5);
  b.opened_at = r.OptInt(6);
  b.next_probe_at = r.OptInt(7);
  b.probe_run_id = r.OptInt(8);
  b.times_opened = r.Int(9);
  b.last_error = r.Text(10);
  b.last_change_at = r.Int(11);
  return b;
}

Status Save(store::Transaction& t, const CircuitBreaker& b) {
  return t
      .Exec(
          "INSERT INTO circuit_breakers (source, state, consecutive_failures, window_start, window_requests, "
          "window_failures, opened_at, next_probe_at, probe_run_id, times_opened, last_error, last_change_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET state = excluded.state, "
          "consecutive_failures = excluded.consecutive_failures, window_start = excluded.window_start, "
          "window_requests = excluded.window_requests, window_failures = excluded.window_failures, "
          "opened_at = excluded.opened_at, next_probe_at = excluded.next_probe_at, "
          "probe_run_id = excluded.probe_run_id, times_opened = excluded.times_opened, "
          "last_error = excluded.last_error, last_change_at = excluded.last_change_at",
          {b.source, BreakerStateName(b.state), b.consecutive_failures, b.window_start, b.window_requests,
           b.window_failures, b.opened_at, b.next_probe_at, b.probe_run_id, b.times_opened,
           b.last_error.empty() ? store::Param() : store::Param(b.last_error), b.last_change_at})
      .status()
      .WithContext("saving circuit breaker '" + b.source + "'");
}

// The stored breaker, or a fresh closed one (not yet saved).
StatusOr<CircuitBreaker> Load(store::Transaction& t, const std::string& source, int64_t now_ms) {
  ASSIGN_OR_RETURN(std::optional<CircuitBreaker> b, GetBreaker(t, source));
  if (b) return *b;
  CircuitBreaker fresh;
  fresh.source = source;
  fresh.window_start = now_ms;
  fresh.last_change_at = now_ms;
  return fresh;
}

// Rounded up, so "open until" never names a time at which the breaker still denies.
std::string FormatMillis(int64_t ms) { return FormatIsoTimestamp((ms + 999) / 1000); }

// Starts a new tumbling window when the current one is over, then counts one outcome in it.
void CountInWindow(CircuitBreaker& b, bool failed, int64_t now_ms, const BreakerOptions& o) {
  if (now_ms - b.window_start >= o.window_ms) {
    b.window_start = now_ms;
    b.window_requests = 0;
    b.window_failures = 0;
  }
  ++b.window_requests;
  if (failed) ++b.window_failures;
}

// Why a closed breaker must open now, or empty.
std::string OpenReason(const CircuitBreaker& b, const BreakerOptions& o) {
  if (b.consecutive_failures >= o.consecutive_failures_to_open) {
    return std::to_string(b.consecutive_failures) + " consecutive failures";
  }
  if (b.window_requests >= o.window_min_requests &&
      static_cast<double>(b.window_failures) >= o.failure_rate_to_open * static_cast<double>(b.window_requests)) {
    return std::to_string(b.window_failures) + " of " + std::to_string(b.window_requests) + " requests failed in " +
           std::to_string(o.window_ms / 60'000) + " min";
  }
  return "";
}

// Moves `b` to open for `cooldown_ms` and opens (or bumps) its incident, linked to `run_id`.
Status Trip(store::Transaction& t, CircuitBreaker& b, int64_t run_id, int64_t cooldown_ms, const std::string& why,
            int64_t now_ms) {
  b.state = BreakerState::kOpen;
  b.opened_at = now_ms;
  b.next_probe_at = now_ms + cooldown_ms;
  b.probe_run_id.reset();
  b.last_change_at = now_ms;
  RETURN_IF_ERROR(Save(t, b));
  const std::string key = BreakerIncidentKey(b.source);
  RETURN_IF_ERROR(OpenIncident(
      t, key, "warning",
      "circuit breaker for " + b.source + " opened (" + why + "; last error: " + Truncate(b.last_error, 200) +
          "); runs that need it are deferred until a probe at " + FormatMillis(*b.next_probe_at) +
          " succeeds; check the source, see `nbaprops breakers`",
      "{\"source\":" + JsonQuoted(b.source) + ",\"reason\":" + JsonQuoted(why) + ",\"consecutive_failures\":" +
          std::to_string(b.consecutive_failures) + ",\"window_failures\":" + std::to_string(b.window_failures) +
          ",\"window_requests\":" + std::to_string(b.window_requests) + ",\"cooldown_ms\":" +
          std::to_string(cooldown_ms) + ",\"next_probe_at_ms\":" + std::to_string(*b.next_probe_at) +
          ",\"last_error\":" + JsonQuoted(Truncate(b.last_error, 500)) + "}",
      now_ms));
  return LinkIncidentRuns(t, key, {run_id});
}

// Whether the probe run can still report: it is running and its lease is valid.
StatusOr<bool> ProbeAlive(store::Transaction& t, int64_t probe_run_id, int64_t now_ms) {
  ASSIGN_OR_RETURN(std::optional<int64_t> alive,
                   t.QueryInt("SELECT COUNT(*) FROM processor_runs WHERE run_id = ? AND status = 'running' AND "
                              "lease_expires_at > ?",
                              {probe_run_id, now_ms}));
  return alive.value_or(0) > 0;
}

}  // namespace

std::string_view BreakerStateName(BreakerState s) {
  switch (s) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half_open";
  }
  return "closed";
}

std::string BreakerIncidentKey(const std::string& source) { return "breaker_open:" + source; }

bool IsSourceFailure(FailureCategory c) {
  return c == FailureCategory::kSourceUnavailable || c == FailureCategory::kRateLimited ||
         c == FailureCategory::kTimeout;
}

StatusOr<Admission> Admit(store::Transaction& t, const std::string& source, int64_t run_id, int64_t now_ms,
                          const BreakerOptions& options) {
  ASSIGN_OR_RETURN(std::optional<CircuitBreaker> found, GetBreaker(t, source));
  Admission a;
  if (!found || found->state == BreakerState::kClosed) return a;
  CircuitBreaker& b = *found;
  const int64_t next_probe = b.next_probe_at.value_or(now_ms);
  if (b.state == BreakerState::kOpen && now_ms < next_probe) {
    a.allowed = false;
    a.denied_until_ms = next_probe;
    a.reason = "circuit breaker for " + source + " is open until " + FormatMillis(next_probe) +
               "; last error: " + Truncate(b.last_error, 200);
    return a;
  }
  if (b.state == BreakerState::kHalfOpen && b.probe_run_id && *b.probe_run_id != run_id) {
    ASSIGN_OR_RETURN(bool alive, ProbeAlive(t, *b.probe_run_id, now_ms));
    if (alive) {
      a.allowed = false;
      a.denied_until_ms = now_ms + options.probe_wait_ms;
      a.reason = "circuit breaker for " + source + " is open until " + FormatMillis(a.denied_until_ms) +
                 "; half-open, probe run " + std::to_string(*b.probe_run_id) + " is in flight";
      return a;
    }
  }
  // Open past its cool-down, or half-open without a live probe (or re-admitting its own probe):
  // this run is the probe.
  a.probe = true;
  if (b.state == BreakerState::kHalfOpen && b.probe_run_id == run_id) return a;
  if (b.state == BreakerState::kOpen) b.last_change_at = now_ms;
  b.state = BreakerState::kHalfOpen;
  b.probe_run_id = run_id;
  RETURN_IF_ERROR(Save(t, b));
  return a;
}

Status RecordSuccess(store::Transaction& t, const std::string& source, int64_t run_id, int64_t now_ms,
                     const BreakerOptions& options) {
  ASSIGN_OR_RETURN(CircuitBreaker b, Load(t, source, now_ms));
  b.consecutive_failures = 0;
  if (b.state == BreakerState::kClosed) {
    CountInWindow(b, false, now_ms, options);
    return Save(t, b);
  }
  b.state = BreakerState::kClosed;
  b.window_start = now_ms;
  b.window_requests = 0;
  b.window_failures = 0;
  b.opened_at.reset();
  b.next_probe_at.reset();
  b.probe_run_id.reset();
  b.last_change_at = now_ms;
  RETURN_IF_ERROR(Save(t, b));
  const std::string key = BreakerIncidentKey(source);
  RETURN_IF_ERROR(LinkIncidentRuns(t, key, {run_id}));
  return ResolveIncident(t, key, now_ms);
}

StatusOr<CircuitBreaker> RecordFailure(store::Transaction& t, const std::string& source, int64_t run_id,
                                       const std::string& error, int64_t now_ms, const BreakerOptions& options) {
  ASSIGN_OR_RETURN(CircuitBreaker b, Load(t, source, now_ms));
  ++b.consecutive_failures;
  CountInWindow(b, true, now_ms, options);
  b.last_error = Truncate(error, 1000);
  if (b.state == BreakerState::kClosed) {
    const std::string why = OpenReason(b, options);
    if (why.empty()) {
      RETURN_IF_ERROR(Save(t, b));
    } else {
      ++b.times_opened;
      RETURN_IF_ERROR(Trip(t, b, run_id, options.cooldown_ms, why, now_ms));
    }
  } else if (b.state == BreakerState::kHalfOpen && b.probe_run_id == run_id) {
    const int64_t cooldown = b.next_probe_at.value_or(now_ms) - b.opened_at.value_or(now_ms);
    const int64_t longer = std::min(options.max_cooldown_ms, std::max(options.cooldown_ms, 2 * cooldown));
    RETURN_IF_ERROR(Trip(t, b, run_id, longer, "probe run " + std::to_string(run_id) + " failed", now_ms));
  } else {
    // Open, or half-open with another probe: this run was admitted before the breaker opened.
    RETURN_IF_ERROR(Save(t, b));
  }
  return b;
}

StatusOr<std::optional<CircuitBreaker>> GetBreaker(store::Transaction& t, const std::string& source) {
  std::optional<CircuitBreaker> out;
  RETURN_IF_ERROR(t.Query(std::string("SELECT ") + kColumns + " FROM circuit_breakers WHERE source = ?", {source},
                          [&](const store::Row& r) {
                            out = FromRow(r);
                            return OkStatus();
                          }));
  return out;
}

StatusOr<std::vector<CircuitBreaker>> ListBreakers(store::Transaction& t) {
  std::vector<CircuitBreaker> out;
  RETURN_IF_ERROR(t.Query(std::string("SELECT ") + kColumns + " FROM circuit_breakers ORDER BY source", {},
                          [&](const store::Row& r) {
                            out.push_back(FromRow(r));
                            return OkStatus();
                          }));
  return out;
}

}  // namespace nbaprops::engine
