#include "engine/incidents.h"

#include <algorithm>

namespace nbaprops::engine {

std::string IncidentColumns(std::string_view alias) {
  std::string out;
  for (const char* c : {"id", "incident_key", "severity", "status", "summary", "details", "opened_at", "resolved_at",
                        "last_seen_at", "count", "related_runs"}) {
    out += (out.empty() ? "" : ", ") + (alias.empty() ? std::string() : std::string(alias) + ".") + c;
  }
  return out;
}

Incident IncidentFromRow(const store::Row& r) {
  Incident i;
  i.id = r.Int(0);
  i.key = r.Text(1);
  i.severity = r.Text(2);
  i.status = r.Text(3);
  i.summary = r.Text(4);
  i.details = r.IsNull(5) ? "" : r.Text(5);
  i.opened_at = r.Int(6);
  i.resolved_at = r.OptInt(7);
  i.last_seen_at = r.Int(8);
  i.count = r.Int(9);
  // Stored as a comma-separated list of run ids.
  if (!r.IsNull(10)) {
    const std::string runs = r.Text(10);
    size_t start = 0;
    while (start < runs.size()) {
      size_t comma = runs.find(',', start);
      if (comma == std::string::npos) comma = runs.size();
      if (comma > start) i.related_runs.push_back(std::stoll(runs.substr(start, comma - start)));
      start = comma + 1;
    }
  }
  return i;
}

Status OpenIncident(store::Transaction& t, const std::string& key, const std::string& severity,
                    const std::string& summary, const std::string& details, int64_t now_ms) {
  if (key.empty()) return InvalidArgumentError("incident key is empty; pass a stable key such as 'kind:subject'");
  if (severity != "info" && severity != "warning" && severity != "critical") {
    return InvalidArgumentError("incident '" + key + "': severity '" + severity +
                                "' is not one of info, warning, critical");
  }
  // Update first, insert only when nothing is open: callers run in a write transaction, and the
  // unique partial index turns a lost race on another backend into an error, never a duplicate.
  ASSIGN_OR_RETURN(int64_t bumped,
                   t.Exec("UPDATE incidents SET count = count + 1, last_seen_at = ?, summary = ?, details = ? "
                          "WHERE incident_key = ? AND status = 'open'",
                          {now_ms, summary, details, key}));
  if (bumped > 0) return OkStatus();
  return t
      .Exec(
          "INSERT INTO incidents (incident_key, severity, status, summary, details, opened_at, last_seen_at, count) "
          "VALUES (?, ?, 'open', ?, ?, ?, ?, 1)",
          {key, severity, summary, details, now_ms, now_ms})
      .status()
      .WithContext("opening incident '" + key + "'");
}

Status LinkIncidentRuns(store::Transaction& t, const std::string& key, const std::vector<int64_t>& run_ids) {
  ASSIGN_OR_RETURN(std::optional<Incident> open, GetOpenIncident(t, key));
  if (!open) return OkStatus();
  std::vector<int64_t> runs = open->related_runs;
  for (int64_t id : run_ids) {
    if (std::find(runs.begin(), runs.end(), id) == runs.end()) runs.push_back(id);
  }
  // Bounded, newest kept: an incident seen for weeks must not grow without limit.
  constexpr size_t kMaxRuns = 50;
  if (runs.size() > kMaxRuns) runs.erase(runs.begin(), runs.end() - kMaxRuns);
  std::string text;
  for (int64_t id : runs) text += (text.empty() ? "" : ",") + std::to_string(id);
  return t.Exec("UPDATE incidents SET related_runs = ? WHERE id = ?", {text, open->id}).status();
}

Status ResolveIncident(store::Transaction& t, const std::string& key, int64_t now_ms) {
  return t.ExecLater("UPDATE incidents SET status = 'resolved', resolved_at = ? WHERE incident_key = ? AND status = 'open'",
                     {now_ms, key});
}

StatusOr<std::optional<Incident>> GetOpenIncident(store::Transaction& t, const std::string& key) {
  std::optional<Incident> out;
  RETURN_IF_ERROR(
      t.Query("SELECT " + IncidentColumns("") + " FROM incidents WHERE incident_key = ? AND status = 'open'", {key},
              [&](const store::Row& r) {
                out = IncidentFromRow(r);
                return OkStatus();
              }));
  return out;
}

StatusOr<std::vector<Incident>> ListIncidents(store::Transaction& t, bool open_only) {
  std::vector<Incident> out;
  std::string sql = "SELECT " + IncidentColumns("") + " FROM incidents" +
                    (open_only ? " WHERE status = 'open'" : "") + " ORDER BY last_seen_at DESC, id DESC";
  RETURN_IF_ERROR(t.Query(sql, {}, [&](const store::Row& r) {
    out.push_back(IncidentFromRow(r));
    return OkStatus();
  }));
  return out;
}

}  // namespace nbaprops::engine
