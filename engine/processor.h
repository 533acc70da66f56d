// Processor: one unit of work of the pipeline, run for one partition (usually a game date).
//
// Contract: Run() must be idempotent. It replaces its whole output partition inside
// RunContext::CommitOutput, which also marks the run succeeded in the same transaction, so a
// retry never duplicates rows and a crash never leaves half a partition or a "succeeded" run
// without its rows. The engine knows nothing about basketball; processors live in pipeline/.
#ifndef NBAPROPS_ENGINE_PROCESSOR_H_
#define NBAPROPS_ENGINE_PROCESSOR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "store/store.h"

namespace nbaprops::engine {

// Why a run failed; decides retry vs dead letter (see failure.h).
enum class FailureCategory {
  kNone,
  kSourceUnavailable,
  kRateLimited,
  kTimeout,
  kLeaseExpired,
  kUpstreamIncomplete,
  kIncompleteOutput,
  kBadInput,
  kSchemaMismatch,
  kConfigError,
  kInternal,
};

std::string_view FailureCategoryName(FailureCategory c);
// The one mapping from a Status to a category. Processors pick the Status code with this in mind.
FailureCategory CategorizeFailure(const Status& status);

class RunContext;
class CommitGroup;

class Processor {
 public:
  virtual ~Processor() = default;
  virtual std::string name() const = 0;
  virtual int phase() const = 0;
  // Upstream processors whose output for the same partition this one reads.
  virtual std::vector<std::string> inputs() const { return {}; }
  virtual std::vector<std::string> output_tables() const = 0;
  // External sources this processor calls; a run is admitted only while each source's breaker
  // admits it (engine/breaker.h). Its source_unavailable, rate_limited and timeout failures
  // count against every one of them, and its success closes them.
  virtual std::vector<std::string> sources() const { return {}; }
  // True when the writes of this processor's CommitOutput touch only rows of its own partition
  // (plus rows no other run writes), never reading another partition's rows to decide what to
  // write. Its commits may then run side by side with other runs' commits on PostgreSQL
  // (store::TxnMode::kRunCommit) instead of one at a time. Runs with sources() always commit
  // one at a time (their breakers are read and written).
  virtual bool partition_local_commits() const { return false; }
  // True when the runner may run several partitions of this processor as one range run
  // (Runner::ExecuteRange): its Run for one partition reads nothing it writes for another, calls
  // no external source, writes only through CommitOutput, and the `write` it passes owns what it
  // uses (it may run after Run returned; the RunContext and the processor are still there).
  virtual bool range_runs() const { return false; }
  virtual Status Run(RunContext& ctx) = 0;
};

// What a running processor sees: its partition, the store, the clock, and counters it fills.
class RunContext {
 public:
  RunContext(store::Store& store, const Clock& clock, int64_t run_id, std::string partition_key,
             std::string data_date)
      : store_(store), clock_(clock), run_id_(run_id), partition_key_(std::move(partition_key)),
        data_date_(std::move(data_date)) {}

  store::Store& store() { return store_; }
  const Clock& clock() const { return clock_; }
  int64_t run_id() const { return run_id_; }
  const std::string& partition_key() const { return partition_key_; }
  const std::string& data_date() const { return data_date_; }

  int64_t records_in = 0;
  int64_t records_out = 0;
  int64_t records_rejected = 0;
  // Rows the processor must write for the partition to count as complete; fewer fails the run
  // with kIncompleteOutput and nothing is committed. Set before CommitOutput.
  int64_t expected_min_rows = 0;
  std::string details;  // short JSON object with processor-specific facts, kept on the ledger
  int64_t started_at_ms = 0;  // set by the runner; for duration_ms on the ledger
  int64_t lease_token = 0;    // the lease this attempt holds; CommitOutput is fenced on it
  bool concurrent_commit = false;  // set by the runner: commit in kRunCommit mode
  // Set by the runner for a concurrent commit: commit through this group (engine/commit_group.h),
  // possibly in one transaction with other runs' commits.
  CommitGroup* commit_group = nullptr;
  // Runs inside CommitOutput's transaction after the run is marked succeeded: the runner
  // enqueues downstream runs here, so a success and its triggers commit together.
  std::function<Status(store::Transaction&)> on_success;
  // For an upstream_incomplete failure: do not retry before this time (ms since the epoch).
  int64_t defer_until_ms = 0;
  // Set when the failure category is not the one CategorizeFailure would derive from the Status.
  FailureCategory category_override = FailureCategory::kNone;

  // Runs `write` in one write transaction together with marking this run succeeded. `write`
  // must set records_out. Fails (and commits nothing) when records_out < expected_min_rows or
  // when the run is no longer ours: its state is not `running` or its lease token changed
  // (fencing: a worker that lost its lease cannot commit).
  // In a range run (keep_commit set by the runner) it only keeps `write` and returns OK; the
  // runner then commits every partition of the range in one transaction through CommitKept.
  Status CommitOutput(std::function<Status(store::Transaction&)> write);
  bool committed() const { return committed_; }

  bool keep_commit = false;
  int64_t kept_at_ms = 0;  // when CommitOutput kept the write: the run's duration ends there
  bool has_kept_commit() const { return static_cast<bool>(kept_write_); }
  // The kept write, its row check, the success mark and on_success, in the caller's transaction.
  Status CommitKept(store::Transaction& t);

 private:
  Status CommitBody(store::Transaction& t, const std::function<Status(store::Transaction&)>& write);

  store::Store& store_;
  const Clock& clock_;
  int64_t run_id_;
  std::string partition_key_;
  std::string data_date_;
  bool committed_ = false;
  std::function<Status(store::Transaction&)> kept_write_;
};

}  // namespace nbaprops::engine

#endif  // NBAPROPS_ENGINE_PROCESSOR_H_
