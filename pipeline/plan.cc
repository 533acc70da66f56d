#include "pipeline/plan.h"

#include <algorithm>
#include <optional>

#include "base/strings.h"
#include "base/time.h"
#include "pipeline/partition.h"

namespace nbaprops::pipeline {
namespace {

using engine::Expectation;
using store::Row;
using store::Transaction;

// At most this many examples of what is missing go into an expectation.
constexpr size_t kExamples = 5;

StatusOr<std::string> Examples(Transaction& t, const std::string& sql, const std::string& date) {
  std::vector<std::string> out;
  RETURN_IF_ERROR(t.Query(sql + " LIMIT " + std::to_string(kExamples), {date}, [&](const Row& r) {
    out.push_back(r.Text(0));
    return OkStatus();
  }));
  return Join(out, ", ");
}

}  // namespace

StatusOr<std::optional<int64_t>> LastSuccess(Transaction& t, const std::string& processor, const std::string& date) {
  return t.QueryInt(
      "SELECT MAX(finished_at) FROM processor_runs WHERE processor = ? AND partition_key = ? AND "
      "status = 'succeeded'",
      {processor, date});
}

StatusOr<int64_t> CountOf(Transaction& t, const std::string& sql, const std::string& date) {
  ASSIGN_OR_RETURN(auto n, t.QueryInt(sql, {date}));
  return n.value_or(0);
}

StatusOr<Expectation> CountedExpectation(Transaction& t, const std::string& processor, const std::string& date,
                                         const std::string& what, int64_t due_ms, const std::string& expected_sql,
                                         const std::string& actual_sql, const std::string& missing_sql) {
  Expectation e{processor, date, date, what, 0, 0, false, due_ms, ""};
  ASSIGN_OR_RETURN(e.expected, CountOf(t, expected_sql, date));
  ASSIGN_OR_RETURN(e.actual, CountOf(t, actual_sql, date));
  if (e.actual < e.expected && !missing_sql.empty()) {
    ASSIGN_OR_RETURN(e.missing, Examples(t, missing_sql, date));
  }
  return e;
}

StatusOr<Expectation> FreshExpectation(Transaction& t, const std::string& processor, const std::string& after,
                                       const std::string& date, const std::string& what, int64_t due_ms) {
  Expectation e{processor, date, date, what, 1, 0, false, due_ms, ""};
  ASSIGN_OR_RETURN(auto mine, LastSuccess(t, processor, date));
  ASSIGN_OR_RETURN(auto theirs, LastSuccess(t, after, date));
  e.actual = mine ? 1 : 0;
  e.stale = mine && theirs && *mine < *theirs;
  return e;
}

StatusOr<std::vector<Expectation>> PlanDate(Transaction& t, const std::string& date, const PlanOptions& o) {
  std::optional<int32_t> day = ParseIsoDate(date);
  if (!day) return InvalidArgumentError("plan date '" + date + "' is not YYYY-MM-DD");
  ASSIGN_OR_RETURN(Slate slate, SlateOf(t, date, *day));
  std::vector<Expectation> out;
  if (slate.games == 0) return out;
  PlanDay d;
  d.date = date;
  d.day = *day;
  d.games = slate.games;
  d.teams = 2 * slate.games;
  d.pre_due_ms = slate.first_tip_s * 1000 - o.pregame_lead_ms;
  d.post_due_ms = slate.last_tip_s * 1000 + o.postgame_delay_ms;
  d.live_games = " AND game_id IN (SELECT game_id FROM raw_schedule WHERE game_date = ?1 AND status != 'postponed')";

  for (const std::string& p : o.pregame_chain) {
    Expectation e{p, date, date, "a successful run of " + p, 1, 0, false, d.pre_due_ms, ""};
    ASSIGN_OR_RETURN(auto at, LastSuccess(t, p, date));
    e.actual = at ? 1 : 0;
    out.push_back(std::move(e));
  }
  auto declared = [&](DeclaresExpectations::When when) -> Status {
    for (const DeclaresExpectations* x : o.declarations) {
      if (x->expected_when() == when) RETURN_IF_ERROR(x->Expect(t, d, &out));
    }
    return OkStatus();
  };
  RETURN_IF_ERROR(declared(DeclaresExpectations::When::kBeforeGames));

  // After the games: nothing below can be made until the box scores are in.
  ASSIGN_OR_RETURN(
      Expectation box,
      CountedExpectation(
          t, "", date, "final games with box scores for both teams", d.post_due_ms,
          "SELECT COUNT(*) FROM raw_schedule WHERE game_date = ?1 AND status != 'postponed'",
          "SELECT COUNT(*) FROM raw_schedule s WHERE s.game_date = ?1 AND s.status = 'final' AND (SELECT "
          "COUNT(DISTINCT b.team) FROM raw_box_scores b WHERE b.game_id = s.game_id) = 2",
          "SELECT s.game_id || ' ' || s.away_team || '@' || s.home_team || ' (' || s.status || ')' FROM raw_schedule "
          "s WHERE s.game_date = ?1 AND s.status != 'postponed' AND (s.status != 'final' OR (SELECT COUNT(DISTINCT "
          "b.team) FROM raw_box_scores b WHERE b.game_id = s.game_id) < 2)"));
  out.push_back(box);
  if (!box.met()) return out;
  RETURN_IF_ERROR(declared(DeclaresExpectations::When::kAfterGames));
  return out;
}

std::vector<const DeclaresExpectations*> Declarations(const engine::Runner& runner) {
  std::vector<const DeclaresExpectations*> out;
  for (const engine::Processor* p : runner.InOrder(0)) {
    if (const auto* x = dynamic_cast<const DeclaresExpectations*>(p)) out.push_back(x);
  }
  return out;
}

std::vector<std::string> PreGameChain(const engine::Runner& runner) {
  std::vector<std::string> out;
  for (int phase : {3, 4}) {
    for (const engine::Processor* p : runner.InOrder(phase)) out.push_back(p->name());
  }
  return out;
}

PlanOptions PlanOptionsOf(const engine::Runner& runner) {
  PlanOptions o;
  o.pregame_chain = PreGameChain(runner);
  o.declarations = Declarations(runner);
  return o;
}

PlanOptions PlanOptionsFrom(const Config& config, const engine::Runner& runner) {
  PlanOptions o = PlanOptionsOf(runner);
  o.lookback_days = config.reconcile_lookback_days;
  return o;
}

engine::ReconcilerOptions ReconcilerOptionsFrom(const Config& config) {
  engine::ReconcilerOptions o;
  o.max_heals_per_cycle = config.max_heals_per_cycle;
  return o;
}

StatusOr<std::vector<Expectation>> PipelinePlanner::Plan(Transaction& t, int64_t now_ms, const std::string& only_date) {
  if (!only_date.empty()) return PlanDate(t, only_date, options_);
  std::vector<Expectation> out;
  const int32_t today = EasternDate(now_ms / 1000);
  for (int32_t d = today - options_.lookback_days; d <= today; ++d) {
    ASSIGN_OR_RETURN(auto day, PlanDate(t, FormatIsoDate(d), options_));
    out.insert(out.end(), day.begin(), day.end());
  }
  return out;
}

}  // namespace nbaprops::pipeline
