#include "engine/failure_policy.h"

#include <algorithm>
#include <cmath>

namespace nbaprops::engine {

FailureDecision DecideOnFailure(FailureCategory category, int attempt, const RetryPolicy& p, double jitter01,
                                int64_t deferred_for_ms) {
  FailureDecision d;
  switch (category) {
    case FailureCategory::kSourceUnavailable:
    case FailureCategory::kRateLimited:
    case FailureCategory::kTimeout:
    case FailureCategory::kLeaseExpired:
    case FailureCategory::kIncompleteOutput: {
      if (attempt >= p.max_attempts) {
        d.suggested_action = "failed " + std::to_string(attempt) +
                             " times with a transient error; check the source or upstream data, then `nbaprops dlq "
                             "retry ID`";
        return d;
      }
      double ceiling = std::min(static_cast<double>(p.cap_ms), p.base_ms * std::pow(p.factor, attempt - 1));
      d.action = FailureAction::kRetry;
      d.delay_ms = static_cast<int64_t>(std::clamp(jitter01, 0.0, 1.0) * ceiling);
      return d;
    }
    case FailureCategory::kUpstreamIncomplete:
      if (deferred_for_ms >= p.defer_max_ms) {
        d.suggested_action = "upstream still incomplete after " + std::to_string(deferred_for_ms / 3'600'000) +
                             " h; run the upstream processors for this partition (`nbaprops status --date D`), "
                             "then `nbaprops dlq retry ID`";
        return d;
      }
      d.action = FailureAction::kDefer;
      d.delay_ms = std::clamp(deferred_for_ms / 4, p.defer_ms, std::max(p.defer_ms, p.defer_cap_ms));
      return d;
    case FailureCategory::kBadInput:
      d.suggested_action = "fix or replace the input named in the error (see rejected records), then `nbaprops dlq "
                           "retry ID`, or `nbaprops dlq discard ID`";
      return d;
    case FailureCategory::kSchemaMismatch:
      d.suggested_action = "the source changed its format: update the adapter for the field named in the error, "
                           "then `nbaprops dlq retry ID`";
      return d;
    case FailureCategory::kConfigError:
      d.suggested_action = "fix the configuration named in the error, then `nbaprops dlq retry ID`";
      return d;
    case FailureCategory::kNone:
    case FailureCategory::kInternal:
      d.suggested_action = "a bug: report it with the error message; `nbaprops dlq retry ID` after upgrading";
      return d;
  }
  return d;
}

}  // namespace nbaprops::engine
