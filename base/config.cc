#include "base/config.h"

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <type_traits>
#include <toml++/toml.h>

#include "base/strings.h"

namespace nbaprops {
namespace {

const char* TypeName(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date or time";
  }
}

// Reads typed values out of the parsed file. A key of the wrong type is an error naming the file,
// the line and the key (no value is ever silently ignored); every key read remembers its line, so
// checks of combined values after all keys are read can point at the line too.
class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}

  const std::string& path() const { return path_; }

  // "config 'PATH', line N: " for the first of `keys` the file set (a key or a section name), or
  // "config 'PATH': " when it set none of them; "" without a file (defaults and environment only).
  std::string Where(std::initializer_list<std::string_view> keys) const {
    if (path_.empty()) return "";
    for (std::string_view k : keys) {
      auto it = lines_.find(std::string(k));
      if (it != lines_.end()) return "config '" + path_ + "', line " + std::to_string(it->second) + ": ";
    }
    return "config '" + path_ + "': ";
  }

  Status Error(std::initializer_list<std::string_view> keys, const std::string& message) const {
    return InvalidArgumentError(Where(keys) + message);
  }

  // Every key of table `t` (named `section`, "" for the root) is one of `allowed`.
  Status CheckKeys(const toml::table& t, const std::string& section, const std::set<std::string>& allowed) {
    if (!section.empty()) Remember(section, t);
    for (auto& [k, v] : t) {
      const std::string key = Join(section, std::string(k.str()));
      if (!allowed.count(std::string(k.str()))) {
        Remember(key, v);
        return Error({key}, "unknown key '" + key + "'; remove it or fix its spelling (see docs/configuration.md)");
      }
    }
    return OkStatus();
  }

  // Sets *out from t[key] when the file has it; an error when it has the wrong type. Integers
  // accept whole, in-range floats (`lease_ms = 4e4`); floats accept integers.
  template <typename T>
  Status Get(const toml::table& t, const std::string& section, const std::string& key, T* out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return OkStatus();
    const std::string full = Join(section, key);
    Remember(full, *n);
    if constexpr (std::is_same_v<T, std::string>) {
      if (!n->is_string()) return WrongType(full, "a string", *n);
      *out = n->as_string()->get();
    } else if constexpr (std::is_same_v<T, bool>) {
      if (!n->is_boolean()) return WrongType(full, "true or false", *n);
      *out = n->as_boolean()->get();
    } else if constexpr (std::is_floating_point_v<T>) {
      if (n->is_integer()) {
        *out = static_cast<T>(n->as_integer()->get());
      } else if (n->is_floating_point()) {
        *out = static_cast<T>(n->as_floating_point()->get());
      } else {
        return WrongType(full, "a number", *n);
      }
    } else {
      static_assert(std::is_integral_v<T>);
      // toml++ 3.3's value<int>() of a float casts before it range-checks (undefined behaviour
      // for `lease_ms = 1e30`), so both kinds are range-checked here as doubles / int64.
      const double lo = static_cast<double>(std::numeric_limits<T>::min());  // -2^(bits-1), exact
      if (n->is_integer()) {
        const int64_t v = n->as_integer()->get();
        if (v < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
            v > static_cast<int64_t>(std::numeric_limits<T>::max())) {
          return Error({full}, full + " is out of range (got " + std::to_string(v) + ")");
        }
        *out = static_cast<T>(v);
      } else if (n->is_floating_point()) {
        const double d = n->as_floating_point()->get();
        if (!(d == std::floor(d) && d >= lo && d < -lo)) {  // false for NaN and inf too
          return Error({full}, full + " must be a whole number (got " + std::to_string(d) + ")");
        }
        *out = static_cast<T>(d);
      } else {
        return WrongType(full, "a whole number", *n);
      }
    }
    return OkStatus();
  }

 private:
  static std::string Join(const std::string& section, const std::string& key) {
    return section.empty() ? key : section + "." + key;
  }
  void Remember(const std::string& key, const toml::node& n) {
    if (n.source().begin.line > 0) lines_.emplace(key, static_cast<int>(n.source().begin.line));
  }
  Status WrongType(const std::string& key, const char* want, const toml::node& n) const {
    return Error({key}, key + " must be " + want + " (got " + TypeName(n) + ")");
  }

  std::string path_;
  std::map<std::string, int> lines_;
};

// A secret named by `<what>_env` (an environment variable) or `<what>_file` (a 0600 file). The
// errors name the variable or file, never the value. Empty when neither key is set.
StatusOr<std::string> ChannelSecret(Reader& r, const toml::table& ch, const std::string& section,
                                    const std::string& channel, const std::string& what) {
  std::string env, file;
  RETURN_IF_ERROR(r.Get(ch, section, what + "_env", &env));
  RETURN_IF_ERROR(r.Get(ch, section, what + "_file", &file));
  const std::string where = r.Where({section + "." + what + "_env", section + "." + what + "_file", section}) +
                            "alerts channel '" + channel + "': ";
  if (!env.empty() && !file.empty()) {
    return InvalidArgumentError(where + "set " + what + "_env or " + what + "_file, not both");
  }
  if (!env.empty()) {
    const char* v = std::getenv(env.c_str());
    if (!v || !*v) {
      return InvalidArgumentError(where + "environment variable " + env + " (" + what +
                                  "_env) is not set; export it, or remove the channel");
    }
    return std::string(v);
  }
  if (!file.empty()) {
    auto s = ReadSecretFile(file);
    if (!s.ok()) return s.status().WithContext(where + what + "_file");
    return s;
  }
  return std::string();
}

Status ParseAlerts(Reader& r, const toml::table& a, AlertsConfig* out) {
  RETURN_IF_ERROR(r.CheckKeys(a, "alerts", {"channels", "group_window_s", "repeat_after_s", "broken_after_s"}));
  RETURN_IF_ERROR(r.Get(a, "alerts", "group_window_s", &out->group_window_s));
  RETURN_IF_ERROR(r.Get(a, "alerts", "repeat_after_s", &out->repeat_after_s));
  RETURN_IF_ERROR(r.Get(a, "alerts", "broken_after_s", &out->broken_after_s));
  if (out->group_window_s < 0 || out->group_window_s > 3600 || out->repeat_after_s < 0 || out->broken_after_s < 1) {
    return r.Error({"alerts.group_window_s", "alerts.repeat_after_s", "alerts.broken_after_s"},
                   "alerts: need 0 <= group_window_s <= 3600, repeat_after_s >= 0 (0 = never repeat) and "
                   "broken_after_s >= 1");
  }
  const toml::node* channels = a.get("channels");
  if (!channels) return OkStatus();
  const toml::array* list = channels->as_array();
  if (!list) {
    return r.Error({"alerts"}, "alerts.channels must be an array of tables: write each channel as [[alerts.channels]]");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < list->size(); ++i) {
    const toml::table* ch = (*list)[i].as_table();
    const std::string section = "alerts.channels[" + std::to_string(i) + "]";
    if (!ch) return r.Error({"alerts"}, section + " is not a table");
    RETURN_IF_ERROR(r.CheckKeys(*ch, section,
                                {"name", "kind", "min_severity", "url_env", "url_file", "secret_env", "secret_file",
                                 "path", "rate_per_s", "burst"}));
    AlertChannelConfig c;
    RETURN_IF_ERROR(r.Get(*ch, section, "name", &c.name));
    const std::string where = section + " ('" + c.name + "'): ";
    if (c.name.empty() || c.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos) {
      return r.Error({section + ".name", section}, where + "name is required and may use only a-z, 0-9, '_' and '-'");
    }
    if (!names.insert(c.name).second) return r.Error({section + ".name"}, where + "another channel has the same name");
    RETURN_IF_ERROR(r.Get(*ch, section, "kind", &c.kind));
    if (c.kind != "slack" && c.kind != "webhook" && c.kind != "log") {
      return r.Error({section + ".kind", section}, where + "kind '" + c.kind + "' is not one of slack, webhook, log");
    }
    RETURN_IF_ERROR(r.Get(*ch, section, "min_severity", &c.min_severity));
    if (c.min_severity != "info" && c.min_severity != "warning" && c.min_severity != "critical") {
      return r.Error({section + ".min_severity"},
                     where + "min_severity '" + c.min_severity + "' is not one of info, warning, critical");
    }
    ASSIGN_OR_RETURN(c.url, ChannelSecret(r, *ch, section, c.name, "url"));
    ASSIGN_OR_RETURN(c.secret, ChannelSecret(r, *ch, section, c.name, "secret"));
    RETURN_IF_ERROR(r.Get(*ch, section, "path", &c.path));
    if (c.kind == "log") {
      if (c.path.empty()) return r.Error({section}, where + "a log channel needs path (the JSON-lines file)");
      if (!c.url.empty() || !c.secret.empty()) {
        return r.Error({section}, where + "a log channel takes path only, not url_* or secret_*");
      }
      c.rate_per_s = 0;  // a local file needs no rate limit unless asked
    } else {
      // The URL is not quoted in the error: it is the secret.
      if (!StartsWith(c.url, "https://") && !StartsWith(c.url, "http://")) {
        return r.Error({section}, where + "needs url_env or url_file holding an https:// (or http://) URL");
      }
      if (!c.path.empty()) return r.Error({section + ".path"}, where + "path is only for log channels");
      if (c.kind == "webhook" && c.secret.empty()) {
        return r.Error({section}, where +
                                      "a webhook channel needs secret_env or secret_file (the HMAC-SHA256 key "
                                      "receivers verify X-Nbaprops-Signature with)");
      }
      if (c.kind == "slack" && !c.secret.empty()) {
        return r.Error({section}, where + "secret_* is only for webhook channels (Slack does not verify one)");
      }
    }
    RETURN_IF_ERROR(r.Get(*ch, section, "rate_per_s", &c.rate_per_s));
    RETURN_IF_ERROR(r.Get(*ch, section, "burst", &c.burst));
    if (!(c.rate_per_s >= 0) || std::isinf(c.rate_per_s) || c.burst < 1) {  // NaN fails every comparison
      return r.Error({section + ".rate_per_s", section + ".burst"},
                     where + "need a finite rate_per_s >= 0 (0 = unlimited) and burst >= 1");
    }
    out->channels.push_back(std::move(c));
  }
  return OkStatus();
}

Status ParseHttpSource(Reader& r, const toml::table& t, HttpSourceConfig* out) {
  const std::string section = "sources." + out->name;
  RETURN_IF_ERROR(r.CheckKeys(t, section,
                              {"mode", "base_url", "api_key_env", "api_key_file", "requests_per_minute", "burst",
                               "connect_timeout_ms", "timeout_ms", "max_attempts", "backoff_ms",
                               "max_retry_after_s", "per_page", "quota_reserve"}));
  const std::string where = section + ": ";
  RETURN_IF_ERROR(r.Get(t, section, "mode", &out->mode));
  if (out->mode != "file" && out->mode != "http" && out->mode != "off") {
    return r.Error({section + ".mode"}, where + "mode '" + out->mode + "' is not one of file, http, off");
  }
  RETURN_IF_ERROR(r.Get(t, section, "base_url", &out->base_url));
  while (!out->base_url.empty() && out->base_url.back() == '/') out->base_url.pop_back();
  if (!StartsWith(out->base_url, "https://") && !StartsWith(out->base_url, "http://")) {
    return r.Error({section + ".base_url"},
                   where + "base_url must start with https:// (or http:// for a local server)");
  }
  std::string env, file;
  RETURN_IF_ERROR(r.Get(t, section, "api_key_env", &env));
  RETURN_IF_ERROR(r.Get(t, section, "api_key_file", &file));
  if (!env.empty() && !file.empty()) {
    return r.Error({section + ".api_key_env"}, where + "set api_key_env or api_key_file, not both");
  }
  if (!env.empty()) {
    const char* v = std::getenv(env.c_str());
    if (!v || !*v) {
      return r.Error({section + ".api_key_env"}, where + "environment variable " + env +
                                                     " (api_key_env) is not set; export it, or set mode = \"file\"");
    }
    out->api_key = v;
  } else if (!file.empty()) {
    auto k = ReadSecretFile(file);
    if (!k.ok()) return k.status().WithContext(r.Where({section + ".api_key_file"}) + where + "api_key_file");
    out->api_key = *k;
  }
  RETURN_IF_ERROR(r.Get(t, section, "requests_per_minute", &out->requests_per_minute));
  RETURN_IF_ERROR(r.Get(t, section, "burst", &out->burst));
  RETURN_IF_ERROR(r.Get(t, section, "connect_timeout_ms", &out->connect_timeout_ms));
  RETURN_IF_ERROR(r.Get(t, section, "timeout_ms", &out->timeout_ms));
  RETURN_IF_ERROR(r.Get(t, section, "max_attempts", &out->max_attempts));
  RETURN_IF_ERROR(r.Get(t, section, "backoff_ms", &out->backoff_ms));
  RETURN_IF_ERROR(r.Get(t, section, "max_retry_after_s", &out->max_retry_after_s));
  RETURN_IF_ERROR(r.Get(t, section, "per_page", &out->per_page));
  RETURN_IF_ERROR(r.Get(t, section, "quota_reserve", &out->quota_reserve));
  return OkStatus();
}

Status ValidateHttpSource(const Reader& r, const HttpSourceConfig& s) {
  const std::string section = "sources." + s.name;
  const std::string where = section + ": ";
  if (s.requests_per_minute < 0 || s.burst < 1 || s.connect_timeout_ms < 1 || s.timeout_ms < s.connect_timeout_ms ||
      s.max_attempts < 1 || s.max_attempts > 10 || s.backoff_ms < 0 || s.max_retry_after_s < 0) {
    return r.Error({section}, where +
                                  "need requests_per_minute >= 0, burst >= 1, 1 <= connect_timeout_ms <= timeout_ms, "
                                  "1 <= max_attempts <= 10, backoff_ms >= 0 and max_retry_after_s >= 0");
  }
  if (s.per_page < 1 || s.per_page > 100) {
    return r.Error({section + ".per_page"}, where + "per_page must be between 1 and 100");
  }
  if (s.quota_reserve < 0) return r.Error({section + ".quota_reserve"}, where + "quota_reserve must be >= 0");
  if (s.http() && s.name != "espn" && s.api_key.empty()) {
    return r.Error({section + ".mode"}, where +
                                            "mode = \"http\" needs an API key: set api_key_env or api_key_file, or "
                                            "export " +
                                            ApiKeyEnvVar(s.name));
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
  Reader r(text != nullptr ? path : std::string());
  if (text != nullptr) {
    toml::table root;
    try {
      root = toml::parse(std::string_view(*text), std::string_view(path));
    } catch (const toml::parse_error& e) {
      return InvalidArgumentError("config '" + path + "', line " + std::to_string(e.source().begin.line) + ": " +
                                  std::string(e.description()));
    }
    RETURN_IF_ERROR(r.CheckKeys(root, "", {"database", "log", "demo", "pipeline", "engine", "sources", "predictions",
                                           "export", "http", "alerts"}));
    // A section that is not a table (`engine = 3`) is as wrong as a misspelt one.
    for (const char* section : {"database", "log", "demo", "pipeline", "engine", "sources", "predictions", "export",
                                "http", "alerts"}) {
      const toml::node* n = root.get(section);
      if (n && !n->is_table()) {
        return InvalidArgumentError("config '" + path + "', line " + std::to_string(n->source().begin.line) + ": " +
                                    section + " must be a table ([" + section + "]), not " + TypeName(*n));
      }
    }
    if (auto* db = root["database"].as_table()) {
      RETURN_IF_ERROR(r.CheckKeys(*db, "database", {"path"}));
      RETURN_IF_ERROR(r.Get(*db, "database", "path", &c.db_path));
    }
    if (auto* log = root["log"].as_table()) {
      RETURN_IF_ERROR(r.CheckKeys(*log, "log", {"level"}));
      RETURN_IF_ERROR(r.Get(*log, "log", "level", &c.log_level));
    }
    if (auto* demo = root["demo"].as_table()) {
      RETURN_IF_ERROR(r.CheckKeys(*demo, "demo", {"data_dir"}));
      RETURN_IF_ERROR(r.Get(*demo, "demo", "data_dir", &c.data_dir));
    }
    if (auto* src = root["sources"].as_table()) {
      RETURN_IF_ERROR(r.CheckKeys(*src, "sources", {"inbox", "balldontlie", "odds_api", "espn"}));
      RETURN_IF_ERROR(r.Get(*src, "sources", "inbox", &c.inbox));
      for (HttpSourceConfig* hs : {&c.sources.balldontlie, &c.sources.odds_api, &c.sources.espn}) {
        const toml::node* n = src->get(hs->name);
        if (!n) continue;
        const toml::table* t = n->as_table();
        if (!t) {
          return InvalidArgumentError("config '" + path + "', line " + std::to_string(n->source().begin.line) +
                                      ": sources." + hs->name + " must be a table");
        }
        RETURN_IF_ERROR(ParseHttpSource(r, *t, hs));
      }
    }
    if (auto* p = root["pipeline"].as_table()) {
      RETURN_IF_ERROR(r.CheckKeys(*p, "pipeline",
                                  {"roster_lookback_games", "injury_max_age_hours", "minutes_alert_below",
                                   "minutes_block_below"}));
      RETURN_IF_ERROR(r.Get(*p, "pipeline", "roster_lookback_games", &c.upcoming_roster_games));
      RETURN_IF_ERROR(r.Get(*p, "pipeline", "injury_max_age_hours", &c.injury_max_age_hours));
      RETURN_IF_ERROR(r.Get(*p, "pipeline", "minutes_alert_below", &c.minutes_alert_below));
      RETURN_IF_ERROR(r.Get(*p, "pipeline", "minutes_block_below", &c.minutes_block_below));
    }
    if (auto* e = root["engine"].as_table()) {
      RETURN_IF_ERROR(r.CheckKeys(*e, "engine",
                                  {"lease_ms", "heartbeat_ms", "max_attempts", "retry_base_ms", "retry_cap_ms",
                                   "defer_max_hours", "reconcile_every_s", "reconcile_lookback_days",
                                   "max_heals_per_cycle", "breaker_failures", "breaker_cooldown_s", "workers"}));
      RETURN_IF_ERROR(r.Get(*e, "engine", "lease_ms", &c.lease_ms));
      RETURN_IF_ERROR(r.Get(*e, "engine", "heartbeat_ms", &c.heartbeat_ms));
      RETURN_IF_ERROR(r.Get(*e, "engine", "max_attempts", &c.max_attempts));
      RETURN_IF_ERROR(r.Get(*e, "engine", "retry_base_ms", &c.retry_base_ms));
      RETURN_IF_ERROR(r.Get(*e, "engine", "retry_cap_ms", &c.retry_cap_ms));
      RETURN_IF_ERROR(r.Get(*e, "engine", "defer_max_hours", &c.defer_max_hours));
      RETURN_IF_ERROR(r.Get(*e, "engine", "reconcile_every_s", &c.reconcile_every_s));
      RETURN_IF_ERROR(r.Get(*e, "engine", "reconcile_lookback_days", &c.reconcile_lookback_days));
      RETURN_IF_ERROR(r.Get(*e, "engine", "max_heals_per_cycle", &c.max_heals_per_cycle));
      RETURN_IF_ERROR(r.Get(*e, "engine", "breaker_failures", &c.breaker_failures));
      RETURN_IF_ERROR(r.Get(*e, "engine", "breaker_cooldown_s", &c.breaker_cooldown_s));
      RETURN_IF_ERROR(r.Get(*e, "engine", "workers", &c.workers));
    }
    if (auto* h = root["http"].as_table()) {
      RETURN_IF_ERROR(r.CheckKeys(*h, "http", {"listen", "token_file"}));
      RETURN_IF_ERROR(r.Get(*h, "http", "listen", &c.http_listen));
      std::string file;
      RETURN_IF_ERROR(r.Get(*h, "http", "token_file", &file));
      if (!file.empty()) {
        auto token = ReadSecretFile(file);
        if (!token.ok()) return token.status().WithContext(r.Where({"http.token_file"}) + "http.token_file");
        c.http_token = *token;
      }
    }
    if (auto* a = root["alerts"].as_table()) {
      RETURN_IF_ERROR(ParseAlerts(r, *a, &c.alerts));
    }
    if (auto* e = root["export"].as_table()) {
      RETURN_IF_ERROR(r.CheckKeys(*e, "export", {"dir"}));
      RETURN_IF_ERROR(r.Get(*e, "export", "dir", &c.export_dir));
    }
    if (auto* p = root["predictions"].as_table()) {
      RETURN_IF_ERROR(r.CheckKeys(*p, "predictions",
                                  {"sportsbooks", "line_policy", "min_edge", "min_probability", "min_market_edge", "model_path",
                                   "wait_for_quality", "quality_gate_first", "quality_gate_final"}));
      if (const toml::node* n = p->get("sportsbooks")) {
        const toml::array* books = n->as_array();
        std::vector<std::string> names;
        for (size_t i = 0; books && i < books->size(); ++i) {
          auto name = (*books)[i].value<std::string>();
          if (!name) books = nullptr;
          if (name) names.push_back(*name);
        }
        if (!books) {
          return InvalidArgumentError("config '" + path + "', line " + std::to_string(n->source().begin.line) +
                                      ": predictions.sportsbooks must be an array of strings");
        }
        c.sportsbooks = std::move(names);
      }
      RETURN_IF_ERROR(r.Get(*p, "predictions", "line_policy", &c.line_policy));
      RETURN_IF_ERROR(r.Get(*p, "predictions", "min_edge", &c.min_edge));
      RETURN_IF_ERROR(r.Get(*p, "predictions", "min_probability", &c.min_probability));
      RETURN_IF_ERROR(r.Get(*p, "predictions", "min_market_edge", &c.min_market_edge));
      RETURN_IF_ERROR(r.Get(*p, "predictions", "wait_for_quality", &c.wait_for_quality));
      RETURN_IF_ERROR(r.Get(*p, "predictions", "quality_gate_first", &c.quality_gate_first));
      RETURN_IF_ERROR(r.Get(*p, "predictions", "quality_gate_final", &c.quality_gate_final));
      RETURN_IF_ERROR(r.Get(*p, "predictions", "model_path", &c.model_path));
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
    RETURN_IF_ERROR(ValidateHttpSource(r, *hs));
  }
  static const std::set<std::string> kLevels = {"debug", "info", "warn", "error", "off"};
  if (!kLevels.count(c.log_level)) {
    return r.Error({"log.level"}, "log level '" + c.log_level + "' is not one of debug, info, warn, error, off");
  }
  // heartbeat_ms > lease_ms / 2 rather than heartbeat_ms * 2 > lease_ms: that product can overflow.
  if (c.lease_ms < 100 || c.heartbeat_ms < 10 || c.heartbeat_ms > c.lease_ms / 2) {
    return r.Error({"engine.lease_ms", "engine.heartbeat_ms"},
                   "engine.lease_ms must be >= 100 and at least twice engine.heartbeat_ms (got lease " +
                       std::to_string(c.lease_ms) + " ms, heartbeat " + std::to_string(c.heartbeat_ms) + " ms)");
  }
  if (c.max_attempts < 1 || c.workers < 1 || c.retry_base_ms < 0 || c.retry_cap_ms < c.retry_base_ms ||
      c.defer_max_hours < 1 || c.reconcile_every_s < 0 || c.reconcile_lookback_days < 0 ||
      c.max_heals_per_cycle < 1 || c.breaker_failures < 1 || c.breaker_cooldown_s < 1) {
    return r.Error({"engine"},
                   "engine: max_attempts, workers, defer_max_hours, max_heals_per_cycle, breaker_failures and "
                   "breaker_cooldown_s must be >= 1, reconcile_every_s "
                   "and reconcile_lookback_days >= 0, and retry_cap_ms >= retry_base_ms");
  }
  if (c.line_policy != "opening" && c.line_policy != "latest") {
    return r.Error({"predictions.line_policy"},
                   "predictions.line_policy '" + c.line_policy + "' is not one of opening, latest");
  }
  // TOML has nan and inf, and NaN passes every range check below written as "reject if x < lo".
  for (auto [name, v] : {std::pair<const char*, double>{"predictions.min_edge", c.min_edge},
                         {"predictions.min_probability", c.min_probability},
                         {"predictions.min_market_edge", c.min_market_edge},
                         {"predictions.quality_gate_first", c.quality_gate_first},
                         {"predictions.quality_gate_final", c.quality_gate_final},
                         {"pipeline.minutes_alert_below", c.minutes_alert_below},
                         {"pipeline.minutes_block_below", c.minutes_block_below}}) {
    if (!std::isfinite(v)) return r.Error({name}, std::string(name) + " must be a finite number");
  }
  if (c.min_edge < 0) return r.Error({"predictions.min_edge"}, "predictions: min_edge must be >= 0");
  if (c.min_probability < 0.5 || c.min_probability >= 1) {
    return r.Error({"predictions.min_probability"}, "predictions: min_probability must be in [0.5, 1)");
  }
  if (c.min_market_edge < 0 || c.min_market_edge >= 0.5) {
    return r.Error({"predictions.min_market_edge"}, "predictions: min_market_edge must be in [0, 0.5)");
  }
  if (c.quality_gate_final < 0 || c.quality_gate_final > c.quality_gate_first || c.quality_gate_first > 1) {
    return r.Error({"predictions.quality_gate_final", "predictions.quality_gate_first"},
                   "predictions: need 0 <= quality_gate_final <= quality_gate_first <= 1");
  }
  if (c.upcoming_roster_games < 1 || c.upcoming_roster_games > 82) {
    return r.Error({"pipeline.roster_lookback_games"}, "pipeline.roster_lookback_games must be between 1 and 82");
  }
  if (c.minutes_block_below < 0 || c.minutes_block_below > c.minutes_alert_below || c.minutes_alert_below > 1) {
    return r.Error({"pipeline.minutes_block_below", "pipeline.minutes_alert_below"},
                   "pipeline: need 0 <= minutes_block_below <= minutes_alert_below <= 1 (fractions of the 240 "
                   "minutes a team plays)");
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
