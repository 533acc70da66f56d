// The run ledger: one row per attempt of (processor, partition) in processor_runs, and one row
// per state change in run_transitions (history, never overwritten).
//
// States: queued -> running -> succeeded | failed | skipped | deferred; dead once retries are
// spent. Every change names a trigger (schedule, upstream, retry, self_heal, manual, backfill,
// import) and, when one run caused another, the causing run id. A failed attempt stays failed;
// its retry is a new row (attempt + 1, trigger retry, caused_by = the failed run).
// Units: queued_at, started_at, finished_at are Unix seconds; heartbeat_at, lease_expires_at and
// not_before are Unix milliseconds (leases need sub-second precision).
#ifndef NBAPROPS_ENGINE_LEDGER_H_
#define NBAPROPS_ENGINE_LEDGER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/processor.h"
#include "store/store.h"

namespace nbaprops::engine {

struct RunRecord {
  int64_t run_id = 0;
  std::string processor;
  int phase = 0;
  std::string partition_key;
  std::string data_date;
  std::string status;
  int attempt = 1;
  std::string trigger;
  std::optional<int64_t> caused_by_run_id;
  int64_t queued_at = 0;
  std::optional<int64_t> started_at, finished_at, duration_ms;
  std::optional<int64_t> records_in, records_out, records_rejected;
  std::string error_category;
  std::string error_message;
  std::string details;
  std::string worker_id;
  std::optional<int64_t> lease_token, lease_expires_at, not_before;
  int priority = 0;
  std::optional<int64_t> deferred_since;  // ms: when this partition's current run of deferrals began
};

struct RunFilter {
  std::string status;     // empty: any
  std::string processor;  // empty: any
  std::string data_date;  // empty: any
  int limit = 100;
};

struct RunStart {
  std::string processor;
  int phase = 0;
  std::string partition_key;
  std::string data_date;  // empty when the partition is not a date
  std::string trigger = "manual";
  std::optional<int64_t> caused_by_run_id;
  int attempt = 1;
  int priority = 0;
  std::optional<int64_t> not_before_ms;
};

class Ledger {
 public:
  // The columns ReadRun reads, in its order, for `SELECT` and `RETURNING` lists.
  static const char* const kRunColumns;
  static RunRecord ReadRun(const store::Row& row);

  // Inserts a run in state `queued`, unless a live (queued/running) run of the partition exists;
  // returns the live or new run id. `now` in seconds.
  static StatusOr<int64_t> Enqueue(store::Transaction& t, const RunStart& start, int64_t now);
  // Marks a running run succeeded, fenced on ctx.lease_token. Its statements are deferred
  // (Transaction::ExecLater), so a commit costs no extra round trip: when the run is no longer
  // running under that lease (reaped, or taken over), the transaction fails at its next statement
  // or at COMMIT with a constraint error, and nothing of it is kept; CheckLease then says why.
  // Only in a kWrite or kRunCommit transaction: the fence reads the run before updating it, which
  // is safe because every change to a running run's row (claim aside, which changes only queued
  // rows) is made under the writer lock, which such a transaction holds from its first statement.
  static Status Succeed(store::Transaction& t, int64_t run_id, const RunContext& ctx, int64_t now_ms);
  // kAborted ("run N lost its lease ...; its output is discarded") unless the run is still running
  // under `token`: what a failed commit reports when the run was no longer its worker's.
  static Status CheckLease(store::Store& store, int64_t run_id, int64_t token);
  static Status Transition(store::Transaction& t, int64_t run_id, const std::string& from, const std::string& to,
                           int64_t now, const std::string& reason);
  // The same transition of several runs, in one statement.
  static Status Transitions(store::Transaction& t, const std::vector<int64_t>& run_ids, const std::string& from,
                            const std::string& to, int64_t now, const std::string& reason);

  static StatusOr<std::vector<RunRecord>> List(store::Transaction& t, const RunFilter& filter);
  static StatusOr<std::optional<RunRecord>> Get(store::Transaction& t, int64_t run_id);
  // The latest run of each (processor, partition) for a date.
  static StatusOr<std::vector<RunRecord>> LatestForDate(store::Transaction& t, const std::string& data_date);
  static StatusOr<std::optional<RunRecord>> Latest(store::Transaction& t, const std::string& processor,
                                                   const std::string& partition_key);
  // The partitions among `partitions` that no run of `processor` has succeeded for, i.e. whose
  // output does not exist (a failed run never replaces output): for processors that read
  // earlier partitions of their input.
  static StatusOr<std::vector<std::string>> NotSucceeded(store::Transaction& t, const std::string& processor,
                                                         const std::vector<std::string>& partitions);
  // Which output each partition of `processor` in [from, before) holds, ascending by partition:
  // one per partition with a succeeded run. Every success rewrites the partition and adds to
  // `succeeded`, so equal versions mean the output has not been rewritten since: for readers
  // that keep what they read of earlier partitions from one run to the next.
  struct OutputVersion {
    std::string partition;
    int64_t succeeded = 0, last_run_id = 0;
    bool operator==(const OutputVersion&) const = default;
  };
  static StatusOr<std::vector<OutputVersion>> OutputVersions(store::Transaction& t, const std::string& processor,
                                                             const std::string& from, const std::string& before);
};

}  // namespace nbaprops::engine

#endif  // NBAPROPS_ENGINE_LEDGER_H_
