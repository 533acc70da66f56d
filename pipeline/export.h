// Phase 6: JSON documents for the API and the dashboard, written atomically (temp file + rename)
// under the export directory ([export] dir, default "exports"):
//
//   predictions/{date}.json, predictions/today.json   games with every live prediction
//   best-bets/{date}.json, best-bets/today.json       ranked picks of the headline system, at most
//                                                      two per team, up to three plain-language
//                                                      reasons each, and the running record
//   results/{date}.json                                graded picks and the date's per-system record
//   systems/performance.json                           per-system record over everything graded
//   status.json                                        per processor: last success, last state;
//                                                      open incidents and dead letters
//
// today.json is written when the date is today (America/New_York) by the runner's clock.
//
// Fail closed: every document carries halt_active / halt_reason / halt_since. A date whose phases
// are not all complete (a run not succeeded, or its output rows missing) does not publish: the
// last good document stays, with the halt set (halt_since kept from when it started); with no
// earlier document, one with no data and the halt is written. Schemas: schemas/*.schema.json.
//
// Processors: `export_predictions` (phase 6, after player_prop_predictions) and `export_results`
// (phase 6, after prediction_accuracy). `nbaprops export --date D [--out DIR]` runs both.
#ifndef NBAPROPS_PIPELINE_EXPORT_H_
#define NBAPROPS_PIPELINE_EXPORT_H_

#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "engine/processor.h"
#include "store/store.h"

namespace nbaprops::pipeline {

std::vector<std::unique_ptr<engine::Processor>> MakeExportProcessors(const std::string& export_dir);

struct ExportResult {
  std::vector<std::string> written;  // paths
  std::string halt_reason;           // empty when the date published
};

// The two documents groups for one date (what the processors do), callable directly.
StatusOr<ExportResult> ExportPredictions(store::Store& store, const Clock& clock, const std::string& dir,
                                         const std::string& date);
StatusOr<ExportResult> ExportResults(store::Store& store, const Clock& clock, const std::string& dir,
                                     const std::string& date);

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_EXPORT_H_
