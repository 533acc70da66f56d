// ApiServer: the HTTP face of nbaprops (`nbaprops serve --http 127.0.0.1:8080`).
//
//   GET  /health                          the process is alive (always 200)
//   GET  /ready                           200 when the store answers and is fully migrated, else 503
//   GET  /metrics                         Prometheus text format (api/metrics.h)
//   GET  /                                the dashboard (api/dashboard.h)
//   GET  /v1/predictions/{date|today}.json  exported documents (pipeline/export.h), served from
//   GET  /v1/best-bets/{date|today}.json    memory and re-read when the file changes
//   GET  /v1/results/{date}.json            (api/export_cache.h); 404 when not exported
//   GET  /v1/systems/performance.json
//   GET  /v1/status.json
//   GET  /v1/runs[?status=&processor=&date=&limit=]   GET /v1/runs/{id}
//   GET  /v1/dlq[?status=open|retried|discarded|all]
//   GET  /v1/incidents[?status=open|all]
//   POST /v1/runs/{id}/retry              } need "Authorization: Bearer <token>"
//   POST /v1/dlq/{id}/retry               } (Config::http_token). Without a configured token,
//   POST /v1/dlq/{id}/discard             } or with a missing or wrong one, they answer 401
//   POST /v1/registry/aliases             } and change nothing.
//
// Errors are JSON {"error": "..."}; a Status maps to an HTTP code in one place (server.cc).
// Handlers only parse the request and call api/operations.h, api/metrics.h, api/dashboard.h.
//
// Thread-safety: every method may be called from any thread; requests are served by a pool of
// `threads` threads (each keep-alive connection holds one while it is open), so the store and
// runner must be thread-safe (they are). Start/Stop may be called again after Stop.
#ifndef NBAPROPS_API_SERVER_H_
#define NBAPROPS_API_SERVER_H_

#include <memory>
#include <string>
#include <utility>

#include "base/status.h"
#include "engine/runner.h"

namespace nbaprops::api {

struct ApiServerOptions {
  std::string export_dir = "exports";  // Config::export_dir
  std::string token;                   // Config::http_token; empty: mutating endpoints always 401
  int threads = 16;                    // request threads
  int dashboard_refresh_s = 30;
  int dashboard_dates = 14;
};

class ApiServer {
 public:
  // `runner` (its store and clock) must outlive the server.
  ApiServer(engine::Runner& runner, ApiServerOptions options);
  ~ApiServer();  // stops
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds host:port (port 0: any free port) and serves on background threads; returns the bound
  // port once the server accepts connections. kUnavailable when the address cannot be bound,
  // kFailedPrecondition when already started.
  StatusOr<int> Start(const std::string& host, int port);
  // Stops accepting, finishes requests in flight and joins the threads. Idempotent.
  void Stop();
  bool running() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Parses a listen address "HOST:PORT", ":PORT" (127.0.0.1) or "PORT"; an IPv6 host goes in
// brackets ("[::1]:8080"). kInvalidArgument with the expected form otherwise.
StatusOr<std::pair<std::string, int>> ParseListenAddress(const std::string& address);

}  // namespace nbaprops::api

#endif  // NBAPROPS_API_SERVER_H_
