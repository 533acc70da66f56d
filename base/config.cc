#include "base/config.h"

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <toml++/toml.h>

#include "base/strings.h"

namespace nbaprops {
namespace {

Status CheckKeys(const toml::table& t, const std::string& section, const std::set<std::string>& allowed,
                 const std::string& path) {
  for (auto& [k, v] : t) {
    std::string key(k.str());
    if (!allowed.count(key)) {
      return InvalidArgumentError("config '" + path + "': unknown key '" +
                                  (section.empty() ? key : section + "." + key) +
                                  "'; remove it or fix its spelling (see docs/configuration.md)");
    }
  }
  return OkStatus();
}

// A secret named by `<what>_env` (an environment variable) or `<what>_file` (a 0600 file). The
// errors name the variable or file, never the value. Empty when neither key is set.
StatusOr<std::string> ChannelSecret(const toml::table& ch, const std::string& channel, const std::string& what,
                                    const std::string& path) {
  const auto env = ch[what + "_env"].value<std::string>();
  const auto file = ch[what + "_file"].value<std::string>();
  const std::string where = "config '" + path + "': alerts channel '" + channel + "': ";
  if (env && file) return InvalidArgumentError(where + "set " + what + "_env or " + what + "_file, not both");
  if (env) {
    const char* v = std::getenv(env->c_str());
    if (!v || !*v) {
      return InvalidArgumentError(where + "environment variable " + *env + " (" + what +
                                  "_env) is not set; export it, or remove the channel");
    }
    return std::string(v);
  }
  if (file) {
    auto s = ReadSecretFile(*file);
    if (!s.ok()) return s.status().WithContext(where + what + "_file");
    return s;
  }
  return std::string();
}

// A whole-number setting. toml++ 3.3's value<int>() of a float node casts before it range-checks
// (undefined behaviour for `lease_ms = 1e30`), so floats are checked here first: a whole, in-range
// float is accepted as before, any other float is an error naming the key. Other types keep
// the current value, as value_or did.
template <typename View, typename T>
Status Whole(View v, const std::string& key, const std::string& path, T* out) {
  if (!v) return OkStatus();
  if (v.is_floating_point()) {
    const double d = v.template value<double>().value_or(0.5);
    const double lo = static_cast<double>(std::numeric_limits<T>::min());  // -2^(bits-1), exact
    if (!(d == std::floor(d) && d >= lo && d < -lo)) {  // false for NaN and inf too
      return InvalidArgumentError("config '" + path + "': " + key + " must be a whole number (got " +
                                  std::to_string(d) + ")");
    }
    *out = static_cast<T>(d);
    return OkStatus();
  }
  *out = v.value_or(*out);
  return OkStatus();
}

Status ParseAlerts(const toml::table& a, const std::string& path, AlertsConfig* out) {
  RETURN_IF_ERROR(CheckKeys(a, "alerts", {"channels", "group_window_s", "repeat_after_s", "broken_after_s"}, path));
  RETURN_IF_ERROR(Whole(a["group_window_s"], "alerts.group_window_s", path, &out->group_window_s));
  RETURN_IF_ERROR(Whole(a["repeat_after_s"], "alerts.repeat_after_s", path, &out->repeat_after_s));
  RETURN_IF_ERROR(Whole(a["broken_after_s"], "alerts.broken_after_s", path, &out->broken_after_s));
  if (out->group_window_s < 0 || out->group_window_s > 3600 || out->repeat_after_s < 0 || out->broken_after_s < 1) {
    return InvalidArgumentError("config '" + path +
                                "': alerts: need 0 <= group_window_s <= 3600, repeat_after_s >= 0 (0 = never "
                                "repeat) and broken_after_s >= 1");
  }
  const toml::node* channels = a.get("channels");
  if (!channels) return OkStatus();
  const toml::array* list = channels->as_array();
  if (!list) {
    return InvalidArgumentError("config '" + path + "': alerts.channels must be an array of tables: write each "
                                "channel as [[alerts.channels]]");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < list->size(); ++i) {
    const toml::table* ch = (*list)[i].as_table();
    const std::string section = "alerts.channels[" + std::to_string(i) + "]";
    if (!ch) return InvalidArgumentError("config '" + path + "': " + section + " is not a table");
    RETURN_IF_ERROR(CheckKeys(*ch, section,
                              {"name", "kind", "min_severity", "url_env", "url_file", "secret_env", "secret_file",
                               "path", "rate_per_s", "burst"},
                              path));
    AlertChannelConfig c;
    c.name = (*ch)["name"].value_or(std::string());
    const std::string where = "config '" + path + "': " + section + " ('" + c.name + "'): ";
    if (c.name.empty() || c.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos) {
      return InvalidArgumentError(where + "name is required and may use only a-z, 0-9, '_' and '-'");
    }
    if (!names.insert(c.name).second) return InvalidArgumentError(where + "another channel has the same name");
    c.kind = (*ch)["kind"].value_or(std::string());
    if (c.kind != "slack" && c.kind != "webhook" && c.kind != "log") {
      return InvalidArgumentError(where + "kind '" + c.kind + "' is not one of slack, webhook, log");
    }
    c.min_severity = (*ch)["min_severity"].value_or(c.min_severity);
    if (c.min_severity != "info" && c.min_severity != "warning" && c.min_severity != "critical") {
      return InvalidArgumentError(where + "min_severity '" + c.min_severity + "' is not one of info, warning, critical");
    }
    ASSIGN_OR_RETURN(c.url, ChannelSecret(*ch, c.name, "url", path));
    ASSIGN_OR_RETURN(c.secret, ChannelSecret(*ch, c.name, "secret", path));
    c.path = (*ch)["path"].value_or(std::string());
    if (c.kind == "log") {
      if (c.path.empty()) return InvalidArgumentError(where + "a log channel needs path (the JSON-lines file)");
      if (!c.url.empty() || !c.secret.empty()) {
        return InvalidArgumentError(where + "a log channel takes path only, not url_* or secret_*");
      }
      c.rate_per_s = 0;  // a local file needs no rate limit unless asked
    } else {
      // The URL is not quoted in the error: it is the secret.
      if (!StartsWith(c.url, "https://") && !StartsWith(c.url, "http://")) {
        return InvalidArgumentError(where + "needs url_env or url_file holding an https:// (or http://) URL");
      }
      if (!c.path.empty()) return InvalidArgumentError(where + "path is only for log channels");
      if (c.kind == "webhook" && c.secret.empty()) {
        return InvalidArgumentError(where + "a webhook channel needs secret_env or secret_file (the HMAC-SHA256 key "
                                            "receivers verify X-Nbaprops-Signature with)");
      }
      if (c.kind == "slack" && !c.secret.empty()) {
        return InvalidArgumentError(where + "secret_* is only for webhook channels (Slack does not verify one)");
      }
    }
    c.rate_per_s = (*ch)["rate_per_s"].value_or(c.rate_per_s);
    RETURN_IF_ERROR(Whole((*ch)["burst"], section + ".burst", path, &c.burst));
    if (!(c.rate_per_s >= 0) || std::isinf(c.rate_per_s) || c.burst < 1) {  // NaN fails every comparison
      return InvalidArgumentError(where + "need a finite rate_per_s >= 0 (0 = unlimited) and burst >= 1");
    }
    out->channels.push_back(std::move(c));
  }
  return OkStatus();
}

Status ParseHttpSource(const toml::table& t, const std::string& path, HttpSourceConfig* out) {
  const std::string section = "sources." + out->name;
  RETURN_IF_ERROR(CheckKeys(t, section,
                            {"mode", "base_url", "api_key_env", "api_key_file", "requests_per_minute", "burst",
                             "connect_timeout_ms", "timeout_ms", "max_attempts", "backoff_ms", "max_retry_after_s",
                             "per_page", "quota_reserve"},
                            path));
  const std::string where = "config '" + path + "': " + section + ": ";
  out->mode = t["mode"].value_or(out->mode);
  if (out->mode != "file" && out->mode != "http" && out->mode != "off") {
    return InvalidArgumentError(where + "mode '" + out->mode + "' is not one of file, http, off");
  }
  out->base_url = t["base_url"].value_or(out->base_url);
  while (!out->base_url.empty() && out->base_url.back() == '/') out->base_url.pop_back();
  if (!StartsWith(out->base_url, "https://") && !StartsWith(out->base_url, "http://")) {
    return InvalidArgumentError(where + "base_url must start with https:// (or http:// for a local server)");
  }
  const auto env = t["api_key_env"].value<std::string>();
  const auto file = t["api_key_file"].value<std::string>();
  if (env && file) return InvalidArgumentError(where + "set api_key_env or api_key_file, not both");
  if (env) {
    const char* v = std::getenv(env->c_str());
    if (!v || !*v) {
      return InvalidArgumentError(where + "environment variable " + *env +
                                  " (api_key_env) is not set; export it, or set mode = \"file\"");
    }
    out->api_key = v;
  } else if (file) {
    auto k = ReadSecretFile(*file);
    if (!k.ok()) return k.status().WithContext(where + "api_key_file");
    out->api_key = *k;
  }
  out->requests_per_minute = t["requests_per_minute"].value_or(out->requests_per_minute);
  out->burst = t["burst"].value_or(out->burst);
  out->connect_timeout_ms = t["connect_timeout_ms"].value_or(out->connect_timeout_ms);
  out->timeout_ms = t["timeout_ms"].value_or(out->timeout_ms);
  out->max_attempts = t["max_attempts"].value_or(out->max_attempts);
  out->backoff_ms = t["backoff_ms"].value_or(out->backoff_ms);
  out->max_retry_after_s = t["max_retry_after_s"].value_or(out->max_retry_after_s);
  out->per_page = t["per_page"].value_or(out->per_page);
  out->quota_reserve = t["quota_reserve"].value_or(out->quota_reserve);
  return OkStatus();
}

Status ValidateHttpSource(const HttpSourceConfig& s) {
  const std::string where = "sources." + s.name + ": ";
  if (s.requests_per_minute < 0 || s.burst < 1 || s.connect_timeout_ms < 1 || s.timeout_ms < s.connect_timeout_ms ||
      s.max_attempts < 1 || s.max_attempts > 10 || s.backoff_ms < 0 || s.max_retry_after_s < 0) {
    return InvalidArgumentError(where +
                                "need requests_per_minute >= 0, burst >= 1, 1 <= connect_timeout_ms <= timeout_ms, "
                                "1 <= max_attempts <= 10, backoff_ms >= 0 and max_retry_after_s >= 0");
  }
  if (s.per_page < 1 || s.per_page > 100) return InvalidArgumentError(where + "per_page must be between 1 and 100");
  if (s.quota_reserve < 0) return InvalidArgumentError(where + "quota_reserve must be >= 0");
  if (s.http() && s.name != "espn" && s.api_key.empty()) {
    return InvalidArgumentError(where + "mode = \"http\" needs an API key: set api_key_env or api_key_file, or "
                                "export " + ApiKeyEnvVar(s.name));
  }
  return OkStatus();
}

}  // namespace

std::string ApiKeyEnvVar(const std::string& source) {
  // NBAPROPS_BALLDONTLIE_API_KEY, NBAPROPS_ODDS_API_KEY (not ..._API_API_KEY).
  std::string upper = ToUpper(source);
  return "NBAPROPS_" + upper + (upper.size() > 4 && upper.compare(upper.size() - 4, 4, "_API") == 0 ? "_KEY" : "_API_KEY");
}

StatusOr<std::string> ReadSecretFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return InvalidArgumentError("secret file '" + path + "' cannot be read: " + std::strerror(errno));
  }
  if ((st.st_mode & 077) != 0) {
    return InvalidArgumentError("secret file '" + path + "' is readable by group or others; run: chmod 600 " + path);
  }
  std::ifstream in(path, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.empty()) return InvalidArgumentError("secret file '" + path + "' is empty");
  return s;
}

namespace {

// The TOML text of a config file (`path` names it in messages), or none (defaults only) when
// `text` is null; then environment overrides and validation.
StatusOr<Config> ConfigFromToml(const std::string* text, const std::string& path) {
  Config c;
  if (text != nullptr) {
    toml::table root;
    try {
      root = toml::parse(std::string_view(*text), std::string_view(path));
    } catch (const toml::parse_error& e) {
      return InvalidArgumentError("config '" + path + "': " + std::string(e.description()) +
                                  " at line " + std::to_string(e.source().begin.line));
    }
    RETURN_IF_ERROR(CheckKeys(root, "", {"database", "log", "demo", "pipeline", "engine", "sources", "predictions", "export", "http",
                                     "alerts"},
                              path));
    if (auto* db = root["database"].as_table()) {
      RETURN_IF_ERROR(CheckKeys(*db, "database", {"path"}, path));
      c.db_path = db->get("path") ? (*db)["path"].value_or(c.db_path) : c.db_path;
    }
    if (auto* log = root["log"].as_table()) {
      RETURN_IF_ERROR(CheckKeys(*log, "log", {"level"}, path));
      c.log_level = (*log)["level"].value_or(c.log_level);
    }
    if (auto* demo = root["demo"].as_table()) {
      RETURN_IF_ERROR(CheckKeys(*demo, "demo", {"data_dir"}, path));
      c.data_dir = (*demo)["data_dir"].value_or(c.data_dir);
    }
    if (auto* src = root["sources"].as_table()) {
      RETURN_IF_ERROR(CheckKeys(*src, "sources", {"inbox", "balldontlie", "odds_api", "espn"}, path));
      c.inbox = (*src)["inbox"].value_or(c.inbox);
      for (HttpSourceConfig* hs : {&c.sources.balldontlie, &c.sources.odds_api, &c.sources.espn}) {
        const toml::node* n = src->get(hs->name);
        if (!n) continue;
        const toml::table* t = n->as_table();
        if (!t) return InvalidArgumentError("config '" + path + "': sources." + hs->name + " must be a table");
        RETURN_IF_ERROR(ParseHttpSource(*t, path, hs));
      }
    }
    if (auto* p = root["pipeline"].as_table()) {
      RETURN_IF_ERROR(CheckKeys(*p, "pipeline",
                                {"roster_lookback_games", "injury_max_age_hours", "minutes_alert_below",
                                 "minutes_block_below"},
                                path));
      RETURN_IF_ERROR(Whole((*p)["roster_lookback_games"], "pipeline.roster_lookback_games", path,
                            &c.upcoming_roster_games));
      RETURN_IF_ERROR(Whole((*p)["injury_max_age_hours"], "pipeline.injury_max_age_hours", path,
                            &c.injury_max_age_hours));
      c.minutes_alert_below = (*p)["minutes_alert_below"].value_or(c.minutes_alert_below);
      c.minutes_block_below = (*p)["minutes_block_below"].value_or(c.minutes_block_below);
    }
    if (auto* e = root["engine"].as_table()) {
      RETURN_IF_ERROR(CheckKeys(*e, "engine",
                                {"lease_ms", "heartbeat_ms", "max_attempts", "retry_base_ms", "retry_cap_ms", "defer_max_hours",
                                 "reconcile_every_s", "reconcile_lookback_days", "max_heals_per_cycle",
                                 "breaker_failures", "breaker_cooldown_s", "workers"},
                                path));
      RETURN_IF_ERROR(Whole((*e)["lease_ms"], "engine.lease_ms", path, &c.lease_ms));
      RETURN_IF_ERROR(Whole((*e)["heartbeat_ms"], "engine.heartbeat_ms", path, &c.heartbeat_ms));
      RETURN_IF_ERROR(Whole((*e)["max_attempts"], "engine.max_attempts", path, &c.max_attempts));
      RETURN_IF_ERROR(Whole((*e)["retry_base_ms"], "engine.retry_base_ms", path, &c.retry_base_ms));
      RETURN_IF_ERROR(Whole((*e)["retry_cap_ms"], "engine.retry_cap_ms", path, &c.retry_cap_ms));
      RETURN_IF_ERROR(Whole((*e)["defer_max_hours"], "engine.defer_max_hours", path, &c.defer_max_hours));
      RETURN_IF_ERROR(Whole((*e)["reconcile_every_s"], "engine.reconcile_every_s", path, &c.reconcile_every_s));
      RETURN_IF_ERROR(Whole((*e)["reconcile_lookback_days"], "engine.reconcile_lookback_days", path,
                            &c.reconcile_lookback_days));
      RETURN_IF_ERROR(Whole((*e)["max_heals_per_cycle"], "engine.max_heals_per_cycle", path, &c.max_heals_per_cycle));
      RETURN_IF_ERROR(Whole((*e)["breaker_failures"], "engine.breaker_failures", path, &c.breaker_failures));
      RETURN_IF_ERROR(Whole((*e)["breaker_cooldown_s"], "engine.breaker_cooldown_s", path, &c.breaker_cooldown_s));
      RETURN_IF_ERROR(Whole((*e)["workers"], "engine.workers", path, &c.workers));
    }
    if (auto* h = root["http"].as_table()) {
      RETURN_IF_ERROR(CheckKeys(*h, "http", {"listen", "token_file"}, path));
      c.http_listen = (*h)["listen"].value_or(c.http_listen);
      if (auto file = (*h)["token_file"].value<std::string>()) {
        ASSIGN_OR_RETURN(c.http_token, ReadSecretFile(*file));
      }
    }
    if (auto* a = root["alerts"].as_table()) {
      RETURN_IF_ERROR(ParseAlerts(*a, path, &c.alerts));
    }
    if (auto* e = root["export"].as_table()) {
      RETURN_IF_ERROR(CheckKeys(*e, "export", {"dir"}, path));
      c.export_dir = (*e)["dir"].value_or(c.export_dir);
    }
    if (auto* p = root["predictions"].as_table()) {
      RETURN_IF_ERROR(CheckKeys(*p, "predictions",
                                {"sportsbooks", "line_policy", "min_edge", "min_probability", "model_path",
                                 "wait_for_quality", "quality_gate_first", "quality_gate_final"},
                                path));
      if (auto* books = (*p)["sportsbooks"].as_array()) {
        c.sportsbooks.clear();
        for (auto& b : *books) {
          auto name = b.value<std::string>();
          if (!name) return InvalidArgumentError("config '" + path + "': predictions.sportsbooks must list strings");
          c.sportsbooks.push_back(*name);
        }
      }
      c.line_policy = (*p)["line_policy"].value_or(c.line_policy);
      c.min_edge = (*p)["min_edge"].value_or(c.min_edge);
      c.min_probability = (*p)["min_probability"].value_or(c.min_probability);
      c.wait_for_quality = (*p)["wait_for_quality"].value_or(c.wait_for_quality);
      c.quality_gate_first = (*p)["quality_gate_first"].value_or(c.quality_gate_first);
      c.quality_gate_final = (*p)["quality_gate_final"].value_or(c.quality_gate_final);
      c.model_path = (*p)["model_path"].value_or(c.model_path);
    }
  }
  if (const char* v = std::getenv("NBAPROPS_DB")) c.db_path = v;
  if (const char* v = std::getenv("NBAPROPS_MODEL")) c.model_path = v;
  if (const char* v = std::getenv("NBAPROPS_EXPORT_DIR")) c.export_dir = v;
  if (const char* v = std::getenv("NBAPROPS_LEASE_MS")) c.lease_ms = std::atoll(v);
  if (const char* v = std::getenv("NBAPROPS_HEARTBEAT_MS")) c.heartbeat_ms = std::atoll(v);
  if (const char* v = std::getenv("NBAPROPS_LOG_LEVEL")) c.log_level = v;
  if (const char* v = std::getenv("NBAPROPS_DATA_DIR")) c.data_dir = v;
  if (const char* v = std::getenv("NBAPROPS_INBOX")) c.inbox = v;
  if (const char* v = std::getenv("NBAPROPS_HTTP_LISTEN")) c.http_listen = v;
  if (const char* v = std::getenv("NBAPROPS_HTTP_TOKEN")) c.http_token = v;
  for (HttpSourceConfig* hs : {&c.sources.balldontlie, &c.sources.odds_api, &c.sources.espn}) {
    const std::string var = ApiKeyEnvVar(hs->name);
    if (hs->api_key.empty()) {
      if (const char* v = std::getenv(var.c_str()); v && *v) hs->api_key = v;
    }
    RETURN_IF_ERROR(ValidateHttpSource(*hs));
  }
  static const std::set<std::string> kLevels = {"debug", "info", "warn", "error", "off"};
  if (!kLevels.count(c.log_level)) {
    return InvalidArgumentError("log level '" + c.log_level + "' is not one of debug, info, warn, error, off");
  }
  // heartbeat_ms > lease_ms / 2 rather than heartbeat_ms * 2 > lease_ms: that product can overflow.
  if (c.lease_ms < 100 || c.heartbeat_ms < 10 || c.heartbeat_ms > c.lease_ms / 2) {
    return InvalidArgumentError("engine.lease_ms must be >= 100 and at least twice engine.heartbeat_ms (got lease " +
                                std::to_string(c.lease_ms) + " ms, heartbeat " + std::to_string(c.heartbeat_ms) +
                                " ms)");
  }
  if (c.max_attempts < 1 || c.workers < 1 || c.retry_base_ms < 0 || c.retry_cap_ms < c.retry_base_ms ||
      c.defer_max_hours < 1 || c.reconcile_every_s < 0 || c.reconcile_lookback_days < 0 ||
      c.max_heals_per_cycle < 1 || c.breaker_failures < 1 || c.breaker_cooldown_s < 1) {
    return InvalidArgumentError(
        "engine: max_attempts, workers, defer_max_hours, max_heals_per_cycle, breaker_failures and "
        "breaker_cooldown_s must be >= 1, reconcile_every_s "
        "and reconcile_lookback_days >= 0, and retry_cap_ms >= retry_base_ms");
  }
  if (c.line_policy != "opening" && c.line_policy != "latest") {
    return InvalidArgumentError("predictions.line_policy '" + c.line_policy + "' is not one of opening, latest");
  }
  // TOML has nan and inf, and NaN passes every range check below written as "reject if x < lo".
  for (auto [name, v] : {std::pair<const char*, double>{"predictions.min_edge", c.min_edge},
                         {"predictions.min_probability", c.min_probability},
                         {"predictions.quality_gate_first", c.quality_gate_first},
                         {"predictions.quality_gate_final", c.quality_gate_final},
                         {"pipeline.minutes_alert_below", c.minutes_alert_below},
                         {"pipeline.minutes_block_below", c.minutes_block_below}}) {
    if (!std::isfinite(v)) return InvalidArgumentError(std::string(name) + " must be a finite number");
  }
  if (c.min_edge < 0 || c.min_probability < 0.5 || c.min_probability >= 1) {
    return InvalidArgumentError("predictions: min_edge must be >= 0 and min_probability in [0.5, 1)");
  }
  if (c.quality_gate_final < 0 || c.quality_gate_final > c.quality_gate_first || c.quality_gate_first > 1) {
    return InvalidArgumentError("predictions: need 0 <= quality_gate_final <= quality_gate_first <= 1");
  }
  if (c.upcoming_roster_games < 1 || c.upcoming_roster_games > 82) {
    return InvalidArgumentError("pipeline.roster_lookback_games must be between 1 and 82");
  }
  if (c.minutes_block_below < 0 || c.minutes_block_below > c.minutes_alert_below || c.minutes_alert_below > 1) {
    return InvalidArgumentError("pipeline: need 0 <= minutes_block_below <= minutes_alert_below <= 1 (fractions of "
                                "the 240 minutes a team plays)");
  }
  return c;
}

}  // namespace

StatusOr<Config> ParseConfig(std::string_view toml_text, const std::string& path) {
  const std::string text(toml_text);
  return ConfigFromToml(&text, path);
}

StatusOr<Config> LoadConfig(const std::string& path) {
  if (path.empty()) return ConfigFromToml(nullptr, path);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgumentError("config '" + path + "': cannot be opened for reading: " + std::strerror(errno) +
                                "; check the path given with --config");
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return ConfigFromToml(&text, path);
}

}  // namespace nbaprops
