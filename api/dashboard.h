// GET /: the dashboard, one self-contained HTML page (inline CSS and SVG, no script, no external
// asset: it works offline and without JavaScript) that shows pipeline health at a glance and
// reloads itself (meta refresh).
//
// Sections and their stable hooks for tests and scrapers:
//   grid                 table#grid: one row per phase, one column per recent game date (newest
//                        first); each cell td.cell.state-<state> with data-phase and data-date.
//                        <state> is the worst latest-run state of the phase's processors for the
//                        date: dead > failed > running > deferred > queued > skipped > succeeded;
//                        "none" when nothing ran. The cell's title lists each processor's state.
//   incidents            ul#incidents, li.incident.severity-<severity>[data-key]
//   dead letters         table#dead-letters (open), tr[data-id]
//   circuit breakers     table#breakers, tr.breaker.state-<state>[data-source]
//   alert channels       ul#alert-channels: open alert_channel_broken:* incidents
//   deadlines            table#deadlines, tr.deadline.state-<state>[data-deadline][data-date]
//   latency chart        div#latency-chart: end-to-end results latency per date (inline SVG)
//   hit-rate chart       div#hit-rate-chart: rolling hit rate per system (inline SVG)
//   registry backlog     div#registry-backlog: pending unresolved player names
//
// Thread-safety: a pure function of the store's contents.
#ifndef NBAPROPS_API_DASHBOARD_H_
#define NBAPROPS_API_DASHBOARD_H_

#include <cstdint>
#include <string>

#include "base/status.h"
#include "store/store.h"

namespace nbaprops::api {

struct DashboardOptions {
  int grid_dates = 14;      // game dates (columns) in the grid
  int chart_dates = 30;     // game dates in each chart
  int hit_rate_window = 7;  // graded dates in the rolling hit rate
  int refresh_s = 30;       // meta refresh interval
};

StatusOr<std::string> RenderDashboard(store::Store& store, int64_t now_ms, const DashboardOptions& options);

}  // namespace nbaprops::api

#endif  // NBAPROPS_API_DASHBOARD_H_
