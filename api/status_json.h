// JSON documents about pipeline health, shared by `nbaprops status --json` and (later) the HTTP
// API. Rendering lives here so the CLI and the server cannot disagree on a field.
#ifndef NBAPROPS_API_STATUS_JSON_H_
#define NBAPROPS_API_STATUS_JSON_H_

#include <string>
#include <vector>

#include "engine/ledger.h"
#include "engine/reconciler.h"
#include "pipeline/pipeline.h"

namespace nbaprops::api {

std::string SummaryJson(const pipeline::Summary& s);
std::string RunsJson(const std::vector<engine::RunRecord>& runs);
// Status of one date: the latest run of each processor, and what must exist (phase, expectation;
// phase 1 for source data no processor makes) against what does.
std::string DateStatusJson(const std::string& date, const std::vector<engine::RunRecord>& runs,
                           const std::vector<std::pair<int, engine::Expectation>>& expected, int64_t now_ms);
std::string JsonEscape(const std::string& s);  // a quoted JSON string

}  // namespace nbaprops::api

#endif  // NBAPROPS_API_STATUS_JSON_H_
