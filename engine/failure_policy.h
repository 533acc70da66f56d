// What happens after a failure: the one function that reads a failure category and the attempt
// number and decides retry, defer or dead letter.
//
//   source_unavailable, rate_limited, timeout, lease_expired, incomplete_output
//       -> retry with exponential backoff and full jitter (base, factor, cap), at most
//          max_attempts attempts in all, then dead letter;
//   upstream_incomplete -> defer: not an attempt (the processor found its inputs missing and did
//          nothing), so it does not count against max_attempts. The partition is checked again
//          after a delay that grows with how long it has been deferred (a quarter of that time,
//          between defer_ms and defer_cap_ms), and is dead-lettered once it has been deferred
//          for defer_max_ms: the upstream's deadline has passed and a person must look;
//   bad_input, schema_mismatch, config_error, internal -> dead letter at once (retrying cannot
//       help; a person must fix the input, the adapter or the config).
#ifndef NBAPROPS_ENGINE_FAILURE_POLICY_H_
#define NBAPROPS_ENGINE_FAILURE_POLICY_H_

#include <cstdint>
#include <string>

#include "engine/processor.h"

namespace nbaprops::engine {

struct RetryPolicy {
  int64_t base_ms = 2000;
  double factor = 2.0;
  int64_t cap_ms = int64_t{5} * 60 * 1000;
  int max_attempts = 5;
  int64_t defer_ms = int64_t{5} * 1000;
  int64_t defer_cap_ms = int64_t{15} * 60 * 1000;
  int64_t defer_max_ms = int64_t{36} * 3600 * 1000;
};

enum class FailureAction { kRetry, kDefer, kDeadLetter };

struct FailureDecision {
  FailureAction action = FailureAction::kDeadLetter;
  int64_t delay_ms = 0;          // for retry/defer: not_before = now + delay_ms
  std::string suggested_action;  // for people reading the dead letter
};

// `attempt` is the attempt that just failed (1 = first). `jitter01` in [0, 1) comes from the
// caller's random source so tests are reproducible: delay = jitter01 * min(cap, base * factor^(attempt-1)).
// `deferred_for_ms`: how long the partition has been deferred so far (0 on a first deferral).
FailureDecision DecideOnFailure(FailureCategory category, int attempt, const RetryPolicy& policy, double jitter01,
                                int64_t deferred_for_ms = 0);

}  // namespace nbaprops::engine

#endif  // NBAPROPS_ENGINE_FAILURE_POLICY_H_
