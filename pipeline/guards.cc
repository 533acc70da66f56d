#include "pipeline/guards.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/file.h"
#include "base/strings.h"
#include "base/time.h"
#include "engine/incidents.h"
#include "engine/ledger.h"
#include "pipeline/guard_effects.h"
#include "pipeline/ingest.h"
#include "pipeline/partition.h"

namespace nbaprops::pipeline {
namespace {

using guard_internal::CountOf;
using guard_internal::Effects;
using guard_internal::FirstSuccess;
using guard_internal::Fixed;
using guard_internal::kPredictionsProcessor;
using guard_internal::Percent;
using guard_internal::Round;
using nlohmann::json;
using store::Row;
using store::Transaction;

constexpr char kGradingProcessor[] = "prediction_accuracy";
constexpr char kExportResultsProcessor[] = "export_results";

std::string Iso(int64_t ms) { return FormatIsoTimestamp(ms / 1000); }

// A duration for people: "40 s", "25 min", "2 h 05 min".
std::string Span(int64_t ms) {
  const int64_t s = (ms < 0 ? -ms : ms) / 1000;
  if (s < 60) return std::to_string(s) + " s";
  const int64_t m = s / 60;
  if (m < 60) return std::to_string(m) + " min";
  return std::to_string(m / 60) + " h " + (m % 60 < 10 ? "0" : "") + std::to_string(m % 60) + " min";
}

std::string AtRiskKey(const std::string& key, const std::string& date) {
  return "deadline_at_risk:" + key + ":" + date;
}
std::string MissedKey(const std::string& key, const std::string& date) { return "deadline_missed:" + key + ":" + date; }

// ---------------------------------------------------------------------------------------------
// Deadlines

struct DeadlineRow {
  std::string key, date, status;
  int64_t due_ms = 0;
  std::optional<int64_t> met_ms;
  json details = json::object();
};

bool Final(const std::string& status) { return status == "met" || status == "met_late"; }

// What the tables say about a one-shot deadline now.
struct Observation {
  int64_t due_ms = 0;
  std::optional<int64_t> met_ms;
  std::string waiting_for;  // what is missing, for people
  std::string dead_run;     // set when the run the deadline waits on is dead: at risk at once
  json details = json::object();
};

StatusOr<int64_t> LivePredictions(Transaction& t, const std::string& date) {
  return CountOf(t, "SELECT COUNT(*) FROM player_prop_predictions WHERE game_date = ? AND superseded_by IS NULL",
                 {date});
}

// "<processor> run 12 is dead (...)" when the latest run of `processor` for the date is dead; else
// empty. Records the latest run's state in `details`.
StatusOr<std::string> DeadRun(Transaction& t, const char* processor, const std::string& date, json* details) {
  ASSIGN_OR_RETURN(auto run, engine::Ledger::Latest(t, processor, date));
  if (!run) return std::string();
  (*details)[std::string("latest_") + processor] = {{"run_id", run->run_id}, {"status", run->status}};
  if (run->status != "dead") return std::string();
  return std::string(processor) + " run " + std::to_string(run->run_id) + " is dead (" + run->error_category + ": " +
         Truncate(run->error_message, 200) + ")";
}

// When the last box score of the date was ingested (Unix s): the first successful parse of each
// box-score payload (its fetch time when no parse run is recorded), the latest over payloads.
StatusOr<std::optional<int64_t>> LastBoxScoreIngest(Transaction& t, const std::string& date) {
  return t.QueryInt(
      "SELECT MAX(COALESCE((SELECT MIN(r.finished_at) FROM processor_runs r WHERE r.processor = ? AND "
      "r.partition_key = 'payload:' || p.payload_id AND r.status = 'succeeded'), p.fetched_at)) FROM raw_payloads p "
      "WHERE p.payload_id IN (SELECT payload_id FROM raw_box_scores WHERE game_date = ?)",
      {kParsePayload, date});
}

StatusOr<Observation> ObservePredictions(Transaction& t, const GuardOptions& o, const std::string& date,
                                         const Slate& slate) {
  Observation ob;
  ob.due_ms = slate.first_tip_s * 1000 - o.predictions_lead_ms;
  ASSIGN_OR_RETURN(int64_t live, LivePredictions(t, date));
  ASSIGN_OR_RETURN(auto first, FirstSuccess(t, kPredictionsProcessor, date, 0, true));
  ASSIGN_OR_RETURN(ob.dead_run, DeadRun(t, kPredictionsProcessor, date, &ob.details));
  if (live > 0 && first) ob.met_ms = *first * 1000;
  ob.waiting_for = !first ? "no player_prop_predictions run for the date has succeeded with rows"
                          : "no live predictions for the date";
  ob.details["games"] = slate.games;
  ob.details["first_tipoff"] = Iso(slate.first_tip_s * 1000);
  ob.details["tipoff_unknown"] = slate.tip_unknown;
  ob.details["live_predictions"] = live;
  return ob;
}

StatusOr<Observation> ObserveGrading(Transaction& t, const GuardOptions& o, const std::string& date, int32_t day,
                                     std::optional<int64_t> box_s) {
  Observation ob;
  ob.due_ms = EasternLocalToUtc(day + 1, o.grading_due_hour_et, o.grading_due_minute_et) * 1000;
  ASSIGN_OR_RETURN(int64_t live, LivePredictions(t, date));
  ASSIGN_OR_RETURN(int64_t graded, CountOf(t, "SELECT COUNT(*) FROM prediction_accuracy WHERE game_date = ?", {date}));
  // With nothing to grade a succeeded run without rows is the whole job.
  ASSIGN_OR_RETURN(auto first, FirstSuccess(t, kGradingProcessor, date, 0, live > 0));
  ASSIGN_OR_RETURN(ob.dead_run, DeadRun(t, kGradingProcessor, date, &ob.details));
  if (first && (graded > 0 || live == 0)) ob.met_ms = *first * 1000;
  ob.waiting_for =
      !first ? "no prediction_accuracy run for the date has succeeded" + std::string(live > 0 ? " with rows" : "")
             : "prediction_accuracy holds no rows for the date";
  ob.details["live_predictions"] = live;
  ob.details["graded_rows"] = graded;
  if (box_s) {
    ob.details["last_box_score_ingested_at"] = Iso(*box_s * 1000);
    if (ob.met_ms) ob.details["latency_box_score_to_graded_s"] = *ob.met_ms / 1000 - *box_s;
  }
  return ob;
}

StatusOr<Observation> ObserveResultsLatency(Transaction& t, const GuardOptions& o, const std::string& date,
                                            int64_t box_s) {
  Observation ob;
  ob.due_ms = box_s * 1000 + o.results_max_latency_ms;
  ASSIGN_OR_RETURN(int64_t live, LivePredictions(t, date));
  ASSIGN_OR_RETURN(auto graded, FirstSuccess(t, kGradingProcessor, date, box_s, live > 0));
  std::optional<int64_t> exported;
  if (graded) {
    // A halted export kept the last good document: the results are not out.
    ASSIGN_OR_RETURN(exported, FirstSuccess(t, kExportResultsProcessor, date, *graded, false,
                                            " AND (details IS NULL OR details NOT LIKE '%\"halt\":%')"));
  }
  ASSIGN_OR_RETURN(ob.dead_run, DeadRun(t, kGradingProcessor, date, &ob.details));
  if (ob.dead_run.empty()) {
    ASSIGN_OR_RETURN(ob.dead_run, DeadRun(t, kExportResultsProcessor, date, &ob.details));
  }
  if (exported) ob.met_ms = *exported * 1000;
  ob.waiting_for = !graded ? "not graded since the last box score (" + Iso(box_s * 1000) + ")"
                           : "graded at " + Iso(*graded * 1000) + " but export_results has not published since";
  ob.details["last_box_score_ingested_at"] = Iso(box_s * 1000);
  ob.details["max_latency_s"] = o.results_max_latency_ms / 1000;
  if (graded) {
    ob.details["graded_at"] = Iso(*graded * 1000);
    ob.details["latency_box_score_to_graded_s"] = *graded - box_s;
  }
  if (exported) {
    ob.details["exported_at"] = Iso(*exported * 1000);
    ob.details["latency_box_score_to_exported_s"] = *exported - box_s;
  }
  return ob;
}

std::string What(const std::string& key) {
  if (key == kDeadlinePredictions) return "predictions";
  if (key == kDeadlineGrading) return "grading";
  if (key == kDeadlineResultsLatency) return "graded results (end to end from the last box score)";
  return "predictions/today.json";
}

std::string Hint(const std::string& date) {
  return "`nbaprops runs --date " + date + "` shows its runs; `nbaprops heal --date " + date +
         "` re-runs what can be re-run";
}

// Judges a predictions / grading / results_latency deadline (see the header for the rules).
Status JudgeOneShot(Effects& fx, const GuardOptions& o, const std::string& key, const std::string& date,
                    const DeadlineRow* existing, Observation ob, GuardReport* report) {
  GuardCheck c;
  c.check = key;
  c.subject = date;
  if (existing && Final(existing->status)) {
    // Met is final: a later re-run does not un-meet a deadline.
    c.outcome = existing->status;
    c.due_at_ms = existing->due_ms;
    c.met_at_ms = existing->met_ms;
    c.summary = What(key) + " for " + date + (existing->status == "met" ? " met at " : " met late at ") +
                Iso(existing->met_ms.value_or(0));
    report->checks.push_back(std::move(c));
    return OkStatus();
  }
  const int64_t now = fx.now();
  const std::string at_key = AtRiskKey(key, date), miss_key = MissedKey(key, date);
  c.due_at_ms = ob.due_ms;
  c.met_at_ms = ob.met_ms;
  ob.details["due_at"] = Iso(ob.due_ms);
  std::string reason = ob.waiting_for;
  if (!ob.dead_run.empty()) reason += "; " + ob.dead_run;
  if (ob.met_ms) {
    c.outcome = *ob.met_ms <= ob.due_ms ? "met" : "met_late";
    c.summary = What(key) + " for " + date + (c.outcome == "met" ? " met at " : " met late at ") + Iso(*ob.met_ms) +
                ", " + Span(*ob.met_ms - ob.due_ms) + (c.outcome == "met" ? " before" : " after") + " its deadline " +
                Iso(ob.due_ms);
    ob.details["met_at"] = Iso(*ob.met_ms);
    ob.details["margin_s"] = (ob.due_ms - *ob.met_ms) / 1000;
    RETURN_IF_ERROR(fx.Clear(at_key));
    RETURN_IF_ERROR(fx.Clear(miss_key));
  } else if (now >= ob.due_ms) {
    c.outcome = "missed";
    c.summary = What(key) + " for " + date + " missed the deadline " + Iso(ob.due_ms) + " by " + Span(now - ob.due_ms) +
                ": " + reason + ". " + Hint(date);
    ob.details["late_by_s"] = (now - ob.due_ms) / 1000;
    RETURN_IF_ERROR(fx.Raise(c, miss_key, "critical", c.summary, ob.details));
  } else if (now >= ob.due_ms - o.at_risk_margin_ms || !ob.dead_run.empty()) {
    c.outcome = "at_risk";
    c.summary = What(key) + " for " + date + " is at risk, due " + Iso(ob.due_ms) + " (in " + Span(ob.due_ms - now) +
                "): " + reason + ". " + Hint(date);
    RETURN_IF_ERROR(fx.Raise(c, at_key, "warning", c.summary, ob.details));
    RETURN_IF_ERROR(fx.Clear(miss_key));
  } else {
    c.outcome = "pending";
    c.summary = What(key) + " for " + date + " due " + Iso(ob.due_ms) + " (in " + Span(ob.due_ms - now) +
                "): " + ob.waiting_for;
    RETURN_IF_ERROR(fx.Clear(at_key));
    RETURN_IF_ERROR(fx.Clear(miss_key));
  }
  ob.details["summary"] = c.summary;
  RETURN_IF_ERROR(fx.Upsert(key, date, ob.due_ms, c.outcome, ob.met_ms, ob.details));
  report->checks.push_back(std::move(c));
  return OkStatus();
}

// predictions/today.json as found on disk.
struct TodayFile {
  bool exists = false;
  std::string date;                   // the document's date
  std::optional<int64_t> written_ms;  // generated_at, else the file's mtime
  std::string halt_reason;            // when the document is halted
  std::string problem;                // why it could not be read
};

TodayFile ReadTodayFile(const std::string& export_dir) {
  TodayFile f;
  const std::string path = export_dir + "/predictions/today.json";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    f.problem = path + " does not exist";
    return f;
  }
  f.exists = true;
  auto text = ReadFile(path);
  if (!text.ok()) {
    f.problem = "cannot read " + path + ": " + text.status().message();
    return f;
  }
  json doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    f.problem = path + " is not a JSON object";
    return f;
  }
  if (doc.contains("date") && doc["date"].is_string()) f.date = doc["date"].get<std::string>();
  if (doc.contains("generated_at") && doc["generated_at"].is_string()) {
    if (auto at = ParseIsoTimestamp(doc["generated_at"].get<std::string>())) f.written_ms = *at * 1000;
  }
  if (!f.written_ms) {
    f.written_ms = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
  }
  if (doc.value("halt_active", false)) {
    f.halt_reason = doc.contains("halt_reason") && doc["halt_reason"].is_string()
                        ? doc["halt_reason"].get<std::string>()
                        : "halted";
  }
  return f;
}

// Judges today.json for a recent date (see the header): re-judged on every check during game
// hours, frozen when they end.
Status JudgeTodayJson(Effects& fx, const GuardOptions& o, const std::string& date, const Slate& slate,
                      const DeadlineRow* existing, const TodayFile& file, GuardReport* report) {
  const std::string key = kDeadlineTodayJson;
  const int64_t now = fx.now();
  const int64_t start = slate.first_tip_s * 1000 - o.game_hours_before_first_tip_ms;
  const int64_t end = slate.last_tip_s * 1000 + o.game_hours_after_last_tip_ms;
  const std::string at_key = AtRiskKey(key, date), miss_key = MissedKey(key, date);
  if (now > end && !existing) return OkStatus();  // game hours passed unobserved, and nothing was recorded

  json details = existing ? existing->details : json::object();
  if (!details.is_object()) details = json::object();
  int64_t misses = details.value("misses", int64_t{0});
  std::optional<int64_t> met_ms = existing ? existing->met_ms : std::nullopt;
  details["game_hours"] = {Iso(start), Iso(end)};
  details["max_age_s"] = o.today_json_max_age_ms / 1000;

  GuardCheck c;
  c.check = key;
  c.subject = date;
  c.due_at_ms = start;
  const std::string what = "predictions/today.json for " + date;
  if (now > end) {
    std::string last = existing->status;
    if (last == "at_risk") last = misses > 0 ? "met_late" : "met";
    c.outcome = last;
    c.summary =
        what + ": game hours ended at " + Iso(end) + " (" + last + ", " + std::to_string(misses) + " stale episode(s))";
    details["closed"] = true;
    RETURN_IF_ERROR(fx.Clear(at_key));
    RETURN_IF_ERROR(fx.Clear(miss_key));
  } else {
    // Past midnight the date's game hours run on while today.json may already be the new day's.
    const std::string now_date = FormatIsoDate(EasternDate(now / 1000));
    const bool readable = file.exists && file.problem.empty() && file.written_ms.has_value();
    const bool for_date = readable && (file.date == date || (now >= start && file.date == now_date));
    const int64_t age = for_date ? now - *file.written_ms : 0;  // meaningful only for_date
    details["file_date"] = file.date.empty() ? json(nullptr) : json(file.date);
    details["age_s"] = for_date ? json(age / 1000) : json(nullptr);
    details.erase("halt_reason");
    if (!file.halt_reason.empty()) details["halt_reason"] = file.halt_reason;
    std::string problem;
    if (!readable) {
      problem = file.problem;
    } else if (!for_date) {
      problem = "it holds " + (file.date.empty() ? std::string("no date") : file.date) + ", not " + date;
    } else if (!file.halt_reason.empty()) {
      problem = "halted: " + file.halt_reason;
    }
    if (now < start) {
      c.outcome = now >= start - o.at_risk_margin_ms && !for_date ? "at_risk" : "pending";
      c.summary = what + ": game hours start " + Iso(start) + " (in " + Span(start - now) + ")" +
                  (c.outcome == "at_risk" ? "; " + problem + ". Predictions for the date must be exported first" : "");
      if (c.outcome == "at_risk") {
        RETURN_IF_ERROR(fx.Raise(c, at_key, "warning", c.summary, details));
      } else {
        RETURN_IF_ERROR(fx.Clear(at_key));
      }
      RETURN_IF_ERROR(fx.Clear(miss_key));
    } else if (!for_date || age > o.today_json_max_age_ms) {
      if (!existing || existing->status != "missed") ++misses;
      c.outcome = "missed";
      c.summary = what + " is stale during game hours: " +
                  (for_date ? "written " + Span(age) + " ago (at most " + Span(o.today_json_max_age_ms) + ")" +
                                  (problem.empty() ? "" : "; " + problem)
                            : problem) +
                  ". export_predictions for " + date + " must refresh it. " + Hint(date);
      RETURN_IF_ERROR(fx.Raise(c, miss_key, "critical", c.summary, details));
    } else if (age > o.today_json_at_risk_age_ms) {
      c.outcome = "at_risk";
      c.summary = what + " is aging: written " + Span(age) + " ago, stale after " + Span(o.today_json_max_age_ms) +
                  (problem.empty() ? "" : "; " + problem);
      RETURN_IF_ERROR(fx.Raise(c, at_key, "warning", c.summary, details));
      RETURN_IF_ERROR(fx.Clear(miss_key));
    } else {
      c.outcome = misses > 0 ? "met_late" : "met";
      if (!met_ms) met_ms = now;
      c.summary = what + " is fresh: written " + Span(age) + " ago";
      RETURN_IF_ERROR(fx.Clear(at_key));
      RETURN_IF_ERROR(fx.Clear(miss_key));
    }
  }
  details["misses"] = misses;
  details["summary"] = c.summary;
  c.met_at_ms = met_ms;
  RETURN_IF_ERROR(fx.Upsert(key, date, start, c.outcome, met_ms, details));
  report->checks.push_back(std::move(c));
  return OkStatus();
}

}  // namespace

StatusOr<std::optional<std::pair<int64_t, int64_t>>> GameHours(store::Store& store, const GuardOptions& o,
                                                               const std::string& date) {
  std::optional<int32_t> day = ParseIsoDate(date);
  if (!day) return InvalidArgumentError("game hours: '" + date + "' is not a date YYYY-MM-DD");
  std::optional<std::pair<int64_t, int64_t>> out;
  RETURN_IF_ERROR(store.WithRead([&](Transaction& t) -> Status {
    ASSIGN_OR_RETURN(Slate slate, SlateOf(t, date, *day));
    if (slate.games > 0) {
      out = std::pair(slate.first_tip_s * 1000 - o.game_hours_before_first_tip_ms,
                      slate.last_tip_s * 1000 + o.game_hours_after_last_tip_ms);
    }
    return OkStatus();
  }));
  return out;
}

StatusOr<GuardReport> CheckDeadlines(store::Store& store, const GuardOptions& options, const std::string& export_dir,
                                     int64_t now_ms) {
  GuardReport report;
  report.checked_at_ms = now_ms;
  // Read the file before taking the write lock: other writers need not wait on the disk.
  const TodayFile today_file = ReadTodayFile(export_dir);
  const int32_t today = EasternDate(now_ms / 1000);
  std::set<std::string> recent;
  for (int32_t d = today - 1; d <= today + 1; ++d) recent.insert(FormatIsoDate(d));

  auto body = [&](Transaction& t) -> Status {
    Effects fx(t, options, now_ms, &report);
    std::map<std::pair<std::string, std::string>, DeadlineRow> rows;  // (date, key)
    std::set<std::string> dates = recent;
    // Unmet deadlines of older dates are judged until met, so their incidents resolve; a
    // today_json row of an older date only until its game hours are closed (it is about the
    // current file, nothing later can change it).
    std::string in;
    for (size_t i = 0; i < recent.size(); ++i) in += i ? ", ?" : "?";
    store::Params params(recent.begin(), recent.end());
    RETURN_IF_ERROR(
        t.Query("SELECT deadline_key, data_date, due_at, status, met_at, details FROM deadlines WHERE "
                "data_date IN (" +
                    in + ") OR status IN ('pending', 'at_risk', 'missed')",
                params, [&](const Row& r) {
                  DeadlineRow row{r.Text(0), r.Text(1), r.Text(3), r.Int(2), r.OptInt(4), json::object()};
                  if (!r.IsNull(5)) {
                    row.details = json::parse(r.Text(5), nullptr, false);
                    if (!row.details.is_object()) row.details = json::object();
                  }
                  if (row.key == kDeadlineTodayJson && row.details.value("closed", false) && !recent.count(row.date)) {
                    return OkStatus();
                  }
                  dates.insert(row.date);
                  rows[{row.date, row.key}] = std::move(row);
                  return OkStatus();
                }));
    for (const std::string& date : dates) {
      const std::optional<int32_t> day = ParseIsoDate(date);
      if (!day) continue;  // not a game date: nothing of ours
      auto find = [&](const std::string& key) -> const DeadlineRow* {
        auto it = rows.find({date, key});
        return it == rows.end() ? nullptr : &it->second;
      };
      ASSIGN_OR_RETURN(Slate slate, SlateOf(t, date, *day));
      if (slate.games == 0) {
        // No games (any more): nothing is due. Unmet rows go, and their incidents with them.
        for (const char* key : {kDeadlinePredictions, kDeadlineGrading, kDeadlineResultsLatency, kDeadlineTodayJson}) {
          const DeadlineRow* row = find(key);
          if (!row || Final(row->status)) continue;
          RETURN_IF_ERROR(fx.Clear(AtRiskKey(key, date)));
          RETURN_IF_ERROR(fx.Clear(MissedKey(key, date)));
          RETURN_IF_ERROR(fx.Drop(key, date));
          report.checks.push_back({key, date, "dropped", "no games on " + date + " any more: nothing is due", "", "",
                                   row->due_ms, std::nullopt});
        }
        continue;
      }
      ASSIGN_OR_RETURN(Observation preds, ObservePredictions(t, options, date, slate));
      RETURN_IF_ERROR(
          JudgeOneShot(fx, options, kDeadlinePredictions, date, find(kDeadlinePredictions), std::move(preds), &report));
      ASSIGN_OR_RETURN(std::optional<int64_t> box_s, LastBoxScoreIngest(t, date));
      ASSIGN_OR_RETURN(Observation grading, ObserveGrading(t, options, date, *day, box_s));
      RETURN_IF_ERROR(
          JudgeOneShot(fx, options, kDeadlineGrading, date, find(kDeadlineGrading), std::move(grading), &report));
      if (box_s) {
        ASSIGN_OR_RETURN(Observation latency, ObserveResultsLatency(t, options, date, *box_s));
        RETURN_IF_ERROR(JudgeOneShot(fx, options, kDeadlineResultsLatency, date, find(kDeadlineResultsLatency),
                                     std::move(latency), &report));
      }
      if (recent.count(date) || find(kDeadlineTodayJson)) {
        RETURN_IF_ERROR(JudgeTodayJson(fx, options, date, slate, find(kDeadlineTodayJson), today_file, &report));
      }
    }
    return OkStatus();
  };
  Status st = options.dry_run ? store.WithRead(body) : store.WithWrite(body);
  RETURN_IF_ERROR(st.WithContext("checking deadlines"));
  return report;
}

}  // namespace nbaprops::pipeline
