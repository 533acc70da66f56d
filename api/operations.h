// What each JSON endpoint of the HTTP API does, without HTTP: parse-free functions over the store
// and the engine that return a JSON body or a Status. api/server.cc only routes, checks the
// bearer token and maps the Status to an HTTP code, so these are what a test or another front end
// calls. Every error message says what failed, for which input, and what to do next.
//
// Status codes: kNotFound (no such run / dead letter / player), kInvalidArgument (a malformed
// parameter or body), kFailedPrecondition (the state forbids it: a run already queued, a dead
// letter already retried), kUnavailable (the store is busy or not migrated).
//
// Thread-safety: the functions share nothing; each runs in its own store transaction.
#ifndef NBAPROPS_API_OPERATIONS_H_
#define NBAPROPS_API_OPERATIONS_H_

#include <cstdint>
#include <string>

#include "base/status.h"
#include "engine/runner.h"
#include "store/store.h"

namespace nbaprops::api {

// GET /ready: the store answers and every migration is applied ({"ready": true, ...}); else
// kUnavailable naming what is missing.
StatusOr<std::string> ReadinessJson(store::Store& store);

// GET /v1/runs: newest first, the same objects as `nbaprops runs --json`.
struct RunsQuery {
  std::string status;     // empty: any; else one of the run states
  std::string processor;  // empty: any
  std::string date;       // empty: any; else YYYY-MM-DD
  int limit = 100;        // 1..1000
};
StatusOr<std::string> RunsListJson(store::Store& store, const RunsQuery& query);
// GET /v1/runs/{id}
StatusOr<std::string> RunJson(store::Store& store, int64_t run_id);

// GET /v1/dlq?status=open|retried|discarded|all (default open), newest first.
StatusOr<std::string> DeadLettersJson(store::Store& store, const std::string& status);
// GET /v1/incidents?status=open|all (default open), most recently seen first.
StatusOr<std::string> IncidentsJson(store::Store& store, const std::string& status);

// POST /v1/runs/{id}/retry: queues the partition of a failed, dead or skipped run again as
// attempt 1 (trigger manual, caused by that run); the workers of `serve` pick it up. A dead run
// with an open dead letter retries the dead letter (marking it retried). kFailedPrecondition
// when the run succeeded or its partition already has a queued or running run.
StatusOr<std::string> RetryRunJson(store::Store& store, int64_t run_id, int64_t now_ms);
// POST /v1/dlq/{id}/retry and /discard (engine::Queue::RetryDeadLetter / DiscardDeadLetter).
StatusOr<std::string> RetryDeadLetterJson(store::Store& store, int64_t id, int64_t now_ms);
StatusOr<std::string> DiscardDeadLetterJson(store::Store& store, int64_t id, int64_t now_ms);

// POST /v1/registry/aliases with body {"name": "...", "player_id": "..."}:
// pipeline::AddManualAlias without running anything: records the alias, resolves stored rows,
// queues phase 3 of the affected dates and answers at once (202) with the queued run ids; the
// workers of `serve` (or `worker` processes) run them.
StatusOr<std::string> AddAliasJson(engine::Runner& runner, const std::string& body);

}  // namespace nbaprops::api

#endif  // NBAPROPS_API_OPERATIONS_H_
