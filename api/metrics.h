// GET /metrics: the pipeline's health in the Prometheus text exposition format (version 0.0.4),
// read from the store on each scrape, so every process sharing the database reports the same
// numbers. Families (all prefixed nbaprops_):
//
//   store_up, schema_version                      the store answers; the applied migration
//   runs{processor,phase,status}                   runs in the ledger by processor and state
//   run_duration_seconds{processor}                histogram of finished runs' durations
//   queue_depth{state=runnable|waiting}            queued runs whose not_before passed / not yet
//   oldest_runnable_age_seconds                    how long the oldest runnable run has waited
//   lease_expiries_total{processor}                attempts failed as lease_expired
//   retries_total{processor}                       runs queued by the retry policy
//   dead_letters{processor,status}                 dead letters
//   running_lease_overdue                          running runs past their lease (stuck, not yet reaped)
//   incidents_open{severity}                       open incidents
//   incidents_open_by_kind{kind,severity}          the same by kind: the incident key up to its first ':'
//   circuit_breaker_state{source,state}            1 for the breaker's state, 0 for the others
//   circuit_breaker_opened_total{source}           times each breaker opened
//   alert_messages{channel,status}                 alert outbox rows (pending | sent | dead)
//   alert_delivery_attempts_total{channel}         delivery attempts
//   alert_delivery_failures_total{channel}         attempts that did not deliver
//   alert_channel_broken{channel}                  1 when the channel is marked broken
//     (the alert_* families are skipped while the alert tables do not exist)
//   alert_channels_broken_incidents                open alert_channel_broken:* incidents
//   deadlines{deadline,status}                     deadline rows by key and state
//   deadline_unmet_due_timestamp_seconds{deadline,date,status}  due time of each unmet deadline
//   results_latency_seconds                        histogram: last box score -> results exported
//   results_latency_last_seconds                   that latency for the latest date that has one
//   phase_last_success_timestamp_seconds{phase}    finish time of the latest succeeded run
//   unresolved_player_names{status}                registry backlog
//   export_generated_timestamp_seconds{document}   mtime of today's documents
//   http_requests_total{route,code}                requests this server answered
//   model_picks_graded{system}, model_hit_rate{system}, model_mae_points{system},
//   model_line_mae_points{system}                  each system over its latest 14 graded dates, and the
//                                                  sportsbook line's MAE on the same predictions
//
// A family whose query fails is left out (and logged); when the store does not answer at all
// only store_up 0 and the HTTP counters are written. Thread-safety: a pure function of its inputs.
#ifndef NBAPROPS_API_METRICS_H_
#define NBAPROPS_API_METRICS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "store/store.h"

namespace nbaprops::api {

struct HttpRequestCount {
  std::string route;  // a fixed route label, never a raw path
  int code = 0;
  int64_t count = 0;
};

std::string MetricsText(store::Store& store, const std::string& export_dir, int64_t now_ms,
                        const std::vector<HttpRequestCount>& http);

// Prometheus text-format escaping: label values escape backslash, double quote and newline;
// HELP text escapes backslash and newline.
std::string EscapeLabelValue(const std::string& s);
std::string EscapeHelp(const std::string& s);

}  // namespace nbaprops::api

#endif  // NBAPROPS_API_METRICS_H_
