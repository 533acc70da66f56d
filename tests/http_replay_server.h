// A local replay server for the HTTP source tests: cpp-httplib on 127.0.0.1 (ephemeral port) serving
// the recorded-shape responses of tests/fixtures/http/ for balldontlie v1, The Odds API v4 and the
// ESPN scoreboard, with switches that make it misbehave the way real sources do.
//
//   GET /v1/games, /v1/stats        ?dates[]=D&per_page=N&cursor=C  (Authorization: <bdl key>)
//   GET /v4/sports/basketball_nba/events            ?apiKey=K&commenceTimeFrom=..&commenceTimeTo=..
//   GET /v4/sports/basketball_nba/events/{id}/odds  ?apiKey=K  (costs 1 request of the quota)
//   GET /apis/site/v2/sports/basketball/nba/scoreboard?dates=YYYYMMDD
//   POST /hook/...                                  a webhook sink (200)
//
// Every 200 carries an ETag; a matching If-None-Match gets 304. The Odds API answers carry
// x-requests-remaining / x-requests-used / x-requests-last; at 0 remaining it answers 401
// OUT_OF_USAGE_CREDITS like the real API.
//
// Thread-safety: switches and the request log are guarded by a mutex; set switches between scrapes.
#ifndef NBAPROPS_TESTS_HTTP_REPLAY_SERVER_H_
#define NBAPROPS_TESTS_HTTP_REPLAY_SERVER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace nbaprops::testing {

// The recorded-shape responses the server replays.
inline std::string HttpFixtureDir() { return std::string(NBAPROPS_SOURCE_DIR) + "/tests/fixtures/http"; }
// The API keys the tests configure (sources and server alike), made to be searched for: no log
// line and no stored byte may contain them.
inline constexpr char kTestBdlKey[] = "bdl-key-7f3a9c21-do-not-log";
inline constexpr char kTestOddsKey[] = "odds-key-c0ffee42-do-not-log";

struct ReplaySwitches {
  // Faults apply to requests whose path starts with `fault_path` (empty: every path), each for the
  // next N matching requests (-1: every one).
  std::string fault_path;
  int fail_429 = 0;
  int retry_after_s = 1;  // sent with each 429 (0: no Retry-After header)
  int fail_500 = 0;
  int slow = 0;
  int slow_ms = 0;   // how long a slow answer waits before it is sent
  int truncate = 0;  // 200 with the body cut in half (valid Content-Length, invalid JSON)
  // Renames a JSON key in every body of the fault path: "pts" -> "points".
  std::string rename_from, rename_to;
  bool empty_pages = false;       // /v1/stats answers {"data": [], "meta": {...}}
  bool only_first_game = false;   // /v1/stats has rows for the date's first game only (1 of 9)
  bool only_first_event = false;  // event odds exist for the first event only; others 404
  bool etags = true;
  int64_t odds_quota = 500;       // x-requests-remaining before the first odds call
  std::string bdl_key, odds_key;  // expected keys; a mismatch answers 401
};

struct ReplayRequest {
  std::string method, path, query;  // query as received (may hold the odds key)
  std::map<std::string, std::string> headers;
  int status = 0;
};

class ReplayServer {
 public:
  explicit ReplayServer(std::string fixture_dir);
  ~ReplayServer();

  // Binds 127.0.0.1 on an ephemeral port and serves on a thread; false when it cannot.
  bool Start();
  void Stop();
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void Set(const ReplaySwitches& s);
  ReplaySwitches switches();
  std::vector<ReplayRequest> requests();
  int CountRequests(const std::string& path_prefix);
  void ClearRequests();
  int64_t odds_remaining();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace nbaprops::testing

#endif  // NBAPROPS_TESTS_HTTP_REPLAY_SERVER_H_
