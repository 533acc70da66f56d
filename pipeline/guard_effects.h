// Internal to the guards (pipeline/guards.cc: deadlines; pipeline/model_guard.cc: the model
// guard): the writes a check makes and small formatting helpers. Not for other callers.
#ifndef NBAPROPS_PIPELINE_GUARD_EFFECTS_H_
#define NBAPROPS_PIPELINE_GUARD_EFFECTS_H_

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/incidents.h"
#include "pipeline/guards.h"
#include "store/store.h"

namespace nbaprops::pipeline::guard_internal {

using nlohmann::json;
using store::Transaction;

inline constexpr char kPredictionsProcessor[] = "player_prop_predictions";

inline std::string Fixed(double v, int digits) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

inline std::string Percent(double v) { return Fixed(100 * v, 1) + "%"; }

inline double Round(double v, int digits) {
  const double f = std::pow(10.0, digits);
  return std::round(v * f) / f;
}

inline StatusOr<int64_t> CountOf(Transaction& t, const std::string& sql, const store::Params& params) {
  ASSIGN_OR_RETURN(auto n, t.QueryInt(sql, params));
  return n.value_or(0);
}

// Finish (Unix s) of the first succeeded run of `processor` for `date` that finished at or after
// `since_s`; with `need_rows`, only runs that wrote rows.
inline StatusOr<std::optional<int64_t>> FirstSuccess(Transaction& t, const char* processor, const std::string& date,
                                                     int64_t since_s, bool need_rows, const std::string& extra = "") {
  return t.QueryInt(std::string("SELECT MIN(finished_at) FROM processor_runs WHERE processor = ? AND partition_key = ? "
                                "AND status = 'succeeded' AND finished_at >= ?") +
                        (need_rows ? " AND records_out > 0" : "") + extra,
                    {processor, date, since_s});
}

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

}  // namespace nbaprops::pipeline::guard_internal

#endif  // NBAPROPS_PIPELINE_GUARD_EFFECTS_H_
