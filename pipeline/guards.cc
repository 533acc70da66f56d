#include "pipeline/guards.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/file.h"
#include "base/stats.h"
#include "base/strings.h"
#include "base/time.h"
#include "engine/incidents.h"
#include "engine/ledger.h"
#include "pipeline/ingest.h"
#include "pipeline/partition.h"

namespace nbaprops::pipeline {
namespace {

using nlohmann::json;
using store::Row;
using store::Transaction;

constexpr char kPredictionsProcessor[] = "player_prop_predictions";
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

std::string Fixed(double v, int digits) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string Percent(double v) { return Fixed(100 * v, 1) + "%"; }

double Round(double v, int digits) {
  const double f = std::pow(10.0, digits);
  return std::round(v * f) / f;
}

std::string AtRiskKey(const std::string& key, const std::string& date) {
  return "deadline_at_risk:" + key + ":" + date;
}
std::string MissedKey(const std::string& key, const std::string& date) { return "deadline_missed:" + key + ":" + date; }

// The writes a check makes (deadline rows, incidents), skipped under dry_run and tallied in the
// report either way, so `nbaprops status` shows what the serve loop would do.
class Effects {
 public:
  Effects(Transaction& t, const GuardOptions& o, int64_t now_ms, GuardReport* report)
      : t_(t), dry_run_(o.dry_run), now_(now_ms), report_(report) {}

  Transaction& txn() { return t_; }
  int64_t now() const { return now_; }

  Status Raise(GuardCheck& c, const std::string& key, const std::string& severity, const std::string& summary,
               const json& details) {
    c.incident_key = key;
    c.severity = severity;
    ++report_->incidents_open;
    if (dry_run_) return OkStatus();
    return engine::OpenIncident(t_, key, severity, summary, details.dump(), now_);
  }

  Status Clear(const std::string& key) {
    ASSIGN_OR_RETURN(auto open, engine::GetOpenIncident(t_, key));
    if (!open) return OkStatus();
    ++report_->incidents_resolved;
    if (dry_run_) return OkStatus();
    return engine::ResolveIncident(t_, key, now_);
  }

  Status Upsert(const std::string& key, const std::string& date, int64_t due_ms, const std::string& status,
                std::optional<int64_t> met_ms, const json& details) {
    if (dry_run_) return OkStatus();
    return t_
        .Exec(
            "INSERT INTO deadlines (deadline_key, data_date, due_at, status, met_at, checked_at, details) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (deadline_key, data_date) DO UPDATE SET "
            "due_at = excluded.due_at, status = excluded.status, met_at = excluded.met_at, "
            "checked_at = excluded.checked_at, details = excluded.details",
            {key, date, due_ms, status, met_ms, now_, details.dump()})
        .status()
        .WithContext("recording deadline " + key + " of " + date);
  }

  Status Drop(const std::string& key, const std::string& date) {
    if (dry_run_) return OkStatus();
    return t_.Exec("DELETE FROM deadlines WHERE deadline_key = ? AND data_date = ?", {key, date}).status();
  }

 private:
  Transaction& t_;
  bool dry_run_;
  int64_t now_;
  GuardReport* report_;
};

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

StatusOr<int64_t> CountOf(Transaction& t, const std::string& sql, const store::Params& params) {
  ASSIGN_OR_RETURN(auto n, t.QueryInt(sql, params));
  return n.value_or(0);
}

StatusOr<int64_t> LivePredictions(Transaction& t, const std::string& date) {
  return CountOf(t, "SELECT COUNT(*) FROM player_prop_predictions WHERE game_date = ? AND superseded_by IS NULL",
                 {date});
}

// Finish (Unix s) of the first succeeded run of `processor` for `date` that finished at or after
// `since_s`; with `need_rows`, only runs that wrote rows.
StatusOr<std::optional<int64_t>> FirstSuccess(Transaction& t, const char* processor, const std::string& date,
                                              int64_t since_s, bool need_rows, const std::string& extra = "") {
  return t.QueryInt(std::string("SELECT MIN(finished_at) FROM processor_runs WHERE processor = ? AND partition_key = ? "
                                "AND status = 'succeeded' AND finished_at >= ?") +
                        (need_rows ? " AND records_out > 0" : "") + extra,
                    {processor, date, since_s});
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

// ---------------------------------------------------------------------------------------------
// Model guard

namespace {

// The model the predictions processor would use for `date` (its CurrentModel rule).
struct ModelInForce {
  std::string file;
  std::string trained_until;
  std::string problem;  // why there is none / it cannot be judged
};

ModelInForce FindModel(const std::string& model_path, const std::string& date) {
  ModelInForce m;
  std::error_code ec;
  m.file = model_path;
  if (std::filesystem::is_directory(model_path, ec)) {
    std::string best;
    for (const auto& e : std::filesystem::directory_iterator(model_path, ec)) {
      const std::string name = e.path().filename().string();
      if (name.size() != 22 || name.rfind("points-", 0) != 0 || name.substr(17) != ".json") continue;
      const std::string until = name.substr(7, 10);
      if (IsIsoDate(until) && until <= date && until > best) best = until;
    }
    if (best.empty()) {
      m.problem = "no model in " + model_path + " was trained until " + date +
                  " or earlier, so predictions use moving_average only";
      return m;
    }
    m.file = model_path + "/points-" + best + ".json";
    m.trained_until = best;
    return m;
  }
  auto text = ReadFile(model_path);
  if (!text.ok()) {
    m.problem = "model file " + model_path + " cannot be read (" + text.status().message() + ")";
    return m;
  }
  json doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("trained_until") || !doc["trained_until"].is_string() ||
      !IsIsoDate(doc["trained_until"].get<std::string>())) {
    m.problem = "model file " + model_path + " has no trained_until date (is it an nbaprops model?)";
    return m;
  }
  m.trained_until = doc["trained_until"].get<std::string>();
  return m;
}

using Window = GradedWindow;

}  // namespace

StatusOr<std::vector<GradedWindow>> LoadGradedWindows(Transaction& t, const std::string& date, int days) {
  std::vector<Window> out;
  RETURN_IF_ERROR(t.Query(
      "SELECT system_id, COUNT(*), MIN(game_date), MAX(game_date), SUM(wins), SUM(losses), SUM(n_mae), "
      "SUM(mae_model * n_mae) / NULLIF(SUM(CASE WHEN mae_model IS NULL THEN 0 ELSE n_mae END), 0), "
      "SUM(mae_line * n_mae) / NULLIF(SUM(CASE WHEN mae_line IS NULL THEN 0 ELSE n_mae END), 0) "
      "FROM (SELECT * FROM prediction_performance_daily p WHERE game_date <= ? AND game_date > COALESCE(("
      "SELECT game_date FROM prediction_performance_daily q WHERE q.system_id = p.system_id AND q.game_date <= ? "
      "ORDER BY game_date DESC LIMIT 1 OFFSET ?), '')) w GROUP BY system_id ORDER BY system_id",
      {date, date, days}, [&](const Row& r) {
        Window w;
        w.system = r.Text(0);
        w.days = r.Int(1);
        w.from = r.Text(2);
        w.to = r.Text(3);
        w.wins = r.Int(4);
        w.losses = r.Int(5);
        w.n_mae = r.Int(6);
        w.mae_model = r.OptDouble(7);
        w.mae_line = r.OptDouble(8);
        out.push_back(std::move(w));
        return OkStatus();
      }));
  return out;
}

namespace {

std::string WindowText(const Window& w) {
  return "the last " + std::to_string(w.days) + " graded days (" + w.from + ".." + w.to + ")";
}

Status JudgeHitRate(Effects& fx, const GuardOptions& o, const Window& w, GuardReport* report) {
  GuardCheck c;
  c.check = "model_hit_rate";
  c.subject = w.system;
  const std::string key = "model_hit_rate:" + w.system;
  const int64_t n = w.wins + w.losses;
  if (n < o.min_window_picks) {
    c.outcome = "skipped";
    c.summary = w.system + ": " + std::to_string(n) + " decided picks in " + WindowText(w) + ", " +
                std::to_string(o.min_window_picks) + " needed to judge the hit rate";
    report->checks.push_back(std::move(c));
    return OkStatus();
  }
  const double hit = static_cast<double>(w.wins) / static_cast<double>(n);
  const Interval ci = WilsonInterval(w.wins, n);
  c.summary = w.system + " hit " + Percent(hit) + " (95% CI " + Percent(ci.lo) + "-" + Percent(ci.hi) + ") of " +
              std::to_string(n) + " decided picks (" + std::to_string(w.wins) + "-" + std::to_string(w.losses) +
              ") over " + WindowText(w);
  if (hit < o.hit_rate_floor && ci.hi < o.break_even_hit_rate) {
    c.outcome = "alert";
    c.summary += ": below " + Percent(o.hit_rate_floor) + " and, even at the top of the interval, below break-even " +
                 Percent(o.break_even_hit_rate) + " at -110. Retrain (`nbaprops train --until " + w.to +
                 "`) or stop publishing its picks";
    json details = {{"system", w.system},
                    {"window", {{"graded_days", w.days}, {"from", w.from}, {"to", w.to}}},
                    {"wins", w.wins},
                    {"losses", w.losses},
                    {"n", n},
                    {"hit_rate", Round(hit, 4)},
                    {"hit_rate_ci95", {Round(ci.lo, 4), Round(ci.hi, 4)}},
                    {"floor", o.hit_rate_floor},
                    {"break_even", Round(o.break_even_hit_rate, 4)}};
    RETURN_IF_ERROR(fx.Raise(c, key, "warning", c.summary, details));
  } else {
    c.outcome = "ok";
    RETURN_IF_ERROR(fx.Clear(key));
  }
  report->checks.push_back(std::move(c));
  return OkStatus();
}

Status JudgeMae(Effects& fx, const GuardOptions& o, const Window& w, GuardReport* report) {
  GuardCheck c;
  c.check = "model_mae";
  c.subject = w.system;
  const std::string key = "model_mae:" + w.system;
  if (w.n_mae < o.min_window_mae || !w.mae_model || !w.mae_line) {
    c.outcome = "skipped";
    c.summary = w.system + ": " + std::to_string(w.n_mae) + " graded picks with errors in " + WindowText(w) + ", " +
                std::to_string(o.min_window_mae) + " needed to judge the MAE";
    report->checks.push_back(std::move(c));
    return OkStatus();
  }
  const double gap = *w.mae_model - *w.mae_line;
  c.summary = w.system + " MAE " + Fixed(*w.mae_model, 2) + " vs line MAE " + Fixed(*w.mae_line, 2) + " (" +
              (gap >= 0 ? "+" : "") + Fixed(gap, 2) + ") over " + std::to_string(w.n_mae) + " graded picks in " +
              WindowText(w);
  if (gap > o.mae_margin) {
    c.outcome = "alert";
    c.summary += ": the model misses by more than the line does (allowed " + Fixed(o.mae_margin, 2) +
                 "), so its edges are noise. Retrain (`nbaprops train --until " + w.to + "`)";
    json details = {{"system", w.system},
                    {"window", {{"graded_days", w.days}, {"from", w.from}, {"to", w.to}}},
                    {"n_mae", w.n_mae},
                    {"mae_model", Round(*w.mae_model, 4)},
                    {"mae_line", Round(*w.mae_line, 4)},
                    {"difference", Round(gap, 4)},
                    {"margin", o.mae_margin}};
    RETURN_IF_ERROR(fx.Raise(c, key, "warning", c.summary, details));
  } else {
    c.outcome = "ok";
    RETURN_IF_ERROR(fx.Clear(key));
  }
  report->checks.push_back(std::move(c));
  return OkStatus();
}

Status JudgeModelAge(Effects& fx, const GuardOptions& o, const std::string& model_path, const ModelInForce& m,
                     const std::string& date, GuardReport* report) {
  GuardCheck c;
  c.check = "model_stale";
  const std::string key = "model_stale";
  if (model_path.empty()) {
    c.subject = "(none)";
    c.outcome = "skipped";
    c.summary = "no model_path configured: predictions use moving_average only";
    RETURN_IF_ERROR(fx.Clear(key));
    report->checks.push_back(std::move(c));
    return OkStatus();
  }
  c.subject = m.file;
  json details = {{"model_path", model_path}, {"date", date}, {"max_age_days", o.model_max_age_days}};
  if (!m.problem.empty()) {
    c.outcome = "alert";
    c.summary =
        "no usable model for " + date + ": " + m.problem + ". Train one with `nbaprops train --until " + date + "`";
    details["problem"] = m.problem;
    RETURN_IF_ERROR(fx.Raise(c, key, "warning", c.summary, details));
    report->checks.push_back(std::move(c));
    return OkStatus();
  }
  const int64_t age = *ParseIsoDate(date) - *ParseIsoDate(m.trained_until);
  details["file"] = m.file;
  details["trained_until"] = m.trained_until;
  details["age_days"] = age;
  if (age < 0) {
    // Predictions refuse a model that has seen the date; that failure is reported by their run.
    c.outcome = "skipped";
    c.summary = "model " + m.file + " was trained until " + m.trained_until + ", after " + date;
    report->checks.push_back(std::move(c));
    return OkStatus();
  }
  c.summary =
      "model " + m.file + " trained until " + m.trained_until + " is " + std::to_string(age) + " days old on " + date;
  if (age > o.model_max_age_days) {
    c.outcome = "alert";
    c.summary += " (at most " + std::to_string(o.model_max_age_days) +
                 " allowed): it has not seen the recent games. Retrain with `nbaprops train --until " + date + "`";
    RETURN_IF_ERROR(fx.Raise(c, key, "warning", c.summary, details));
  } else {
    c.outcome = "ok";
    RETURN_IF_ERROR(fx.Clear(key));
  }
  report->checks.push_back(std::move(c));
  return OkStatus();
}

Status JudgeZeroPicks(Effects& fx, const std::string& date, GuardReport* report) {
  Transaction& t = fx.txn();
  GuardCheck c;
  c.check = "zero_picks";
  c.subject = date;
  const std::string key = "zero_picks:" + date;
  ASSIGN_OR_RETURN(
      int64_t players_with_lines,
      CountOf(t, "SELECT COUNT(DISTINCT player_id) FROM analytics_upcoming_player_lines WHERE game_date = ?", {date}));
  ASSIGN_OR_RETURN(auto ran, FirstSuccess(t, kPredictionsProcessor, date, 0, false));
  json per_system = json::object();
  int64_t live = 0, picks = 0;
  RETURN_IF_ERROR(
      t.Query("SELECT system_id, recommendation, COUNT(*) FROM player_prop_predictions WHERE game_date = ? "
              "AND superseded_by IS NULL GROUP BY system_id, recommendation ORDER BY system_id",
              {date}, [&](const Row& r) {
                per_system[r.Text(0)][r.Text(1)] = r.Int(2);
                live += r.Int(2);
                if (r.Text(1) == "OVER" || r.Text(1) == "UNDER") picks += r.Int(2);
                return OkStatus();
              }));
  const std::string numbers = std::to_string(players_with_lines) + " players with lines, " + std::to_string(live) +
                              " live predictions, " + std::to_string(picks) + " picks";
  if (!ran) {
    c.outcome = "skipped";
    c.summary = date + ": predictions have not run yet (" + numbers + ")";
    report->checks.push_back(std::move(c));
    return OkStatus();
  }
  c.summary = date + ": " + numbers;
  if (players_with_lines > 0 && picks == 0) {
    c.outcome = "alert";
    std::vector<std::string> parts;
    for (auto sys = per_system.begin(); sys != per_system.end(); ++sys) {
      std::vector<std::string> recs;
      for (auto rec = sys->begin(); rec != sys->end(); ++rec) {
        recs.push_back(rec.key() + " " + std::to_string(rec->get<int64_t>()));
      }
      parts.push_back(sys.key() + ": " + Join(recs, ", "));
    }
    c.summary = "zero picks on " + date + " while " + std::to_string(players_with_lines) + " players have lines (" +
                std::to_string(live) + " live predictions" + (parts.empty() ? "" : "; " + Join(parts, "; ")) +
                "). A stale model (see model_stale) or thresholds no edge reaches (predictions.min_edge, "
                "min_probability); `nbaprops status --date " +
                date + "` shows the runs";
    json details = {{"date", date},
                    {"players_with_lines", players_with_lines},
                    {"live_predictions", live},
                    {"picks", picks},
                    {"by_system", per_system}};
    RETURN_IF_ERROR(fx.Raise(c, key, "critical", c.summary, details));
  } else {
    c.outcome = "ok";
    if (players_with_lines == 0) c.summary += " (no lines: no picks expected)";
    RETURN_IF_ERROR(fx.Clear(key));
  }
  report->checks.push_back(std::move(c));
  return OkStatus();
}

}  // namespace

StatusOr<GuardReport> CheckModelGuard(store::Store& store, const GuardOptions& options, const std::string& model_path,
                                      const std::string& date, int64_t now_ms) {
  if (!IsIsoDate(date)) {
    return InvalidArgumentError("model guard date '" + date + "' is not a YYYY-MM-DD calendar date");
  }
  GuardReport report;
  report.checked_at_ms = now_ms;
  // Read the model before taking the write lock: other writers need not wait on the disk.
  const ModelInForce model = model_path.empty() ? ModelInForce{} : FindModel(model_path, date);
  auto body = [&](Transaction& t) -> Status {
    Effects fx(t, options, now_ms, &report);
    ASSIGN_OR_RETURN(std::vector<Window> windows, LoadGradedWindows(t, date, options.window_graded_days));
    for (const Window& w : windows) {
      RETURN_IF_ERROR(JudgeHitRate(fx, options, w, &report));
      RETURN_IF_ERROR(JudgeMae(fx, options, w, &report));
    }
    RETURN_IF_ERROR(JudgeModelAge(fx, options, model_path, model, date, &report));
    return JudgeZeroPicks(fx, date, &report);
  };
  Status st = options.dry_run ? store.WithRead(body) : store.WithWrite(body);
  RETURN_IF_ERROR(st.WithContext("checking the model guard for " + date));
  return report;
}

}  // namespace nbaprops::pipeline
