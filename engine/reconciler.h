// Reconciler (self-heal): compares what must exist with what exists, and enqueues the work that
// would produce what is missing, visibly and within a budget.
//
// The domain supplies a Planner, which lists Expectations: for a partition, an output some
// processor must produce (expected vs actual counts, stale when older than its inputs) and when
// it is due. The reconciler knows nothing of what the outputs mean. In one cycle it:
//   1. plans (one read transaction);
//   2. for each unmet, due, healable expectation, picks the most upstream ones: an expectation
//      whose processor has an input (transitively) with an unmet expectation on the same
//      partition is left to the trigger that input's success will fire;
//   3. skips a (processor, partition) that already has a live run (queued or running), that has an
//      open dead letter of a permanent category (bad_input, schema_mismatch, config_error,
//      internal: a person must act, and retrying would be a storm), or whose heal backoff has not
//      elapsed (heal_state: base doubling per heal, capped), and stops at max_heals_per_cycle;
//   4. enqueues each heal as a ledger row with trigger `self_heal` and the reason (in `details`
//      until the run records its own, and for good on the run's `queued` transition),
//      and opens the incident "heal:<processor>:<partition>" (info) with the run linked, in the
//      same write transaction. The incident resolves, and the backoff resets, once the
//      expectation is met;
//   5. for unmet expectations past due that no run can produce (source data missing), opens
//      "missing_input:<partition>" (warning) listing what is missing; resolved when present.
// A cycle on a partition whose expectations are all met writes nothing.
//
// Thread-safety: RunOnce may be called from any thread; concurrent cycles (even in different
// processes) are safe because every heal is enqueued in a write transaction that re-checks for a
// live run, and the ledger's unique live-run index forbids a second one.
#ifndef NBAPROPS_ENGINE_RECONCILER_H_
#define NBAPROPS_ENGINE_RECONCILER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "engine/runner.h"
#include "store/store.h"

namespace nbaprops::engine {

struct Expectation {
  std::string processor;  // who produces the output; empty when no processor can (source data)
  std::string partition_key;
  std::string data_date;
  std::string what;  // for people: "a summary row per input record"
  int64_t expected = 0, actual = 0;
  bool stale = false;   // the output exists but is older than its inputs
  int64_t due_ms = 0;   // heal (or alert) only once now >= due_ms
  std::string missing;  // a few examples of what is missing
  bool met() const { return actual >= expected && !stale; }
};

class Planner {
 public:
  virtual ~Planner() = default;
  // Every expectation of the active partitions at now_ms (met or not), upstream first.
  // With only_date non-empty, just that date's.
  virtual StatusOr<std::vector<Expectation>> Plan(store::Transaction& t, int64_t now_ms,
                                                  const std::string& only_date) = 0;
};

struct ReconcilerOptions {
  int max_heals_per_cycle = 10;
  int64_t backoff_base_ms = 60'000;    // the wait after the first heal of a (processor, partition)
  int64_t backoff_cap_ms = 3'600'000;  // doubling per heal, up to this
};

struct HealDecision {
  Expectation expectation;
  // enqueued | waiting_for_upstream | in_progress | dead_letter | backoff | budget | not_due |
  // no_processor
  std::string decision;
  std::string reason;  // why it is unmet, as recorded on the heal run
  int64_t run_id = 0;  // the heal run (enqueued) or the live run (in_progress)
  int64_t dead_letter_id = 0;
  int64_t backoff_until_ms = 0;
};

struct ReconcileResult {
  std::vector<Expectation> planned;    // everything planned, met or not
  std::vector<HealDecision> unmet;     // one per unmet expectation, upstream first
  int enqueued = 0;
};

class Reconciler {
 public:
  // `runner` supplies the processors (phase, inputs); the planner the expectations; `clock` the
  // time plans are made at (the runner's, or a replay's simulated clock).
  Reconciler(Runner& runner, Planner& planner, const Clock& clock, ReconcilerOptions options = {});

  // One cycle. With dry_run, decides but writes nothing (`nbaprops heal --dry-run`).
  StatusOr<ReconcileResult> RunOnce(bool dry_run, const std::string& only_date = "");

 private:
  Runner& runner_;
  Planner& planner_;
  const Clock& clock_;
  ReconcilerOptions options_;
};

}  // namespace nbaprops::engine

#endif  // NBAPROPS_ENGINE_RECONCILER_H_
