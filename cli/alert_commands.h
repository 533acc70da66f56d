// `nbaprops alerts test`, and alert delivery inside `serve` (engine/alerts.h does the work; this
// builds it from the [alerts] config and runs it).
#ifndef NBAPROPS_CLI_ALERT_COMMANDS_H_
#define NBAPROPS_CLI_ALERT_COMMANDS_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/config.h"
#include "base/http_client.h"
#include "base/status.h"
#include "engine/alerts.h"

namespace nbaprops::cli {

struct Env;
struct GlobalOptions;

// `alerts test [--channel NAME]`: sends a test message on every configured channel (or one) and
// prints each HTTP result (--json: an array). Exit 0 when all delivered, 1 when one failed (a
// 403/404/410 also marks the channel broken), 2 for no channels or an unknown name.
int CmdAlertsTest(const GlobalOptions& g, const std::string& channel);

// [alerts] as the engine's types (secrets are passed through, never printed).
std::vector<engine::AlertChannel> AlertChannelsFrom(const AlertsConfig& config);
engine::AlertOptions AlertOptionsFrom(const AlertsConfig& config);

// Alert delivery for `serve` and `worker`: one Dispatcher with its own libcurl client. Either call
// RunCycle() from a loop, or Start() a thread that runs a cycle every `every_ms` (preferred:
// a webhook that takes its whole timeout must not hold up the lease reaper). Stop() (or the
// destructor) joins the thread; what is pending stays in the outbox for the next start.
// Thread-safety: RunCycle must not run on two threads at once; do not mix it with Start().
class AlertLoop {
 public:
  AlertLoop(store::Store& store, const Clock& clock, std::vector<engine::AlertChannel> channels,
            engine::AlertOptions options);
  ~AlertLoop();
  AlertLoop(const AlertLoop&) = delete;
  AlertLoop& operator=(const AlertLoop&) = delete;

  // One notice + deliver cycle; failures are logged (by channel name, never the URL).
  void RunCycle();
  void Start(int64_t every_ms = 1000);
  void Stop();
  engine::Dispatcher& dispatcher() { return dispatcher_; }

 private:
  CurlHttpClient http_;
  engine::Dispatcher dispatcher_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// The loop for env.config.alerts, or nullptr when no channel is configured (alerts off).
// `clock` should be real time, even in a replay: rate limits and Retry-After are real.
StatusOr<std::unique_ptr<AlertLoop>> MakeAlertLoop(Env& env, const Clock& clock);

}  // namespace nbaprops::cli

#endif  // NBAPROPS_CLI_ALERT_COMMANDS_H_
