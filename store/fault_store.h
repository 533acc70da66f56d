// FaultStore: a Store that forwards everything to another Store and fails on cue, for fault
// injection tests (in the spirit of leveldb's FaultInjectionTestEnv and SQLite's I/O-error tests).
//
// Every round trip counts as one statement: Begin, Exec, ExecLater, Query, a prepared
// statement's Exec/ExecLater, LockKey and Commit (commits are also counted on their own). Armed
// with a plan, the store fails the Nth statement, the Nth commit, or every statement from the Nth
// on, with the Status the real backend returns for that fault:
//   kIoError, kDiskFull, kBusy  as SQLite's SQLITE_IOERR, SQLITE_FULL and SQLITE_BUSY map them
//                               (kUnavailable, with SQLite's own message);
//   kDropConnection             on PostgreSQL, the connection is really dropped
//                               (pg_terminate_backend on its own backend), so the backend's own
//                               error path and reconnect run; elsewhere it behaves as kIoError.
// A failed statement is not executed; a failed commit rolls its transaction back. Counting is
// exact when one thread uses the store (the fault sweeps run the chain on one thread).
#ifndef NBAPROPS_STORE_FAULT_STORE_H_
#define NBAPROPS_STORE_FAULT_STORE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "store/store.h"

namespace nbaprops::store {

enum class Fault { kIoError, kDiskFull, kBusy, kDropConnection };
std::string_view FaultName(Fault f);

struct FaultPlan {
  enum class When {
    kNever,
    kNthStatement,     // only statement number n (1-based, counted from Arm) fails
    kNthCommit,        // only commit number n fails
    kFromNthStatement  // statement n and every one after it fail (a disk that stays full)
  };
  When when = When::kNever;
  int64_t n = 0;
  Fault fault = Fault::kIoError;
};

class FaultStore final : public Store {
 public:
  explicit FaultStore(Store& inner) : inner_(inner) {}

  // Resets the counters and starts the plan.
  void Arm(const FaultPlan& plan);
  void Disarm() { Arm(FaultPlan{}); }

  int64_t statements() const { return statements_.load(); }
  int64_t commits() const { return commits_.load(); }
  int64_t injected() const { return injected_.load(); }

  StatusOr<std::unique_ptr<Transaction>> Begin(TxnMode mode) override;
  std::string backend() const override { return inner_.backend(); }
  std::string description() const override { return inner_.description(); }
  std::string_view claim_lock_clause() const override { return inner_.claim_lock_clause(); }

  // For the wrappers in fault_store.cc: counts one statement (and commit) and returns the fault
  // to inject for it, if any. `inner` is the transaction it belongs to (nullptr for Begin).
  Status Next(bool is_commit, std::string_view what, Transaction* inner);

 private:
  Store& inner_;
  std::mutex mu_;
  FaultPlan plan_;  // guarded by mu_
  std::atomic<int64_t> statements_{0}, commits_{0}, injected_{0};
};

}  // namespace nbaprops::store

#endif  // NBAPROPS_STORE_FAULT_STORE_H_
