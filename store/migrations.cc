#include "store/migrations.h"

#include <string>
#include <vector>

#include "base/clock.h"
#include "base/strings.h"

namespace nbaprops::store {
namespace {

struct Migration {
  int version;
  const char* name;
  const char* sql;  // statements separated by ';' at line end
};

// Table groups follow the datasets of the system we replace: raw_*, analytics_*, reference_*.
// Timestamps are Unix seconds UTC; game dates 'YYYY-MM-DD' in America/New_York.
const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "ledger, payloads, registry, raw and analytics tables", R"SQL(
CREATE TABLE processor_runs (
  run_id INTEGER PRIMARY KEY,
  processor TEXT NOT NULL,
  phase INTEGER NOT NULL,
  partition_key TEXT NOT NULL,
  data_date TEXT,
  status TEXT NOT NULL CHECK (status IN ('queued','running','succeeded','failed','skipped','deferred','dead')),
  attempt INTEGER NOT NULL DEFAULT 1,
  trigger TEXT NOT NULL CHECK (trigger IN ('schedule','upstream','retry','self_heal','manual','backfill','import')),
  caused_by_run_id INTEGER,
  worker_id TEXT,
  lease_token INTEGER,
  heartbeat_at INTEGER,
  lease_expires_at INTEGER,
  not_before INTEGER,
  queued_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  duration_ms INTEGER,
  records_in INTEGER,
  records_out INTEGER,
  records_rejected INTEGER,
  error_category TEXT,
  error_message TEXT,
  details TEXT
);
CREATE INDEX processor_runs_by_partition ON processor_runs (processor, partition_key, run_id);
CREATE INDEX processor_runs_by_status ON processor_runs (status, not_before);
CREATE INDEX processor_runs_by_date ON processor_runs (data_date);
CREATE TABLE run_transitions (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES processor_runs (run_id),
  from_status TEXT,
  to_status TEXT NOT NULL,
  at INTEGER NOT NULL,
  reason TEXT
);
CREATE INDEX run_transitions_by_run ON run_transitions (run_id);

CREATE TABLE raw_payloads (
  payload_id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  kind TEXT NOT NULL,
  source_key TEXT NOT NULL,
  content_hash TEXT NOT NULL UNIQUE,
  size_bytes INTEGER NOT NULL,
  fetched_at INTEGER NOT NULL,
  content BLOB NOT NULL
);
CREATE TABLE rejected_records (
  id INTEGER PRIMARY KEY,
  payload_id INTEGER NOT NULL REFERENCES raw_payloads (payload_id),
  run_id INTEGER,
  kind TEXT NOT NULL,
  source TEXT NOT NULL,
  location TEXT NOT NULL,
  reason TEXT NOT NULL,
  raw_text TEXT
);
CREATE INDEX rejected_records_by_payload ON rejected_records (payload_id);

CREATE TABLE reference_players (
  player_id TEXT PRIMARY KEY,
  canonical_name TEXT NOT NULL,
  birth_date TEXT,
  origin TEXT NOT NULL
);
CREATE TABLE reference_player_aliases (
  player_id TEXT NOT NULL REFERENCES reference_players (player_id),
  alias TEXT NOT NULL,
  source TEXT NOT NULL,
  PRIMARY KEY (player_id, alias)
);
CREATE TABLE reference_player_teams (
  player_id TEXT NOT NULL REFERENCES reference_players (player_id),
  team TEXT NOT NULL,
  first_game_date TEXT NOT NULL,
  last_game_date TEXT NOT NULL,
  games INTEGER NOT NULL,
  PRIMARY KEY (player_id, team)
);
CREATE TABLE unresolved_player_names (
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  original_name TEXT NOT NULL,
  normalized TEXT NOT NULL,
  occurrences INTEGER NOT NULL,
  example_games TEXT NOT NULL,
  reason TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending','resolved','ignored')),
  resolved_player_id TEXT,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  UNIQUE (source, normalized)
);

CREATE TABLE raw_schedule (
  game_id TEXT PRIMARY KEY,
  game_date TEXT NOT NULL,
  tipoff_utc INTEGER,
  home_team TEXT NOT NULL,
  away_team TEXT NOT NULL,
  status TEXT NOT NULL,
  home_points INTEGER,
  away_points INTEGER,
  original_game_date TEXT,
  source TEXT NOT NULL,
  payload_id INTEGER NOT NULL
);
CREATE INDEX raw_schedule_by_date ON raw_schedule (game_date);
CREATE TABLE raw_box_scores (
  game_id TEXT NOT NULL,
  team TEXT NOT NULL,
  name_key TEXT NOT NULL,
  player_name TEXT NOT NULL,
  player_id TEXT,
  source_player_id TEXT,
  game_date TEXT NOT NULL,
  opponent TEXT,
  minutes REAL NOT NULL,
  points INTEGER NOT NULL,
  fgm INTEGER, fga INTEGER, fg3m INTEGER, fg3a INTEGER, ftm INTEGER, fta INTEGER,
  oreb INTEGER, dreb INTEGER, reb INTEGER, ast INTEGER, stl INTEGER, blk INTEGER,
  tov INTEGER, pf INTEGER, plus_minus INTEGER, starter INTEGER,
  source TEXT NOT NULL,
  payload_id INTEGER NOT NULL,
  location TEXT,
  PRIMARY KEY (game_id, team, name_key)
);
CREATE INDEX raw_box_scores_by_date ON raw_box_scores (game_date);
CREATE INDEX raw_box_scores_by_payload ON raw_box_scores (payload_id);
CREATE TABLE raw_injury_reports (
  id INTEGER PRIMARY KEY,
  captured_at INTEGER NOT NULL,
  report_date TEXT NOT NULL,
  team TEXT NOT NULL,
  name_key TEXT NOT NULL,
  player_name TEXT NOT NULL,
  player_id TEXT,
  status TEXT NOT NULL,
  status_raw TEXT NOT NULL,
  details TEXT,
  source TEXT NOT NULL,
  payload_id INTEGER NOT NULL,
  UNIQUE (captured_at, team, name_key, status_raw)
);
CREATE INDEX raw_injury_reports_by_date ON raw_injury_reports (report_date);
CREATE INDEX raw_injury_reports_by_payload ON raw_injury_reports (payload_id);
CREATE TABLE raw_player_props (
  id INTEGER PRIMARY KEY,
  captured_at INTEGER NOT NULL,
  game_date TEXT NOT NULL,
  name_key TEXT NOT NULL,
  player_name TEXT NOT NULL,
  player_id TEXT,
  team TEXT,
  opponent TEXT,
  home_away TEXT,
  sportsbook TEXT NOT NULL,
  market TEXT NOT NULL,
  line REAL NOT NULL,
  over_price INTEGER,
  under_price INTEGER,
  snapshot TEXT,
  source TEXT NOT NULL,
  payload_id INTEGER NOT NULL,
  UNIQUE (game_date, name_key, sportsbook, market, captured_at)
);
CREATE INDEX raw_player_props_by_payload ON raw_player_props (payload_id);
CREATE TABLE raw_game_lines (
  id INTEGER PRIMARY KEY,
  game_date TEXT NOT NULL,
  captured_at INTEGER,
  home_team TEXT NOT NULL,
  away_team TEXT NOT NULL,
  sportsbook TEXT NOT NULL,
  spread_home REAL,
  total REAL,
  home_price INTEGER,
  away_price INTEGER,
  source TEXT NOT NULL,
  payload_id INTEGER NOT NULL,
  UNIQUE (game_date, home_team, away_team, sportsbook, captured_at)
);
CREATE INDEX raw_game_lines_by_payload ON raw_game_lines (payload_id);

CREATE TABLE analytics_player_game_summary (
  game_date TEXT NOT NULL,
  game_id TEXT NOT NULL,
  player_id TEXT NOT NULL,
  player_name TEXT NOT NULL,
  team TEXT NOT NULL,
  opponent TEXT NOT NULL,
  home INTEGER NOT NULL,
  minutes REAL NOT NULL,
  points INTEGER NOT NULL,
  fgm INTEGER, fga INTEGER, fg3m INTEGER, fg3a INTEGER, ftm INTEGER, fta INTEGER,
  oreb INTEGER, dreb INTEGER, reb INTEGER, ast INTEGER, stl INTEGER, blk INTEGER, tov INTEGER,
  two_pt_points INTEGER, three_pt_points INTEGER, ft_points INTEGER,
  usage_rate REAL,
  true_shooting REAL,
  starter INTEGER,
  source TEXT NOT NULL,
  PRIMARY KEY (game_id, player_id)
);
CREATE INDEX analytics_pgs_by_date ON analytics_player_game_summary (game_date, player_id, team);
CREATE INDEX analytics_pgs_by_player ON analytics_player_game_summary (player_id, game_date);
CREATE TABLE analytics_team_offense_game_summary (
  game_date TEXT NOT NULL,
  game_id TEXT NOT NULL,
  team TEXT NOT NULL,
  opponent TEXT NOT NULL,
  home INTEGER NOT NULL,
  points INTEGER,
  box_score_points INTEGER NOT NULL,
  players INTEGER NOT NULL,
  minutes REAL NOT NULL,
  fgm INTEGER, fga INTEGER, fg3m INTEGER, fg3a INTEGER, ftm INTEGER, fta INTEGER,
  oreb INTEGER, dreb INTEGER, tov INTEGER, ast INTEGER,
  two_pt_points INTEGER, three_pt_points INTEGER, ft_points INTEGER,
  possessions REAL,
  pace REAL,
  offensive_rating REAL,
  box_score_complete INTEGER NOT NULL,
  PRIMARY KEY (game_id, team)
);
CREATE INDEX analytics_tog_by_date ON analytics_team_offense_game_summary (game_date);
CREATE TABLE analytics_team_defense_game_summary (
  game_date TEXT NOT NULL,
  game_id TEXT NOT NULL,
  team TEXT NOT NULL,
  opponent TEXT NOT NULL,
  home INTEGER NOT NULL,
  points_allowed INTEGER,
  opp_fga INTEGER, opp_fg3a INTEGER, opp_fta INTEGER, opp_tov INTEGER, opp_oreb INTEGER,
  opp_two_pt_points INTEGER, opp_three_pt_points INTEGER, opp_ft_points INTEGER,
  possessions REAL,
  defensive_rating REAL,
  PRIMARY KEY (game_id, team)
);
CREATE INDEX analytics_tdg_by_date ON analytics_team_defense_game_summary (game_date);
CREATE TABLE analytics_upcoming_player_game_context (
  game_date TEXT NOT NULL,
  game_id TEXT NOT NULL,
  player_id TEXT NOT NULL,
  player_name TEXT NOT NULL,
  team TEXT NOT NULL,
  opponent TEXT NOT NULL,
  home INTEGER NOT NULL,
  tipoff_utc INTEGER,
  days_rest INTEGER,
  back_to_back INTEGER NOT NULL,
  team_games_last_7 INTEGER NOT NULL,
  roster_reason TEXT NOT NULL,
  injury_status TEXT,
  injury_reported_at INTEGER,
  line_count INTEGER NOT NULL,
  lines TEXT,
  PRIMARY KEY (game_id, player_id)
);
CREATE INDEX analytics_upgc_by_date ON analytics_upcoming_player_game_context (game_date);
CREATE TABLE analytics_upcoming_team_game_context (
  game_date TEXT NOT NULL,
  game_id TEXT NOT NULL,
  team TEXT NOT NULL,
  opponent TEXT NOT NULL,
  home INTEGER NOT NULL,
  tipoff_utc INTEGER,
  days_rest INTEGER,
  back_to_back INTEGER NOT NULL,
  games_last_7 INTEGER NOT NULL,
  players_out INTEGER NOT NULL,
  players_questionable INTEGER NOT NULL,
  spread REAL,
  total REAL,
  PRIMARY KEY (game_id, team)
);
CREATE INDEX analytics_utgc_by_date ON analytics_upcoming_team_game_context (game_date);
)SQL"},
      {2, "durable queue: priority, leases in ms, one live run per partition, dead letters, schedules, incidents",
       R"SQL(
ALTER TABLE processor_runs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
DROP INDEX processor_runs_by_status;
CREATE INDEX processor_runs_claim ON processor_runs (status, priority DESC, data_date, run_id);
CREATE UNIQUE INDEX processor_runs_one_live ON processor_runs (processor, partition_key)
  WHERE status IN ('queued', 'running');
CREATE TABLE dead_letters (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES processor_runs (run_id),
  processor TEXT NOT NULL,
  partition_key TEXT NOT NULL,
  data_date TEXT,
  category TEXT NOT NULL,
  error TEXT NOT NULL,
  input_ref TEXT NOT NULL,
  suggested_action TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'retried', 'discarded')),
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  count INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX dead_letters_open ON dead_letters (processor, partition_key) WHERE status = 'open';
CREATE TABLE schedules (
  name TEXT PRIMARY KEY,
  cron TEXT NOT NULL,
  time_zone TEXT NOT NULL,
  last_fire_at INTEGER,
  last_checked_at INTEGER,
  enabled INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE incidents (
  id INTEGER PRIMARY KEY,
  incident_key TEXT NOT NULL,
  severity TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
  summary TEXT NOT NULL,
  details TEXT,
  opened_at INTEGER NOT NULL,
  resolved_at INTEGER,
  last_seen_at INTEGER NOT NULL,
  count INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX incidents_open_key ON incidents (incident_key) WHERE status = 'open';
)SQL"},
      {3, "alternate-line ladders, pre-tip line snapshots per game, precompute tables, predictions",
       R"SQL(
CREATE TABLE raw_player_props_v3 (
  id INTEGER PRIMARY KEY,
  captured_at INTEGER NOT NULL,
  game_date TEXT NOT NULL,
  name_key TEXT NOT NULL,
  player_name TEXT NOT NULL,
  player_id TEXT,
  team TEXT,
  opponent TEXT,
  home_away TEXT,
  sportsbook TEXT NOT NULL,
  market TEXT NOT NULL,
  line REAL NOT NULL,
  over_price INTEGER,
  under_price INTEGER,
  snapshot TEXT,
  source TEXT NOT NULL,
  payload_id INTEGER NOT NULL,
  UNIQUE (game_date, name_key, sportsbook, market, captured_at, line)
);
INSERT INTO raw_player_props_v3 SELECT * FROM raw_player_props;
DROP TABLE raw_player_props;
ALTER TABLE raw_player_props_v3 RENAME TO raw_player_props;
CREATE INDEX raw_player_props_by_payload ON raw_player_props (payload_id);
CREATE INDEX raw_player_props_by_date ON raw_player_props (game_date);
CREATE TABLE analytics_player_game_summary_v3 (
  game_date TEXT NOT NULL,
  game_id TEXT NOT NULL,
  player_id TEXT NOT NULL,
  player_name TEXT NOT NULL,
  team TEXT NOT NULL,
  opponent TEXT NOT NULL,
  home INTEGER NOT NULL,
  minutes REAL NOT NULL,
  points INTEGER NOT NULL,
  fgm INTEGER, fga INTEGER, fg3m INTEGER, fg3a INTEGER, ftm INTEGER, fta INTEGER,
  oreb INTEGER, dreb INTEGER, reb INTEGER, ast INTEGER, stl INTEGER, blk INTEGER, tov INTEGER,
  two_pt_points INTEGER, three_pt_points INTEGER, ft_points INTEGER,
  usage_rate REAL,
  true_shooting REAL,
  starter INTEGER,
  source TEXT NOT NULL,
  PRIMARY KEY (player_id, game_date, game_id),
  UNIQUE (game_id, player_id)
) WITHOUT ROWID;
INSERT INTO analytics_player_game_summary_v3 SELECT * FROM analytics_player_game_summary;
DROP TABLE analytics_player_game_summary;
ALTER TABLE analytics_player_game_summary_v3 RENAME TO analytics_player_game_summary;
CREATE INDEX analytics_pgs_by_date ON analytics_player_game_summary (game_date, team);
CREATE TABLE analytics_upcoming_player_lines (
  game_date TEXT NOT NULL,
  game_id TEXT NOT NULL,
  player_id TEXT NOT NULL,
  sportsbook TEXT NOT NULL,
  captured_at INTEGER NOT NULL,
  line REAL NOT NULL,
  over_price INTEGER,
  under_price INTEGER,
  snapshot TEXT,
  source TEXT NOT NULL,
  PRIMARY KEY (game_id, player_id, sportsbook, captured_at, line)
);
CREATE INDEX analytics_upl_by_date ON analytics_upcoming_player_lines (game_date, player_id);
CREATE TABLE precompute_team_defense_zone_analysis (
  game_date TEXT NOT NULL,
  team TEXT NOT NULL,
  opponent TEXT NOT NULL,
  games INTEGER NOT NULL,
  points_allowed REAL,
  two_pt_allowed REAL, three_pt_allowed REAL, ft_allowed REAL,
  paint_allowed REAL, mid_range_allowed REAL,
  league_two_pt REAL, league_three_pt REAL, league_ft REAL,
  two_pt_vs_league REAL, three_pt_vs_league REAL, ft_vs_league REAL,
  defensive_rating REAL,
  pace REAL,
  league_pace REAL,
  PRIMARY KEY (game_date, team)
);
CREATE TABLE precompute_player_shot_zone_analysis (
  game_date TEXT NOT NULL,
  player_id TEXT NOT NULL,
  team TEXT NOT NULL,
  games_l10 INTEGER NOT NULL,
  two_pt_share_l10 REAL, three_pt_share_l10 REAL, ft_share_l10 REAL,
  games_l20 INTEGER NOT NULL,
  two_pt_share_l20 REAL, three_pt_share_l20 REAL, ft_share_l20 REAL,
  paint_share_l10 REAL, mid_range_share_l10 REAL,
  PRIMARY KEY (game_date, player_id)
);
CREATE TABLE precompute_player_daily_cache (
  game_date TEXT NOT NULL,
  player_id TEXT NOT NULL,
  team TEXT NOT NULL,
  games_season INTEGER NOT NULL,
  last_game_date TEXT,
  pts_avg_l3 REAL, pts_avg_l5 REAL, pts_avg_l10 REAL, pts_avg_season REAL,
  pts_std_l10 REAL,
  pts_ewma REAL,
  minutes_avg_l10 REAL,
  usage_avg_l10 REAL,
  ts_season REAL,
  team_pace_l10 REAL,
  team_off_rating_l10 REAL,
  games_last_7d INTEGER NOT NULL, games_last_14d INTEGER NOT NULL,
  minutes_last_7d REAL NOT NULL, minutes_last_14d REAL NOT NULL,
  PRIMARY KEY (game_date, player_id)
);
CREATE TABLE precompute_player_composite_factors (
  game_date TEXT NOT NULL,
  player_id TEXT NOT NULL,
  team TEXT NOT NULL,
  opponent TEXT NOT NULL,
  days_rest INTEGER,
  back_to_back INTEGER NOT NULL,
  fatigue_score REAL NOT NULL,
  zone_mismatch REAL,
  pace_factor REAL,
  teammates_out INTEGER NOT NULL,
  points_freed REAL NOT NULL,
  usage_freed REAL NOT NULL,
  usage_spike REAL,
  PRIMARY KEY (game_date, player_id)
);
CREATE TABLE precompute_ml_feature_store (
  game_date TEXT NOT NULL,
  game_id TEXT NOT NULL,
  player_id TEXT NOT NULL,
  team TEXT NOT NULL,
  opponent TEXT NOT NULL,
  feature_version TEXT NOT NULL,
  feature_values TEXT NOT NULL,
  feature_quality TEXT NOT NULL,
  feature_sources TEXT NOT NULL,
  quality_score REAL NOT NULL,
  is_production_ready INTEGER NOT NULL,
  not_ready_reason TEXT,
  PRIMARY KEY (game_date, player_id)
);
CREATE TABLE player_prop_predictions (
  prediction_id INTEGER PRIMARY KEY,
  run_id INTEGER,
  system_id TEXT NOT NULL,
  model_version TEXT NOT NULL,
  feature_version TEXT NOT NULL,
  game_date TEXT NOT NULL,
  game_id TEXT NOT NULL,
  player_id TEXT NOT NULL,
  player_name TEXT NOT NULL,
  team TEXT NOT NULL,
  opponent TEXT NOT NULL,
  home INTEGER NOT NULL,
  predicted_points REAL,
  prob_over REAL,
  line REAL,
  over_price INTEGER,
  under_price INTEGER,
  sportsbook TEXT,
  line_source TEXT,
  was_line_fallback INTEGER NOT NULL DEFAULT 0,
  line_captured_at INTEGER,
  recommendation TEXT NOT NULL,
  edge REAL,
  confidence TEXT,
  reason TEXT,
  created_at INTEGER NOT NULL,
  superseded_by INTEGER
);
CREATE INDEX player_prop_predictions_by_date ON player_prop_predictions (game_date, system_id, superseded_by);
CREATE UNIQUE INDEX player_prop_predictions_live ON player_prop_predictions (game_date, system_id, player_id)
  WHERE superseded_by IS NULL;
)SQL"},
      {4, "grading: prediction_accuracy and the daily per-system performance",
       R"SQL(
CREATE TABLE prediction_accuracy (
  prediction_id INTEGER PRIMARY KEY,
  system_id TEXT NOT NULL,
  game_date TEXT NOT NULL,
  game_id TEXT NOT NULL,
  player_id TEXT NOT NULL,
  team TEXT NOT NULL,
  sportsbook TEXT,
  line_source TEXT,
  line REAL,
  recommendation TEXT NOT NULL,
  confidence TEXT,
  edge REAL,
  predicted_points REAL,
  actual_points INTEGER,
  minutes REAL,
  abs_error REAL,
  signed_error REAL,
  outcome TEXT NOT NULL,
  reason TEXT,
  price INTEGER,
  units REAL,
  closing_line REAL,
  closing_captured_at INTEGER,
  clv REAL
);
CREATE INDEX prediction_accuracy_by_date ON prediction_accuracy (game_date, system_id);
CREATE TABLE prediction_performance_daily (
  game_date TEXT NOT NULL,
  system_id TEXT NOT NULL,
  predictions INTEGER NOT NULL,
  picks INTEGER NOT NULL,
  wins INTEGER NOT NULL,
  losses INTEGER NOT NULL,
  pushes INTEGER NOT NULL,
  voids INTEGER NOT NULL,
  not_graded INTEGER NOT NULL,
  units REAL NOT NULL,
  n_mae INTEGER NOT NULL,
  mae_model REAL,
  mae_line REAL,
  n_clv INTEGER NOT NULL,
  avg_clv REAL,
  PRIMARY KEY (game_date, system_id)
);
)SQL"},
      {5, "operations: daily health summaries; schedules renamed after what they produce",
       R"SQL(
CREATE TABLE health_summaries (
  summary_date TEXT PRIMARY KEY,
  generated_at INTEGER NOT NULL,
  body TEXT NOT NULL
);
UPDATE schedules SET name = 'predictions_today' WHERE name = 'analytics_today';
UPDATE schedules SET name = 'results_yesterday' WHERE name = 'analytics_yesterday';
)SQL"},
      {6, "deferrals bounded by time: when a partition's current run of deferrals began (ms)",
       R"SQL(
ALTER TABLE processor_runs ADD COLUMN deferred_since INTEGER;
)SQL"},
      {7, "self-healing and guards: heal backoff, circuit breakers, deadlines, incidents' related runs",
       R"SQL(
ALTER TABLE incidents ADD COLUMN related_runs TEXT;
CREATE TABLE heal_state (
  processor TEXT NOT NULL,
  partition_key TEXT NOT NULL,
  heals INTEGER NOT NULL,
  last_heal_at INTEGER NOT NULL,
  next_heal_at INTEGER NOT NULL,
  last_reason TEXT NOT NULL,
  PRIMARY KEY (processor, partition_key)
);
CREATE TABLE circuit_breakers (
  source TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  window_start INTEGER NOT NULL DEFAULT 0,
  window_requests INTEGER NOT NULL DEFAULT 0,
  window_failures INTEGER NOT NULL DEFAULT 0,
  opened_at INTEGER,
  next_probe_at INTEGER,
  probe_run_id INTEGER,
  times_opened INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  last_change_at INTEGER NOT NULL
);
CREATE TABLE deadlines (
  deadline_key TEXT NOT NULL,
  data_date TEXT NOT NULL,
  due_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'at_risk', 'met', 'missed', 'met_late')),
  met_at INTEGER,
  checked_at INTEGER NOT NULL,
  details TEXT,
  PRIMARY KEY (deadline_key, data_date)
);
)SQL"},
      {8, "degraded mode: the quality tier each prediction was made at",
       R"SQL(
ALTER TABLE player_prop_predictions ADD COLUMN quality_tier TEXT;
)SQL"},
      {9, "alert delivery: channel state and token buckets, per-channel notices of incidents, the outbox (ms)",
       R"SQL(
CREATE TABLE alert_channels (
  name TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('ok', 'broken')),
  broken_reason TEXT,
  broken_at INTEGER,
  first_failure_at INTEGER,
  last_success_at INTEGER,
  last_failure_at INTEGER,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  paused_until INTEGER NOT NULL DEFAULT 0,
  tokens REAL NOT NULL,
  tokens_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE alert_notices (
  channel TEXT NOT NULL,
  incident_id INTEGER NOT NULL,
  opened_at INTEGER NOT NULL,
  last_noticed_at INTEGER NOT NULL,
  resolved_at INTEGER,
  PRIMARY KEY (channel, incident_id)
);
CREATE TABLE alert_outbox (
  id INTEGER PRIMARY KEY,
  channel TEXT NOT NULL,
  incident_ids TEXT NOT NULL,
  event TEXT NOT NULL CHECK (event IN ('open', 'resolve', 'repeat', 'test', 'summary')),
  severity TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_attempt_at INTEGER,
  last_http_status INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  sent_at INTEGER
);
CREATE INDEX alert_outbox_due ON alert_outbox (channel, status, next_attempt_at);
)SQL"},
      {10, "announcements: reports (the daily health summary) sent once on the alert channels",
       R"SQL(
CREATE TABLE alert_announcements (
  announcement_key TEXT PRIMARY KEY,
  severity TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE alert_announcement_notices (
  announcement_key TEXT NOT NULL,
  channel TEXT NOT NULL,
  queued_at INTEGER NOT NULL,
  PRIMARY KEY (announcement_key, channel)
);
)SQL"},
      {11, "HTTP sources: every response with its redacted URL, status and timing; expected-vs-fetched per scrape",
       R"SQL(
ALTER TABLE raw_payloads ADD COLUMN url TEXT;
ALTER TABLE raw_payloads ADD COLUMN http_status INTEGER;
ALTER TABLE raw_payloads ADD COLUMN duration_ms INTEGER;
CREATE TABLE http_fetches (
  fetch_id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  run_id INTEGER,
  url TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  http_status INTEGER NOT NULL,
  started_at_ms INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  waited_ms INTEGER NOT NULL,
  size_bytes INTEGER NOT NULL,
  content_hash TEXT,
  etag TEXT,
  not_modified INTEGER NOT NULL DEFAULT 0,
  unchanged INTEGER NOT NULL DEFAULT 0,
  payload_id INTEGER,
  quota_remaining INTEGER,
  quota_used INTEGER,
  error TEXT,
  body BLOB
);
CREATE INDEX http_fetches_by_source ON http_fetches (source, started_at_ms);
CREATE INDEX http_fetches_by_url ON http_fetches (url, http_status);
CREATE TABLE source_scrapes (
  run_id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  processor TEXT NOT NULL,
  partition_key TEXT NOT NULL,
  expected INTEGER NOT NULL,
  fetched INTEGER NOT NULL,
  complete INTEGER NOT NULL,
  missing TEXT,
  requests INTEGER NOT NULL,
  finished_at_ms INTEGER NOT NULL
);
CREATE INDEX source_scrapes_by_source ON source_scrapes (source, finished_at_ms);
)SQL"},
      {12, "queue indexes: partial ones for queued and running runs, so a status change touches fewer indexes",
       R"SQL(
DROP INDEX processor_runs_claim;
CREATE INDEX processor_runs_claim ON processor_runs (priority DESC, data_date, run_id) WHERE status = 'queued';
CREATE INDEX processor_runs_running ON processor_runs (status, lease_expires_at) WHERE status = 'running';
)SQL"},
      {13, "feature points-v3: the minutes inputs of the minutes projection (last 3 / season minutes, OUT teammates' minutes)",
       R"SQL(
ALTER TABLE precompute_player_daily_cache ADD COLUMN minutes_avg_l3 REAL;
ALTER TABLE precompute_player_daily_cache ADD COLUMN minutes_avg_season REAL;
ALTER TABLE precompute_player_composite_factors ADD COLUMN minutes_freed REAL;
)SQL"},
      {14, "predictions keep the model's minutes projection of the player they were made for",
       R"SQL(
ALTER TABLE player_prop_predictions ADD COLUMN projected_minutes REAL;
)SQL"},
      {15, "an index that answers 'the final game dates in a range' by itself (every phase-4 run asks it)",
       R"SQL(
CREATE INDEX raw_schedule_final_dates ON raw_schedule (status, game_date);
)SQL"},
      {16, "an index that answers 'the players expected on a date' by itself, in player order (four phase-4 "
           "processors ask it for every date); it replaces the index on the date alone",
       R"SQL(
CREATE INDEX analytics_upgc_expected ON analytics_upcoming_player_game_context
  (game_date, player_id, game_id, team, opponent, home, days_rest, back_to_back, injury_status);
DROP INDEX analytics_upgc_by_date;
)SQL"},
  };
  return kMigrations;
}

// Splits a migration on ';' at line ends (our migrations contain no such text in strings).
std::vector<std::string> Statements(const char* sql) {
  std::vector<std::string> out;
  std::string cur;
  for (const char* p = sql; *p; ++p) {
    cur += *p;
    if (*p == ';' && (p[1] == '\n' || p[1] == '\0')) {
      std::string t(Trim(cur));
      if (!t.empty()) out.push_back(t);
      cur.clear();
    }
  }
  if (!std::string(Trim(cur)).empty()) out.push_back(std::string(Trim(cur)));
  return out;
}

}  // namespace

int LatestSchemaVersion() { return Migrations().back().version; }

StatusOr<int> SchemaVersion(Store& store) {
  int version = 0;
  RETURN_IF_ERROR(store.WithRead([&](Transaction& t) -> Status {
    ASSIGN_OR_RETURN(auto exists, t.QueryInt(store.backend() == "postgresql"
                                                  ? "SELECT COUNT(*) FROM information_schema.tables WHERE "
                                                    "table_schema = current_schema() AND table_name = 'schema_migrations'"
                                                  : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
                                                    "name = 'schema_migrations'"));
    if (!exists || *exists == 0) return OkStatus();
    ASSIGN_OR_RETURN(auto v, t.QueryInt("SELECT MAX(version) FROM schema_migrations"));
    version = v ? static_cast<int>(*v) : 0;
    return OkStatus();
  }));
  return version;
}

StatusOr<int> Migrate(Store& store) {
  RETURN_IF_ERROR(store.WithWrite([](Transaction& t) {
    return t
        .Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
              "applied_at INTEGER NOT NULL)")
        .status();
  }));
  int applied = 0;
  for (const Migration& m : Migrations()) {
    Status s = store.WithWrite([&](Transaction& t) -> Status {
      ASSIGN_OR_RETURN(auto have, t.QueryInt("SELECT COUNT(*) FROM schema_migrations WHERE version = ?", {m.version}));
      if (have && *have > 0) return OkStatus();
      for (const std::string& stmt : Statements(m.sql)) {
        RETURN_IF_ERROR(t.Exec(stmt).status().WithContext("migration " + std::to_string(m.version)));
      }
      RETURN_IF_ERROR(t.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                             {m.version, m.name, SystemClock::Default().NowSeconds()})
                          .status());
      ++applied;
      return OkStatus();
    });
    RETURN_IF_ERROR(s);
  }
  return applied;
}

}  // namespace nbaprops::store
