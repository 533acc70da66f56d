#include "engine/scheduler.h"

#include <deque>
#include <optional>
#include <utility>

#include "base/log.h"
#include "base/time.h"
#include "engine/incidents.h"

namespace nbaprops::engine {
namespace {

std::string FormatMillis(int64_t ms) { return FormatIsoTimestamp(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000)); }

std::string CatchUpKey(const std::string& name) { return "schedule_catch_up:" + name; }
std::string FailedKey(const std::string& name) { return "schedule_failed:" + name; }
std::string MissedKey(const std::string& name) { return "schedule_missed:" + name; }

}  // namespace

Scheduler::Scheduler(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

Status Scheduler::Register(Schedule s) {
  if (s.name.empty()) return InvalidArgumentError("schedule name is empty; give each schedule a stable name");
  const std::string context = "schedule '" + s.name + "'";
  if (!s.action) return InvalidArgumentError(context + " has no action");
  if (s.catch_up < 0 || s.catch_up > kMaxCatchUp) {
    return InvalidArgumentError(context + " has catch_up " + std::to_string(s.catch_up) + "; it must be 0.." +
                                std::to_string(kMaxCatchUp));
  }
  StatusOr<CronSpec> spec = ParseCron(s.cron);
  if (!spec.ok()) return spec.status().WithContext(context);
  StatusOr<TimeZone> zone = TimeZone::Find(s.time_zone);
  if (!zone.ok()) return zone.status().WithContext(context);
  for (const Entry& e : entries_) {
    if (e.schedule.name == s.name) {
      return AlreadyExistsError(context + " is already registered on this scheduler; schedule names must be unique");
    }
  }
  const int64_t now = clock_.NowMillis();
  const std::string& zone_name = zone->name();
  // Keeping last_fire_at across restarts is what makes a restart neither re-fire nor lose a time.
  RETURN_IF_ERROR(store_
                      .WithWrite([&](store::Transaction& t) {
                        return t
                            .Exec(
                                "INSERT INTO schedules (name, cron, time_zone, last_fire_at, enabled) "
                                "VALUES (?, ?, ?, ?, 1) ON CONFLICT (name) DO UPDATE SET cron = excluded.cron, "
                                "time_zone = excluded.time_zone, "
                                "last_fire_at = COALESCE(schedules.last_fire_at, excluded.last_fire_at)",
                                {s.name, s.cron, zone_name, now})
                            .status();
                      })
                      .WithContext("registering " + context));
  entries_.push_back(Entry{std::move(s), std::move(spec).value(), *zone});
  return OkStatus();
}

StatusOr<Scheduler::TickResult> Scheduler::Tick() { return Tick(clock_.NowMillis()); }

StatusOr<Scheduler::TickResult> Scheduler::Tick(int64_t now) {
  TickResult result;
  for (const Entry& e : entries_) {
    StatusOr<FireOutcome> outcome = TickOne(e, now);
    if (outcome.ok()) {
      if (outcome->fired) result.fired.push_back(e.schedule.name);
      result.skipped_fires += outcome->skipped;
      continue;
    }
    // TickOne's transaction has rolled back, so last_fire_at is unchanged and the next Tick
    // retries. The incident needs its own transaction for the same reason.
    const std::string& name = e.schedule.name;
    result.failed.push_back(name);
    LogWarn("schedule '" + name + "': " + outcome.status().ToString());
    Status incident = store_.WithWrite([&](store::Transaction& t) {
      return OpenIncident(t, FailedKey(name), "warning",
                          "schedule '" + name + "' failed: " + outcome.status().ToString() +
                              "; it is retried on every tick until it succeeds",
                          "{\"code\":\"" + std::string(StatusCodeName(outcome.status().code())) + "\"}", now);
    });
    if (!incident.ok()) LogError("schedule '" + name + "': could not record the failure: " + incident.ToString());
  }
  return result;
}

StatusOr<Scheduler::FireOutcome> Scheduler::TickOne(const Entry& e, int64_t now) {
  const std::string& name = e.schedule.name;
  ASSIGN_OR_RETURN(auto txn, store_.Begin(store::TxnMode::kWrite));
  bool found = false, enabled = true;
  std::optional<int64_t> last_fire;
  RETURN_IF_ERROR(
      txn->Query("SELECT last_fire_at, enabled FROM schedules WHERE name = ?", {name}, [&](const store::Row& r) {
        found = true;
        last_fire = r.OptInt(0);
        enabled = r.Int(1) != 0;
        return OkStatus();
      }));
  if (!found || !last_fire) {
    // An operator deleted the row or cleared last_fire_at: start afresh as a new schedule does,
    // rather than firing for an unknown past.
    const std::string& zone_name = e.zone.name();
    RETURN_IF_ERROR(txn->Exec("INSERT INTO schedules (name, cron, time_zone, last_fire_at, last_checked_at, enabled) "
                              "VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT (name) DO UPDATE SET "
                              "last_fire_at = excluded.last_fire_at, last_checked_at = excluded.last_checked_at",
                              {name, e.schedule.cron, zone_name, now, now})
                        .status());
    RETURN_IF_ERROR(txn->Commit());
    return FireOutcome{};
  }

  const int64_t first_due = NextFireAfter(e.spec, e.zone, *last_fire);
  if (first_due > now) {
    RETURN_IF_ERROR(txn->Exec("UPDATE schedules SET last_checked_at = ? WHERE name = ?", {now, name}).status());
    RETURN_IF_ERROR(txn->Commit());
    return FireOutcome{};
  }
  // Coalesce: fire for the latest due time (and the catch_up before it), count the ones passed over.
  std::deque<int64_t> fire_times{first_due};
  int skipped = 0;
  for (int64_t t = NextFireAfter(e.spec, e.zone, first_due); t <= now; t = NextFireAfter(e.spec, e.zone, t)) {
    fire_times.push_back(t);
    if (fire_times.size() > static_cast<size_t>(e.schedule.catch_up) + 1) {
      fire_times.pop_front();
      ++skipped;
    }
  }
  const int64_t fire_time = fire_times.back();

  // Conditional on the value read: on a backend that does not serialize writers at BEGIN, a
  // scheduler that lost the race updates nothing and rolls back without firing.
  ASSIGN_OR_RETURN(int64_t claimed, txn->Exec("UPDATE schedules SET last_fire_at = ?, last_checked_at = ? "
                                              "WHERE name = ? AND last_fire_at = ?",
                                              {fire_time, now, name, *last_fire}));
  if (claimed != 1) return FireOutcome{};
  if (!enabled) {
    RETURN_IF_ERROR(txn->Commit());
    return FireOutcome{};
  }

  for (int64_t t : fire_times) {
    RETURN_IF_ERROR(e.schedule.action(*txn, t).WithContext("action for fire time " + FormatMillis(t)));
  }
  if (fire_times.size() > 1 || skipped > 0) {
    const size_t behind = fire_times.size() + static_cast<size_t>(skipped);
    const std::string fired = fire_times.size() == 1
                                  ? "fired once for " + FormatMillis(fire_time)
                                  : "fired for each of the latest " + std::to_string(fire_times.size()) + " (" +
                                        FormatMillis(fire_times.front()) + " to " + FormatMillis(fire_time) + ")";
    RETURN_IF_ERROR(OpenIncident(
        *txn, CatchUpKey(name), "warning",
        "schedule '" + name + "' was " + std::to_string(behind) + " fire times behind (first due " +
            FormatMillis(first_due) + "); " + fired + " and skipped " + std::to_string(skipped) +
            "; check why no scheduler ran",
        "{\"skipped\":" + std::to_string(skipped) + ",\"fired\":" + std::to_string(fire_times.size()) +
            ",\"first_due_ms\":" + std::to_string(first_due) + ",\"fired_for_ms\":" + std::to_string(fire_time) + "}",
        now));
  }
  RETURN_IF_ERROR(ResolveIncident(*txn, FailedKey(name), now));
  RETURN_IF_ERROR(txn->Commit());
  return FireOutcome{true, skipped};
}

Status Scheduler::CheckMissed(int64_t grace_ms) {
  const int64_t now = clock_.NowMillis();
  struct Row {
    std::string name, cron, time_zone;
    std::optional<int64_t> last_fire;
    bool enabled = true;
  };
  return store_.WithWrite([&](store::Transaction& t) -> Status {
    std::vector<Row> rows;
    RETURN_IF_ERROR(t.Query("SELECT name, cron, time_zone, last_fire_at, enabled FROM schedules ORDER BY name", {},
                            [&](const store::Row& r) {
                              rows.push_back(Row{r.Text(0), r.Text(1), r.Text(2), r.OptInt(3), r.Int(4) != 0});
                              return OkStatus();
                            }));
    for (const Row& row : rows) {
      const std::string key = MissedKey(row.name);
      // Disabled schedules are not expected to fire; NULL last_fire_at means no scheduler has
      // registered it yet, so there is no due time to miss.
      if (!row.enabled || !row.last_fire) {
        RETURN_IF_ERROR(ResolveIncident(t, key, now));
        continue;
      }
      StatusOr<CronSpec> spec = ParseCron(row.cron);
      StatusOr<TimeZone> zone = TimeZone::Find(row.time_zone);
      if (!spec.ok() || !zone.ok()) {
        const Status& bad = spec.ok() ? zone.status() : spec.status();
        RETURN_IF_ERROR(OpenIncident(t, key, "critical",
                                     "schedule '" + row.name + "' cannot be evaluated, so it never fires: " +
                                         bad.message() + "; fix the schedules row or the code that registers it",
                                     "{}", now));
        continue;
      }
      const int64_t due = NextFireAfter(*spec, *zone, *row.last_fire);
      if (due < now - grace_ms) {
        RETURN_IF_ERROR(OpenIncident(
            t, key, "critical",
            "schedule '" + row.name + "' did not fire at " + FormatMillis(due) + " (overdue by " +
                std::to_string((now - due) / 60'000) + " min); check that a scheduler process is running",
            "{\"due_ms\":" + std::to_string(due) + ",\"last_fire_ms\":" + std::to_string(*row.last_fire) + "}", now));
      } else {
        RETURN_IF_ERROR(ResolveIncident(t, key, now));
      }
    }
    return OkStatus();
  });
}

}  // namespace nbaprops::engine
