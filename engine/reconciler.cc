#include "engine/reconciler.h"

#include <algorithm>
#include <map>
#include <set>

#include "base/strings.h"
#include "engine/incidents.h"
#include "engine/ledger.h"

namespace nbaprops::engine {
namespace {

using Key = std::pair<std::string, std::string>;  // (processor, partition)

std::string Reason(const Expectation& e) {
  std::string r = e.what + ": " + std::to_string(e.actual) + " of " + std::to_string(e.expected);
  if (e.stale) r += ", older than its inputs";
  if (!e.missing.empty()) r += " (missing: " + e.missing + ")";
  return r;
}

// Every processor `name` reads from, directly or through other processors.
void TransitiveInputs(const Runner& runner, const std::string& name, std::set<std::string>* out) {
  const Processor* p = runner.Find(name);
  if (!p) return;
  for (const std::string& in : p->inputs()) {
    if (out->insert(in).second) TransitiveInputs(runner, in, out);
  }
}

}  // namespace

Reconciler::Reconciler(Runner& runner, Planner& planner, const Clock& clock, ReconcilerOptions options)
    : runner_(runner), planner_(planner), clock_(clock), options_(options) {}

StatusOr<ReconcileResult> Reconciler::RunOnce(bool dry_run, const std::string& only_date) {
  const int64_t now_ms = clock_.NowMillis();
  ReconcileResult res;
  RETURN_IF_ERROR(runner_.store().WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(res.planned, planner_.Plan(t, now_ms, only_date));
    return OkStatus();
  }));

  std::set<Key> unmet_keys, met_keys;
  std::set<std::string> partitions;
  for (const Expectation& e : res.planned) {
    partitions.insert(e.partition_key);
    if (e.processor.empty()) continue;
    (e.met() ? met_keys : unmet_keys).insert({e.processor, e.partition_key});
  }
  for (const Key& k : unmet_keys) met_keys.erase(k);  // met only when every expectation of it is

  auto decide = [&](store::Transaction& t) -> Status {
    res.unmet.clear();
    res.enqueued = 0;
    std::map<Key, const HealDecision*> decided;
    std::map<std::string, std::vector<std::string>> missing_inputs;  // partition -> what, past due
    std::vector<HealDecision> out;
    out.reserve(res.planned.size());
    for (const Expectation& e : res.planned) {
      if (e.met()) continue;
      HealDecision d;
      d.expectation = e;
      d.reason = Reason(e);
      const Key key{e.processor, e.partition_key};
      if (now_ms < e.due_ms) {
        d.decision = "not_due";
      } else if (e.processor.empty()) {
        d.decision = "no_processor";
        missing_inputs[e.partition_key].push_back(d.reason);
      } else if (auto it = decided.find(key); it != decided.end()) {
        d.decision = it->second->decision;  // the same run answers every expectation of the processor
        d.run_id = it->second->run_id;
      } else {
        std::set<std::string> upstream;
        TransitiveInputs(runner_, e.processor, &upstream);
        bool waiting = false;
        for (const std::string& in : upstream) waiting = waiting || unmet_keys.count({in, e.partition_key}) > 0;
        const Processor* p = runner_.Find(e.processor);
        if (waiting) {
          d.decision = "waiting_for_upstream";
        } else if (!p) {
          d.decision = "no_processor";
          d.reason += "; processor " + e.processor + " is not registered here";
        } else {
          ASSIGN_OR_RETURN(auto live, t.QueryInt("SELECT run_id FROM processor_runs WHERE processor = ? AND "
                                                 "partition_key = ? AND status IN ('queued', 'running')",
                                                 {e.processor, e.partition_key}));
          ASSIGN_OR_RETURN(auto dead,
                           t.QueryInt("SELECT id FROM dead_letters WHERE processor = ? AND partition_key = ? AND "
                                      "status = 'open' AND category IN ('bad_input', 'schema_mismatch', "
                                      "'config_error', 'internal')",
                                      {e.processor, e.partition_key}));
          ASSIGN_OR_RETURN(auto next_heal, t.QueryInt("SELECT next_heal_at FROM heal_state WHERE processor = ? AND "
                                                      "partition_key = ?",
                                                      {e.processor, e.partition_key}));
          if (live) {
            d.decision = "in_progress";
            d.run_id = *live;
          } else if (dead) {
            d.decision = "dead_letter";
            d.dead_letter_id = *dead;
          } else if (next_heal && *next_heal > now_ms) {
            d.decision = "backoff";
            d.backoff_until_ms = *next_heal;
          } else if (res.enqueued >= options_.max_heals_per_cycle) {
            d.decision = "budget";
          } else {
            d.decision = "enqueued";
            ++res.enqueued;
            if (!dry_run) {
              RunStart start{p->name(), p->phase(), e.partition_key, e.data_date, "self_heal",
                             std::nullopt, 1, 0, std::nullopt};
              ASSIGN_OR_RETURN(d.run_id, Ledger::Enqueue(t, start, now_ms / 1000));
              // The reason goes on the run (until it finishes and records its own details) and, for
              // good, on its `queued` transition.
              const std::string details = "{\"heal_reason\":" + JsonQuoted(d.reason) + "}";
              RETURN_IF_ERROR(
                  t.Exec("UPDATE processor_runs SET details = ? WHERE run_id = ?", {details, d.run_id}).status());
              RETURN_IF_ERROR(t.Exec("UPDATE run_transitions SET reason = ? WHERE run_id = ? AND to_status = 'queued'",
                                     {"trigger=self_heal: " + d.reason, d.run_id})
                                  .status());
              ASSIGN_OR_RETURN(auto heals, t.QueryInt("SELECT heals FROM heal_state WHERE processor = ? AND "
                                                      "partition_key = ?",
                                                      {e.processor, e.partition_key}));
              const int64_t n = heals.value_or(0);
              const int64_t wait = std::min<int64_t>(options_.backoff_cap_ms,
                                                     options_.backoff_base_ms << std::min<int64_t>(n, 20));
              RETURN_IF_ERROR(t.Exec("INSERT INTO heal_state (processor, partition_key, heals, last_heal_at, "
                                     "next_heal_at, last_reason) VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT (processor, "
                                     "partition_key) DO UPDATE SET heals = heal_state.heals + 1, last_heal_at = "
                                     "excluded.last_heal_at, next_heal_at = excluded.next_heal_at, last_reason = "
                                     "excluded.last_reason",
                                     {e.processor, e.partition_key, now_ms, now_ms + wait, d.reason})
                                  .status());
              const std::string incident = "heal:" + e.processor + ":" + e.partition_key;
              RETURN_IF_ERROR(OpenIncident(t, incident, "info",
                                           "self-heal: re-running " + e.processor + " for " + e.partition_key +
                                               " (heal " + std::to_string(n + 1) + "): " + d.reason,
                                           details, now_ms));
              RETURN_IF_ERROR(LinkIncidentRuns(t, incident, {d.run_id}));
            }
          }
        }
        out.push_back(d);
        decided[key] = &out.back();
        continue;
      }
      out.push_back(d);
    }
    res.unmet = std::move(out);
    if (dry_run) return OkStatus();

    // What is met again: its heal incident resolves and its backoff starts over.
    for (const Key& k : met_keys) {
      RETURN_IF_ERROR(ResolveIncident(t, "heal:" + k.first + ":" + k.second, now_ms));
      RETURN_IF_ERROR(
          t.Exec("DELETE FROM heal_state WHERE processor = ? AND partition_key = ?", {k.first, k.second}).status());
    }
    for (const std::string& part : partitions) {
      const std::string key = "missing_input:" + part;
      auto it = missing_inputs.find(part);
      if (it == missing_inputs.end()) {
        RETURN_IF_ERROR(ResolveIncident(t, key, now_ms));
        continue;
      }
      std::string summary = part + ": input data missing past its due time, no processor can produce it: ";
      for (size_t i = 0; i < it->second.size(); ++i) summary += (i ? "; " : "") + it->second[i];
      RETURN_IF_ERROR(OpenIncident(t, key, "warning", summary, "{}", now_ms));
    }
    return OkStatus();
  };
  // `decided` refers into `out`, which is reserved up front so the addresses stay valid.
  if (dry_run) {
    RETURN_IF_ERROR(runner_.store().WithRead(decide));
  } else {
    RETURN_IF_ERROR(runner_.store().WithWrite(decide));
  }
  return res;
}

}  // namespace nbaprops::engine
