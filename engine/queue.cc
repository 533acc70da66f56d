#include "engine/queue.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "engine/incidents.h"

namespace nbaprops::engine {
namespace {

constexpr const char* kDeadLetterColumns =
    "id, run_id, processor, partition_key, COALESCE(data_date, ''), category, error, input_ref, suggested_action, "
    "status, first_seen, last_seen, count";

DeadLetter ReadDeadLetter(const store::Row& r) {
  return {r.Int(0),  r.Int(1),  r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6),
          r.Text(7), r.Text(8), r.Text(9), r.Int(10), r.Int(11), r.Int(12)};
}

// Gives runs to a worker under a lease; its parameters ?1..?5 are LeaseParams(), and the statement
// goes on with WHERE and RETURNING.
constexpr const char* kTakeLease =
    "UPDATE processor_runs SET status = 'running', worker_id = ?1, lease_token = ?2, heartbeat_at = ?3, "
    "lease_expires_at = ?4, started_at = ?5 ";

store::Params LeaseParams(const std::string& worker_id, int64_t token, int64_t now_ms, int64_t lease_ms) {
  return {worker_id, token, now_ms, now_ms + lease_ms, now_ms / 1000};
}

}  // namespace

StatusOr<ClaimedRun> Queue::ClaimRun(store::Transaction& t, int64_t run_id, const std::string& worker_id,
                                     int64_t now_ms, int64_t lease_ms, int64_t token) {
  std::optional<ClaimedRun> out;
  store::Params params = LeaseParams(worker_id, token, now_ms, lease_ms);
  params.emplace_back(run_id);
  RETURN_IF_ERROR(
      t.Query(std::string(kTakeLease) + "WHERE run_id = ?6 AND status = 'queued' RETURNING " + Ledger::kRunColumns,
              params, [&](const store::Row& r) {
                out = ClaimedRun{Ledger::ReadRun(r), token, worker_id};
                return OkStatus();
              }));
  if (!out)
    return AbortedError("run " + std::to_string(run_id) + " is not queued any more (claimed by another worker?)");
  RETURN_IF_ERROR(Ledger::Transition(t, run_id, "queued", "running", now_ms / 1000, "worker=" + worker_id));
  return *out;
}

StatusOr<std::optional<ClaimedRun>> Queue::ClaimNext(store::Store& store, const std::string& worker_id, int64_t now_ms,
                                                     int64_t lease_ms, int64_t token) {
  ASSIGN_OR_RETURN(auto runs, ClaimBatch(store, worker_id, now_ms, lease_ms, token, 1));
  if (runs.empty()) return std::optional<ClaimedRun>();
  return std::optional<ClaimedRun>(std::move(runs.front()));
}

StatusOr<std::vector<ClaimedRun>> Queue::ClaimBatch(store::Store& store, const std::string& worker_id, int64_t now_ms,
                                                    int64_t lease_ms, int64_t token, int max_runs) {
  // kClaim: on PostgreSQL claimers lock rows instead of taking the writer lock, and SKIP LOCKED
  // passes over a row another claimer holds. On SQLite this is an ordinary write transaction.
  // `picked` walks processor_runs_claim in order, skipping runs that wait for their not_before.
  // It must be MATERIALIZED: as a plain IN (subquery), PostgreSQL may run the subquery once per
  // candidate row and so claim more than LIMIT runs (seen: 7 for LIMIT 1). The UPDATE repeats no
  // condition on status: the rows picked are locked (or, on SQLite, the database is), and on a
  // queue table whose statistics lag behind, such a condition led PostgreSQL's planner to scan
  // every live run instead of looking the picked ones up by key (3 ms instead of 0.3 ms).
  const std::string sql =
      "WITH picked AS MATERIALIZED (SELECT run_id FROM processor_runs WHERE status = 'queued' AND "
      "(not_before IS NULL OR not_before <= ?6) ORDER BY priority DESC, data_date, run_id LIMIT ?7" +
      std::string(store.claim_lock_clause()) + ") " + kTakeLease +
      "WHERE run_id IN (SELECT run_id FROM picked) RETURNING " + Ledger::kRunColumns;
  store::Params params = LeaseParams(worker_id, token, now_ms, lease_ms);
  params.insert(params.end(), {now_ms, static_cast<int64_t>(std::max(max_runs, 1))});
  std::vector<ClaimedRun> out;
  ASSIGN_OR_RETURN(auto txn, store.Begin(store::TxnMode::kClaim));
  RETURN_IF_ERROR(txn->Query(sql, params, [&](const store::Row& r) {
    out.push_back({Ledger::ReadRun(r), token, worker_id});
    return OkStatus();
  }));
  if (out.empty()) return out;
  // RETURNING follows no ORDER BY: hand the runs out in claim order.
  std::sort(out.begin(), out.end(), [](const ClaimedRun& a, const ClaimedRun& b) {
    return std::tuple(-a.run.priority, a.run.data_date, a.run.run_id) <
           std::tuple(-b.run.priority, b.run.data_date, b.run.run_id);
  });
  std::vector<int64_t> ids;
  for (const ClaimedRun& c : out) ids.push_back(c.run.run_id);
  RETURN_IF_ERROR(Ledger::Transitions(*txn, ids, "queued", "running", now_ms / 1000, "worker=" + worker_id));
  RETURN_IF_ERROR(txn->Commit());
  return out;
}

StatusOr<bool> Queue::Heartbeat(store::Store& store, int64_t run_id, int64_t token, int64_t now_ms, int64_t lease_ms) {
  ASSIGN_OR_RETURN(int64_t n, Heartbeat(store, {{run_id, token}}, now_ms, lease_ms));
  return n == 1;
}

StatusOr<int64_t> Queue::Heartbeat(store::Store& store, const std::map<int64_t, int64_t>& leases, int64_t now_ms,
                                   int64_t lease_ms) {
  constexpr size_t kPerStatement = 100;
  int64_t extended = 0;
  RETURN_IF_ERROR(store.WithWrite([&](store::Transaction& t) -> Status {
    // Only a live lease can be extended: once expired it belongs to the reaper, even if the
    // reaper has not run yet, so a late heartbeat cannot resurrect it.
    auto it = leases.begin();
    while (it != leases.end()) {
      std::string sql =
          "UPDATE processor_runs SET heartbeat_at = ?, lease_expires_at = ? WHERE status = 'running' "
          "AND lease_expires_at > ? AND (";
      store::Params params{now_ms, now_ms + lease_ms, now_ms};
      for (size_t k = 0; k < kPerStatement && it != leases.end(); ++k, ++it) {
        sql += k ? " OR (run_id = ? AND lease_token = ?)" : "(run_id = ? AND lease_token = ?)";
        params.insert(params.end(), {it->first, it->second});
      }
      ASSIGN_OR_RETURN(int64_t n, t.Exec(sql + ")", params));
      extended += n;
    }
    return OkStatus();
  }));
  return extended;
}

StatusOr<std::vector<int64_t>> Queue::ReapExpired(store::Store& store, int64_t now_ms, const RetryPolicy& policy,
                                                  double jitter01,
                                                  const std::function<bool(const std::string&)>& queueable,
                                                  const std::function<bool(const std::string&)>& gone) {
  std::vector<int64_t> reaped;
  RETURN_IF_ERROR(store.WithWrite([&](store::Transaction& t) -> Status {
    // Running runs are few (one per worker thread), so the worker test is done here, not in SQL;
    // only the runs to reap are read whole.
    struct Candidate {
      int64_t run_id;
      bool expired;
      std::string worker_id;
    };
    std::vector<Candidate> running;
    RETURN_IF_ERROR(
        t.Query("SELECT run_id, lease_expires_at IS NULL OR lease_expires_at <= ?, COALESCE(worker_id, '') FROM "
                "processor_runs WHERE status = 'running' ORDER BY run_id",
                {now_ms}, [&](const store::Row& r) {
                  running.push_back({r.Int(0), r.Int(1) != 0, r.Text(2)});
                  return OkStatus();
                }));
    std::map<std::string, bool> worker_gone;  // one liveness test per worker
    for (const Candidate& c : running) {
      if (!c.expired) {
        if (!gone) continue;
        auto [it, fresh] = worker_gone.try_emplace(c.worker_id, false);
        if (fresh) it->second = gone(c.worker_id);
        if (!it->second) continue;
      }
      ASSIGN_OR_RETURN(auto run, Ledger::Get(t, c.run_id));
      FailureInfo f;
      f.category = FailureCategory::kLeaseExpired;
      f.message = c.expired ? "lease expired at " + std::to_string(run->lease_expires_at.value_or(0)) +
                                  " ms (worker '" + run->worker_id + "' stopped heartbeating: crashed, hung or cut off)"
                            : "worker '" + run->worker_id +
                                  "' is gone (its process no longer exists on this host); lease broken before it "
                                  "expired at " +
                                  std::to_string(run->lease_expires_at.value_or(0)) + " ms";
      f.caller_retries = queueable && !queueable(run->processor);
      RETURN_IF_ERROR(ApplyFailure(t, *run, f, now_ms, policy, jitter01));
      reaped.push_back(c.run_id);
    }
    return OkStatus();
  }));
  return reaped;
}

Status Queue::ApplyFailure(store::Transaction& t, const RunRecord& run, const FailureInfo& f, int64_t now_ms,
                           const RetryPolicy& policy, double jitter01) {
  const int64_t now = now_ms / 1000;
  ASSIGN_OR_RETURN(int64_t n,
                   t.Exec("UPDATE processor_runs SET status = 'failed', finished_at = ?, "
                          "duration_ms = ?, records_in = ?, records_out = 0, records_rejected = ?, "
                          "error_category = ?, error_message = ?, details = ? WHERE run_id = ? AND status = 'running'",
                          {now, now_ms - (f.started_at_ms ? f.started_at_ms : run.started_at.value_or(now) * 1000),
                           f.records_in, f.records_rejected, FailureCategoryName(f.category), f.message,
                           f.details.empty() ? store::Param() : store::Param(f.details), run.run_id}));
  if (n == 0) return OkStatus();  // already finished by someone else (e.g. reaped)
  RETURN_IF_ERROR(
      Ledger::Transition(t, run.run_id, "running", "failed", now, std::string(FailureCategoryName(f.category))));
  if (f.caller_retries) return OkStatus();

  const int64_t deferred_since = run.deferred_since.value_or(now_ms);
  FailureDecision d = DecideOnFailure(f.category, run.attempt, policy, jitter01, now_ms - deferred_since);
  if (d.action == FailureAction::kDefer) {
    RETURN_IF_ERROR(t.Exec("UPDATE processor_runs SET status = 'deferred' WHERE run_id = ?", {run.run_id}).status());
    RETURN_IF_ERROR(Ledger::Transition(t, run.run_id, "failed", "deferred", now, "upstream incomplete"));
    // A deferral is not an attempt: the next run keeps the attempt number and the deferral clock.
    RunStart next{run.processor, run.phase,    run.partition_key,
                  run.data_date, "retry",      run.run_id,
                  run.attempt,   run.priority, std::max(now_ms + d.delay_ms, f.defer_until_ms)};
    ASSIGN_OR_RETURN(int64_t next_id, Ledger::Enqueue(t, next, now));
    return t
        .Exec("UPDATE processor_runs SET deferred_since = ? WHERE run_id = ? AND status = 'queued'",
              {deferred_since, next_id})
        .status();
  }
  if (d.action == FailureAction::kRetry) {
    RunStart next{run.processor, run.phase,       run.partition_key, run.data_date,      "retry",
                  run.run_id,    run.attempt + 1, run.priority,      now_ms + d.delay_ms};
    return Ledger::Enqueue(t, next, now).status();
  }
  RETURN_IF_ERROR(t.Exec("UPDATE processor_runs SET status = 'dead' WHERE run_id = ?", {run.run_id}).status());
  RETURN_IF_ERROR(Ledger::Transition(t, run.run_id, "failed", "dead", now, "no retry: " + d.suggested_action));
  // A dead letter is never silent: it is an incident until the partition succeeds or is discarded.
  const std::string key = DeadLetterIncidentKey(run.processor, run.partition_key);
  RETURN_IF_ERROR(OpenIncident(t, key, "warning",
                               run.processor + " for " + run.partition_key + " is dead-lettered (" +
                                   std::string(FailureCategoryName(f.category)) + "): " + f.message.substr(0, 300) +
                                   "; " + d.suggested_action,
                               "{}", now_ms));
  RETURN_IF_ERROR(LinkIncidentRuns(t, key, {run.run_id}));
  return t
      .Exec(
          "INSERT INTO dead_letters (run_id, processor, partition_key, data_date, category, error, input_ref, "
          "suggested_action, status, first_seen, last_seen, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, 1) "
          "ON CONFLICT (processor, partition_key) WHERE status = 'open' DO UPDATE SET run_id = excluded.run_id, "
          "category = excluded.category, error = excluded.error, suggested_action = excluded.suggested_action, "
          "last_seen = excluded.last_seen, count = dead_letters.count + 1",
          {run.run_id, run.processor, run.partition_key,
           run.data_date.empty() ? store::Param() : store::Param(run.data_date), FailureCategoryName(f.category),
           f.message, run.processor + "/" + run.partition_key, d.suggested_action, now, now})
      .status();
}

StatusOr<std::vector<DeadLetter>> Queue::ListDeadLetters(store::Transaction& t, const std::string& status) {
  std::vector<DeadLetter> out;
  RETURN_IF_ERROR(t.Query(std::string("SELECT ") + kDeadLetterColumns +
                              " FROM dead_letters WHERE (? = 'all' OR status = ?) ORDER BY id DESC",
                          {status, status}, [&](const store::Row& r) {
                            out.push_back(ReadDeadLetter(r));
                            return OkStatus();
                          }));
  return out;
}

StatusOr<std::optional<DeadLetter>> Queue::GetDeadLetter(store::Transaction& t, int64_t id) {
  std::optional<DeadLetter> out;
  RETURN_IF_ERROR(t.Query(std::string("SELECT ") + kDeadLetterColumns + " FROM dead_letters WHERE id = ?", {id},
                          [&](const store::Row& r) {
                            out = ReadDeadLetter(r);
                            return OkStatus();
                          }));
  return out;
}

StatusOr<int64_t> Queue::RetryDeadLetter(store::Transaction& t, int64_t id, int64_t now_ms) {
  ASSIGN_OR_RETURN(auto dl, GetDeadLetter(t, id));
  if (!dl) return NotFoundError("no dead letter " + std::to_string(id) + "; see `nbaprops dlq list`");
  if (dl->status != "open")
    return FailedPreconditionError("dead letter " + std::to_string(id) + " is already " + dl->status);
  ASSIGN_OR_RETURN(auto run, Ledger::Get(t, dl->run_id));
  RETURN_IF_ERROR(
      t.Exec("UPDATE dead_letters SET status = 'retried', last_seen = ? WHERE id = ?", {now_ms / 1000, id}).status());
  RunStart again{dl->processor, run ? run->phase : 0, dl->partition_key, dl->data_date, "manual", dl->run_id, 1, 0,
                 std::nullopt};
  return Ledger::Enqueue(t, again, now_ms / 1000);
}

Status Queue::DiscardDeadLetter(store::Transaction& t, int64_t id, int64_t now_ms) {
  ASSIGN_OR_RETURN(auto dl, GetDeadLetter(t, id));
  if (!dl) return NotFoundError("no dead letter " + std::to_string(id) + "; see `nbaprops dlq list`");
  if (dl->status != "open")
    return FailedPreconditionError("dead letter " + std::to_string(id) + " is already " + dl->status);
  RETURN_IF_ERROR(ResolveIncident(t, DeadLetterIncidentKey(dl->processor, dl->partition_key), now_ms));
  return t.Exec("UPDATE dead_letters SET status = 'discarded', last_seen = ? WHERE id = ?", {now_ms / 1000, id})
      .status();
}

}  // namespace nbaprops::engine
