#include "pipeline/partition.h"

#include <cstdio>

#include "base/strings.h"
#include "base/time.h"
#include "engine/ledger.h"

namespace nbaprops::pipeline {

using store::Row;

StatusOr<std::vector<Game>> GamesOn(store::Transaction& t, const std::string& date) {
  std::vector<Game> games;
  RETURN_IF_ERROR(t.Query("SELECT game_id, home_team, away_team, status, tipoff_utc, home_points, away_points "
                          "FROM raw_schedule WHERE game_date = ? ORDER BY game_id",
                          {date}, [&](const Row& r) {
                            games.push_back({r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.OptInt(4), r.OptInt(5),
                                             r.OptInt(6)});
                            return OkStatus();
                          }));
  return games;
}

int64_t Cutoff(const Game& g, int32_t day) { return g.tipoff ? *g.tipoff : EasternLocalToUtc(day, 12, 0); }

Status RequireDate(const engine::RunContext& ctx, int32_t* day) {
  auto d = ParseIsoDate(ctx.data_date());
  if (!d) return InvalidArgumentError("partition '" + ctx.partition_key() + "' is not a game date (YYYY-MM-DD)");
  *day = *d;
  return OkStatus();
}

int32_t SeasonStart(int32_t day) {
  std::string iso = FormatIsoDate(day);
  int year = std::stoi(iso.substr(0, 4));
  int month = std::stoi(iso.substr(5, 2));
  if (month < 9) --year;
  return *ParseIsoDate(std::to_string(year) + "-09-01");
}

std::string Fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

Status RequireSucceeded(store::Transaction& t, const std::string& processor, const std::vector<std::string>& dates,
                        const std::string& reader) {
  ASSIGN_OR_RETURN(auto pending, engine::Ledger::NotSucceeded(t, processor, dates));
  return NotCompleteFor(processor, pending, reader);
}

Status NotCompleteFor(const std::string& processor, const std::vector<std::string>& pending, const std::string& reader) {
  if (pending.empty()) return OkStatus();
  std::string list = pending.size() > 5 ? Join({pending.begin(), pending.begin() + 5}, ", ") + " and " +
                                              std::to_string(pending.size() - 5) + " more"
                                        : Join(pending, ", ");
  return FailedPreconditionError(processor + " is not complete for earlier date(s) " + list + " that " + reader +
                                 " reads");
}

StatusOr<std::vector<std::string>> FinalGameDates(store::Transaction& t, const std::string& from,
                                                  const std::string& before) {
  std::vector<std::string> dates;
  RETURN_IF_ERROR(t.Query("SELECT DISTINCT game_date FROM raw_schedule WHERE game_date >= ? AND game_date < ? AND "
                          "status = 'final' ORDER BY game_date",
                          {from, before}, [&](const Row& r) {
                            dates.push_back(r.Text(0));
                            return OkStatus();
                          }));
  return dates;
}

StatusOr<Slate> SlateOf(store::Transaction& t, const std::string& date, int32_t day) {
  ASSIGN_OR_RETURN(std::vector<Game> all, GamesOn(t, date));
  Slate s;
  s.first_tip_s = INT64_MAX;
  s.last_tip_s = INT64_MIN;
  for (const Game& g : all) {
    if (g.postponed()) continue;
    ++s.games;
    s.tip_unknown = s.tip_unknown || !g.tipoff;
    const int64_t tip = g.tipoff.value_or(EasternLocalToUtc(day, 19, 0));
    s.first_tip_s = std::min(s.first_tip_s, tip);
    s.last_tip_s = std::max(s.last_tip_s, tip);
  }
  return s;
}

}  // namespace nbaprops::pipeline
