#include "api/status_json.h"

#include <nlohmann/json.hpp>

#include "base/time.h"

namespace nbaprops::api {
namespace {

using nlohmann::json;

json Opt(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }

json RunJson(const engine::RunRecord& r) {
  json j = {{"run_id", r.run_id},
            {"processor", r.processor},
            {"phase", r.phase},
            {"partition", r.partition_key},
            {"data_date", r.data_date.empty() ? json(nullptr) : json(r.data_date)},
            {"status", r.status},
            {"attempt", r.attempt},
            {"trigger", r.trigger},
            {"caused_by_run_id", Opt(r.caused_by_run_id)},
            {"queued_at", FormatIsoTimestamp(r.queued_at)},
            {"started_at", r.started_at ? json(FormatIsoTimestamp(*r.started_at)) : json(nullptr)},
            {"finished_at", r.finished_at ? json(FormatIsoTimestamp(*r.finished_at)) : json(nullptr)},
            {"duration_ms", Opt(r.duration_ms)},
            {"records_in", Opt(r.records_in)},
            {"records_out", Opt(r.records_out)},
            {"records_rejected", Opt(r.records_rejected)},
            {"error_category", r.error_category.empty() ? json(nullptr) : json(r.error_category)},
            {"error_message", r.error_message.empty() ? json(nullptr) : json(r.error_message)}};
  if (!r.details.empty()) {
    json d = json::parse(r.details, nullptr, false);
    j["details"] = d.is_discarded() ? json(r.details) : d;
  }
  return j;
}

}  // namespace

std::string SummaryJson(const pipeline::Summary& s) {
  json by_source = json::object();
  for (const auto& [k, v] : s.box_scores_by_source) by_source[k] = v;
  json runs = json::object();
  for (const auto& [k, v] : s.runs_by_status) runs[k] = v;
  json j = {{"first_date", s.first_date},
            {"last_date", s.last_date},
            {"games", s.games},
            {"games_final", s.games_final},
            {"player_games", s.player_games},
            {"box_score_rows", s.box_score_rows},
            {"box_score_rows_by_source", by_source},
            {"lines", s.lines},
            {"line_player_names", s.line_names},
            {"line_player_names_resolved", s.line_names_resolved},
            {"injury_report_rows", s.injuries},
            {"players", s.players},
            {"payloads", s.payloads},
            {"rejected_records", s.rejected},
            {"unresolved_names", s.unresolved_names},
            {"unresolved_rows", s.unresolved_rows},
            {"runs_by_status", runs},
            {"dead_letters_open", s.dead_letters_open},
            {"open_incidents", s.open_incidents}};
  return j.dump(2);
}

std::string RunsJson(const std::vector<engine::RunRecord>& runs) {
  json arr = json::array();
  for (const auto& r : runs) arr.push_back(RunJson(r));
  return arr.dump(2);
}

std::string DateStatusJson(const std::string& date, const std::vector<engine::RunRecord>& runs,
                           const std::vector<std::pair<int, engine::Expectation>>& expected, int64_t now_ms) {
  json phases = json::object();
  bool complete = !runs.empty() || !expected.empty();
  for (const auto& r : runs) {
    phases[std::to_string(r.phase)].push_back(RunJson(r));
    if (r.status != "succeeded") complete = false;
  }
  json exp = json::array();
  int64_t overdue = 0;
  for (const auto& [phase, e] : expected) {
    const bool due = now_ms >= e.due_ms;
    if (!e.met()) complete = false;
    if (!e.met() && due) ++overdue;
    exp.push_back({{"phase", phase},
                   {"processor", e.processor.empty() ? json(nullptr) : json(e.processor)},
                   {"what", e.what},
                   {"expected", e.expected},
                   {"actual", e.actual},
                   {"stale", e.stale},
                   {"met", e.met()},
                   {"due_at", FormatIsoTimestamp(e.due_ms / 1000)},
                   {"past_due", due},
                   {"missing", e.missing}});
  }
  json j = {{"date", date}, {"complete", complete}, {"overdue", overdue}, {"expected", exp}, {"phases", phases}};
  return j.dump(2);
}

std::string JsonEscape(const std::string& s) { return json(s).dump(); }

}  // namespace nbaprops::api
