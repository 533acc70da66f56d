// `nbaprops breakers`: the circuit breaker of every external source that has been called.
#include <cstdio>

#include "api/status_json.h"
#include "base/strings.h"
#include "base/time.h"
#include "cli/commands.h"
#include "cli/table.h"
#include "engine/breaker.h"

namespace nbaprops::cli {
namespace {

std::string Time(const std::optional<int64_t>& ms) { return ms ? FormatIsoTimestamp(*ms / 1000) : "-"; }

std::string JsonInt(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "null"; }

std::string BreakersJson(const std::vector<engine::CircuitBreaker>& breakers) {
  std::string out = "[";
  for (const auto& b : breakers) {
    if (out.size() > 1) out += ",";
    out += "{\"source\":" + api::JsonEscape(b.source) +
           ",\"state\":" + api::JsonEscape(std::string(engine::BreakerStateName(b.state))) +
           ",\"consecutive_failures\":" + std::to_string(b.consecutive_failures) +
           ",\"window_start_ms\":" + std::to_string(b.window_start) +
           ",\"window_requests\":" + std::to_string(b.window_requests) +
           ",\"window_failures\":" + std::to_string(b.window_failures) + ",\"opened_at_ms\":" + JsonInt(b.opened_at) +
           ",\"next_probe_at_ms\":" + JsonInt(b.next_probe_at) + ",\"probe_run_id\":" + JsonInt(b.probe_run_id) +
           ",\"times_opened\":" + std::to_string(b.times_opened) +
           ",\"last_error\":" + (b.last_error.empty() ? std::string("null") : api::JsonEscape(b.last_error)) +
           ",\"last_change_at_ms\":" + std::to_string(b.last_change_at) + "}";
  }
  return out + "]";
}

}  // namespace

int CmdBreakers(const GlobalOptions& g) {
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  std::vector<engine::CircuitBreaker> breakers;
  Status st = env.store->WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(breakers, engine::ListBreakers(t));
    return OkStatus();
  });
  if (!st.ok()) return Fail(kExitStore, "reading circuit breakers: " + st.message());
  if (g.json) {
    std::printf("%s\n", BreakersJson(breakers).c_str());
    return kExitOk;
  }
  Table t({"source", "state", "consec. failures", "window fail/req", "opened at", "next probe", "times opened",
           "last error"});
  int not_closed = 0;
  for (const auto& b : breakers) {
    if (b.state != engine::BreakerState::kClosed) ++not_closed;
    std::string probe = Time(b.next_probe_at);
    if (b.state == engine::BreakerState::kHalfOpen && b.probe_run_id) {
      probe = "probing (run " + std::to_string(*b.probe_run_id) + ")";
    }
    t.Add({b.source, std::string(engine::BreakerStateName(b.state)), std::to_string(b.consecutive_failures),
           std::to_string(b.window_failures) + "/" + std::to_string(b.window_requests), Time(b.opened_at), probe,
           std::to_string(b.times_opened), b.last_error.empty() ? "-" : Truncate(b.last_error, 60)});
  }
  if (breakers.empty()) {
    std::printf("no circuit breakers yet: one appears once a processor that calls an external source has run\n");
    return kExitOk;
  }
  std::printf(
      "%s%zu breaker(s), %d not closed. Runs that need a source whose breaker is open are deferred until "
      "its next probe.\n",
      t.Render().c_str(), breakers.size(), not_closed);
  return kExitOk;
}

}  // namespace nbaprops::cli
