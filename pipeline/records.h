// Normalized records produced by phase-2 parsers, before they are written to raw_* tables.
//
// Every parser (CSV import formats, recorded API responses) turns its input into these plain
// structs plus a list of Rejects; it never touches the store. Writers in pipeline/ persist them.
// Invariant for one parse: records read == records produced + rejects.size().
#ifndef NBAPROPS_PIPELINE_RECORDS_H_
#define NBAPROPS_PIPELINE_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nbaprops::pipeline {

// A record that could not be used, kept with where it came from and why.
struct Reject {
  std::string location;  // "file.csv:17" or "page.json:$.data[3].min"
  std::string reason;    // human sentence: what is wrong and, when useful, what to do
  std::string raw;       // the raw text of the record (CSV line or JSON fragment), truncated to 2 KiB
};

struct GameRecord {
  std::string game_id;
  std::string game_date;             // YYYY-MM-DD, America/New_York
  std::optional<int64_t> tipoff_utc;  // Unix seconds; empty when the tip-off time is unknown
  std::string home_team;             // 3-letter code, e.g. "DEN"
  std::string away_team;
  std::string status = "scheduled";  // scheduled | final | postponed
  std::optional<int> home_points;
  std::optional<int> away_points;
  std::string original_game_date;    // set when the game was postponed from another date
  std::string source;
  std::string location;
};

struct BoxScoreRecord {
  std::string game_id;
  std::string game_date;  // YYYY-MM-DD
  std::string team;       // 3-letter code
  std::string opponent;   // 3-letter code, may be empty when the source does not say
  std::string player_name;
  std::string source_player_id;  // the source's own id (NBA person id for nba_api), may be empty
  double minutes = 0;
  int points = 0;
  std::optional<int> fgm, fga, fg3m, fg3a, ftm, fta, oreb, dreb, reb, ast, stl, blk, tov, pf,
      plus_minus;
  std::optional<bool> starter;
  std::string source;  // e.g. "nba_api", "nba_com", "balldontlie"
  std::string location;  // where in the payload, for example games and error messages
};

struct InjuryRecord {
  int64_t captured_at_utc = 0;  // when the report was seen (Unix seconds)
  std::string report_date;      // YYYY-MM-DD (ET) of the snapshot
  std::string team;
  std::string player_name;
  std::string status;           // canonical: out | doubtful | questionable | probable | available
  std::string status_raw;       // as the source wrote it
  std::string details;
  std::string source;
  std::string location;
};

// One sportsbook's points line for one player at one moment.
struct PropRecord {
  int64_t captured_at_utc = 0;
  std::string game_date;   // YYYY-MM-DD (ET) the source files it under; may be the day after
  std::string player_name;
  std::string team;        // may be empty
  std::string opponent;    // may be empty
  std::string home_away;   // "home" | "away" | ""
  std::string sportsbook;  // lower-case key: draftkings, fanduel, betmgm, pointsbet, ...
  std::string market = "player_points";
  double line = 0;
  std::optional<int> over_price;   // American odds
  std::optional<int> under_price;
  std::string snapshot;    // open | close | live | ""
  std::string source;
  std::string location;
};

struct GameLineRecord {
  std::string game_date;
  std::optional<int64_t> captured_at_utc;
  std::string home_team;
  std::string away_team;
  std::string sportsbook;
  std::optional<double> spread_home;  // negative when the home team is favoured
  std::optional<double> total;
  std::optional<int> home_price;      // moneyline, American odds
  std::optional<int> away_price;
  std::string source;
  std::string location;
};

struct PlayerSeedRecord {
  std::string player_id;               // NBA person id
  std::string player_name;             // canonical display name
  std::vector<std::string> alt_names;  // other spellings seen in other sources
  std::string birth_date;
  std::string location;
};

template <typename T>
struct Parsed {
  std::vector<T> records;
  std::vector<Reject> rejects;
  int64_t read() const { return static_cast<int64_t>(records.size() + rejects.size()); }
};

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_RECORDS_H_
