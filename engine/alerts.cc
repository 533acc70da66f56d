#include "engine/alerts.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <set>

#include "base/log.h"
#include "base/strings.h"
#include "base/time.h"
#include "engine/alert_text.h"
#include "engine/incidents.h"

namespace nbaprops::engine {
namespace {

using alert_text::Clip;
using alert_text::Duration;
using alert_text::Event;
using alert_text::Json;
using alert_text::kProduct;
using alert_text::Message;
using alert_text::MessageTitle;
using alert_text::Render;
using alert_text::RenderAnnouncement;

constexpr char kBrokenPrefix[] = "alert_channel_broken:";

int SeverityRank(std::string_view s) {
  if (s == "critical") return 2;
  if (s == "warning") return 1;
  return 0;
}
bool ValidSeverity(std::string_view s) { return s == "info" || s == "warning" || s == "critical"; }

// Retry-After: delay-seconds or an HTTP date (RFC 9110 10.2.3). nullopt when unreadable.
std::optional<int64_t> ParseRetryAfterMs(const std::string& value, int64_t now_ms) {
  const std::string v(Trim(value));
  if (v.empty()) return std::nullopt;
  if (auto secs = ParseInt(v)) return std::max<int64_t>(0, *secs) * 1000;
  std::tm tm{};
  const char* end = ::strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (!end) return std::nullopt;
  return std::max<int64_t>(0, static_cast<int64_t>(::timegm(&tm)) * 1000 - now_ms);
}

// Appends one line with a single write(2) on an O_APPEND descriptor, so concurrent writers
// (serve and `alerts test`) never interleave within a line.
Status AppendLine(const std::string& path, const std::string& line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return UnavailableError("opening " + path + ": " + std::strerror(errno));
  const std::string data = line + "\n";
  const ssize_t n = ::write(fd, data.data(), data.size());
  const int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(data.size())) {
    return UnavailableError("writing " + path + ": " + (n < 0 ? std::strerror(err) : "short write (disk full?)"));
  }
  return OkStatus();
}

struct ChannelRow {
  std::string state;
  double tokens = 0;
  int64_t tokens_at = 0, paused_until = 0, consecutive_failures = 0, created_at = 0;
  std::optional<int64_t> first_failure_at;
};

StatusOr<ChannelRow> LoadChannel(store::Transaction& t, const std::string& name) {
  std::optional<ChannelRow> out;
  RETURN_IF_ERROR(
      t.Query("SELECT state, tokens, tokens_at, paused_until, consecutive_failures, created_at, first_failure_at "
              "FROM alert_channels WHERE name = ?",
              {name}, [&](const store::Row& r) {
                ChannelRow c;
                c.state = r.Text(0);
                c.tokens = r.Double(1);
                c.tokens_at = r.Int(2);
                c.paused_until = r.Int(3);
                c.consecutive_failures = r.Int(4);
                c.created_at = r.Int(5);
                c.first_failure_at = r.OptInt(6);
                out = c;
                return OkStatus();
              }));
  if (!out) return InternalError("alert channel '" + name + "' has no row in alert_channels (Prepare did not run?)");
  return *out;
}

double Refill(const AlertChannel& ch, const ChannelRow& c, int64_t now) {
  const double elapsed_s = static_cast<double>(std::max<int64_t>(0, now - c.tokens_at)) / 1000.0;
  return std::min(ch.burst, c.tokens + elapsed_s * ch.rate_per_s);
}

}  // namespace

struct Dispatcher::Claimed {
  int64_t id = 0;
  std::string event, payload;
  int64_t created_at = 0;
};

struct Dispatcher::Attempt {
  DeliveryOutcome outcome;
  std::optional<int64_t> retry_after_ms;  // from a 429's Retry-After
};

std::string_view AlertChannelKindName(AlertChannelKind k) {
  switch (k) {
    case AlertChannelKind::kSlack:
      return "slack";
    case AlertChannelKind::kWebhook:
      return "webhook";
    case AlertChannelKind::kLog:
      return "log";
  }
  return "?";
}

std::optional<AlertChannelKind> ParseAlertChannelKind(std::string_view s) {
  if (s == "slack") return AlertChannelKind::kSlack;
  if (s == "webhook") return AlertChannelKind::kWebhook;
  if (s == "log") return AlertChannelKind::kLog;
  return std::nullopt;
}

std::string AlertChannelBrokenKey(const std::string& channel) { return kBrokenPrefix + channel; }

StatusOr<std::vector<AlertChannelState>> ListAlertChannels(store::Transaction& t) {
  std::vector<AlertChannelState> out;
  RETURN_IF_ERROR(
      t.Query("SELECT c.name, c.kind, c.state, c.broken_reason, c.broken_at, c.first_failure_at, c.last_success_at, "
              "c.last_failure_at, c.consecutive_failures, c.paused_until, "
              "(SELECT COUNT(*) FROM alert_outbox o WHERE o.channel = c.name AND o.status = 'pending'), "
              "(SELECT COUNT(*) FROM alert_outbox o WHERE o.channel = c.name AND o.status = 'dead') "
              "FROM alert_channels c ORDER BY c.name",
              {}, [&](const store::Row& r) {
                AlertChannelState s;
                s.name = r.Text(0);
                s.kind = r.Text(1);
                s.state = r.Text(2);
                s.broken_reason = r.IsNull(3) ? "" : r.Text(3);
                s.broken_at = r.OptInt(4);
                s.first_failure_at = r.OptInt(5);
                s.last_success_at = r.OptInt(6);
                s.last_failure_at = r.OptInt(7);
                s.consecutive_failures = r.Int(8);
                s.paused_until = r.Int(9);
                s.pending = r.Int(10);
                s.dead = r.Int(11);
                out.push_back(std::move(s));
                return OkStatus();
              }));
  return out;
}

Dispatcher::Dispatcher(store::Store& store, const Clock& clock, HttpClient& http, std::vector<AlertChannel> channels,
                       AlertOptions options)
    : store_(store), clock_(clock), http_(http), channels_(std::move(channels)), options_(options) {}

const AlertChannel* Dispatcher::Find(const std::string& name) const {
  for (const AlertChannel& ch : channels_) {
    if (ch.name == name) return &ch;
  }
  return nullptr;
}

std::string Dispatcher::Redact(const AlertChannel& ch, std::string text) const {
  // Every configured secret, not only this channel's: an error body could echo anything. A
  // URL's path is replaced on its own too: servers echo the path more often than the URL (for
  // Slack, the path IS the credential).
  for (const AlertChannel& c : channels_) {
    std::vector<std::string> secrets = {c.url, c.secret};
    const size_t scheme = c.url.find("://");
    const size_t slash = scheme == std::string::npos ? std::string::npos : c.url.find('/', scheme + 3);
    if (slash != std::string::npos) secrets.push_back(c.url.substr(slash));
    for (const std::string& secret : secrets) {
      if (secret.size() < 6) continue;  // "/" or a tiny key: replacing it would mangle ordinary text
      for (size_t pos; (pos = text.find(secret)) != std::string::npos;) {
        text.replace(pos, secret.size(), "<" + c.name + ">");
      }
    }
  }
  return text;
}

Status Dispatcher::Prepare() {
  if (initialized_) return OkStatus();
  std::set<std::string> names;
  for (const AlertChannel& ch : channels_) {
    const std::string where = "alert channel '" + ch.name + "': ";
    if (ch.name.empty()) return InvalidArgumentError("an alert channel has no name; give every channel a name");
    if (!names.insert(ch.name).second) return InvalidArgumentError(where + "two channels have this name; rename one");
    if (!ValidSeverity(ch.min_severity)) {
      return InvalidArgumentError(where + "min_severity '" + ch.min_severity +
                                  "' is not one of info, warning, critical");
    }
    if (ch.kind != AlertChannelKind::kLog && ch.url.empty()) {
      return InvalidArgumentError(where + "has no URL; set url_env or url_file");
    }
    if (ch.kind == AlertChannelKind::kWebhook && ch.secret.empty()) {
      return InvalidArgumentError(where + "a webhook needs an HMAC key; set secret_env or secret_file");
    }
    if (ch.kind == AlertChannelKind::kLog && ch.path.empty()) {
      return InvalidArgumentError(where + "a log channel needs a path");
    }
    if (ch.rate_per_s < 0 || ch.burst < 1) return InvalidArgumentError(where + "need rate_per_s >= 0 and burst >= 1");
  }
  const int64_t now = clock_.NowMillis();
  RETURN_IF_ERROR(store_.WithWrite([&](store::Transaction& t) -> Status {
    for (const AlertChannel& ch : channels_) {
      RETURN_IF_ERROR(t.Exec("INSERT INTO alert_channels (name, kind, state, tokens, tokens_at, created_at) "
                             "VALUES (?, ?, 'ok', ?, ?, ?) ON CONFLICT (name) DO UPDATE SET kind = excluded.kind",
                             {ch.name, AlertChannelKindName(ch.kind), ch.burst, now, now})
                          .status());
    }
    // A broken channel that is no longer configured cannot recover by delivering: its incident
    // would stay open forever. Removing it from the config is the operator's fix.
    std::vector<std::string> gone;
    RETURN_IF_ERROR(t.Query("SELECT name FROM alert_channels WHERE state = 'broken'", {}, [&](const store::Row& r) {
      if (!Find(r.Text(0))) gone.push_back(r.Text(0));
      return OkStatus();
    }));
    for (const std::string& name : gone) {
      RETURN_IF_ERROR(t.Exec("UPDATE alert_channels SET state = 'ok', broken_reason = NULL, broken_at = NULL "
                             "WHERE name = ?",
                             {name})
                          .status());
      RETURN_IF_ERROR(ResolveIncident(t, AlertChannelBrokenKey(name), now));
    }
    return OkStatus();
  }));
  initialized_ = true;
  return OkStatus();
}

StatusOr<DispatchResult> Dispatcher::RunOnce() {
  RETURN_IF_ERROR(Prepare());
  DispatchResult r;
  const int64_t now = clock_.NowMillis();
  RETURN_IF_ERROR(store_.WithWrite([&](store::Transaction& t) -> Status {
    for (const AlertChannel& ch : channels_) {
      RETURN_IF_ERROR(Notice(t, ch, now, &r).WithContext("alert channel '" + ch.name + "'"));
    }
    return OkStatus();
  }));
  for (const AlertChannel& ch : channels_) {
    RETURN_IF_ERROR(Deliver(ch, &r).WithContext("delivering on alert channel '" + ch.name + "'"));
  }
  if (now >= next_prune_ms_) {
    next_prune_ms_ = now + 3'600'000;
    // Notices resolved longer ago than the opens scan looks back can no longer matter.
    RETURN_IF_ERROR(store_.WithWrite([&](store::Transaction& t) -> Status {
      RETURN_IF_ERROR(
          t.Exec("DELETE FROM alert_notices WHERE resolved_at < ?", {now - 2 * options_.give_up_after_ms}).status());
      return t
          .Exec("DELETE FROM alert_outbox WHERE status IN ('sent', 'dead') AND created_at < ?",
                {now - options_.keep_history_ms})
          .status();
    }));
  }
  return r;
}

Status Dispatcher::Notice(store::Transaction& t, const AlertChannel& ch, int64_t now, DispatchResult* r) {
  ASSIGN_OR_RETURN(ChannelRow c, LoadChannel(t, ch.name));
  const std::string own_broken_key = AlertChannelBrokenKey(ch.name);
  std::vector<Event> events;
  // Not announced yet: still open, or resolved since this channel exists (history from before
  // the channel was configured is not replayed) and recently enough to matter (a dispatcher
  // that was down for days does not announce long-gone incidents; this also bounds the scan).
  const int64_t resolved_since = std::max(c.created_at, now - options_.give_up_after_ms);
  RETURN_IF_ERROR(t.Query("SELECT " + IncidentColumns("i") +
                              " FROM incidents i WHERE (i.status = 'open' OR i.resolved_at >= ?) AND NOT EXISTS "
                              "(SELECT 1 FROM alert_notices n WHERE n.channel = ? AND n.incident_id = i.id) "
                              "ORDER BY i.id",
                          {resolved_since, ch.name}, [&](const store::Row& row) {
                            Incident i = IncidentFromRow(row);
                            // A broken channel cannot carry the news of its own breakage.
                            if (SeverityRank(i.severity) < SeverityRank(ch.min_severity) || i.key == own_broken_key) {
                              return OkStatus();
                            }
                            Event e;
                            e.kind = i.status == "open" ? "open" : "resolve";
                            e.never_announced = i.status != "open";
                            e.at = i.status == "open" ? i.opened_at : i.resolved_at.value_or(now);
                            e.incident = std::move(i);
                            events.push_back(std::move(e));
                            return OkStatus();
                          }));
  // Announced open, now resolved.
  RETURN_IF_ERROR(t.Query("SELECT " + IncidentColumns("i") +
                              " FROM incidents i JOIN alert_notices n ON n.incident_id = i.id WHERE n.channel = ? "
                              "AND n.resolved_at IS NULL AND i.status = 'resolved' ORDER BY i.id",
                          {ch.name}, [&](const store::Row& row) {
                            Event e;
                            e.incident = IncidentFromRow(row);
                            e.kind = "resolve";
                            e.at = e.incident.resolved_at.value_or(now);
                            events.push_back(std::move(e));
                            return OkStatus();
                          }));
  // Still open a whole repeat interval after the last notice.
  if (options_.repeat_after_ms > 0) {
    RETURN_IF_ERROR(t.Query("SELECT " + IncidentColumns("i") +
                                ", n.last_noticed_at FROM incidents i JOIN alert_notices n ON n.incident_id = i.id "
                                "WHERE n.channel = ? AND n.resolved_at IS NULL AND i.status = 'open' "
                                "AND n.last_noticed_at <= ? ORDER BY i.id",
                            {ch.name, now - options_.repeat_after_ms}, [&](const store::Row& row) {
                              Event e;
                              e.incident = IncidentFromRow(row);
                              e.kind = "repeat";
                              e.at = row.Int(11) + options_.repeat_after_ms;  // after the incident's columns
                              events.push_back(std::move(e));
                              return OkStatus();
                            }));
  }
  RETURN_IF_ERROR(NoticeAnnouncements(t, ch, resolved_since, now, r));
  if (events.empty()) return OkStatus();
  std::sort(events.begin(), events.end(),
            [](const Event& a, const Event& b) { return a.at != b.at ? a.at < b.at : a.incident.id < b.incident.id; });
  // Wait until the oldest event is a whole window old, so a burst becomes one message.
  if (options_.group_window_ms > 0 && now < events.front().at + options_.group_window_ms) return OkStatus();

  const size_t per_message =
      options_.group_window_ms > 0 ? static_cast<size_t>(std::max(1, options_.max_events_per_message)) : 1;
  for (size_t begin = 0; begin < events.size(); begin += per_message) {
    Message m;
    for (size_t k = begin; k < std::min(events.size(), begin + per_message); ++k) m.events.push_back(&events[k]);
    m.event = m.events.front()->kind;
    m.severity = "info";
    std::string ids;
    for (const Event* e : m.events) {
      if (e->kind != m.event) m.event = "summary";
      if (SeverityRank(e->incident.severity) > SeverityRank(m.severity)) m.severity = e->incident.severity;
      ids += (ids.empty() ? "" : ",") + std::to_string(e->incident.id);
    }
    m.title = MessageTitle(m.events);
    RETURN_IF_ERROR(t.Exec("INSERT INTO alert_outbox (channel, incident_ids, event, severity, payload, status, "
                           "attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, '', 'pending', 0, ?, ?)",
                           {ch.name, ids, m.event, m.severity, now, now})
                        .status());
    ASSIGN_OR_RETURN(int64_t id, t.LastInsertId());
    RETURN_IF_ERROR(t.Exec("UPDATE alert_outbox SET payload = ? WHERE id = ?", {Render(ch, m, id, now), id}).status());
    // Recorded with the outbox row in one transaction: an event is queued exactly once.
    for (const Event* e : m.events) {
      Status s;
      if (e->kind == "open" || e->never_announced) {
        s = t.Exec(
                 "INSERT INTO alert_notices (channel, incident_id, opened_at, last_noticed_at, resolved_at) "
                 "VALUES (?, ?, ?, ?, ?)",
                 {ch.name, e->incident.id, now, now, e->never_announced ? std::optional<int64_t>(now) : std::nullopt})
                .status();
      } else if (e->kind == "resolve") {
        s = t.Exec("UPDATE alert_notices SET resolved_at = ? WHERE channel = ? AND incident_id = ?",
                   {now, ch.name, e->incident.id})
                .status();
      } else {
        s = t.Exec("UPDATE alert_notices SET last_noticed_at = ? WHERE channel = ? AND incident_id = ?",
                   {now, ch.name, e->incident.id})
                .status();
      }
      RETURN_IF_ERROR(s);
    }
    ++r->queued;
    r->events += static_cast<int>(m.events.size());
  }
  return OkStatus();
}

Status Announce(store::Transaction& t, const std::string& key, const std::string& severity, const std::string& title,
                const std::string& body, int64_t now_ms) {
  if (!ValidSeverity(severity)) {
    return InvalidArgumentError("announcement '" + key + "': severity '" + severity +
                                "' is not one of info, warning, critical");
  }
  return t
      .Exec("INSERT INTO alert_announcements (announcement_key, severity, title, body, created_at) VALUES (?, ?, ?, "
            "?, ?) ON CONFLICT (announcement_key) DO NOTHING",
            {key, severity, title, body, now_ms})
      .status();
}

// Announcements this channel has not queued, made since `since` (as for incidents: nothing from
// before the channel existed, nothing stale), each as its own message.
Status Dispatcher::NoticeAnnouncements(store::Transaction& t, const AlertChannel& ch, int64_t since, int64_t now,
                                       DispatchResult* r) {
  struct Pending {
    std::string key, severity, title, body;
  };
  std::vector<Pending> pending;
  RETURN_IF_ERROR(t.Query("SELECT a.announcement_key, a.severity, a.title, a.body FROM alert_announcements a WHERE "
                          "a.created_at >= ? AND NOT EXISTS (SELECT 1 FROM alert_announcement_notices n WHERE "
                          "n.announcement_key = a.announcement_key AND n.channel = ?) ORDER BY a.created_at",
                          {since, ch.name}, [&](const store::Row& row) {
                            pending.push_back({row.Text(0), row.Text(1), row.Text(2), row.Text(3)});
                            return OkStatus();
                          }));
  for (const Pending& a : pending) {
    if (SeverityRank(a.severity) >= SeverityRank(ch.min_severity)) {
      RETURN_IF_ERROR(t.Exec("INSERT INTO alert_outbox (channel, incident_ids, event, severity, payload, status, "
                             "attempts, next_attempt_at, created_at) VALUES (?, '', 'summary', ?, '', 'pending', 0, "
                             "?, ?)",
                             {ch.name, a.severity, now, now})
                          .status());
      ASSIGN_OR_RETURN(int64_t id, t.LastInsertId());
      RETURN_IF_ERROR(t.Exec("UPDATE alert_outbox SET payload = ? WHERE id = ?",
                             {RenderAnnouncement(ch, a.severity, a.title, a.body, id, now), id})
                          .status());
      ++r->queued;
    }
    // Recorded for channels it does not reach too, so it is judged once per channel.
    RETURN_IF_ERROR(t.Exec("INSERT INTO alert_announcement_notices (announcement_key, channel, queued_at) VALUES "
                           "(?, ?, ?)",
                           {a.key, ch.name, now})
                        .status());
  }
  return OkStatus();
}

Status Dispatcher::Deliver(const AlertChannel& ch, DispatchResult* r) {
  for (int n = 0; n < options_.max_deliveries_per_channel; ++n) {
    const int64_t now = clock_.NowMillis();
    std::optional<Claimed> claimed;
    bool out_of_tokens = false;
    RETURN_IF_ERROR(store_.WithWrite([&](store::Transaction& t) -> Status {
      ASSIGN_OR_RETURN(ChannelRow c, LoadChannel(t, ch.name));
      if (now < c.paused_until) return OkStatus();
      // News held longer than give_up_after_ms (a channel broken for a day) is no longer news.
      ASSIGN_OR_RETURN(int64_t expired,
                       t.Exec("UPDATE alert_outbox SET status = 'dead', last_error = ? WHERE channel = ? AND "
                              "status = 'pending' AND created_at < ?",
                              {"expired: still pending after " + Duration(options_.give_up_after_ms), ch.name,
                               now - options_.give_up_after_ms}));
      r->dead += static_cast<int>(expired);
      RETURN_IF_ERROR(
          t.Query("SELECT id, event, payload, created_at FROM alert_outbox WHERE channel = ? AND "
                  "status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT 1",
                  {ch.name, now}, [&](const store::Row& row) {
                    claimed = Claimed{row.Int(0), row.Text(1), row.Text(2), row.Int(3)};
                    return OkStatus();
                  }));
      if (!claimed) return OkStatus();
      if (ch.rate_per_s > 0) {
        const double tokens = Refill(ch, c, now);
        if (tokens < 1) {
          out_of_tokens = true;
          claimed.reset();
          return OkStatus();
        }
        RETURN_IF_ERROR(
            t.Exec("UPDATE alert_channels SET tokens = ?, tokens_at = ? WHERE name = ?", {tokens - 1, now, ch.name})
                .status());
      }
      // Committed before the request: a crash after sending resends (and `attempts` shows it).
      return t
          .Exec(
              "UPDATE alert_outbox SET attempts = attempts + 1, last_attempt_at = ?, next_attempt_at = ? "
              "WHERE id = ?",
              {now, now + options_.claim_ms, claimed->id})
          .status();
    }));
    if (out_of_tokens) ++r->rate_limited;
    if (!claimed) return OkStatus();
    const Attempt a = Send(ch, *claimed);
    bool paused = false;
    RETURN_IF_ERROR(Record(ch, *claimed, a, r, &paused));
    if (paused) return OkStatus();
  }
  return OkStatus();
}

Dispatcher::Attempt Dispatcher::Send(const AlertChannel& ch, const Claimed& row) {
  Attempt a;
  a.outcome.channel = ch.name;
  a.outcome.outbox_id = row.id;
  const auto start = std::chrono::steady_clock::now();  // for display only; decisions use clock_
  if (ch.kind == AlertChannelKind::kLog) {
    Status s = AppendLine(ch.path, row.payload);
    a.outcome.ok = s.ok();
    a.outcome.error = s.ok() ? "" : s.message();
  } else {
    HttpRequest req;
    req.method = "POST";
    req.url = ch.url;
    req.body = row.payload;
    req.connect_timeout_ms = options_.connect_timeout_ms;
    req.total_timeout_ms = options_.total_timeout_ms;
    req.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
    if (ch.kind == AlertChannelKind::kWebhook) {
      const std::string ts = std::to_string(clock_.NowSeconds());
      req.headers.emplace_back("X-Nbaprops-Timestamp", ts);
      req.headers.emplace_back("X-Nbaprops-Signature", "sha256=" + HmacSha256Hex(ch.secret, ts + "." + row.payload));
      req.headers.emplace_back("X-Nbaprops-Delivery", std::to_string(row.id));
      req.headers.emplace_back("X-Nbaprops-Event", row.event);
    }
    const HttpResponse resp = http_.Send(req);
    a.outcome.http_status = resp.status;
    a.outcome.ok = resp.status >= 200 && resp.status < 300;
    if (!resp.answered()) {
      a.outcome.error = (resp.timed_out ? "timeout: " : "transport error: ") + resp.transport_error;
    } else if (!a.outcome.ok) {
      const std::string body(Trim(resp.body));
      a.outcome.error = "HTTP " + std::to_string(resp.status) + (body.empty() ? "" : ": " + Clip(body, 200));
      if (resp.status == 429) {
        a.retry_after_ms = ParseRetryAfterMs(resp.Header("retry-after"), clock_.NowMillis());
      }
    }
  }
  a.outcome.error = Redact(ch, a.outcome.error);
  a.outcome.elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  return a;
}

Status Dispatcher::Record(const AlertChannel& ch, const Claimed& row, const Attempt& a, DispatchResult* r,
                          bool* paused) {
  const int64_t now = clock_.NowMillis();
  const DeliveryOutcome& out = a.outcome;
  const std::string label = "alert channel '" + ch.name + "' (" + std::string(AlertChannelKindName(ch.kind)) + ")";
  std::string log;
  LogLevel level = LogLevel::kDebug;
  Status st = store_.WithWrite([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(ChannelRow c, LoadChannel(t, ch.name));
    if (out.ok) {
      RETURN_IF_ERROR(
          t.Exec("UPDATE alert_outbox SET status = 'sent', sent_at = ?, last_http_status = ?, "
                 "last_error = NULL WHERE id = ?",
                 {now, out.http_status > 0 ? std::optional<int64_t>(out.http_status) : std::nullopt, row.id})
              .status());
      RETURN_IF_ERROR(t.Exec("UPDATE alert_channels SET last_success_at = ?, first_failure_at = NULL, "
                             "consecutive_failures = 0, paused_until = 0, state = 'ok', broken_reason = NULL, "
                             "broken_at = NULL WHERE name = ?",
                             {now, ch.name})
                          .status());
      if (c.state == "broken") {
        RETURN_IF_ERROR(ResolveIncident(t, AlertChannelBrokenKey(ch.name), now));
        r->recovered.push_back(ch.name);
        level = LogLevel::kWarn;
        log = label + " delivers again (message " + std::to_string(row.id) + "); it is no longer broken";
      } else {
        log = label + ": message " + std::to_string(row.id) + " delivered";
      }
      ++r->sent;
      return OkStatus();
    }

    const int status = out.http_status;
    const bool gone = status == 403 || status == 404 || status == 410;
    const bool transient = status == 0 || status == 408 || status == 429 || status >= 500;
    const int64_t failures = c.consecutive_failures + 1;
    int64_t pause = 0;
    if (status == 429) {
      pause = std::min(a.retry_after_ms.value_or(options_.default_retry_after_ms), options_.max_retry_after_ms);
    } else if (transient) {
      pause = options_.retry_base_ms << std::min<int64_t>(failures - 1, 30);
      pause = std::min(std::max<int64_t>(pause, options_.retry_base_ms), options_.retry_cap_ms);
    }
    const int64_t first_failure = c.first_failure_at.value_or(now);
    std::string broken_reason;
    if (gone) {
      broken_reason = out.error + " (the URL was revoked or deleted)";
    } else if (now - first_failure >= options_.broken_after_ms) {
      broken_reason = "failing for " + Duration(now - first_failure) + ", last: " + out.error;
    }
    const bool broken = c.state == "broken" || !broken_reason.empty();
    if (broken) pause = std::max(pause, options_.broken_probe_ms);
    // A rejected message (400, 413, ...) will be rejected again: give it up, keep the channel going.
    const bool dead = row.event == "test" || (!gone && !transient) || now - row.created_at >= options_.give_up_after_ms;
    RETURN_IF_ERROR(t.Exec("UPDATE alert_outbox SET status = ?, next_attempt_at = ?, last_http_status = ?, "
                           "last_error = ? WHERE id = ?",
                           {dead ? "dead" : "pending", now + pause,
                            status > 0 ? std::optional<int64_t>(status) : std::nullopt, out.error, row.id})
                        .status());
    RETURN_IF_ERROR(t.Exec("UPDATE alert_channels SET first_failure_at = ?, last_failure_at = ?, "
                           "consecutive_failures = ?, paused_until = ? WHERE name = ?",
                           {first_failure, now, failures, pause > 0 ? now + pause : c.paused_until, ch.name})
                        .status());
    *paused = pause > 0;
    if (dead)
      ++r->dead;
    else
      ++r->failed;
    level = row.event == "test" ? LogLevel::kDebug : LogLevel::kWarn;  // `alerts test` prints its own result
    log = label + ": message " + std::to_string(row.id) + " failed: " + out.error +
          (dead ? "; given up (see alert_outbox)" : "; next try in " + Duration(pause));
    if (broken) {
      const std::string reason = broken_reason.empty() ? out.error : broken_reason;
      if (c.state != "broken") {
        RETURN_IF_ERROR(t.Exec("UPDATE alert_channels SET state = 'broken', broken_reason = ?, broken_at = ? "
                               "WHERE name = ?",
                               {reason, now, ch.name})
                            .status());
        r->broken.push_back(ch.name);
        level = LogLevel::kError;
        log = label + " is BROKEN: " + reason + "; its alerts are held and it is retried every " +
              Duration(options_.broken_probe_ms) + ". " +
              (gone ? "Fix its URL (url_env / url_file)" : "Check the receiving service") +
              ", then run `nbaprops alerts test --channel " + ch.name + "`";
      }
      // Opened, or bumped on every failed probe so last_seen_at shows the channel is still down.
      RETURN_IF_ERROR(OpenIncident(
          t, AlertChannelBrokenKey(ch.name), "critical",
          "alert channel '" + ch.name + "' (" + std::string(AlertChannelKindName(ch.kind)) + ") is broken: " + reason,
          "{\"channel\":" + Json(ch.name) + ",\"kind\":" + Json(AlertChannelKindName(ch.kind)) +
              ",\"http_status\":" + std::to_string(status) + ",\"reason\":" + Json(reason) + ",\"action\":" +
              Json(std::string(gone ? "fix the channel's URL (url_env / url_file)" : "check the receiving service") +
                   ", then run: nbaprops alerts test --channel " + ch.name) +
              "}",
          now));
    }
    return OkStatus();
  });
  if (!log.empty()) Log(level, log);
  return st;
}

StatusOr<DeliveryOutcome> Dispatcher::SendTest(const std::string& channel) {
  RETURN_IF_ERROR(Prepare());
  const AlertChannel* ch = Find(channel);
  if (!ch) {
    std::vector<std::string> names;
    for (const AlertChannel& c : channels_) names.push_back(c.name);
    return NotFoundError("alert channel '" + channel + "' is not configured" +
                         (names.empty() ? std::string("; no channel is (add [[alerts.channels]] to the config)")
                                        : "; configured: " + Join(names, ", ")));
  }
  const int64_t now = clock_.NowMillis();
  Claimed row;
  row.event = "test";
  row.created_at = now;
  RETURN_IF_ERROR(store_.WithWrite([&](store::Transaction& t) -> Status {
    RETURN_IF_ERROR(t.Exec("INSERT INTO alert_outbox (channel, incident_ids, event, severity, payload, status, "
                           "attempts, next_attempt_at, last_attempt_at, created_at) "
                           "VALUES (?, '', 'test', 'info', '', 'pending', 1, ?, ?, ?)",
                           {ch->name, now + options_.claim_ms, now, now})
                        .status());
    ASSIGN_OR_RETURN(row.id, t.LastInsertId());
    Message m;
    m.event = "test";
    m.severity = "info";
    m.title = std::string(kProduct) + ": test message on alert channel '" + ch->name + "' (" +
              std::string(AlertChannelKindName(ch->kind)) + "), sent " + FormatIsoTimestamp(now / 1000);
    row.payload = Render(*ch, m, row.id, now);
    return t.Exec("UPDATE alert_outbox SET payload = ? WHERE id = ?", {row.payload, row.id}).status();
  }));
  const Attempt a = Send(*ch, row);
  DispatchResult ignored;
  bool paused = false;
  RETURN_IF_ERROR(Record(*ch, row, a, &ignored, &paused));
  return a.outcome;
}

}  // namespace nbaprops::engine
