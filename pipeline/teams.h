// NBA team codes. Everything stored uses the 30 three-letter codes below (ATL ... WAS);
// sources' variants (GS, NO, NY, SA, PHO, UTAH, WSH, BRK, CHO, full names) are mapped here.
#ifndef NBAPROPS_PIPELINE_TEAMS_H_
#define NBAPROPS_PIPELINE_TEAMS_H_

#include <optional>
#include <string>
#include <string_view>

namespace nbaprops::pipeline {

// The canonical code for a code, a variant or a full/short name ("Golden State Warriors",
// "Warriors", "GS"); nullopt when unknown. Case-insensitive.
std::optional<std::string> NormalizeTeam(std::string_view team);
bool IsTeamCode(std::string_view code);

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_TEAMS_H_
