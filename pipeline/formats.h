// Import formats: detection of a payload's kind and parsing it into normalized records.
//
// Our own CSV formats are documented in docs/import-formats.md (schedule, box_scores, injuries,
// player_props, game_lines, players). Also recognized: RotoWire prop-page snapshots
// (PlayerName,opp,Prop,Over_Under,<books>...), balldontlie /v1/stats pages, The Odds API v4
// event odds and ESPN scoreboards (pipeline/espn_format.h). Parsing never touches the store; every unusable record becomes a Reject with
// file:line and a reason, and records read == records produced + rejects.
#ifndef NBAPROPS_PIPELINE_FORMATS_H_
#define NBAPROPS_PIPELINE_FORMATS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "pipeline/records.h"

namespace nbaprops::pipeline {

enum class ImportKind {
  kUnknown,
  kSchedule,
  kBoxScores,
  kInjuries,
  kPlayerProps,
  kGameLines,
  kPlayers,
  kRotowireProps,
  kBalldontlieStats,
  kOddsApiEventOdds,
  kEspnScoreboard,
};

std::string_view KindName(ImportKind kind);
std::optional<ImportKind> KindFromName(std::string_view name);
std::string AllKindNames();

struct Detection {
  ImportKind kind = ImportKind::kUnknown;
  // Set when the file resembles a kind but cannot be read as one (e.g. a required column is
  // missing): the import fails with this message instead of skipping the file.
  std::string problem;
};
Detection DetectKind(std::string_view content);

// Everything parsed from one payload; only the vector matching `kind` is filled.
struct ParsedPayload {
  ImportKind kind = ImportKind::kUnknown;
  std::vector<GameRecord> games;
  std::vector<BoxScoreRecord> box_scores;
  std::vector<InjuryRecord> injuries;
  std::vector<PropRecord> props;
  std::vector<GameLineRecord> game_lines;
  std::vector<PlayerSeedRecord> players;
  std::vector<Reject> rejects;
  int64_t produced() const {
    return static_cast<int64_t>(games.size() + box_scores.size() + injuries.size() + props.size() +
                                game_lines.size() + players.size());
  }
  int64_t read() const { return produced() + static_cast<int64_t>(rejects.size()); }
};

// `name` labels locations in messages (usually the file name). `fetched_at` (Unix seconds) is
// the capture time for formats that carry none in their rows (RotoWire snapshots take it from a
// `YYYYMMDDTHHMMSSZ` file-name prefix when present). Payload-level problems (a missing column,
// invalid JSON, an unknown kind) return an error and nothing is produced.
StatusOr<ParsedPayload> ParsePayload(ImportKind kind, std::string_view content, const std::string& name,
                                     int64_t fetched_at);

// Helpers exposed for tests.
std::optional<double> ParseMinutes(std::string_view s);  // "36", "36.5", "36:47"
std::string CanonicalInjuryStatus(std::string_view status, std::string_view details);

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_FORMATS_H_
