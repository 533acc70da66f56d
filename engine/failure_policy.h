// What happens after a failure: the one function that reads a failure category and the attempt
// number and decides retry, defer or dead letter.
//
//   source_unavailable, rate_limited, timeout, lease_expired, incomplete_output
//       -> retry with exponential backoff and full jitter (base, factor, cap), at most
//          max_attempts attempts in all, then dead letter;
//   upstream_incomplete -> defer: try again after defer_ms, also bounded by max_attempts;
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
};

enum class FailureAction { kRetry, kDefer, kDeadLetter };

struct FailureDecision {
  FailureAction action = FailureAction::kDeadLetter;
  int64_t delay_ms = 0;          // for retry/defer: not_before = now + delay_ms
  std::string suggested_action;  // for people reading the dead letter
};

// `attempt` is the attempt that just failed (1 = first). `jitter01` in [0, 1) comes from the
// caller's random source so tests are reproducible: delay = jitter01 * min(cap, base * factor^(attempt-1)).
FailureDecision DecideOnFailure(FailureCategory category, int attempt, const RetryPolicy& policy, double jitter01);

}  // namespace nbaprops::engine

#endif  // NBAPROPS_ENGINE_FAILURE_POLICY_H_
