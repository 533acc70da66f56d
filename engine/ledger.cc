#include "engine/ledger.h"

#include <algorithm>
#include <set>

namespace nbaprops::engine {

const char* const Ledger::kRunColumns =
    "run_id, processor, phase, partition_key, COALESCE(data_date, ''), status, attempt, trigger, caused_by_run_id, "
    "queued_at, started_at, finished_at, duration_ms, records_in, records_out, records_rejected, "
    "COALESCE(error_category, ''), COALESCE(error_message, ''), COALESCE(details, ''), COALESCE(worker_id, ''), "
    "lease_token, lease_expires_at, not_before, priority, deferred_since";

RunRecord Ledger::ReadRun(const store::Row& r) {
  RunRecord x;
  x.run_id = r.Int(0);
  x.processor = r.Text(1);
  x.phase = static_cast<int>(r.Int(2));
  x.partition_key = r.Text(3);
  x.data_date = r.Text(4);
  x.status = r.Text(5);
  x.attempt = static_cast<int>(r.Int(6));
  x.trigger = r.Text(7);
  x.caused_by_run_id = r.OptInt(8);
  x.queued_at = r.Int(9);
  x.started_at = r.OptInt(10);
  x.finished_at = r.OptInt(11);
  x.duration_ms = r.OptInt(12);
  x.records_in = r.OptInt(13);
  x.records_out = r.OptInt(14);
  x.records_rejected = r.OptInt(15);
  x.error_category = r.Text(16);
  x.error_message = r.Text(17);
  x.details = r.Text(18);
  x.worker_id = r.Text(19);
  x.lease_token = r.OptInt(20);
  x.lease_expires_at = r.OptInt(21);
  x.not_before = r.OptInt(22);
  x.priority = static_cast<int>(r.Int(23));
  x.deferred_since = r.OptInt(24);
  return x;
}

namespace {

store::Param DateParam(const std::string& d) { return d.empty() ? store::Param() : store::Param(d); }

StatusOr<int64_t> Insert(store::Transaction& t, const RunStart& s, int64_t now) {
  ASSIGN_OR_RETURN(auto id, t.QueryInt("INSERT INTO processor_runs (processor, phase, partition_key, data_date, "
                                       "status, attempt, trigger, caused_by_run_id, queued_at, priority, not_before) "
                                       "VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?) RETURNING run_id",
                                       {s.processor, s.phase, s.partition_key, DateParam(s.data_date), s.attempt,
                                        s.trigger, s.caused_by_run_id, now, s.priority, s.not_before_ms}));
  if (!id) return InternalError("inserting a run of " + s.processor + " returned no run_id");
  RETURN_IF_ERROR(Ledger::Transition(t, *id, "", "queued", now, "trigger=" + s.trigger));
  return *id;
}

}  // namespace

StatusOr<int64_t> Ledger::Enqueue(store::Transaction& t, const RunStart& s, int64_t now) {
  ASSIGN_OR_RETURN(auto live, t.QueryInt("SELECT run_id FROM processor_runs WHERE processor = ? AND partition_key = ? "
                                         "AND status IN ('queued','running') ORDER BY run_id DESC LIMIT 1",
                                         {s.processor, s.partition_key}));
  if (live) return *live;
  return Insert(t, s, now);
}

Status Ledger::Succeed(store::Transaction& t, int64_t run_id, const RunContext& ctx, int64_t now_ms) {
  const int64_t now = now_ms / 1000;
  // A date of a range run ends when its output was computed, not when the whole range commits.
  const int64_t duration_ms = (ctx.kept_at_ms > 0 ? ctx.kept_at_ms : now_ms) - ctx.started_at_ms;
  // The transition row is the fence: its run_id is NULL, which its NOT NULL constraint refuses,
  // unless the run is still running under this lease. Checked before the update, which the
  // writer lock makes safe (see ledger.h); the update repeats the condition all the same.
  RETURN_IF_ERROR(t.ExecLater("INSERT INTO run_transitions (run_id, from_status, to_status, at, reason) VALUES "
                              "((SELECT run_id FROM processor_runs WHERE run_id = ? AND status = 'running' AND "
                              "lease_token = ?), 'running', 'succeeded', ?, NULL)",
                              {run_id, ctx.lease_token, now}));
  return t.ExecLater("UPDATE processor_runs SET status = 'succeeded', finished_at = ?, duration_ms = ?, records_in = ?, "
                     "records_out = ?, records_rejected = ?, details = ?, error_category = NULL, error_message = NULL "
                     "WHERE run_id = ? AND status = 'running' AND lease_token = ?",
                     {now, duration_ms, ctx.records_in, ctx.records_out, ctx.records_rejected,
                      ctx.details.empty() ? store::Param() : store::Param(ctx.details), run_id, ctx.lease_token});
}

Status Ledger::CheckLease(store::Store& store, int64_t run_id, int64_t token) {
  std::optional<RunRecord> run;
  RETURN_IF_ERROR(store.WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(run, Get(t, run_id));
    return OkStatus();
  }));
  if (run && run->status == "running" && run->lease_token.value_or(0) == token) return OkStatus();
  const bool taken_over = run && run->lease_token.value_or(0) != token;
  return AbortedError("run " + std::to_string(run_id) + " lost its lease (state '" + (run ? run->status : "missing") +
                      (taken_over ? "', lease taken over" : "'") + "); its output is discarded");
}

Status Ledger::Transitions(store::Transaction& t, const std::vector<int64_t>& run_ids, const std::string& from,
                           const std::string& to, int64_t now, const std::string& reason) {
  if (run_ids.empty()) return OkStatus();
  std::string sql = "INSERT INTO run_transitions (run_id, from_status, to_status, at, reason) VALUES ";
  store::Params params;
  for (size_t i = 0; i < run_ids.size(); ++i) {
    sql += i ? ", (?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?)";
    params.insert(params.end(), {run_ids[i], from.empty() ? store::Param() : store::Param(from), to, now,
                                 reason.empty() ? store::Param() : store::Param(reason)});
  }
  return t.ExecLater(sql, params);
}

Status Ledger::Transition(store::Transaction& t, int64_t run_id, const std::string& from, const std::string& to,
                          int64_t now, const std::string& reason) {
  return Transitions(t, {run_id}, from, to, now, reason);
}

StatusOr<std::vector<RunRecord>> Ledger::List(store::Transaction& t, const RunFilter& f) {
  std::string sql = std::string("SELECT ") + kRunColumns + " FROM processor_runs WHERE 1=1";
  store::Params params;
  if (!f.status.empty()) {
    sql += " AND status = ?";
    params.emplace_back(f.status);
  }
  if (!f.processor.empty()) {
    sql += " AND processor = ?";
    params.emplace_back(f.processor);
  }
  if (!f.data_date.empty()) {
    sql += " AND data_date = ?";
    params.emplace_back(f.data_date);
  }
  sql += " ORDER BY run_id DESC LIMIT ?";
  params.emplace_back(static_cast<int64_t>(f.limit));
  std::vector<RunRecord> out;
  RETURN_IF_ERROR(t.Query(sql, params, [&](const store::Row& r) {
    out.push_back(ReadRun(r));
    return OkStatus();
  }));
  return out;
}

StatusOr<std::optional<RunRecord>> Ledger::Get(store::Transaction& t, int64_t run_id) {
  std::optional<RunRecord> out;
  RETURN_IF_ERROR(t.Query(std::string("SELECT ") + kRunColumns + " FROM processor_runs WHERE run_id = ?", {run_id},
                          [&](const store::Row& r) {
                            out = ReadRun(r);
                            return OkStatus();
                          }));
  return out;
}

StatusOr<std::vector<RunRecord>> Ledger::LatestForDate(store::Transaction& t, const std::string& data_date) {
  std::vector<RunRecord> out;
  RETURN_IF_ERROR(t.Query(std::string("SELECT ") + kRunColumns +
                              " FROM processor_runs WHERE run_id IN (SELECT MAX(run_id) FROM processor_runs "
                              "WHERE data_date = ? GROUP BY processor, partition_key) ORDER BY phase, processor",
                          {data_date}, [&](const store::Row& r) {
                            out.push_back(ReadRun(r));
                            return OkStatus();
                          }));
  return out;
}

StatusOr<std::optional<RunRecord>> Ledger::Latest(store::Transaction& t, const std::string& processor,
                                                  const std::string& partition_key) {
  std::optional<RunRecord> out;
  RETURN_IF_ERROR(t.Query(std::string("SELECT ") + kRunColumns +
                              " FROM processor_runs WHERE processor = ? AND partition_key = ? "
                              "ORDER BY run_id DESC LIMIT 1",
                          {processor, partition_key}, [&](const store::Row& r) {
                            out = ReadRun(r);
                            return OkStatus();
                          }));
  return out;
}

StatusOr<std::vector<std::string>> Ledger::NotSucceeded(store::Transaction& t, const std::string& processor,
                                                       const std::vector<std::string>& partitions) {
  std::vector<std::string> out;
  if (partitions.empty()) return out;
  auto [lo, hi] = std::minmax_element(partitions.begin(), partitions.end());
  std::set<std::string> done;
  RETURN_IF_ERROR(t.Query("SELECT DISTINCT partition_key FROM processor_runs WHERE processor = ? AND "
                          "partition_key >= ? AND partition_key <= ? AND status = 'succeeded'",
                          {processor, *lo, *hi}, [&](const store::Row& r) {
                            done.insert(r.Text(0));
                            return OkStatus();
                          }));
  for (const std::string& part : partitions) {
    if (!done.count(part)) out.push_back(part);
  }
  return out;
}

StatusOr<std::vector<Ledger::OutputVersion>> Ledger::OutputVersions(store::Transaction& t,
                                                                    const std::string& processor,
                                                                    const std::string& from, const std::string& before) {
  std::vector<OutputVersion> out;
  RETURN_IF_ERROR(t.Query("SELECT partition_key, COUNT(*), MAX(run_id) FROM processor_runs WHERE processor = ? AND "
                          "partition_key >= ? AND partition_key < ? AND status = 'succeeded' GROUP BY partition_key "
                          "ORDER BY partition_key",
                          {processor, from, before}, [&](const store::Row& r) {
                            out.push_back({r.Text(0), r.Int(1), r.Int(2)});
                            return OkStatus();
                          }));
  return out;
}

}  // namespace nbaprops::engine
