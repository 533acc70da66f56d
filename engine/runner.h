// Runner: executes processors for partitions and keeps the ledger honest.
//
// Each execution is: a `running` ledger row (own transaction), the processor's Run(), and either
// the processor's CommitOutput (rows + `succeeded` in one transaction) or a `failed` row with its
// category. A processor that returns OK without committing is a bug and is recorded as such.
// Thread-safety: Execute may be called from several threads; registration must finish first.
#ifndef NBAPROPS_ENGINE_RUNNER_H_
#define NBAPROPS_ENGINE_RUNNER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "engine/ledger.h"
#include "engine/processor.h"
#include "store/store.h"

namespace nbaprops::engine {

struct RunOutcome {
  int64_t run_id = 0;
  Status status;
  FailureCategory category = FailureCategory::kNone;
  int64_t records_in = 0, records_out = 0, records_rejected = 0;
};

class Runner {
 public:
  Runner(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  Status Register(std::unique_ptr<Processor> p);
  Processor* Find(const std::string& name) const;
  // Processors of a phase (0: all), upstream before downstream.
  std::vector<Processor*> InOrder(int phase = 0) const;

  // Runs one processor for one partition. When `queued_run_id` is set, that queued ledger row is
  // claimed instead of inserting a new one.
  RunOutcome Execute(Processor& p, const std::string& partition_key, const std::string& data_date,
                     const std::string& trigger, std::optional<int64_t> queued_run_id = std::nullopt,
                     std::optional<int64_t> caused_by = std::nullopt);

  // Runs queued runs, oldest first, until none are left. Returns the outcomes.
  StatusOr<std::vector<RunOutcome>> DrainQueue();

  store::Store& store() { return store_; }
  const Clock& clock() const { return clock_; }

 private:
  store::Store& store_;
  const Clock& clock_;
  std::map<std::string, std::unique_ptr<Processor>> processors_;
  std::vector<std::string> order_;  // topological
};

}  // namespace nbaprops::engine

#endif  // NBAPROPS_ENGINE_RUNNER_H_
