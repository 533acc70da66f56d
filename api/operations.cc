#include "api/operations.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "api/status_json.h"
#include "base/time.h"
#include "engine/incidents.h"
#include "engine/ledger.h"
#include "engine/queue.h"
#include "pipeline/pipeline.h"
#include "store/migrations.h"

namespace nbaprops::api {
namespace {

using nlohmann::json;

json ParsedOrText(const std::string& text) {
  if (text.empty()) return nullptr;
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json(text) : j;
}

json IsoMs(int64_t ms) { return FormatIsoTimestamp(ms / 1000); }

json DeadLetterObject(const engine::DeadLetter& d) {
  return {{"id", d.id},
          {"run_id", d.run_id},
          {"processor", d.processor},
          {"partition", d.partition_key},
          {"data_date", d.data_date.empty() ? json(nullptr) : json(d.data_date)},
          {"category", d.category},
          {"error", d.error},
          {"input_ref", d.input_ref},
          {"suggested_action", d.suggested_action},
          {"status", d.status},
          {"count", d.count},
          {"first_seen", FormatIsoTimestamp(d.first_seen)},
          {"last_seen", FormatIsoTimestamp(d.last_seen)}};
}

json IncidentObject(const engine::Incident& i) {
  return {{"id", i.id},
          {"key", i.key},
          {"severity", i.severity},
          {"status", i.status},
          {"summary", i.summary},
          {"details", ParsedOrText(i.details)},
          {"opened_at", IsoMs(i.opened_at)},
          {"resolved_at", i.resolved_at ? IsoMs(*i.resolved_at) : json(nullptr)},
          {"last_seen_at", IsoMs(i.last_seen_at)},
          {"count", i.count},
          {"related_runs", i.related_runs}};
}

}  // namespace

StatusOr<std::string> ReadinessJson(store::Store& store) {
  auto version = store::SchemaVersion(store);
  if (!version.ok()) {
    return UnavailableError("the store " + store.description() + " does not answer: " + version.status().message());
  }
  const int want = store::LatestSchemaVersion();
  if (*version < want) {
    return UnavailableError("the database " + store.description() + " is at schema version " +
                            std::to_string(*version) + " of " + std::to_string(want) +
                            "; run `nbaprops init --db FILE` (or restart serve, which migrates on start)");
  }
  return json{{"ready", true}, {"store", store.backend()}, {"schema_version", *version}}.dump();
}

StatusOr<std::string> RunsListJson(store::Store& store, const RunsQuery& q) {
  static const std::set<std::string> kStates = {"queued",  "running",  "succeeded", "failed",
                                                "skipped", "deferred", "dead"};
  if (!q.status.empty() && !kStates.count(q.status)) {
    return InvalidArgumentError(
        "status '" + q.status +
        "' is not a run state; use queued, running, succeeded, failed, skipped, deferred or dead");
  }
  if (!q.date.empty() && !IsIsoDate(q.date)) {
    return InvalidArgumentError("date '" + q.date + "' is not a date YYYY-MM-DD");
  }
  if (q.limit < 1 || q.limit > 1000) {
    return InvalidArgumentError("limit " + std::to_string(q.limit) + " is out of range; use 1..1000");
  }
  std::vector<engine::RunRecord> runs;
  RETURN_IF_ERROR(store.WithRead([&](store::Transaction& t) -> Status {
    engine::RunFilter f{q.status, q.processor, q.date, q.limit};
    ASSIGN_OR_RETURN(runs, engine::Ledger::List(t, f));
    return OkStatus();
  }));
  return RunsJson(runs);
}

StatusOr<std::string> RunJson(store::Store& store, int64_t run_id) {
  std::optional<engine::RunRecord> run;
  RETURN_IF_ERROR(store.WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(run, engine::Ledger::Get(t, run_id));
    return OkStatus();
  }));
  if (!run) return NotFoundError("no run " + std::to_string(run_id) + "; GET /v1/runs lists the runs");
  // One rendering for the CLI and the API: the single element of the list document.
  json list = json::parse(RunsJson({*run}));
  return list.at(0).dump(2);
}

StatusOr<std::string> DeadLettersJson(store::Store& store, const std::string& status_in) {
  const std::string status = status_in.empty() ? "open" : status_in;
  if (status != "open" && status != "retried" && status != "discarded" && status != "all") {
    return InvalidArgumentError("status '" + status +
                                "' is not a dead-letter status; use open, retried, discarded or all");
  }
  json arr = json::array();
  RETURN_IF_ERROR(store.WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(auto list, engine::Queue::ListDeadLetters(t, status));
    for (const auto& d : list) arr.push_back(DeadLetterObject(d));
    return OkStatus();
  }));
  return arr.dump(2);
}

StatusOr<std::string> IncidentsJson(store::Store& store, const std::string& status_in) {
  const std::string status = status_in.empty() ? "open" : status_in;
  if (status != "open" && status != "all") {
    return InvalidArgumentError("status '" + status + "' is not an incident filter; use open or all");
  }
  json arr = json::array();
  RETURN_IF_ERROR(store.WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(auto list, engine::ListIncidents(t, status == "open"));
    for (const auto& i : list) arr.push_back(IncidentObject(i));
    return OkStatus();
  }));
  return arr.dump(2);
}

StatusOr<std::string> RetryRunJson(store::Store& store, int64_t run_id, int64_t now_ms) {
  int64_t new_run = 0;
  std::optional<int64_t> dead_letter;
  RETURN_IF_ERROR(store.WithWrite([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(auto run, engine::Ledger::Get(t, run_id));
    const std::string id = std::to_string(run_id);
    if (!run) return NotFoundError("no run " + id + "; GET /v1/runs lists the runs");
    if (run->status == "succeeded") {
      return FailedPreconditionError("run " + id +
                                     " succeeded; there is nothing to retry (`nbaprops run --date D` "
                                     "re-runs a date on purpose)");
    }
    ASSIGN_OR_RETURN(auto live, t.QueryInt("SELECT MAX(run_id) FROM processor_runs WHERE processor = ? AND "
                                           "partition_key = ? AND status IN ('queued', 'running')",
                                           {run->processor, run->partition_key}));
    if (live) {
      return FailedPreconditionError("run " + id + " of " + run->processor + " for " + run->partition_key +
                                     " already has a live run " + std::to_string(*live) +
                                     " (queued or running); wait for it, see GET /v1/runs/" + std::to_string(*live));
    }
    ASSIGN_OR_RETURN(dead_letter, t.QueryInt("SELECT MAX(id) FROM dead_letters WHERE processor = ? AND "
                                             "partition_key = ? AND status = 'open'",
                                             {run->processor, run->partition_key}));
    if (dead_letter) {
      ASSIGN_OR_RETURN(new_run, engine::Queue::RetryDeadLetter(t, *dead_letter, now_ms));
      return OkStatus();
    }
    engine::RunStart again{run->processor, run->phase, run->partition_key, run->data_date, "manual", run_id, 1, 0,
                           std::nullopt};
    ASSIGN_OR_RETURN(new_run, engine::Ledger::Enqueue(t, again, now_ms / 1000));
    return OkStatus();
  }));
  return json{{"run_id", run_id},
              {"queued_run_id", new_run},
              {"dead_letter_id", dead_letter ? json(*dead_letter) : json(nullptr)},
              {"status", "queued"}}
      .dump();
}

StatusOr<std::string> RetryDeadLetterJson(store::Store& store, int64_t id, int64_t now_ms) {
  int64_t new_run = 0;
  RETURN_IF_ERROR(store.WithWrite([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(new_run, engine::Queue::RetryDeadLetter(t, id, now_ms));
    return OkStatus();
  }));
  return json{{"dead_letter_id", id}, {"status", "retried"}, {"queued_run_id", new_run}}.dump();
}

StatusOr<std::string> DiscardDeadLetterJson(store::Store& store, int64_t id, int64_t now_ms) {
  RETURN_IF_ERROR(
      store.WithWrite([&](store::Transaction& t) { return engine::Queue::DiscardDeadLetter(t, id, now_ms); }));
  return json{{"dead_letter_id", id}, {"status", "discarded"}}.dump();
}

StatusOr<std::string> AddAliasJson(engine::Runner& runner, const std::string& body) {
  json in = json::parse(body, nullptr, false);
  if (in.is_discarded() || !in.is_object()) {
    return InvalidArgumentError(
        "the body is not a JSON object; send {\"name\": \"Nic Claxton\", \"player_id\": "
        "\"1629651\"}");
  }
  auto text = [&](const char* key) -> std::optional<std::string> {
    auto it = in.find(key);
    if (it == in.end() || !it->is_string() || it->get<std::string>().empty()) return std::nullopt;
    return it->get<std::string>();
  };
  auto name = text("name"), player = text("player_id");
  if (!name || !player) {
    return InvalidArgumentError(
        "the body needs non-empty strings \"name\" (as the source writes it) and "
        "\"player_id\" (see `nbaprops registry players NAME`)");
  }
  ASSIGN_OR_RETURN(auto res, pipeline::AddManualAlias(runner, *name, *player, /*run_now=*/false));
  return json{{"name", *name},
              {"player_id", res.player_id},
              {"canonical_name", res.canonical_name},
              {"rows_resolved", res.rows_resolved},
              {"requeued_dates", res.requeued_dates},
              {"queued_run_ids", res.queued_runs},
              {"status", "queued"}}
      .dump(2);
}

}  // namespace nbaprops::api
