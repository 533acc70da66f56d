// Incidents: problems the system has noticed, each under a stable key (e.g.
// "schedule_missed:<name>"), so that a condition seen a thousand times is one incident with a
// count, not a thousand alerts.
//
// Invariant (enforced by the unique partial index incidents_open_key): at most one open incident
// per key. Opening a key that is already open bumps that incident (count, last_seen_at, summary,
// details); once resolved, the next OpenIncident for the key starts a new incident, so history
// keeps one row per episode. The first severity of an episode is kept.
//
// Every function works inside the caller's transaction, so an incident commits or rolls back
// together with the state change that raised it. Times are Unix milliseconds.
#ifndef NBAPROPS_ENGINE_INCIDENTS_H_
#define NBAPROPS_ENGINE_INCIDENTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace nbaprops::engine {

struct Incident {
  int64_t id = 0;
  std::string key;
  std::string severity;  // info | warning | critical
  std::string status;    // open | resolved
  std::string summary;
  std::string details;
  int64_t opened_at = 0;
  std::optional<int64_t> resolved_at;
  int64_t last_seen_at = 0;
  int64_t count = 0;
  std::vector<int64_t> related_runs;  // runs that caused or healed it, oldest first (at most 50)
};

// The columns IncidentFromRow reads, in its order, each prefixed with `alias.` when given (for
// queries that join the incidents table); further columns may follow them.
std::string IncidentColumns(std::string_view alias);
Incident IncidentFromRow(const store::Row& r);

// Opens the incident for `key`, or bumps the open one. Fails with kInvalidArgument for a
// severity other than info, warning or critical, and for an empty key.
Status OpenIncident(store::Transaction& t, const std::string& key, const std::string& severity,
                    const std::string& summary, const std::string& details, int64_t now_ms);

// Adds runs to the open incident's related runs (no duplicates); does nothing when none is open.
Status LinkIncidentRuns(store::Transaction& t, const std::string& key, const std::vector<int64_t>& run_ids);

// Resolves the open incident for `key`; does nothing when none is open.
Status ResolveIncident(store::Transaction& t, const std::string& key, int64_t now_ms);

// The open incident for `key`, if any.
StatusOr<std::optional<Incident>> GetOpenIncident(store::Transaction& t, const std::string& key);

// Newest first (by last_seen_at). With open_only, only incidents still open.
StatusOr<std::vector<Incident>> ListIncidents(store::Transaction& t, bool open_only);

}  // namespace nbaprops::engine

#endif  // NBAPROPS_ENGINE_INCIDENTS_H_
