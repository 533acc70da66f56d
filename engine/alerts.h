// Alert delivery: turns incidents (engine/incidents.h) into notifications on channels (a Slack
// incoming webhook, a generic JSON webhook signed with HMAC-SHA256, a JSON-lines log file).
// Incident writers know nothing of this: the dispatcher scans the incidents table.
//
// One cycle (Dispatcher::RunOnce) has two steps:
//  1. Notice. For each channel, in one write transaction: the incidents it has not announced
//     (severity >= the channel's min_severity; open, or resolved since the channel was first
//     configured), the resolutions of incidents it announced, and the reminders due
//     (still open repeat_after_ms after the last notice) become events. Once the oldest
//     pending event is group_window_ms old, all of them become ONE outbox row (a message),
//     and alert_notices records what was announced, so an event is queued exactly once.
//  2. Deliver. Due outbox rows go out oldest first, each within the channel's token bucket.
//     A row is claimed (attempts + 1, due again after claim_ms) and committed BEFORE the
//     request, and marked after it: a crash between the two resends the row (at-least-once;
//     `attempts` shows it). Receivers can de-duplicate on the row id (X-Nbaprops-Delivery).
//
// Failures, per channel (alert_channels):
//   2xx                -> sent; the channel is ok again (resolving its broken incident).
//   429                -> the channel pauses until Retry-After (seconds or an HTTP date).
//   5xx, 408, timeout, transport error -> the channel pauses for retry_base_ms doubling per
//                         consecutive failure up to retry_cap_ms; the row stays pending.
//   403, 404, 410      -> the channel is broken at once (the URL is revoked or gone).
//   other 4xx          -> that message is rejected for good (dead); the channel is not paused.
//   failing for broken_after_ms (first failure to now, no success between) -> broken.
// A broken channel is probed with its oldest due row every broken_probe_ms. Breaking opens the
// critical incident "alert_channel_broken:<name>", which the OTHER channels announce (never the
// broken one itself); the first later success resolves it. A row pending for give_up_after_ms
// is dead after its next failure.
//
// Secrets: channel URLs and HMAC keys never reach logs, the outbox or any stored error; errors
// are redacted to the channel name.
//
// Times are Unix milliseconds from the injected Clock; nothing here sleeps: waits become
// next_attempt_at / paused_until. Thread-safety: a Dispatcher is used by one thread at a time.
// Several processes may dispatch against one database: noticing is serialized by its write
// transaction and a claimed row is invisible to others for claim_ms.
#ifndef NBAPROPS_ENGINE_ALERTS_H_
#define NBAPROPS_ENGINE_ALERTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/http_client.h"
#include "base/status.h"
#include "store/store.h"

namespace nbaprops::engine {

enum class AlertChannelKind { kSlack, kWebhook, kLog };
std::string_view AlertChannelKindName(AlertChannelKind k);  // slack | webhook | log
std::optional<AlertChannelKind> ParseAlertChannelKind(std::string_view s);

struct AlertChannel {
  std::string name;  // shown wherever the URL would be
  AlertChannelKind kind = AlertChannelKind::kSlack;
  std::string min_severity = "warning";  // info | warning | critical
  std::string url;                       // slack, webhook: a secret
  std::string secret;                    // webhook: HMAC-SHA256 key, a secret
  std::string path;                      // log: JSON lines are appended here
  double rate_per_s = 1;                 // token refill per second; 0 = unlimited
  double burst = 20;                     // bucket size: requests allowed at once
};

struct AlertOptions {
  int64_t group_window_ms = 30'000;           // <= 0: every event is its own message
  int64_t repeat_after_ms = 4 * 3'600'000LL;  // <= 0: never remind
  int64_t broken_after_ms = 3'600'000;
  int64_t broken_probe_ms = 5 * 60'000;  // a broken channel is tried this often
  int64_t retry_base_ms = 1'000;         // backoff after 5xx / timeouts, doubling
  int64_t retry_cap_ms = 10 * 60'000;
  int64_t default_retry_after_ms = 30'000;      // a 429 without a readable Retry-After
  int64_t max_retry_after_ms = 3'600'000;       // a longer Retry-After is capped to this
  int64_t give_up_after_ms = 24 * 3'600'000LL;  // pending this long: dead at the next failure
  int64_t claim_ms = 120'000;                   // a claimed row is due again after this (crash)
  int64_t keep_history_ms = 30 * 86'400'000LL;  // sent and dead outbox rows are deleted after this
  int max_events_per_message = 40;              // Slack allows 50 blocks per message
  int max_deliveries_per_channel = 100;         // per RunOnce, so one cycle stays short
  int64_t connect_timeout_ms = 5'000;
  int64_t total_timeout_ms = 10'000;
};

struct DispatchResult {
  int queued = 0;                      // outbox rows (messages) created
  int events = 0;                      // incident events in them
  int sent = 0;                        // deliveries answered 2xx (or written, for log channels)
  int failed = 0;                      // deliveries that failed and will be retried
  int dead = 0;                        // rows given up on
  int rate_limited = 0;                // channels that left due rows for lack of tokens
  std::vector<std::string> broken;     // channels marked broken in this cycle
  std::vector<std::string> recovered;  // channels that were broken and delivered again
};

// The outcome of one delivery attempt (also what `alerts test` prints).
struct DeliveryOutcome {
  std::string channel;
  int64_t outbox_id = 0;
  bool ok = false;
  int http_status = 0;  // 0: no HTTP answer (log channel, transport error)
  std::string error;    // redacted; empty when ok
  int64_t elapsed_ms = 0;
};

// What the store knows of a channel (dashboard, doctor).
struct AlertChannelState {
  std::string name, kind, state;  // state: ok | broken
  std::string broken_reason;
  std::optional<int64_t> broken_at, first_failure_at, last_success_at, last_failure_at;
  int64_t consecutive_failures = 0;
  int64_t paused_until = 0;
  int64_t pending = 0, dead = 0;  // outbox rows
};

// "alert_channel_broken:<channel>"
std::string AlertChannelBrokenKey(const std::string& channel);

StatusOr<std::vector<AlertChannelState>> ListAlertChannels(store::Transaction& t);

// An announcement: a report that is not an incident (the daily health summary), sent once on
// every channel whose min_severity it meets, as its own message (event "summary"). Announcing a
// key again changes nothing: the first text is the one sent. Works inside the caller's
// transaction, so the report and its announcement commit together.
Status Announce(store::Transaction& t, const std::string& key, const std::string& severity, const std::string& title,
                const std::string& body, int64_t now_ms);

class Dispatcher {
 public:
  // Channels are validated by Prepare: unique names, a URL for slack and webhook, an HMAC key
  // for webhook, a path for log.
  Dispatcher(store::Store& store, const Clock& clock, HttpClient& http, std::vector<AlertChannel> channels,
             AlertOptions options = {});

  // Validates the channels and registers them in alert_channels (once; RunOnce and SendTest
  // call it). kInvalidArgument names the channel and what is missing.
  Status Prepare();

  // One notice + deliver cycle (see the file comment).
  StatusOr<DispatchResult> RunOnce();

  // Sends a test message on `channel` now, whatever its bucket or pause, and records the outcome
  // like any delivery (a success heals a broken channel, a 404 breaks it). A failed test is not
  // retried. kNotFound for a channel that is not configured.
  StatusOr<DeliveryOutcome> SendTest(const std::string& channel);

  const std::vector<AlertChannel>& channels() const { return channels_; }

 private:
  struct Claimed;  // an outbox row claimed for one attempt
  struct Attempt;  // what one attempt got back
  Status Notice(store::Transaction& t, const AlertChannel& ch, int64_t now, DispatchResult* r);
  Status NoticeAnnouncements(store::Transaction& t, const AlertChannel& ch, int64_t since, int64_t now,
                             DispatchResult* r);
  Status Deliver(const AlertChannel& ch, DispatchResult* r);
  Attempt Send(const AlertChannel& ch, const Claimed& row);
  // Marks the row and the channel after an attempt; *paused when the channel must wait.
  Status Record(const AlertChannel& ch, const Claimed& row, const Attempt& a, DispatchResult* r, bool* paused);
  const AlertChannel* Find(const std::string& name) const;
  std::string Redact(const AlertChannel& ch, std::string text) const;

  store::Store& store_;
  const Clock& clock_;
  HttpClient& http_;
  std::vector<AlertChannel> channels_;
  AlertOptions options_;
  bool initialized_ = false;
  int64_t next_prune_ms_ = 0;
};

}  // namespace nbaprops::engine

#endif  // NBAPROPS_ENGINE_ALERTS_H_
