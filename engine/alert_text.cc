#include "engine/alert_text.h"

#include <algorithm>
#include <map>
#include <optional>

#include "base/strings.h"
#include "base/time.h"

namespace nbaprops::engine::alert_text {
namespace {

std::string JsonOpt(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "null"; }

// Slack mrkdwn treats &, < and > as control characters.
std::string SlackEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}

std::string Plural(int64_t n, const std::string& word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

}  // namespace

std::string Json(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[(c >> 4) & 15];
          out += kHex[c & 15];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string Clip(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "…";
}

std::string Duration(int64_t ms) {
  const int64_t s = std::max<int64_t>(0, ms / 1000);
  if (s < 60) return std::to_string(s) + " s";
  if (s < 3600) return std::to_string(s / 60) + " min";
  if (s < 48 * 3600) {
    const int64_t m = (s % 3600) / 60;
    return std::to_string(s / 3600) + " h" + (m ? " " + std::to_string(m) + " min" : "");
  }
  return std::to_string(s / 86400) + " d " + std::to_string((s % 86400) / 3600) + " h";
}

namespace {

std::string EventTitle(const Event& e) {
  if (e.kind == "open") return "OPEN";
  if (e.kind == "repeat") return "STILL OPEN";
  return e.never_announced ? "OPENED AND RESOLVED" : "RESOLVED";
}

std::string EventFacts(const Event& e, int64_t now) {
  const Incident& i = e.incident;
  const int64_t end = i.resolved_at.value_or(now);
  std::string facts = e.kind == "open" ? "" : "open " + Duration(end - i.opened_at) + ", ";
  return facts + "seen " + Plural(i.count, "time") + ", since " + FormatIsoTimestamp(i.opened_at / 1000);
}

}  // namespace

std::string MessageTitle(const std::vector<const Event*>& events) {
  std::map<std::string, int> by;
  for (const Event* e : events) by[e->kind]++;
  std::vector<std::string> parts;
  if (by["open"]) parts.push_back(Plural(by["open"], "incident") + " opened");
  if (by["repeat"]) parts.push_back(Plural(by["repeat"], "incident") + " still open");
  if (by["resolve"]) parts.push_back(Plural(by["resolve"], "incident") + " resolved");
  std::string title = std::string(kProduct) + ": " + Join(parts, ", ");
  if (events.size() == 1) title += ": " + events[0]->incident.key;
  return title;
}

namespace {

std::string SeverityMark(const std::string& severity) {
  if (severity == "critical") return ":red_circle:";
  if (severity == "warning") return ":warning:";
  return ":information_source:";
}

std::string RenderSlack(const Message& m, int64_t now) {
  std::string blocks =
      "{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":" + Json("*" + SlackEscape(m.title) + "*") + "}}";
  for (const Event* e : m.events) {
    const Incident& i = e->incident;
    std::string text = (e->kind == "resolve" ? std::string(":white_check_mark:") : SeverityMark(i.severity)) + " *" +
                       EventTitle(*e) + "* [" + i.severity + "] `" + SlackEscape(i.key) + "`\n" +
                       SlackEscape(Clip(i.summary, 1200)) + "\n_" + EventFacts(*e, now) + "_";
    if (!i.details.empty() && e->kind != "resolve") text += "\n```" + SlackEscape(Clip(i.details, 1200)) + "```";
    blocks += ",{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":" + Json(Clip(text, 2900)) + "}}";
  }
  return "{\"text\":" + Json(m.title) + ",\"blocks\":[" + blocks + "]}";
}

// The webhook body and the log line: the same self-describing object, on one line.
std::string RenderJson(const Message& m, const std::string& channel, int64_t id, int64_t now) {
  std::string incidents;
  for (const Event* e : m.events) {
    const Incident& i = e->incident;
    if (!incidents.empty()) incidents += ",";
    incidents += "{\"id\":" + std::to_string(i.id) + ",\"key\":" + Json(i.key) + ",\"event\":" + Json(e->kind) +
                 ",\"severity\":" + Json(i.severity) + ",\"status\":" + Json(i.status) +
                 ",\"summary\":" + Json(i.summary) + ",\"details\":" + Json(i.details) +
                 ",\"opened_at_ms\":" + std::to_string(i.opened_at) + ",\"resolved_at_ms\":" + JsonOpt(i.resolved_at) +
                 ",\"last_seen_at_ms\":" + std::to_string(i.last_seen_at) + ",\"count\":" + std::to_string(i.count) +
                 "}";
  }
  return "{\"id\":" + std::to_string(id) + ",\"source\":" + Json(kProduct) + ",\"channel\":" + Json(channel) +
         ",\"event\":" + Json(m.event) + ",\"severity\":" + Json(m.severity) + ",\"title\":" + Json(m.title) +
         ",\"created_at_ms\":" + std::to_string(now) + ",\"incidents\":[" + incidents + "]}";
}

}  // namespace

std::string Render(const AlertChannel& ch, const Message& m, int64_t id, int64_t now) {
  return ch.kind == AlertChannelKind::kSlack ? RenderSlack(m, now) : RenderJson(m, ch.name, id, now);
}

std::string RenderAnnouncement(const AlertChannel& ch, const std::string& severity, const std::string& title,
                               const std::string& body, int64_t id, int64_t now) {
  if (ch.kind == AlertChannelKind::kSlack) {
    return "{\"text\":" + Json(title) + ",\"blocks\":[{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":" +
           Json("*" + SlackEscape(title) + "*") + "}},{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":" +
           Json(Clip("```" + SlackEscape(body) + "```", 2900)) + "}}]}";
  }
  return "{\"id\":" + std::to_string(id) + ",\"source\":" + Json(kProduct) + ",\"channel\":" + Json(ch.name) +
         ",\"event\":\"summary\",\"severity\":" + Json(severity) + ",\"title\":" + Json(title) +
         ",\"text\":" + Json(body) + ",\"created_at_ms\":" + std::to_string(now) + ",\"incidents\":[]}";
}

}  // namespace nbaprops::engine::alert_text
