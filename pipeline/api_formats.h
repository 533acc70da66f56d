// Adapters for two recorded API responses. Parsers only: fetchers save the payloads and
// `nbaprops import` reads them back through ParsePayload (pipeline/formats.h).
//
//   balldontlie v1 `/v1/stats` page         -> one BoxScoreRecord per `data[]` item
//   The Odds API v4 `/v4/sports/{sport}/events/{eventId}/odds`
//                                           -> one PropRecord per (bookmaker, player, line) of the
//                                              `player_points` market; other markets are skipped
//
// and for the two listings the scrapers (pipeline/http_sources.cc) read to know what to expect:
//
//   balldontlie v1 `/v1/games` page         -> one BdlGame per `data[]` object
//   The Odds API v4 `/v4/sports/{sport}/events`
//                                           -> one OddsEvent per array element
//
// Two tiers of failure:
//   - The payload as a whole cannot be trusted: nothing is produced and a Status says why.
//     kInvalidArgument: the bytes are not JSON (usually a truncated download; re-fetch the file).
//     kDataLoss ("schema_mismatch"): the shape changed, e.g. a top-level field is missing or an
//     item field is absent from every item (renamed upstream); the adapter must be updated, and
//     rejecting each record one by one would only bury that message.
//   - One item is unusable: it becomes a Reject located by JSON path
//     ("stats_page1.json:$.data[3].min") with the item's JSON as raw text; other items still parse.
//
// Invariant: for every successful parse, read() == records + rejects == the items counted as read
// (defined per function below). All functions are pure and thread-safe.
#ifndef NBAPROPS_PIPELINE_API_FORMATS_H_
#define NBAPROPS_PIPELINE_API_FORMATS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "pipeline/records.h"

namespace nbaprops::pipeline {

struct BalldontlieStatsPage {
  Parsed<BoxScoreRecord> stats;
  std::optional<int64_t> next_cursor;  // meta.next_cursor; empty on the last page
};

// One page of /v1/stats. An item read is one `data[]` element. `location` names the payload in
// messages and in each record's `location` ("stats_page1.json:$.data[0]").
//
// Mapping: `min` "36:47" -> 36.783 ("36", "", "00" and null also accepted; a DNP with 0 minutes is
// a valid record); `turnover` -> tov; player -> "First Last", source_player_id "bdl:<player.id>";
// game_id "bdl:<game.id>"; game_date is the date part of `game.date` exactly as written (never
// shifted between time zones). The page names only each row's own team, so `opponent` is filled
// only when the other team's abbreviation appears elsewhere on the same page; otherwise it is empty.
StatusOr<BalldontlieStatsPage> ParseBalldontlieStats(std::string_view json, std::string_view location);

// One game of a /v1/games page: which box scores the date should have.
struct BdlGame {
  int64_t id = 0;       // game.id; the stats rows of this game have game_id "bdl:<id>"
  std::string status;   // as written: "Final", or a time / quarter while scheduled or live; "" if absent
  std::string matchup;  // "<visitor abbreviation> at <home abbreviation>" ("LAL at ATL"); "?" for one absent or empty
};

struct BdlGamesPage {
  std::vector<BdlGame> games;
  std::optional<int64_t> next_cursor;  // meta.next_cursor; empty on the last page
};

// One page of /v1/games?dates[]=D. An item read is one `data[]` element that is an object; other
// elements are skipped. This listing only says what to expect, so it has no per-item tier: a game
// whose `id` is not a whole number makes the whole page kDataLoss (a box score could not be matched
// to it), as does `meta.next_cursor` that is not a whole number (same rule as ParseBalldontlieStats).
StatusOr<BdlGamesPage> ParseBdlGamesPage(std::string_view json, std::string_view location);

// One event's odds. An item read is one (bookmaker, player description, point) pair of Over/Under
// outcomes in a `player_points` market, plus any outcome that cannot be paired (no `point`, no
// player, not Over/Under), which is rejected on its own. A pair with only one side keeps that one
// price. captured_at_utc = market.last_update, else bookmaker.last_update, else `fetched_at`
// (Unix seconds); game_date = the Eastern date of commence_time. The API does not say which team a
// player is on, so team, opponent and home_away are left empty.
StatusOr<Parsed<PropRecord>> ParseOddsApiEventOdds(std::string_view json, std::string_view location,
                                                   int64_t fetched_at);

// One event of The Odds API events list: what to ask odds for.
struct OddsEvent {
  std::string id;         // the API's event id, never empty
  std::string matchup;    // "<away_team> at <home_team>" ("Los Angeles Lakers at Atlanta Hawks"), "?" for one not given
  std::string game_date;  // YYYY-MM-DD: the Eastern date of commence_time
};

// The events list (/v4/sports/basketball_nba/events). An item read is one array element that is an
// object; other elements are skipped. No per-item tier either: an event without a non-empty text
// `id`, or whose `commence_time` is not an ISO-8601 time (or Unix seconds, with dateFormat=unix),
// makes the whole list kDataLoss, since its odds could not be requested or dated.
StatusOr<std::vector<OddsEvent>> ParseOddsEvents(std::string_view json, std::string_view location);

// Shape detection for `nbaprops import`: true when the JSON root looks like that API's response.
// They read only the start of the document, so a truncated payload is still recognized (and then
// fails to parse with a message that says it is truncated) instead of being reported as unknown.
bool LooksLikeBalldontlieStats(std::string_view json);
bool LooksLikeOddsApiEventOdds(std::string_view json);

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_API_FORMATS_H_
