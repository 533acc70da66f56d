// `nbaprops sources`: each data source, its mode, last fetch, quota and breaker.
// `nbaprops scrape --date D [--source S]`: runs the HTTP scrapers for one date now.
#include <cstdio>

#include "api/status_json.h"
#include "base/time.h"
#include "cli/commands.h"
#include "cli/table.h"
#include "pipeline/http_sources.h"

namespace nbaprops::cli {
namespace {

std::string JsonOptInt(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "null"; }

std::string SourcesJson(const std::vector<pipeline::SourceStatus>& sources) {
  std::string out = "[";
  for (const auto& s : sources) {
    if (out.size() > 1) out += ",";
    out += "{\"source\":" + api::JsonEscape(s.name) + ",\"mode\":" + api::JsonEscape(s.mode) +
           ",\"location\":" + api::JsonEscape(s.location) +
           ",\"key_configured\":" + (s.key_configured ? "true" : "false") +
           ",\"last_fetch_at_ms\":" + JsonOptInt(s.last_fetch_ms) +
           ",\"last_http_status\":" + (s.last_http_status ? std::to_string(*s.last_http_status) : "null") +
           ",\"quota_remaining\":" + JsonOptInt(s.quota_remaining) + ",\"quota_used\":" + JsonOptInt(s.quota_used) +
           ",\"breaker\":" + api::JsonEscape(s.breaker) +
           ",\"last_scrape\":" + (s.last_scrape.empty() ? std::string("null") : api::JsonEscape(s.last_scrape)) + "}";
  }
  return out + "]";
}

}  // namespace

int CmdSources(const GlobalOptions& g) {
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  auto sources = pipeline::ListSources(*env.store, env.config);
  if (!sources.ok()) return Fail(kExitStore, "reading sources: " + sources.status().message());
  if (g.json) {
    std::printf("%s\n", SourcesJson(*sources).c_str());
    return kExitOk;
  }
  Table t({"source", "mode", "where", "key", "last fetch", "status", "quota left", "breaker", "last scrape"});
  for (const auto& s : *sources) {
    const bool needs_key = s.name == "balldontlie" || s.name == "odds_api";
    t.Add({s.name, s.mode, s.location,
           needs_key && s.key_configured   ? "set"
           : needs_key && s.mode == "http" ? "missing"
                                           : "-",
           s.last_fetch_ms ? FormatIsoTimestamp(*s.last_fetch_ms / 1000) : "-",
           s.last_http_status ? std::to_string(*s.last_http_status) : "-",
           s.quota_remaining ? std::to_string(*s.quota_remaining) : "-", s.breaker,
           s.last_scrape.empty() ? "-" : s.last_scrape});
  }
  std::printf("%s", t.Render().c_str());
  std::printf(
      "mode http: scraped on the 07/12/16/22 UTC schedule by `serve` (or now: `nbaprops scrape --date D`); "
      "mode file: recorded responses via `import` or the inbox. Configure in [sources.<name>] "
      "(docs/configuration.md).\n");
  return kExitOk;
}

int CmdScrape(const GlobalOptions& g, const std::string& date, const std::string& source) {
  if (auto err = CheckDate(date, "--date")) return Fail(kExitUsage, *err);
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  std::vector<std::string> names = pipeline::HttpScraperNames(env.config);
  if (!source.empty()) {
    std::vector<std::string> picked;
    for (const std::string& n : names) {
      if (n.find(source) != std::string::npos) picked.push_back(n);
    }
    names = picked;
  }
  if (names.empty()) {
    return Fail(kExitUsage, source.empty()
                                ? "no source has mode = \"http\"; set it in [sources.<name>] (see "
                                  "`nbaprops sources`)"
                                : "source '" + source + "' is not in mode \"http\" (see `nbaprops sources`)");
  }
  int rc = kExitOk;
  for (const std::string& n : names) {
    engine::Processor* p = env.runner->Find(n);
    engine::RunOutcome o = env.runner->Execute(*p, date, date, "manual");
    if (o.status.ok()) {
      if (!g.quiet) {
        std::printf("ok      %s %s: %lld of %lld expected (run %lld)\n", n.c_str(), date.c_str(),
                    static_cast<long long>(o.records_out), static_cast<long long>(o.records_in),
                    static_cast<long long>(o.run_id));
      }
    } else {
      rc = kExitFailed;
      std::printf("FAILED  %s %s (%s, run %lld): %s\n", n.c_str(), date.c_str(),
                  std::string(engine::FailureCategoryName(o.category)).c_str(), static_cast<long long>(o.run_id),
                  o.status.message().c_str());
    }
  }
  return rc;
}

}  // namespace nbaprops::cli
