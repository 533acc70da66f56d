#include "engine/runner.h"

#include <set>

namespace nbaprops::engine {

Status Runner::Register(std::unique_ptr<Processor> p) {
  const std::string name = p->name();
  if (processors_.count(name)) return AlreadyExistsError("processor '" + name + "' registered twice");
  for (const std::string& in : p->inputs()) {
    if (!processors_.count(in)) {
      return FailedPreconditionError("processor '" + name + "' needs '" + in + "', which is not registered before it");
    }
  }
  order_.push_back(name);  // inputs are registered first, so registration order is topological
  processors_.emplace(name, std::move(p));
  return OkStatus();
}

Processor* Runner::Find(const std::string& name) const {
  auto it = processors_.find(name);
  return it == processors_.end() ? nullptr : it->second.get();
}

std::vector<Processor*> Runner::InOrder(int phase) const {
  std::vector<Processor*> out;
  for (const auto& n : order_) {
    Processor* p = processors_.at(n).get();
    if (phase == 0 || p->phase() == phase) out.push_back(p);
  }
  return out;
}

RunOutcome Runner::Execute(Processor& p, const std::string& partition_key, const std::string& data_date,
                           const std::string& trigger, std::optional<int64_t> queued_run_id,
                           std::optional<int64_t> caused_by) {
  RunOutcome out;
  int64_t run_id = 0;
  const int64_t start_ms = clock_.NowMillis();
  Status st = store_.WithWrite([&](store::Transaction& t) -> Status {
    if (queued_run_id) {
      run_id = *queued_run_id;
      return Ledger::MarkRunning(t, run_id, clock_.NowSeconds());
    }
    RunStart start{p.name(), p.phase(), partition_key, data_date, trigger, caused_by};
    ASSIGN_OR_RETURN(run_id, Ledger::Start(t, start, clock_.NowSeconds()));
    return OkStatus();
  });
  out.run_id = run_id;
  if (!st.ok()) {
    out.status = st.WithContext("recording the start of " + p.name() + " for " + partition_key);
    out.category = CategorizeFailure(st);
    return out;
  }

  RunContext ctx(store_, clock_, run_id, partition_key, data_date);
  ctx.started_at_ms = start_ms;
  Status s = p.Run(ctx);
  if (s.ok() && !ctx.committed()) {
    s = InternalError("processor " + p.name() + " returned OK without committing its output");
  }
  out.records_in = ctx.records_in;
  out.records_out = ctx.records_out;
  out.records_rejected = ctx.records_rejected;
  if (s.ok()) {
    out.status = OkStatus();
    return out;
  }
  out.category = ctx.category_override != FailureCategory::kNone ? ctx.category_override : CategorizeFailure(s);
  out.status = s.WithContext(p.name() + " for " + partition_key);
  Status fs = store_.WithWrite([&](store::Transaction& t) {
    return Ledger::Fail(t, run_id, out.category, s.message(), ctx, clock_.NowMillis());
  });
  if (!fs.ok()) out.status = out.status.WithContext("(and recording the failure failed: " + fs.message() + ")");
  return out;
}

StatusOr<std::vector<RunOutcome>> Runner::DrainQueue() {
  std::vector<RunOutcome> outcomes;
  std::set<int64_t> seen;
  while (true) {
    std::optional<RunRecord> next;
    RETURN_IF_ERROR(store_.WithRead([&](store::Transaction& t) -> Status {
      ASSIGN_OR_RETURN(auto runs, Ledger::List(t, RunFilter{"queued", "", "", 1000000}));
      // Oldest first, and upstream phases before downstream ones.
      for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
        if (seen.count(it->run_id)) continue;
        if (!next || it->phase < next->phase) next = *it;
      }
      return OkStatus();
    }));
    if (!next) break;
    seen.insert(next->run_id);
    Processor* p = Find(next->processor);
    if (!p) {
      RETURN_IF_ERROR(store_.WithWrite([&](store::Transaction& t) -> Status {
        RETURN_IF_ERROR(Ledger::MarkRunning(t, next->run_id, clock_.NowSeconds()));
        RunContext ctx(store_, clock_, next->run_id, next->partition_key, next->data_date);
        ctx.started_at_ms = clock_.NowMillis();
        return Ledger::Fail(t, next->run_id, FailureCategory::kConfigError,
                            "no processor named '" + next->processor + "' in this build", ctx, clock_.NowMillis());
      }));
      continue;
    }
    outcomes.push_back(Execute(*p, next->partition_key, next->data_date, next->trigger, next->run_id));
  }
  return outcomes;
}

}  // namespace nbaprops::engine
