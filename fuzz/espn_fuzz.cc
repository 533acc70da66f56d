// Fuzz target: the ESPN scoreboard (ParseEspnScoreboard, pipeline/espn_format.h), and the shape
// detection `nbaprops import` runs first.
#include <string>

#include "base/time.h"
#include "fuzz/fuzz_target.h"
#include "fuzz/payload_checks.h"
#include "pipeline/espn_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nbaprops;
  const std::string_view json = fuzz::AsText(data, size);
  const std::string_view name = "scoreboard.json";
  (void)pipeline::LooksLikeEspnScoreboard(json);
  auto games = pipeline::ParseEspnScoreboard(json, name);
  if (!games.ok()) {
    fuzz::CheckError(games.status());
    return 0;
  }
  fuzz::CheckRejects(games->rejects, name);
  fuzz::CheckRecords(games->records, name);
  for (const pipeline::GameRecord& g : games->records) {
    FUZZ_CHECK(g.game_id.size() > 5 && g.game_id.compare(0, 5, "espn:") == 0);
    // The statuses espn_format.h documents, and nothing else.
    FUZZ_CHECK(g.status == "scheduled" || g.status == "in_progress" || g.status == "final" || g.status == "postponed" ||
               g.status == "canceled");
    // Scores are kept for in-progress and final games only, and are points.
    const bool scored = g.status == "in_progress" || g.status == "final";
    FUZZ_CHECK(scored == g.home_points.has_value() && scored == g.away_points.has_value());
    FUZZ_CHECK(!g.home_points || *g.home_points >= 0);
    FUZZ_CHECK(!g.away_points || *g.away_points >= 0);
    // A game date the rest of the pipeline accepts, and the Eastern date of the tip-off.
    FUZZ_CHECK(IsIsoDate(g.game_date));
    FUZZ_CHECK(g.tipoff_utc && g.game_date == FormatIsoDate(EasternDate(*g.tipoff_utc)));
    FUZZ_CHECK(!g.home_team.empty() && !g.away_team.empty() && g.home_team != g.away_team);
  }
  return 0;
}
