// CommitGroup: group commit for runs' partition-local commits (Processor::partition_local_commits).
//
// A run's commit (its output rows, the ledger's success mark, its downstream triggers) costs a
// transaction: BEGIN, the shared writer lock, COMMIT, and on PostgreSQL round trips and a server
// process's attention. When several threads of a process commit at the same moment, the commits
// that arrive while `max_in_flight` transactions are already open wait, and the next free thread
// commits all of them (up to `max_members`) in one transaction. No commit waits for a timer: a
// commit that finds a free slot goes at once, alone.
//
// All or nothing, then one by one: when a shared transaction fails for any reason (a member's
// error, a lost lease, a conflict, the connection), it is rolled back and every member commits
// again in a transaction of its own. A member's outcome is therefore exactly what it would have
// been alone; its body may run twice, and `reset` undoes what the first attempt left in memory.
// Members run in partition-key order, so two groups take per-partition locks (the downstream
// trigger's Transaction::LockKey) in the same order and cannot deadlock on them.
//
// Thread-safety: Commit may be called from any number of threads.
#ifndef NBAPROPS_ENGINE_COMMIT_GROUP_H_
#define NBAPROPS_ENGINE_COMMIT_GROUP_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

#include "base/status.h"
#include "store/store.h"

namespace nbaprops::engine {

struct CommitGroupOptions {
  int max_members = 16;   // commits per shared transaction
  int max_in_flight = 2;  // transactions of this group open at once
};

class CommitGroup {
 public:
  using Body = std::function<Status(store::Transaction&)>;

  CommitGroup(store::Store& store, CommitGroupOptions options);

  // Runs `body` in a kRunCommit transaction, possibly shared with other callers' bodies, and
  // commits it. `order_key` orders members within a shared transaction (the partition key).
  // `reset` runs before `body` runs again alone after a shared transaction failed.
  Status Commit(const Body& body, const std::function<void()>& reset, const std::string& order_key);

  // Counters, for tests and benchmarks.
  int64_t transactions() const { return transactions_.load(); }  // shared or not, committed or not
  int64_t commits() const { return commits_.load(); }            // members committed in a shared transaction
  int64_t fallbacks() const { return fallbacks_.load(); }        // members that committed again alone
  // Callers waiting for a slot (for tests that need a group to form).
  int waiting() const;

 private:
  struct Member;
  // One transaction over the members' bodies in order_key order.
  Status RunTogether(std::vector<Member*>& members);
  Status RunAlone(const Body& body);

  store::Store& store_;
  const CommitGroupOptions options_;
  mutable std::mutex mu_;
  std::deque<Member*> waiting_;  // guarded by mu_, earliest first
  int in_flight_ = 0;            // guarded by mu_
  std::atomic<int64_t> transactions_{0}, commits_{0}, fallbacks_{0};
};

}  // namespace nbaprops::engine

#endif  // NBAPROPS_ENGINE_COMMIT_GROUP_H_
