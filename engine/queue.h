// The work queue on top of the run ledger: claims with leases, heartbeats, the lease reaper,
// failure handling (retry / defer / dead letter) and the dead-letter list.
//
// A lease is valid while now < lease_expires_at and the run's lease_token is the one the worker
// holds. Claims are atomic: SQLite takes the write lock at BEGIN (BEGIN IMMEDIATE); the same
// statements work on PostgreSQL with FOR UPDATE SKIP LOCKED on the SELECT. At most one live
// (queued or running) run exists per (processor, partition): a unique partial index enforces it.
// Times in this file are Unix milliseconds (heartbeat_at, lease_expires_at, not_before).
#ifndef NBAPROPS_ENGINE_QUEUE_H_
#define NBAPROPS_ENGINE_QUEUE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/failure_policy.h"
#include "engine/ledger.h"
#include "store/store.h"

namespace nbaprops::engine {

struct ClaimedRun {
  RunRecord run;
  int64_t lease_token = 0;
  std::string worker_id;
};

struct FailureInfo {
  FailureCategory category = FailureCategory::kInternal;
  std::string message;
  int64_t records_in = 0, records_rejected = 0;
  std::string details;
  int64_t started_at_ms = 0;  // 0: take the ledger's started_at (second precision)
  // A deferral's retry waits at least until this time (ms) when set: the processor knows when
  // its upstream can be complete (e.g. after the last game of the day ends).
  int64_t defer_until_ms = 0;
  // The queue cannot run the processor again (it holds its input in the caller's memory, like the
  // import's store_payload): the run fails and nothing is queued; the caller owns the retry.
  bool caller_retries = false;
};

// The incident that stands for an open dead letter of (processor, partition).
inline std::string DeadLetterIncidentKey(const std::string& processor, const std::string& partition) {
  return "dead_letter:" + processor + ":" + partition;
}

struct DeadLetter {
  int64_t id = 0, run_id = 0;
  std::string processor, partition_key, data_date, category, error, input_ref, suggested_action, status;
  int64_t first_seen = 0, last_seen = 0, count = 0;
};

class Queue {
 public:
  // Claims the next runnable run (queued, not_before <= now), highest priority, oldest date, then
  // oldest run first. Empty when nothing is runnable.
  static StatusOr<std::optional<ClaimedRun>> ClaimNext(store::Store& store, const std::string& worker_id,
                                                       int64_t now_ms, int64_t lease_ms, int64_t token);
  // Claims up to max_runs runnable runs in that order, in one transaction, all under one lease
  // token (fencing is per run and token). Empty when nothing is runnable.
  static StatusOr<std::vector<ClaimedRun>> ClaimBatch(store::Store& store, const std::string& worker_id, int64_t now_ms,
                                                      int64_t lease_ms, int64_t token, int max_runs);
  // Claims one specific queued run inside the caller's transaction.
  static StatusOr<ClaimedRun> ClaimRun(store::Transaction& t, int64_t run_id, const std::string& worker_id,
                                       int64_t now_ms, int64_t lease_ms, int64_t token);
  // Extends the lease; false when the lease is lost (expired and reaped, or taken over).
  static StatusOr<bool> Heartbeat(store::Store& store, int64_t run_id, int64_t token, int64_t now_ms, int64_t lease_ms);
  // Extends the leases of several runs (run id -> token) in one transaction; returns how many
  // were still live, lost ones (expired, reaped or taken over) being left alone.
  static StatusOr<int64_t> Heartbeat(store::Store& store, const std::map<int64_t, int64_t>& leases, int64_t now_ms,
                                     int64_t lease_ms);
  // Fails every running run whose lease expired before now (never-heartbeated runs included), or
  // whose worker `gone` (when given) says no longer exists, with category lease_expired and
  // applies the retry policy, except to runs of processors for which `queueable` (when given)
  // says no: those only fail. Returns the reaped run ids.
  static StatusOr<std::vector<int64_t>> ReapExpired(
      store::Store& store, int64_t now_ms, const RetryPolicy& policy, double jitter01,
      const std::function<bool(const std::string& processor)>& queueable = nullptr,
      const std::function<bool(const std::string& worker_id)>& gone = nullptr);
  // Records a failed attempt of a running run and what follows it (a queued retry with
  // not_before, a deferred re-run, or a dead letter), all in the caller's transaction.
  static Status ApplyFailure(store::Transaction& t, const RunRecord& run, const FailureInfo& failure, int64_t now_ms,
                             const RetryPolicy& policy, double jitter01);

  static StatusOr<std::vector<DeadLetter>> ListDeadLetters(store::Transaction& t, const std::string& status);
  static StatusOr<std::optional<DeadLetter>> GetDeadLetter(store::Transaction& t, int64_t id);
  // Re-queues the dead letter's partition as attempt 1 (trigger manual); returns the new run id.
  static StatusOr<int64_t> RetryDeadLetter(store::Transaction& t, int64_t id, int64_t now_ms);
  static Status DiscardDeadLetter(store::Transaction& t, int64_t id, int64_t now_ms);
};

}  // namespace nbaprops::engine

#endif  // NBAPROPS_ENGINE_QUEUE_H_
