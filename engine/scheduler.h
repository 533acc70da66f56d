// Scheduler: fires named actions on cron specs in a named time zone, exactly once per due time
// across crashes, restarts and several scheduler processes sharing one database.
//
// State lives in the schedules table: last_fire_at is the latest scheduled fire time that has
// been handled (fired, coalesced into a catch-up, or passed over while disabled). A schedule is
// due when NextFireAfter(last_fire_at) <= now. Firing runs the action and advances last_fire_at
// in one write transaction, and the advance is conditional on last_fire_at still holding the
// value read, so two schedulers (or a restarted one) can never both fire the same time, and a
// crash before commit leaves the time due for the next Tick.
//
// After downtime, all missed times are coalesced into one fire for the latest due time, or, for
// a schedule with catch_up = N, one fire for each of the latest N + 1 due times, oldest first
// (for actions whose fire time names a different piece of work each time, such as a date's
// report, where the latest alone would leave the others never done). The number passed over is
// recorded in the incident "schedule_catch_up:<name>" (warning), which stays open until someone
// resolves it. A failing action rolls back its transaction (so it is
// retried on the next Tick) and opens "schedule_failed:<name>" (warning), resolved by the next
// successful fire. CheckMissed, run by another process, raises "schedule_missed:<name>"
// (critical) when a schedule is overdue by more than a grace period, e.g. because no scheduler
// is running at all.
//
// Disabled schedules (enabled = 0, set by an operator) do not fire; Tick marks their due times
// handled, so re-enabling resumes at the next time instead of firing a catch-up.
//
// Thread-safety: Register and Tick need external synchronization (one thread drives a
// Scheduler). CheckMissed only reads the database and writes incidents; any thread or process
// may call it.
#ifndef NBAPROPS_ENGINE_SCHEDULER_H_
#define NBAPROPS_ENGINE_SCHEDULER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "engine/cron.h"
#include "store/store.h"

namespace nbaprops::engine {

class Scheduler {
 public:
  // The action fires inside the same write transaction that records the fire, so a crash never
  // double-fires nor loses one. It must do its work through the given transaction (typically:
  // enqueue runs) and must not begin another write transaction: on SQLite that waits forever
  // for the write lock this transaction holds. It holds the write lock, so keep it short.
  using Action = std::function<Status(store::Transaction&, int64_t fire_time_ms)>;
  struct Schedule {
    std::string name, cron, time_zone;
    Action action;
    int catch_up = 0;  // after downtime, also fire for up to this many missed times before the latest
  };

  Scheduler(store::Store& store, const Clock& clock);

  // Validates the cron spec and time zone (kInvalidArgument naming the schedule) and upserts
  // the schedules row: cron and time zone are updated, last_fire_at and enabled are kept. A new
  // schedule starts with last_fire_at = now, so it never fires for times before it existed.
  // Registering the same name twice on one Scheduler is kAlreadyExists.
  Status Register(Schedule s);

  struct TickResult {
    std::vector<std::string> fired;
    int skipped_fires = 0;            // due times coalesced into catch-up fires, over all schedules
    std::vector<std::string> failed;  // action or store failed; retried on the next Tick
  };
  // Fires each due schedule at most once. Idempotent: a second Tick at the same time fires
  // nothing. One schedule's failure does not stop the others; it is reported in `failed` and as
  // an incident, not as the returned status. `now_ms`: as if the clock read that (a replay's last
  // tick fires what was due by its end, however late the tick itself came).
  StatusOr<TickResult> Tick();
  StatusOr<TickResult> Tick(int64_t now_ms);

  // Missed-fire detector for OTHER processes to run (doctor, status, a second scheduler). Reads
  // every enabled schedule in the table (registered here or not): one whose next fire after
  // last_fire_at is older than now - grace_ms opens or bumps "schedule_missed:<name>"
  // (critical); one that is no longer overdue has that incident resolved.
  Status CheckMissed(int64_t grace_ms);

 private:
  struct Entry {
    Schedule schedule;
    CronSpec spec;
    TimeZone zone;
  };
  // Outcome of one schedule in one Tick.
  struct FireOutcome {
    bool fired = false;
    int skipped = 0;
  };
  // Limits on catch_up: enough for a week of a daily schedule at several times a day.
  static constexpr int kMaxCatchUp = 64;

  StatusOr<FireOutcome> TickOne(const Entry& e, int64_t now_ms);

  store::Store& store_;
  const Clock& clock_;
  std::vector<Entry> entries_;  // registration order, which is also firing order within a Tick
};

}  // namespace nbaprops::engine

#endif  // NBAPROPS_ENGINE_SCHEDULER_H_
