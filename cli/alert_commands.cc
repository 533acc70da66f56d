// `nbaprops alerts test`, and the alert loop `serve` runs.
#include "cli/alert_commands.h"

#include <chrono>
#include <cstdio>

#include "base/log.h"
#include "base/strings.h"
#include "cli/commands.h"

namespace nbaprops::cli {

std::vector<engine::AlertChannel> AlertChannelsFrom(const AlertsConfig& config) {
  std::vector<engine::AlertChannel> out;
  for (const AlertChannelConfig& c : config.channels) {
    engine::AlertChannel ch;
    ch.name = c.name;
    // LoadConfig accepts only slack | webhook | log.
    ch.kind = engine::ParseAlertChannelKind(c.kind).value_or(engine::AlertChannelKind::kLog);
    ch.min_severity = c.min_severity;
    ch.url = c.url;
    ch.secret = c.secret;
    ch.path = c.path;
    ch.rate_per_s = c.rate_per_s;
    ch.burst = c.burst;
    out.push_back(std::move(ch));
  }
  return out;
}

engine::AlertOptions AlertOptionsFrom(const AlertsConfig& config) {
  engine::AlertOptions o;
  o.group_window_ms = int64_t{config.group_window_s} * 1000;
  o.repeat_after_ms = int64_t{config.repeat_after_s} * 1000;
  o.broken_after_ms = int64_t{config.broken_after_s} * 1000;
  return o;
}

AlertLoop::AlertLoop(store::Store& store, const Clock& clock, std::vector<engine::AlertChannel> channels,
                     engine::AlertOptions options)
    : dispatcher_(store, clock, http_, std::move(channels), options) {}

AlertLoop::~AlertLoop() { Stop(); }

void AlertLoop::RunCycle() {
  auto r = dispatcher_.RunOnce();
  if (!r.ok()) {
    LogWarn("alerts: " + r.status().ToString());
    return;
  }
  if (r->queued || r->sent || r->dead) {
    LogInfo("alerts: " + std::to_string(r->queued) + " message(s) queued, " + std::to_string(r->sent) + " sent, " +
            std::to_string(r->failed) + " to retry, " + std::to_string(r->dead) + " given up");
  }
}

void AlertLoop::Start(int64_t every_ms) {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this, every_ms] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      RunCycle();
      lock.lock();
      cv_.wait_for(lock, std::chrono::milliseconds(every_ms), [this] { return stop_; });
    }
  });
}

void AlertLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

StatusOr<std::unique_ptr<AlertLoop>> MakeAlertLoop(Env& env, const Clock& clock) {
  if (env.config.alerts.channels.empty()) return std::unique_ptr<AlertLoop>();
  auto loop = std::make_unique<AlertLoop>(*env.store, clock, AlertChannelsFrom(env.config.alerts),
                                          AlertOptionsFrom(env.config.alerts));
  RETURN_IF_ERROR(loop->dispatcher().Prepare().WithContext("alerts"));
  return loop;
}

int CmdAlertsTest(const GlobalOptions& g, const std::string& channel) {
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  const AlertsConfig& config = env.config.alerts;
  if (config.channels.empty()) {
    return Fail(kExitUsage,
                "no alert channels are configured: add [[alerts.channels]] to the file given with --config (see "
                "docs/configuration.md, section \"Alerts\")");
  }
  CurlHttpClient http;
  engine::Dispatcher dispatcher(*env.store, SystemClock::Default(), http, AlertChannelsFrom(config),
                                AlertOptionsFrom(config));
  std::vector<std::string> names;
  if (!channel.empty()) {
    names.push_back(channel);
  } else {
    for (const AlertChannelConfig& c : config.channels) names.push_back(c.name);
  }
  std::vector<engine::DeliveryOutcome> outcomes;
  for (const std::string& name : names) {
    auto out = dispatcher.SendTest(name);
    if (!out.ok()) {
      return Fail(out.status().code() == StatusCode::kNotFound || out.status().code() == StatusCode::kInvalidArgument
                      ? kExitUsage
                      : kExitStore,
                  "alerts test: " + out.status().message());
    }
    outcomes.push_back(*out);
  }
  std::vector<engine::AlertChannelState> states;
  (void)env.store->WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(states, engine::ListAlertChannels(t));
    return OkStatus();
  });
  auto state_of = [&](const std::string& name) -> std::string {
    for (const auto& s : states) {
      if (s.name == name) return s.state;
    }
    return "?";
  };
  auto kind_of = [&](const std::string& name) -> std::string {
    for (const AlertChannelConfig& c : config.channels) {
      if (c.name == name) return c.kind;
    }
    return "?";
  };
  bool all_ok = true;
  if (g.json) {
    std::string out = "[";
    for (const auto& o : outcomes) {
      if (out.size() > 1) out += ",";
      out += "{\"channel\":" + JsonQuoted(o.channel) + ",\"kind\":" + JsonQuoted(kind_of(o.channel)) +
             ",\"ok\":" + (o.ok ? "true" : "false") +
             ",\"http_status\":" + (o.http_status ? std::to_string(o.http_status) : std::string("null")) +
             ",\"error\":" + (o.error.empty() ? std::string("null") : JsonQuoted(o.error)) +
             ",\"elapsed_ms\":" + std::to_string(o.elapsed_ms) + ",\"outbox_id\":" + std::to_string(o.outbox_id) +
             ",\"channel_state\":" + JsonQuoted(state_of(o.channel)) + "}";
      all_ok = all_ok && o.ok;
    }
    std::printf("%s]\n", out.c_str());
    return all_ok ? kExitOk : kExitFailed;
  }
  for (const auto& o : outcomes) {
    all_ok = all_ok && o.ok;
    const std::string kind = kind_of(o.channel);
    std::string result = o.http_status ? "HTTP " + std::to_string(o.http_status) : (kind == "log" ? "appended" : "");
    std::printf("%-16s %-8s %s%s%s in %lld ms (outbox row %lld)%s\n", o.channel.c_str(), kind.c_str(),
                o.ok ? "OK" : "FAILED", result.empty() ? "" : ", ", result.c_str(),
                static_cast<long long>(o.elapsed_ms), static_cast<long long>(o.outbox_id),
                state_of(o.channel) == "broken" ? "  [channel is BROKEN]" : "");
    if (!o.ok) std::printf("    %s\n", o.error.c_str());
  }
  if (!all_ok) {
    std::printf(
        "A channel answering 403, 404 or 410 is marked broken (critical incident on the other channels) "
        "until a delivery succeeds: fix its URL and run this again.\n");
  }
  return all_ok ? kExitOk : kExitFailed;
}

}  // namespace nbaprops::cli
