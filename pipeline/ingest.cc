#include "pipeline/ingest.h"

#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include "base/file.h"
#include "base/strings.h"
#include "base/time.h"
#include "pipeline/partition.h"
#include "pipeline/player_names.h"
#include "pipeline/registry.h"

namespace nbaprops::pipeline {
namespace {

namespace fs = std::filesystem;
using store::Param;
using store::Transaction;

store::Param OptText(const std::string& s) { return s.empty() ? Param() : Param(s); }

bool IsNbaPersonId(std::string_view id) {
  return !id.empty() && id.size() <= 10 && std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Phase 1 for one payload whose bytes are already in memory (a file, or an HTTP response).
class StorePayloadProcessor final : public engine::Processor {
 public:
  explicit StorePayloadProcessor(Landing landing) : landing_(std::move(landing)) {}
  std::string name() const override { return kStorePayload; }
  int phase() const override { return 1; }
  std::vector<std::string> output_tables() const override { return {"raw_payloads"}; }

  Status Run(engine::RunContext& ctx) override {
    const std::string& content = landing_.content;
    const std::string hash = Sha256Hex(content);
    ctx.records_in = 1;
    return ctx.CommitOutput([&](Transaction& t) -> Status {
      ASSIGN_OR_RETURN(auto existing, t.QueryInt("SELECT payload_id FROM raw_payloads WHERE content_hash = ?", {hash}));
      if (existing) {
        payload_id_ = *existing;
        ctx.details = "{\"already_stored\":true,\"payload_id\":" + std::to_string(*existing) + "}";
        ctx.records_out = 0;
        return OkStatus();
      }
      RETURN_IF_ERROR(t.Exec("INSERT INTO raw_payloads (source, kind, source_key, content_hash, size_bytes, "
                             "fetched_at, content, url, http_status, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             {landing_.source, landing_.kind, landing_.source_key, hash,
                              static_cast<int64_t>(content.size()), ctx.clock().NowSeconds(), std::string_view(content),
                              OptText(landing_.url), landing_.http_status, landing_.duration_ms})
                          .status());
      ASSIGN_OR_RETURN(payload_id_, t.LastInsertId());
      fresh_ = true;
      ctx.records_out = 1;
      ctx.details = "{\"payload_id\":" + std::to_string(payload_id_) + ",\"bytes\":" +
                    std::to_string(content.size()) + "}";
      return OkStatus();
    });
  }

  int64_t payload_id() const { return payload_id_; }
  bool fresh() const { return fresh_; }

 private:
  Landing landing_;
  int64_t payload_id_ = 0;
  bool fresh_ = false;
};

// Writes one parsed payload; tracks natural keys to reject duplicates within the payload.
class PayloadWriter {
 public:
  PayloadWriter(Transaction& t, int64_t payload_id, int64_t run_id, PlayerRegistry& registry, ParsedPayload& parsed)
      : t_(t), payload_id_(payload_id), run_id_(run_id), registry_(registry), parsed_(parsed) {}

  Status Write() {
    for (const char* table : {"raw_schedule", "raw_box_scores", "raw_injury_reports", "raw_player_props",
                              "raw_game_lines", "rejected_records"}) {
      RETURN_IF_ERROR(t_.Exec(std::string("DELETE FROM ") + table + " WHERE payload_id = ?", {payload_id_}).status());
    }
    RETURN_IF_ERROR(WritePlayers());
    RETURN_IF_ERROR(WriteSchedule());
    RETURN_IF_ERROR(WriteBoxScores());
    RETURN_IF_ERROR(WriteInjuries());
    RETURN_IF_ERROR(WriteProps());
    RETURN_IF_ERROR(WriteGameLines());
    RETURN_IF_ERROR(WriteRejects());
    if (!unresolved_.empty()) RETURN_IF_ERROR(RefreshUnresolved(t_, unresolved_, now_));
    return OkStatus();
  }

  void set_now(int64_t now) { now_ = now; }
  void set_source(std::string source) { source_ = std::move(source); }  // raw_payloads.source
  int64_t stored() const { return stored_; }
  int64_t unresolved_rows() const { return unresolved_rows_; }
  size_t unresolved_names() const { return unresolved_.size(); }

 private:
  // False (and a reject) when the key was already written by this payload.
  // `what` describes the record for the message; it is only built for a duplicate.
  template <typename Describe>
  bool FirstTime(std::string key, const std::string& location, Describe what) {
    auto [it, fresh] = seen_.emplace(std::move(key), location);
    if (!fresh) {
      duplicates_.push_back(
          {location, "duplicate " + what() + " (same as " + it->second + "); the first one is kept", ""});
    }
    return fresh;
  }

  // A file repeats each name hundreds of times; fold it once.
  const NameKeys& Keys(const std::string& name) {
    auto it = keys_.find(name);
    if (it == keys_.end()) it = keys_.emplace(name, MakeNameKeys(name)).first;
    return it->second;
  }

  // Resolves a name, recording unresolved ones for the backlog.
  std::string ResolveName(const std::string& name, const std::string& source_id, const std::string& team,
                          const std::string& source, const NameKeys& keys) {
    Resolution r = registry_.Resolve(name, source_id, team);
    if (r.player_id.empty()) {
      ++unresolved_rows_;
      unresolved_.try_emplace({source, keys.full}, UnresolvedName{name, r.problem});
    }
    return r.player_id;
  }

  Status WritePlayers() {
    for (const PlayerSeedRecord& p : parsed_.players) {
      if (!FirstTime("player|" + p.player_id, p.location, [&] { return "player id " + p.player_id; })) continue;
      RETURN_IF_ERROR(registry_.EnsurePlayer(t_, p.player_id, p.player_name, "seed", p.birth_date));
      for (const std::string& alt : p.alt_names) RETURN_IF_ERROR(registry_.AddAlias(t_, p.player_id, alt, "seed"));
      ++stored_;
    }
    return OkStatus();
  }

  Status WriteSchedule() {
    if (parsed_.games.empty()) return OkStatus();
    ASSIGN_OR_RETURN(auto st, t_.Prepare(
        "INSERT INTO raw_schedule (game_id, game_date, tipoff_utc, home_team, away_team, status, home_points, "
        "away_points, original_game_date, source, payload_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (game_id) DO UPDATE SET game_date = excluded.game_date, tipoff_utc = excluded.tipoff_utc, "
        "home_team = excluded.home_team, away_team = excluded.away_team, status = excluded.status, "
        "home_points = excluded.home_points, away_points = excluded.away_points, "
        "original_game_date = excluded.original_game_date, source = excluded.source, payload_id = excluded.payload_id"));
    for (const GameRecord& g : parsed_.games) {
      if (!FirstTime("game|" + g.game_id, g.location, [&] { return "game " + g.game_id; })) continue;
      // One game is one row whichever source reported it: a game another source already stored
      // (same date and teams, e.g. the NBA schedule, then ESPN's status and score) keeps its id.
      ASSIGN_OR_RETURN(auto known, t_.QueryText("SELECT MIN(game_id) FROM raw_schedule WHERE game_date = ? AND "
                                                "home_team = ? AND away_team = ? AND game_id <> ?",
                                                {g.game_date, g.home_team, g.away_team, g.game_id}));
      const std::string& game_id = known ? *known : g.game_id;
      RETURN_IF_ERROR(
          st->ExecLater({game_id, g.game_date, g.tipoff_utc, g.home_team, g.away_team, g.status, g.home_points,
                         g.away_points, OptText(g.original_game_date), g.source, payload_id_}));
      ++stored_;
    }
    return OkStatus();
  }

  Status WriteBoxScores() {
    if (parsed_.box_scores.empty()) return OkStatus();
    // Players who come with an NBA person id are identities, not guesses: register them first.
    for (const BoxScoreRecord& b : parsed_.box_scores) {
      if (IsNbaPersonId(b.source_player_id) && !registry_.HasPlayer(b.source_player_id)) {
        RETURN_IF_ERROR(registry_.EnsurePlayer(t_, b.source_player_id, b.player_name, b.source, ""));
      }
    }
    ASSIGN_OR_RETURN(auto st, t_.Prepare(
        "INSERT INTO raw_box_scores (game_id, team, name_key, player_name, player_id, source_player_id, game_date, "
        "opponent, minutes, points, fgm, fga, fg3m, fg3a, ftm, fta, oreb, dreb, reb, ast, stl, blk, tov, pf, "
        "plus_minus, starter, source, payload_id, location) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (game_id, team, name_key) DO UPDATE SET player_name = excluded.player_name, "
        "player_id = excluded.player_id, source_player_id = excluded.source_player_id, game_date = excluded.game_date, "
        "opponent = excluded.opponent, minutes = excluded.minutes, points = excluded.points, fgm = excluded.fgm, "
        "fga = excluded.fga, fg3m = excluded.fg3m, fg3a = excluded.fg3a, ftm = excluded.ftm, fta = excluded.fta, "
        "oreb = excluded.oreb, dreb = excluded.dreb, reb = excluded.reb, ast = excluded.ast, stl = excluded.stl, "
        "blk = excluded.blk, tov = excluded.tov, pf = excluded.pf, plus_minus = excluded.plus_minus, "
        "starter = excluded.starter, source = excluded.source, payload_id = excluded.payload_id, "
        "location = excluded.location"));
    for (const BoxScoreRecord& b : parsed_.box_scores) {
      const NameKeys& keys = Keys(b.player_name);
      if (!FirstTime("box|" + b.game_id + "|" + b.team + "|" + keys.full, b.location,
                     [&] { return "box-score row for " + b.player_name + " in game " + b.game_id; })) {
        continue;
      }
      std::string id = ResolveName(b.player_name, IsNbaPersonId(b.source_player_id) ? b.source_player_id : "",
                                   b.team, b.source, keys);
      std::optional<int> starter;
      if (b.starter) starter = *b.starter ? 1 : 0;
      RETURN_IF_ERROR(st->ExecLater({b.game_id,    b.team,
                                     keys.full,    b.player_name,
                                     OptText(id),  OptText(b.source_player_id),
                                     b.game_date,  OptText(b.opponent),
                                     b.minutes,    b.points,
                                     b.fgm,        b.fga,
                                     b.fg3m,       b.fg3a,
                                     b.ftm,        b.fta,
                                     b.oreb,       b.dreb,
                                     b.reb,        b.ast,
                                     b.stl,        b.blk,
                                     b.tov,        b.pf,
                                     b.plus_minus, starter,
                                     b.source,     payload_id_,
                                     b.location}));
      ++stored_;
    }
    return PlayerRegistry::RebuildTeamHistory(t_);
  }

  Status WriteInjuries() {
    if (parsed_.injuries.empty()) return OkStatus();
    ASSIGN_OR_RETURN(auto st, t_.Prepare(
        "INSERT INTO raw_injury_reports (captured_at, report_date, team, name_key, player_name, player_id, status, "
        "status_raw, details, source, payload_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (captured_at, team, name_key, status_raw) DO UPDATE SET report_date = excluded.report_date, "
        "player_name = excluded.player_name, player_id = excluded.player_id, status = excluded.status, "
        "details = excluded.details, source = excluded.source, payload_id = excluded.payload_id"));
    for (const InjuryRecord& r : parsed_.injuries) {
      const NameKeys& keys = Keys(r.player_name);
      if (!FirstTime("inj|" + std::to_string(r.captured_at_utc) + "|" + r.team + "|" + keys.full + "|" + r.status_raw,
                     r.location, [&] { return "injury report row for " + r.player_name; })) {
        continue;
      }
      std::string id = ResolveName(r.player_name, "", r.team, r.source, keys);
      RETURN_IF_ERROR(st->ExecLater({r.captured_at_utc, r.report_date, r.team, keys.full, r.player_name, OptText(id),
                                     r.status, r.status_raw, OptText(r.details), r.source, payload_id_}));
      ++stored_;
    }
    return OkStatus();
  }

  Status WriteProps() {
    if (parsed_.props.empty()) return OkStatus();
    ASSIGN_OR_RETURN(auto st, t_.Prepare(
        "INSERT INTO raw_player_props (captured_at, game_date, name_key, player_name, player_id, team, opponent, "
        "home_away, sportsbook, market, line, over_price, under_price, snapshot, source, payload_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (game_date, name_key, sportsbook, market, captured_at, line) DO UPDATE SET "
        "player_name = excluded.player_name, player_id = excluded.player_id, team = excluded.team, "
        "opponent = excluded.opponent, home_away = excluded.home_away, "
        "over_price = excluded.over_price, under_price = excluded.under_price, snapshot = excluded.snapshot, "
        "source = excluded.source, payload_id = excluded.payload_id"));
    std::unordered_map<std::string, std::string> resolved;  // a name repeats ~80 times per file
    for (const PropRecord& p : parsed_.props) {
      const NameKeys& keys = Keys(p.player_name);
      if (!FirstTime("prop|" + p.game_date + "|" + keys.full + "|" + p.sportsbook + "|" + p.market + "|" +
                         std::to_string(p.captured_at_utc) + "|" + Fmt(p.line),
                     p.location, [&] { return "line " + Fmt(p.line) + " for " + p.player_name + " at " + p.sportsbook; })) {
        continue;
      }
      std::string cache_key = keys.full + "|" + p.team + "|" + p.source;
      auto it = resolved.find(cache_key);
      if (it == resolved.end()) {
        it = resolved.emplace(cache_key, ResolveName(p.player_name, "", p.team, p.source, keys)).first;
      } else if (it->second.empty()) {
        ++unresolved_rows_;
      }
      RETURN_IF_ERROR(st->ExecLater({p.captured_at_utc, p.game_date, keys.full, p.player_name, OptText(it->second),
                                     OptText(p.team), OptText(p.opponent), OptText(p.home_away), p.sportsbook, p.market,
                                     p.line, p.over_price, p.under_price, OptText(p.snapshot), p.source, payload_id_}));
      ++stored_;
    }
    return OkStatus();
  }

  Status WriteGameLines() {
    if (parsed_.game_lines.empty()) return OkStatus();
    ASSIGN_OR_RETURN(auto st, t_.Prepare(
        "INSERT INTO raw_game_lines (game_date, captured_at, home_team, away_team, sportsbook, spread_home, total, "
        "home_price, away_price, source, payload_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (game_date, home_team, away_team, sportsbook, captured_at) DO UPDATE SET "
        "spread_home = excluded.spread_home, total = excluded.total, home_price = excluded.home_price, "
        "away_price = excluded.away_price, source = excluded.source, payload_id = excluded.payload_id"));
    for (const GameLineRecord& g : parsed_.game_lines) {
      if (!FirstTime("gl|" + g.game_date + "|" + g.home_team + "|" + g.away_team + "|" + g.sportsbook + "|" +
                         std::to_string(g.captured_at_utc.value_or(0)),
                     g.location, [] { return std::string("game line"); })) {
        continue;
      }
      RETURN_IF_ERROR(st->ExecLater({g.game_date, g.captured_at_utc, g.home_team, g.away_team, g.sportsbook,
                                     g.spread_home, g.total, g.home_price, g.away_price, g.source, payload_id_}));
      ++stored_;
    }
    return OkStatus();
  }

  Status WriteRejects() {
    for (auto& d : duplicates_) parsed_.rejects.push_back(std::move(d));
    duplicates_.clear();
    ASSIGN_OR_RETURN(auto st, t_.Prepare("INSERT INTO rejected_records (payload_id, run_id, kind, source, location, "
                                         "reason, raw_text) VALUES (?, ?, ?, ?, ?, ?, ?)"));
    for (const Reject& r : parsed_.rejects) {
      // The payload keeps the exact bytes; the reject's copy must be valid UTF-8 to be stored.
      RETURN_IF_ERROR(st->ExecLater({payload_id_, run_id_, KindName(parsed_.kind), source_, r.location,
                                     EscapeInvalidUtf8(r.reason), EscapeInvalidUtf8(r.raw)}));
    }
    return OkStatus();
  }

  Transaction& t_;
  int64_t payload_id_;
  int64_t run_id_;
  PlayerRegistry& registry_;
  ParsedPayload& parsed_;
  int64_t now_ = 0;
  std::string source_ = "file";
  int64_t stored_ = 0;
  int64_t unresolved_rows_ = 0;
  std::unordered_map<std::string, std::string> seen_;
  std::unordered_map<std::string, NameKeys> keys_;
  std::vector<Reject> duplicates_;
  UnresolvedNames unresolved_;
};

int KindOrder(ImportKind k) {
  switch (k) {
    case ImportKind::kPlayers: return 0;
    case ImportKind::kSchedule:
    case ImportKind::kEspnScoreboard: return 1;
    case ImportKind::kBoxScores: return 2;
    case ImportKind::kBalldontlieStats: return 3;
    default: return 4;
  }
}

}  // namespace

std::vector<std::string> ParsePayloadProcessor::output_tables() const {
  return {"raw_schedule", "raw_box_scores", "raw_injury_reports", "raw_player_props", "raw_game_lines",
          "rejected_records", "reference_players", "unresolved_player_names"};
}

Status ParsePayloadProcessor::Run(engine::RunContext& ctx) {
  const std::string& key = ctx.partition_key();
  if (!StartsWith(key, "payload:")) return InvalidArgumentError("partition '" + key + "' is not payload:<id>");
  auto id = ParseInt(key.substr(8));
  if (!id) return InvalidArgumentError("partition '" + key + "' is not payload:<id>");
  std::string kind_name, source_key, content, source;
  int64_t fetched_at = 0;
  RETURN_IF_ERROR(ctx.store().WithRead([&](Transaction& t) -> Status {
    bool found = false;
    RETURN_IF_ERROR(t.Query("SELECT kind, source_key, fetched_at, content, source FROM raw_payloads WHERE "
                            "payload_id = ?",
                            {*id}, [&](const store::Row& r) {
                              found = true;
                              kind_name = r.Text(0);
                              source_key = r.Text(1);
                              fetched_at = r.Int(2);
                              content = r.Text(3);
                              source = r.Text(4);
                              return OkStatus();
                            }));
    return found ? OkStatus() : NotFoundError("payload " + std::to_string(*id) + " is not stored");
  }));
  auto kind = KindFromName(kind_name);
  if (!kind) return InvalidArgumentError("payload " + std::to_string(*id) + " has unknown kind '" + kind_name + "'");
  ASSIGN_OR_RETURN(ParsedPayload parsed, ParsePayload(*kind, content, source_key, fetched_at));

  int64_t unresolved_rows = 0;
  size_t unresolved_names = 0;
  auto write = [&](Transaction& t) -> Status {
    ASSIGN_OR_RETURN(PlayerRegistry registry, PlayerRegistry::Load(t));
    PayloadWriter writer(t, *id, ctx.run_id(), registry, parsed);
    writer.set_now(ctx.clock().NowSeconds());
    writer.set_source(source);
    RETURN_IF_ERROR(writer.Write());
    ctx.records_out = writer.stored();
    ctx.records_rejected = static_cast<int64_t>(parsed.rejects.size());
    ctx.records_in = ctx.records_out + ctx.records_rejected;
    unresolved_rows = writer.unresolved_rows();
    unresolved_names = writer.unresolved_names();
    ctx.details = "{\"kind\":\"" + kind_name + "\",\"unresolved_rows\":" + std::to_string(unresolved_rows) +
                  ",\"unresolved_names\":" + std::to_string(unresolved_names) + "}";
    return OkStatus();
  };
  if (parsed.produced() == 0 && !parsed.rejects.empty()) {
    // Keep the rejects (so the user can see why), but do not call a payload of nothing but
    // rejects a success.
    RETURN_IF_ERROR(ctx.store().WithWrite(write));
    const Reject& first = parsed.rejects.front();
    return InvalidArgumentError("all " + std::to_string(parsed.rejects.size()) + " records of " + source_key +
                                " were rejected; first: " + first.location + ": " + first.reason);
  }
  return ctx.CommitOutput(write);
}

Status ImportInboxProcessor::Run(engine::RunContext& ctx) {
  std::error_code ec;
  if (!fs::is_directory(inbox_, ec)) {
    // Transient, not a config error: an inbox is typically a mounted share or a directory another
    // job fills, and its circuit breaker turns an outage into deferrals and one incident.
    return UnavailableError("inbox '" + inbox_ + "' is not reachable (missing or not a directory): check the mount " +
                            "or the job that fills it, or fix [sources] inbox / NBAPROPS_INBOX");
  }
  Ingestor ingestor(runner_);
  int64_t files = 0, fresh = 0, failed = 0, skipped = 0;
  for (const ImportResult& r : ingestor.ImportPaths({inbox_}, std::nullopt)) {
    ++files;
    skipped += r.skipped;
    failed += !r.status.ok();
    if (r.status.ok() && !r.skipped && !r.already_imported) ++fresh;
    ctx.records_rejected += r.status.ok() ? r.rejected : 0;
  }
  ctx.records_in = files;
  ctx.details = "{\"files\":" + std::to_string(files) + ",\"new\":" + std::to_string(fresh) +
                ",\"failed\":" + std::to_string(failed) + ",\"skipped\":" + std::to_string(skipped) + "}";
  return ctx.CommitOutput([&](store::Transaction&) {
    ctx.records_out = fresh;
    return OkStatus();
  });
}

ImportResult Ingestor::ImportFile(const std::string& path, std::optional<ImportKind> forced) {
  ImportResult res;
  res.path = path;
  auto content = ReadFile(path);
  if (!content.ok()) {
    res.status = content.status();
    return res;
  }
  ImportKind kind;
  if (forced) {
    kind = *forced;
  } else {
    Detection d = DetectKind(*content);
    if (!d.problem.empty()) {
      res.status = InvalidArgumentError(path + ": " + d.problem);
      return res;
    }
    if (d.kind == ImportKind::kUnknown) {
      res.skipped = true;
      res.note = "not a recognised import file (kinds: " + AllKindNames() + ")";
      return res;
    }
    kind = d.kind;
  }
  Landing landing;
  landing.kind = std::string(KindName(kind));
  landing.source_key = path;
  landing.content = std::move(content).value();
  landing.parse = kind;
  return Land(std::move(landing));
}

ImportResult Ingestor::Land(Landing landing) {
  ImportResult res;
  res.path = landing.source_key;
  res.kind = landing.parse.value_or(ImportKind::kUnknown);
  const std::string store_partition = (landing.url.empty() ? "file:" : "http:") + landing.source_key;
  const bool parse_it = landing.parse.has_value();
  StorePayloadProcessor store_payload(std::move(landing));
  engine::RunOutcome o1 = runner_.Execute(store_payload, store_partition, "", "import");
  if (!o1.status.ok()) {
    res.status = o1.status;
    return res;
  }
  res.payload_id = store_payload.payload_id();
  res.fresh = store_payload.fresh();
  if (!parse_it) return res;
  const std::string partition = "payload:" + std::to_string(res.payload_id);
  if (!store_payload.fresh()) {
    // Same bytes as before: nothing new to store. Re-parse only if the last parse did not succeed.
    std::optional<engine::RunRecord> last;
    res.status = runner_.store().WithRead([&](store::Transaction& t) -> Status {
      ASSIGN_OR_RETURN(last, engine::Ledger::Latest(t, kParsePayload, partition));
      return OkStatus();
    });
    if (!res.status.ok()) return res;
    if (last && last->status == "succeeded") {
      res.already_imported = true;
      res.read = last->records_in.value_or(0);
      res.stored = last->records_out.value_or(0);
      res.rejected = last->records_rejected.value_or(0);
      res.note = "already imported as payload " + std::to_string(res.payload_id) + "; nothing new stored";
      return res;
    }
  }
  engine::Processor* parse = runner_.Find(kParsePayload);
  if (!parse) {
    res.status = InternalError("parse_payload is not registered");
    return res;
  }
  engine::RunOutcome o2 = runner_.Execute(*parse, partition, "", "import", o1.run_id);
  res.status = o2.status;
  res.read = o2.records_in;
  res.stored = o2.records_out;
  res.rejected = o2.records_rejected;
  (void)runner_.store().WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(auto n, t.QueryInt("SELECT (SELECT COUNT(*) FROM raw_box_scores WHERE payload_id = ?1 AND "
                                        "player_id IS NULL) + (SELECT COUNT(*) FROM raw_player_props WHERE "
                                        "payload_id = ?1 AND player_id IS NULL) + (SELECT COUNT(*) FROM "
                                        "raw_injury_reports WHERE payload_id = ?1 AND player_id IS NULL)",
                                        {res.payload_id}));
    res.unresolved = n.value_or(0);
    return OkStatus();
  });
  return res;
}

std::vector<ImportResult> Ingestor::ImportPaths(const std::vector<std::string>& paths,
                                                std::optional<ImportKind> forced,
                                                const std::function<void(const ImportResult&)>& on_file) {
  std::vector<std::string> files;
  std::vector<ImportResult> results;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        if (it->is_regular_file()) files.push_back(it->path().string());
      }
    } else if (fs::exists(p, ec)) {
      files.push_back(p);
    } else {
      ImportResult r;
      r.path = p;
      r.status = NotFoundError(p + ": no such file or directory");
      if (on_file) on_file(r);
      results.push_back(std::move(r));
    }
  }
  // Detect kinds cheaply (header only) to order files: registry seeds and schedules first.
  std::vector<std::pair<int, std::string>> ordered;
  for (const std::string& f : files) {
    int order = 5;
    if (forced) {
      order = KindOrder(*forced);
    } else if (auto head = ReadFile(f); head.ok()) {
      order = KindOrder(DetectKind(std::string_view(*head).substr(0, 1 << 16)).kind);
    }
    ordered.emplace_back(order, f);
  }
  std::sort(ordered.begin(), ordered.end());
  for (const auto& [order, f] : ordered) {
    ImportResult r = ImportFile(f, forced);
    if (on_file) on_file(r);
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace nbaprops::pipeline
