// `nbaprops heal` and the expected-vs-actual part of `nbaprops status --date D`.
#include <cstdio>

#include "api/status_json.h"
#include "base/strings.h"
#include "base/time.h"
#include "cli/commands.h"
#include "cli/table.h"
#include "engine/ledger.h"
#include "engine/reconciler.h"
#include "pipeline/plan.h"

namespace nbaprops::cli {
namespace {

int PhaseOf(engine::Runner& runner, const std::string& processor) {
  const engine::Processor* p = processor.empty() ? nullptr : runner.Find(processor);
  return p ? p->phase() : 1;  // no processor: source data (phase 1)
}

std::string State(const engine::Expectation& e, int64_t now_ms) {
  if (e.met()) return "ok";
  if (now_ms < e.due_ms) return "not due";
  return e.stale ? "STALE" : "MISSING";
}

}  // namespace

StatusOr<std::vector<std::pair<int, engine::Expectation>>> DateExpectations(Env& env, const std::string& date) {
  std::vector<engine::Expectation> planned;
  RETURN_IF_ERROR(env.store->WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(planned, pipeline::PlanDate(t, date, pipeline::PlanOptionsFrom(env.config, *env.runner)));
    return OkStatus();
  }));
  std::vector<std::pair<int, engine::Expectation>> out;
  for (auto& e : planned) out.emplace_back(PhaseOf(*env.runner, e.processor), std::move(e));
  return out;
}

std::string ExpectationsTable(const std::vector<std::pair<int, engine::Expectation>>& expected, int64_t now_ms) {
  Table t({"phase", "output of", "what", "expected", "actual", "state", "due", "missing"});
  for (const auto& [phase, e] : expected) {
    t.Add({std::to_string(phase), e.processor.empty() ? "(source)" : e.processor, e.what, std::to_string(e.expected),
           std::to_string(e.actual), State(e, now_ms), FormatIsoTimestamp(e.due_ms / 1000), Truncate(e.missing, 60)});
  }
  return t.Render();
}

int CmdHeal(const GlobalOptions& g, const std::string& date, bool dry_run) {
  if (!date.empty()) {
    if (auto bad = CheckDate(date, "--date")) return Fail(kExitUsage, *bad);
  }
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  pipeline::PipelinePlanner planner(pipeline::PlanOptionsFrom(env.config, *env.runner));
  engine::Reconciler reconciler(*env.runner, planner, env.runner->clock(),
                                pipeline::ReconcilerOptionsFrom(env.config));
  auto res = reconciler.RunOnce(dry_run, date);
  if (!res.ok()) return Fail(kExitStore, res.status().message());
  std::vector<engine::RunOutcome> outcomes;
  if (!dry_run && res->enqueued > 0) {
    auto ran = env.runner->DrainQueue();
    if (!ran.ok()) return Fail(kExitStore, ran.status().message());
    outcomes = std::move(*ran);
  }
  int failed = 0;
  for (const auto& o : outcomes) failed += o.status.ok() ? 0 : 1;
  if (g.json) {
    std::string j = "{\"dry_run\":" + std::string(dry_run ? "true" : "false") +
                    ",\"planned\":" + std::to_string(res->planned.size()) +
                    ",\"enqueued\":" + std::to_string(res->enqueued) + ",\"runs_executed\":" +
                    std::to_string(outcomes.size()) + ",\"runs_failed\":" + std::to_string(failed) + ",\"unmet\":[";
    for (size_t i = 0; i < res->unmet.size(); ++i) {
      const auto& d = res->unmet[i];
      j += std::string(i ? "," : "") + "{\"processor\":" + api::JsonEscape(d.expectation.processor) +
           ",\"partition\":" + api::JsonEscape(d.expectation.partition_key) + ",\"decision\":" +
           api::JsonEscape(d.decision) + ",\"reason\":" + api::JsonEscape(d.reason) +
           ",\"run_id\":" + std::to_string(d.run_id) + "}";
    }
    std::printf("%s]}\n", j.c_str());
    return failed ? kExitFailed : kExitOk;
  }
  Table t({"date", "output of", "decision", "run", "reason"});
  for (const auto& d : res->unmet) {
    std::string decision = d.decision == "enqueued" && dry_run ? "would enqueue" : d.decision;
    if (d.decision == "dead_letter") decision += " #" + std::to_string(d.dead_letter_id);
    if (d.decision == "backoff") decision += " until " + FormatIsoTimestamp(d.backoff_until_ms / 1000);
    t.Add({d.expectation.partition_key, d.expectation.processor.empty() ? "(source)" : d.expectation.processor,
           decision, d.run_id ? std::to_string(d.run_id) : "", Truncate(d.reason, 90)});
  }
  std::printf("%s", t.Render().c_str());
  std::printf("%zu expectation(s) checked, %zu unmet; %d heal run(s) %s", res->planned.size(), res->unmet.size(),
              res->enqueued, dry_run ? "would be queued (dry run)" : "queued");
  if (!outcomes.empty()) std::printf("; %zu run(s) executed, %d failed", outcomes.size(), failed);
  std::printf("\n");
  return failed ? kExitFailed : kExitOk;
}

}  // namespace nbaprops::cli
