// `nbaprops doctor`: is this installation healthy? Config, store, migrations, alert channels,
// schedules, model, disk, and what is on fire. Exit 0 only when nothing fails.
#include "cli/doctor_commands.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>

#include "base/http_client.h"
#include "base/strings.h"
#include "base/time.h"
#include "cli/alert_commands.h"
#include "cli/table.h"
#include "engine/alerts.h"
#include "engine/incidents.h"
#include "pipeline/guards.h"
#include "store/migrations.h"

namespace nbaprops::cli {
namespace {

struct Check {
  std::string name, status, detail;  // status: ok | warn | FAIL
};

// Free space where the database and the exports live: at least 1 GiB and 5% of the filesystem.
Check Disk(const std::string& what, const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(path, ec);
  while (!p.empty() && !std::filesystem::exists(p, ec)) p = p.parent_path();
  struct statvfs st {};
  if (p.empty() || ::statvfs(p.c_str(), &st) != 0) return {"disk (" + what + ")", "FAIL", "cannot stat " + path};
  const double free_bytes = static_cast<double>(st.f_bavail) * static_cast<double>(st.f_frsize);
  const double total = static_cast<double>(st.f_blocks) * static_cast<double>(st.f_frsize);
  const auto size = [](double bytes) {
    char b[32];
    if (bytes >= (1 << 30)) {
      std::snprintf(b, sizeof b, "%.1f GiB", bytes / (1 << 30));
    } else {
      std::snprintf(b, sizeof b, "%.1f MiB", bytes / (1 << 20));
    }
    return std::string(b);
  };
  const std::string text = size(free_bytes) + " free of " + size(total) + " at " + p.string();
  const bool low = free_bytes < static_cast<double>(1 << 30) || (total > 0 && free_bytes / total < 0.05);
  return {"disk (" + what + ")", low ? "FAIL" : "ok", text + (low ? ": free some space" : "")};
}

// Alert channels: configured ones must not be broken, and answer a dry request. A Slack incoming
// webhook answers an empty JSON object with 400 (no text: nothing is posted) while it exists and
// 403/404/410 once it is gone; a generic webhook gets a HEAD; a log channel's directory must be
// writable. No channel at all is a failure too: then nobody hears of an incident.
void ChannelChecks(Env& env, std::vector<Check>* checks) {
  const std::vector<engine::AlertChannel> channels = AlertChannelsFrom(env.config.alerts);
  if (channels.empty()) {
    checks->push_back({"alert channels", "FAIL", "none configured: incidents reach nobody; add [[alerts.channels]]"});
    return;
  }
  std::map<std::string, engine::AlertChannelState> state;
  (void)env.store->WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(auto list, engine::ListAlertChannels(t));
    for (auto& s : list) state[s.name] = s;
    return OkStatus();
  });
  CurlHttpClient http;
  for (const engine::AlertChannel& ch : channels) {
    const std::string name = "channel " + ch.name + " (" + std::string(engine::AlertChannelKindName(ch.kind)) + ")";
    auto known = state.find(ch.name);
    if (known != state.end() && known->second.state == "broken") {
      checks->push_back({name, "FAIL",
                         "broken: " + known->second.broken_reason +
                             "; fix it, then `nbaprops alerts test "
                             "--channel " +
                             ch.name + "`"});
      continue;
    }
    if (ch.kind == engine::AlertChannelKind::kLog) {
      const std::string dir = std::filesystem::path(ch.path).parent_path().string();
      const bool ok = ::access(dir.empty() ? "." : dir.c_str(), W_OK) == 0;
      checks->push_back({name, ok ? "ok" : "FAIL", ok ? ch.path : "cannot write to " + (dir.empty() ? "." : dir)});
      continue;
    }
    HttpRequest req;
    req.method = ch.kind == engine::AlertChannelKind::kSlack ? "POST" : "HEAD";
    req.url = ch.url;
    req.headers = {{"Content-Type", "application/json"}};
    req.body = ch.kind == engine::AlertChannelKind::kSlack ? "{}" : "";
    req.total_timeout_ms = 5'000;
    HttpResponse r = http.Send(req);
    const bool gone = r.status == 403 || r.status == 404 || r.status == 410;
    std::string detail = r.answered() ? "dry request answered HTTP " + std::to_string(r.status)
                                      : "dry request failed: " + r.transport_error;
    if (gone) detail += ": the endpoint is gone or refuses us; replace its URL";
    checks->push_back({name, !r.answered() || gone ? "FAIL" : "ok", detail});
  }
}

}  // namespace

int CmdDoctor(const GlobalOptions& g) {
  std::vector<Check> checks;
  auto config = LoadConfig(g.config);
  if (!config.ok()) {
    checks.push_back({"config", "FAIL", config.status().message()});
  } else {
    checks.push_back({"config", "ok", g.config.empty() ? "defaults and NBAPROPS_* environment" : g.config});
  }
  Env env;
  const std::string db = !g.db.empty() ? g.db : config.ok() ? config->db_path : "nbaprops.db";
  std::error_code ec;
  if (!config.ok()) {
    // Nothing else can be judged without a config.
  } else if (!store::IsPostgresUrl(db) && !std::filesystem::exists(db, ec)) {
    checks.push_back({"store", "FAIL", "database '" + db + "' does not exist; run `nbaprops init --db " + db + "`"});
  } else if (auto store = store::OpenStore(db); !store.ok()) {
    checks.push_back({"store", "FAIL", store.status().message()});
  } else {
    checks.push_back({"store", "ok", (*store)->description()});
    auto version = store::SchemaVersion(**store);
    const int latest = store::LatestSchemaVersion();
    if (!version.ok()) {
      checks.push_back({"migrations", "FAIL", version.status().message()});
    } else {
      checks.push_back(
          {"migrations", *version == latest ? "ok" : "FAIL",
           "schema " + std::to_string(*version) + " of " + std::to_string(latest) +
               (*version == latest ? "" : ": any nbaprops command migrates on start (e.g. `nbaprops init`)")});
    }
  }
  if (config.ok() && checks.back().status == "ok" && OpenEnv(g, false, &env) == kExitOk) {
    const int64_t now = env.runner->clock().NowMillis();
    ChannelChecks(env, &checks);
    // Schedules: registered by a scheduler (`serve`), enabled, and none overdue.
    std::vector<std::string> names, missed;
    Status st = env.store->WithRead([&](store::Transaction& t) -> Status {
      RETURN_IF_ERROR(t.Query("SELECT name, enabled FROM schedules ORDER BY name", {}, [&](const store::Row& r) {
        names.push_back(r.Text(0) + (r.Int(1) ? "" : " (disabled)"));
        return OkStatus();
      }));
      ASSIGN_OR_RETURN(auto incidents, engine::ListIncidents(t, true));
      for (const auto& i : incidents) {
        if (StartsWith(i.key, "schedule_missed:")) missed.push_back(i.key.substr(16));
      }
      return OkStatus();
    });
    if (!st.ok()) {
      checks.push_back({"schedules", "FAIL", st.message()});
    } else if (names.empty()) {
      checks.push_back(
          {"schedules", "FAIL", "no schedule registered: no scheduler has run here; start `nbaprops serve`"});
    } else if (!missed.empty()) {
      checks.push_back(
          {"schedules", "FAIL", "did not fire: " + Join(missed, ", ") + " (is `nbaprops serve` running?)"});
    } else {
      checks.push_back({"schedules", "ok", Join(names, ", ")});
    }
    // Model: configured, readable and fresh, judged as the model guard does.
    if (env.config.model_path.empty()) {
      checks.push_back({"model", "FAIL",
                        "no model configured: predictions use moving_average only; set [predictions] model_path "
                        "(train one with `nbaprops train`)"});
    } else {
      pipeline::GuardOptions go;
      go.dry_run = true;
      auto report =
          pipeline::CheckModelGuard(*env.store, go, env.config.model_path, FormatIsoDate(EasternDate(now / 1000)), now);
      if (!report.ok()) {
        checks.push_back({"model", "FAIL", report.status().message()});
      } else {
        for (const auto& c : report->checks) {
          if (c.check == "model_stale") checks.push_back({"model", c.outcome == "alert" ? "FAIL" : "ok", c.summary});
        }
      }
    }
    // What is on fire right now.
    int64_t critical = 0;
    std::string first;
    (void)env.store->WithRead([&](store::Transaction& t) -> Status {
      ASSIGN_OR_RETURN(auto incidents, engine::ListIncidents(t, true));
      for (const auto& i : incidents) {
        if (i.severity != "critical") continue;
        if (critical++ == 0) first = i.key + ": " + i.summary;
      }
      return OkStatus();
    });
    checks.push_back({"critical incidents", critical ? "FAIL" : "ok",
                      critical ? std::to_string(critical) + " open, e.g. " + Truncate(first, 120) : "none open"});
    if (!store::IsPostgresUrl(env.config.db_path)) checks.push_back(Disk("database", env.config.db_path));
    checks.push_back(Disk("exports", env.config.export_dir));
  }
  bool healthy = true;
  for (const Check& c : checks) healthy = healthy && c.status != "FAIL";
  if (g.json) {
    std::string j = "{\"healthy\":" + std::string(healthy ? "true" : "false") + ",\"checks\":[";
    for (size_t i = 0; i < checks.size(); ++i) {
      j += std::string(i ? "," : "") + "{\"check\":" + JsonQuoted(checks[i].name) +
           ",\"status\":" + JsonQuoted(checks[i].status) + ",\"detail\":" + JsonQuoted(checks[i].detail) + "}";
    }
    std::printf("%s]}\n", j.c_str());
  } else {
    Table t({"check", "status", "detail"});
    for (const Check& c : checks) t.Add({c.name, c.status, c.detail});
    std::printf("%s%s\n", t.Render().c_str(), healthy ? "healthy" : "NOT HEALTHY: fix the FAIL rows above");
  }
  return healthy ? kExitOk : kExitFailed;
}

}  // namespace nbaprops::cli
