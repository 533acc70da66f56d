#include "store/fault_store.h"

#include <utility>

namespace nbaprops::store {
namespace {

class FaultStatement final : public Statement {
 public:
  FaultStatement(FaultStore& store, Transaction& txn, std::unique_ptr<Statement> inner)
      : store_(store), txn_(txn), inner_(std::move(inner)) {}
  StatusOr<int64_t> Exec(const Params& params) override {
    RETURN_IF_ERROR(store_.Next(false, "executing a prepared statement", &txn_));
    return inner_->Exec(params);
  }
  Status ExecLater(const Params& params) override {
    RETURN_IF_ERROR(store_.Next(false, "executing a prepared statement", &txn_));
    return inner_->ExecLater(params);
  }

 private:
  FaultStore& store_;
  Transaction& txn_;
  std::unique_ptr<Statement> inner_;
};

class FaultTransaction final : public Transaction {
 public:
  FaultTransaction(FaultStore& store, std::unique_ptr<Transaction> inner) : store_(store), inner_(std::move(inner)) {}

  StatusOr<int64_t> Exec(std::string_view sql, const Params& params) override {
    RETURN_IF_ERROR(store_.Next(false, Describe(sql), inner_.get()));
    return inner_->Exec(sql, params);
  }
  Status ExecLater(std::string_view sql, const Params& params) override {
    RETURN_IF_ERROR(store_.Next(false, Describe(sql), inner_.get()));
    return inner_->ExecLater(sql, params);
  }
  Status Query(std::string_view sql, const Params& params, const RowFn& fn) override {
    RETURN_IF_ERROR(store_.Next(false, Describe(sql), inner_.get()));
    return inner_->Query(sql, params, fn);
  }
  StatusOr<std::unique_ptr<Statement>> Prepare(std::string_view sql) override {
    ASSIGN_OR_RETURN(auto st, inner_->Prepare(sql));
    return std::unique_ptr<Statement>(new FaultStatement(store_, *inner_, std::move(st)));
  }
  StatusOr<int64_t> LastInsertId() override { return inner_->LastInsertId(); }
  Status Commit() override {
    // A failed commit leaves the inner transaction uncommitted: its destructor rolls it back.
    RETURN_IF_ERROR(store_.Next(true, "commit", inner_.get()));
    return inner_->Commit();
  }
  Status LockKey(std::string_view key) override {
    RETURN_IF_ERROR(store_.Next(false, "locking a key", inner_.get()));
    return inner_->LockKey(key);
  }

 private:
  static std::string Describe(std::string_view sql) {
    return "executing " + std::string(sql.substr(0, 60)) + (sql.size() > 60 ? "..." : "");
  }
  FaultStore& store_;
  std::unique_ptr<Transaction> inner_;
};

}  // namespace

std::string_view FaultName(Fault f) {
  switch (f) {
    case Fault::kIoError: return "io_error";
    case Fault::kDiskFull: return "disk_full";
    case Fault::kBusy: return "busy";
    case Fault::kDropConnection: return "drop_connection";
  }
  return "?";
}

void FaultStore::Arm(const FaultPlan& plan) {
  std::lock_guard<std::mutex> lock(mu_);
  plan_ = plan;
  statements_ = 0;
  commits_ = 0;
  injected_ = 0;
}

Status FaultStore::Next(bool is_commit, std::string_view what, Transaction* inner) {
  FaultPlan plan;
  int64_t statement = 0, commit = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    plan = plan_;
    statement = ++statements_;
    if (is_commit) commit = ++commits_;
  }
  bool fail = false;
  switch (plan.when) {
    case FaultPlan::When::kNever: break;
    case FaultPlan::When::kNthStatement: fail = statement == plan.n; break;
    case FaultPlan::When::kNthCommit: fail = is_commit && commit == plan.n; break;
    case FaultPlan::When::kFromNthStatement: fail = statement >= plan.n; break;
  }
  if (!fail) return OkStatus();
  ++injected_;
  if (plan.fault == Fault::kDropConnection && inner != nullptr && inner_.backend() == "postgresql") {
    // The connection really goes: the server ends this backend, and the backend store sees the
    // error PostgreSQL sends (57P01) and marks the connection broken.
    auto dropped = inner->Exec("SELECT pg_terminate_backend(pg_backend_pid())");
    if (!dropped.ok()) return dropped.status();
    return UnavailableError(std::string(what) + ": the connection to PostgreSQL was dropped (fault injection)");
  }
  // The messages SQLite gives, with the code its backend maps them to (sqlite_store.cc).
  switch (plan.fault) {
    case Fault::kDiskFull: return UnavailableError(std::string(what) + ": database or disk is full");
    case Fault::kBusy: return UnavailableError(std::string(what) + ": database is locked (database is busy; retry)");
    case Fault::kIoError:
    case Fault::kDropConnection: break;
  }
  return UnavailableError(std::string(what) + ": disk I/O error");
}

StatusOr<std::unique_ptr<Transaction>> FaultStore::Begin(TxnMode mode) {
  FaultPlan plan;
  {
    std::lock_guard<std::mutex> lock(mu_);
    plan = plan_;
  }
  if (plan.fault == Fault::kDropConnection && inner_.backend() == "postgresql") {
    // The drop needs a connection to drop: begin, then let Next end it.
    ASSIGN_OR_RETURN(auto inner, inner_.Begin(mode));
    RETURN_IF_ERROR(Next(false, "BEGIN", inner.get()));
    return std::unique_ptr<Transaction>(new FaultTransaction(*this, std::move(inner)));
  }
  RETURN_IF_ERROR(Next(false, "BEGIN", nullptr));
  ASSIGN_OR_RETURN(auto inner, inner_.Begin(mode));
  return std::unique_ptr<Transaction>(new FaultTransaction(*this, std::move(inner)));
}

}  // namespace nbaprops::store
