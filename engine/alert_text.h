// How alert messages read: the Slack blocks and the JSON object (webhook body and log line) for
// a group of incident events or an announcement, and the text helpers they share with the
// dispatcher (engine/alerts.cc). Pure functions.
#ifndef NBAPROPS_ENGINE_ALERT_TEXT_H_
#define NBAPROPS_ENGINE_ALERT_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/alerts.h"
#include "engine/incidents.h"

namespace nbaprops::engine::alert_text {

inline constexpr char kProduct[] = "nbaprops";

// One thing a channel has to say about one incident.
struct Event {
  Incident incident;
  std::string kind;              // open | resolve | repeat
  bool never_announced = false;  // resolve of an incident this channel never announced open
  int64_t at = 0;                // when it happened (grouping looks at the oldest)
};

struct Message {
  std::string event;     // open | resolve | repeat | summary (mixed) | test
  std::string severity;  // the highest of its events
  std::string title;
  std::vector<const Event*> events;
};

// A full JSON string literal: unlike JsonQuoted, keeps newlines (Slack renders them).
std::string Json(std::string_view s);
// At most `max` bytes, never splitting a UTF-8 sequence (Slack rejects invalid UTF-8).
std::string Clip(std::string_view s, size_t max);
// "42 s", "3 min", "2 h 5 min", "3 d 4 h".
std::string Duration(int64_t ms);
// "<product>: 2 incidents opened, 1 incident resolved[: key]".
std::string MessageTitle(const std::vector<const Event*>& events);
// The body a channel of that kind receives for the message (outbox row `id`).
std::string Render(const AlertChannel& ch, const Message& m, int64_t id, int64_t now);
// An announcement: Slack gets the title and the body as preformatted text; the webhook and the
// log get the usual object with "text" and no incidents.
std::string RenderAnnouncement(const AlertChannel& ch, const std::string& severity, const std::string& title,
                               const std::string& body, int64_t id, int64_t now);

}  // namespace nbaprops::engine::alert_text

#endif  // NBAPROPS_ENGINE_ALERT_TEXT_H_
