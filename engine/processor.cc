#include "engine/processor.h"

#include <tuple>

#include "engine/commit_group.h"
#include "engine/ledger.h"

namespace nbaprops::engine {

std::string_view FailureCategoryName(FailureCategory c) {
  switch (c) {
    case FailureCategory::kNone: return "";
    case FailureCategory::kSourceUnavailable: return "source_unavailable";
    case FailureCategory::kRateLimited: return "rate_limited";
    case FailureCategory::kTimeout: return "timeout";
    case FailureCategory::kLeaseExpired: return "lease_expired";
    case FailureCategory::kUpstreamIncomplete: return "upstream_incomplete";
    case FailureCategory::kIncompleteOutput: return "incomplete_output";
    case FailureCategory::kBadInput: return "bad_input";
    case FailureCategory::kSchemaMismatch: return "schema_mismatch";
    case FailureCategory::kConfigError: return "config_error";
    case FailureCategory::kInternal: return "internal";
  }
  return "internal";
}

FailureCategory CategorizeFailure(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk: return FailureCategory::kNone;
    case StatusCode::kUnavailable: return FailureCategory::kSourceUnavailable;
    case StatusCode::kDeadlineExceeded: return FailureCategory::kTimeout;
    case StatusCode::kAborted: return FailureCategory::kLeaseExpired;
    case StatusCode::kFailedPrecondition: return FailureCategory::kUpstreamIncomplete;
    case StatusCode::kInvalidArgument: return FailureCategory::kBadInput;
    case StatusCode::kDataLoss: return FailureCategory::kSchemaMismatch;
    default: return FailureCategory::kInternal;
  }
}

Status RunContext::CommitBody(store::Transaction& t, const std::function<Status(store::Transaction&)>& write) {
  // The lease is checked where the run is marked succeeded (Ledger::Succeed), in this same
  // transaction: a run that lost it rolls back its output with it.
  RETURN_IF_ERROR(write(t));
  if (records_out < expected_min_rows) {
    category_override = FailureCategory::kIncompleteOutput;
    return Status(StatusCode::kFailedPrecondition,
                  "wrote " + std::to_string(records_out) + " rows, expected at least " + std::to_string(expected_min_rows));
  }
  RETURN_IF_ERROR(Ledger::Succeed(t, run_id_, *this, clock_.NowMillis()));
  if (on_success) RETURN_IF_ERROR(on_success(t));
  return OkStatus();
}

Status RunContext::CommitOutput(std::function<Status(store::Transaction&)> write) {
  if (keep_commit) {
    kept_write_ = std::move(write);
    kept_at_ms = clock_.NowMillis();
    return OkStatus();
  }
  auto body = [&](store::Transaction& t) { return CommitBody(t, write); };
  Status s;
  if (commit_group) {
    // The body may run twice (see CommitGroup): the second time starts from the same counters.
    auto counters = [this] { return std::tie(records_in, records_out, records_rejected, details, category_override); };
    const std::tuple<int64_t, int64_t, int64_t, std::string, FailureCategory> before = counters();
    s = commit_group->Commit(body, [&] { counters() = before; }, partition_key_);
  } else {
    s = store_.With(concurrent_commit ? store::TxnMode::kRunCommit : store::TxnMode::kWrite, body);
  }
  if (!s.ok()) {
    // Whatever failed, a run that is no longer its worker's says so: its lease is the reason.
    Status lease = Ledger::CheckLease(store_, run_id_, lease_token);
    return lease.code() == StatusCode::kAborted ? lease : s;
  }
  committed_ = true;
  return OkStatus();
}

Status RunContext::CommitKept(store::Transaction& t) {
  if (!kept_write_) return InternalError("run " + std::to_string(run_id_) + " kept no output to commit");
  RETURN_IF_ERROR(CommitBody(t, kept_write_));
  committed_ = true;  // provisional: the caller's transaction may still roll back
  return OkStatus();
}

}  // namespace nbaprops::engine
