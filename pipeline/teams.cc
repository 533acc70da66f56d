#include "pipeline/teams.h"

#include <array>

#include "base/strings.h"

namespace nbaprops::pipeline {
namespace {

struct Team {
  const char* code;
  const char* city;
  const char* nickname;
  const char* variants;  // space-separated other codes used by sources
};

constexpr std::array<Team, 30> kTeams = {{
    {"ATL", "atlanta", "hawks", ""},
    {"BOS", "boston", "celtics", ""},
    {"BKN", "brooklyn", "nets", "BRK BKLYN"},
    {"CHA", "charlotte", "hornets", "CHO CHH"},
    {"CHI", "chicago", "bulls", ""},
    {"CLE", "cleveland", "cavaliers", ""},
    {"DAL", "dallas", "mavericks", ""},
    {"DEN", "denver", "nuggets", ""},
    {"DET", "detroit", "pistons", ""},
    {"GSW", "golden state", "warriors", "GS"},
    {"HOU", "houston", "rockets", ""},
    {"IND", "indiana", "pacers", ""},
    {"LAC", "los angeles", "clippers", "LA"},
    {"LAL", "los angeles", "lakers", ""},
    {"MEM", "memphis", "grizzlies", ""},
    {"MIA", "miami", "heat", ""},
    {"MIL", "milwaukee", "bucks", ""},
    {"MIN", "minnesota", "timberwolves", ""},
    {"NOP", "new orleans", "pelicans", "NO NOR"},
    {"NYK", "new york", "knicks", "NY"},
    {"OKC", "oklahoma city", "thunder", ""},
    {"ORL", "orlando", "magic", ""},
    {"PHI", "philadelphia", "76ers", ""},
    {"PHX", "phoenix", "suns", "PHO"},
    {"POR", "portland", "trail blazers", ""},
    {"SAC", "sacramento", "kings", ""},
    {"SAS", "san antonio", "spurs", "SA"},
    {"TOR", "toronto", "raptors", ""},
    {"UTA", "utah", "jazz", "UTAH"},
    {"WAS", "washington", "wizards", "WSH"},
}};

}  // namespace

bool IsTeamCode(std::string_view code) {
  for (const Team& t : kTeams) {
    if (code == t.code) return true;
  }
  return false;
}

std::optional<std::string> NormalizeTeam(std::string_view raw) {
  std::string s = ToLower(Trim(raw));
  if (s.empty()) return std::nullopt;
  std::string up = ToUpper(s);
  for (const Team& t : kTeams) {
    if (up == t.code) return std::string(t.code);
  }
  for (const Team& t : kTeams) {
    for (const std::string& v : Split(t.variants, ' ')) {
      if (!v.empty() && up == v) return std::string(t.code);
    }
  }
  if (s == "la clippers" || s == "los angeles clippers" || s == "l.a. clippers") return std::string("LAC");
  if (s == "blazers" || s == "portland trailblazers") return std::string("POR");
  if (s == "sixers") return std::string("PHI");
  for (const Team& t : kTeams) {
    if (s == t.nickname || s == std::string(t.city) + " " + t.nickname) return std::string(t.code);
  }
  return std::nullopt;
}

}  // namespace nbaprops::pipeline
