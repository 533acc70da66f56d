#include "api/server.h"

#include <httplib.h>

#include <chrono>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "api/dashboard.h"
#include "api/export_cache.h"
#include "api/metrics.h"
#include "api/operations.h"
#include "base/log.h"
#include "base/strings.h"
#include "base/time.h"

namespace nbaprops::api {
namespace {

constexpr char kJson[] = "application/json";
constexpr char kPrometheus[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr char kHtml[] = "text/html; charset=utf-8";

// What a handler fails with: a Status from the layer below, or a refused bearer token (only this
// layer checks credentials, and base/status.h has no code for it).
struct Failure {
  Status status;
  bool unauthenticated = false;
};

// The one mapping from failures to HTTP codes.
int HttpStatusFor(const Failure& f) {
  if (f.unauthenticated) return 401;
  switch (f.status.code()) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAlreadyExists:
    case StatusCode::kAborted:
      return 409;
    case StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

std::string ErrorBody(const std::string& message) { return "{\"error\": " + JsonQuoted(message) + "}\n"; }

void ReplyFailure(httplib::Response& res, const Failure& f) {
  res.status = HttpStatusFor(f);
  if (f.unauthenticated) res.set_header("WWW-Authenticate", "Bearer realm=\"nbaprops\"");
  res.set_content(ErrorBody(f.status.message()), kJson);
}

void Reply(httplib::Response& res, const StatusOr<std::string>& body, const char* content_type = kJson,
           int ok_status = 200) {
  if (!body.ok()) return ReplyFailure(res, {body.status()});
  res.status = ok_status;
  res.set_content(*body, content_type);
}

// A bounded label for /metrics: never the raw path, whose dates and ids are unbounded.
std::string RouteLabel(const std::string& path) {
  static const std::vector<std::string> kExact = {"/", "/health", "/ready", "/metrics", "/v1/status.json"};
  for (const auto& e : kExact) {
    if (path == e) return e;
  }
  static const std::vector<std::pair<std::string, std::string>> kPrefix = {{"/v1/predictions/", "/v1/predictions"},
                                                                           {"/v1/best-bets/", "/v1/best-bets"},
                                                                           {"/v1/results/", "/v1/results"},
                                                                           {"/v1/systems/", "/v1/systems"},
                                                                           {"/v1/runs", "/v1/runs"},
                                                                           {"/v1/dlq", "/v1/dlq"},
                                                                           {"/v1/incidents", "/v1/incidents"},
                                                                           {"/v1/registry/", "/v1/registry"}};
  for (const auto& [prefix, label] : kPrefix) {
    if (StartsWith(path, prefix)) return label;
  }
  return "other";
}

bool MayChangeState(const std::string& method) { return method != "GET" && method != "HEAD" && method != "OPTIONS"; }

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::string& longer = a.size() >= b.size() ? a : b;
  for (size_t i = 0; i < longer.size(); ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

StatusOr<int64_t> IdParam(const httplib::Request& req) {
  auto id = ParseInt(req.matches[1].str());
  if (!id || *id <= 0) return InvalidArgumentError("'" + req.matches[1].str() + "' is not an id");
  return *id;
}

}  // namespace

class ApiServer::Impl {
 public:
  Impl(engine::Runner& runner, ApiServerOptions options)
      : runner_(runner), options_(std::move(options)), exports_(options_.export_dir) {}

  StatusOr<int> Start(const std::string& host, int port) {
    std::lock_guard<std::mutex> lock(lifecycle_mu_);
    if (server_) return FailedPreconditionError("the HTTP server is already running");
    auto server = std::make_unique<httplib::Server>();
    Configure(*server);
    const int bound = port == 0 ? server->bind_to_any_port(host) : (server->bind_to_port(host, port) ? port : -1);
    if (bound <= 0) {
      return UnavailableError("cannot listen on " + host + ":" + std::to_string(port) +
                              ": the port is in use or the address is not local; pass another with --http HOST:PORT");
    }
    httplib::Server* raw = server.get();
    thread_ = std::thread([raw] { raw->listen_after_bind(); });
    // cpp-httplib 0.11 has no wait_until_ready(): poll until the accept loop runs.
    for (int i = 0; i < 5000 && !raw->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (!raw->is_running()) {
      raw->stop();
      thread_.join();
      return UnavailableError("the HTTP server on " + host + ":" + std::to_string(bound) + " did not start");
    }
    server_ = std::move(server);
    return bound;
  }

  void Stop() {
    std::lock_guard<std::mutex> lock(lifecycle_mu_);
    if (!server_) return;
    server_->stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }

  bool running() const {
    std::lock_guard<std::mutex> lock(lifecycle_mu_);
    return server_ && server_->is_running();
  }

 private:
  void Configure(httplib::Server& s) {
    const size_t threads = static_cast<size_t>(std::max(1, options_.threads));
    s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    s.set_tcp_nodelay(true);
    // cpp-httplib's default also sets SO_REUSEPORT, which lets a second server bind the same port
    // and silently share its traffic; only SO_REUSEADDR (restart while old sockets linger) is kept.
    s.set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    s.set_keep_alive_max_count(10000);
    s.set_keep_alive_timeout(2);  // an idle connection holds a thread, and delays Stop(), this long
    s.set_payload_max_length(size_t{1} << 20);
    s.set_default_headers({{"Cache-Control", "no-cache"}, {"X-Content-Type-Options", "nosniff"}});
    s.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unknown exception";
      try {
        if (ep) std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      LogError("HTTP " + req.method + " " + req.path + ": " + what);
      ReplyFailure(res, {InternalError("internal error serving " + req.path + ": " + what + "; see the server log")});
    });
    s.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      std::string what = "HTTP " + std::to_string(res.status) + " for " + req.method + " " + req.path;
      if (res.status == 404) {
        what = "no endpoint " + req.method + " " + req.path +
               "; the dashboard is at / and README.md (HTTP API) lists them";
      } else if (res.status == 400) {
        what = "malformed request " + req.method + " " + req.path;
      } else if (res.status == 413) {
        what = req.method + " " + req.path + ": the body is over the 1 MiB limit";
      }
      res.set_content(ErrorBody(what), kJson);
      return httplib::Server::HandlerResponse::Handled;
    }));
    // Every request that may change state (any method but GET, HEAD and OPTIONS) must carry the
    // token, and is refused before anything else about it is looked at: its route, its
    // Content-Length, its size, its body. This runs before cpp-httplib reads the body (its 400 for
    // a POST without Content-Length and its 413 come later), so an unauthenticated client learns
    // nothing but 401. `Expect: 100-continue` gets the same answer instead of an invitation to send
    // the body. Only requests over cpp-httplib's own limits (an 8 KB header line, a long URI) are
    // refused earlier, as 400 / 414, without reaching any handler.
    s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      return RefusedBeforeBody(req, res) ? httplib::Server::HandlerResponse::Handled
                                         : httplib::Server::HandlerResponse::Unhandled;
    });
    s.set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
      return RefusedBeforeBody(req, res) ? res.status : 100;
    });
    s.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      std::lock_guard<std::mutex> lock(stats_mu_);
      ++requests_[{RouteLabel(req.path), res.status}];
    });

    s.Get("/health",
          [](const httplib::Request&, httplib::Response& res) { res.set_content("{\"status\": \"ok\"}\n", kJson); });
    s.Get("/ready",
          [this](const httplib::Request&, httplib::Response& res) { Reply(res, ReadinessJson(runner_.store())); });
    s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(MetricsText(runner_.store(), options_.export_dir, Now(), RequestCounts()), kPrometheus);
    });
    s.Get("/", [this](const httplib::Request&, httplib::Response& res) {
      DashboardOptions o;
      o.grid_dates = options_.dashboard_dates;
      o.refresh_s = options_.dashboard_refresh_s;
      Reply(res, RenderDashboard(runner_.store(), Now(), o), kHtml);
    });

    s.Get(R"(/v1/predictions/([^/]+)\.json)", Document("predictions", true));
    s.Get(R"(/v1/best-bets/([^/]+)\.json)", Document("best-bets", true));
    s.Get(R"(/v1/results/([^/]+)\.json)", Document("results", false));
    s.Get("/v1/systems/performance.json", Fixed("systems/performance.json", "nbaprops export --date D"));
    s.Get("/v1/status.json", Fixed("status.json", "any export"));

    s.Get("/v1/runs", [this](const httplib::Request& req, httplib::Response& res) {
      RunsQuery q;
      q.status = req.get_param_value("status");
      q.processor = req.get_param_value("processor");
      q.date = req.get_param_value("date");
      if (req.has_param("limit")) {
        auto limit = ParseInt(req.get_param_value("limit"));
        if (!limit || *limit < 1 || *limit > 1000) {
          return ReplyFailure(
              res, {InvalidArgumentError("limit '" + req.get_param_value("limit") + "' is not a number in 1..1000")});
        }
        q.limit = static_cast<int>(*limit);
      }
      Reply(res, RunsListJson(runner_.store(), q));
    });
    s.Get(R"(/v1/runs/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
      auto id = IdParam(req);
      if (!id.ok()) return ReplyFailure(res, {id.status()});
      Reply(res, RunJson(runner_.store(), *id));
    });
    s.Get("/v1/dlq", [this](const httplib::Request& req, httplib::Response& res) {
      Reply(res, DeadLettersJson(runner_.store(), req.get_param_value("status")));
    });
    s.Get("/v1/incidents", [this](const httplib::Request& req, httplib::Response& res) {
      Reply(res, IncidentsJson(runner_.store(), req.get_param_value("status")));
    });

    // Mutating endpoints: the pre-routing handler above has already checked the token; Mutating
    // checks it again, so a route that is ever registered for GET by mistake is still guarded.
    s.Post(R"(/v1/runs/(\d+)/retry)", Mutating([this](const httplib::Request& req) -> StatusOr<std::string> {
             ASSIGN_OR_RETURN(int64_t id, IdParam(req));
             return RetryRunJson(runner_.store(), id, Now());
           }));
    s.Post(R"(/v1/dlq/(\d+)/retry)", Mutating([this](const httplib::Request& req) -> StatusOr<std::string> {
             ASSIGN_OR_RETURN(int64_t id, IdParam(req));
             return RetryDeadLetterJson(runner_.store(), id, Now());
           }));
    s.Post(R"(/v1/dlq/(\d+)/discard)", Mutating([this](const httplib::Request& req) -> StatusOr<std::string> {
             ASSIGN_OR_RETURN(int64_t id, IdParam(req));
             return DiscardDeadLetterJson(runner_.store(), id, Now());
           }));
    s.Post("/v1/registry/aliases",
           Mutating(
               [this](const httplib::Request& req) -> StatusOr<std::string> { return AddAliasJson(runner_, req.body); },
               202));
  }

  // GET of an exported document kind/{date|today}.json, from memory (api/export_cache.h).
  httplib::Server::Handler Document(const std::string& kind, bool allow_today) {
    return [this, kind, allow_today](const httplib::Request& req, httplib::Response& res) {
      const std::string key = req.matches[1].str();
      if (!(allow_today && key == "today") && !IsIsoDate(key)) {
        return ReplyFailure(
            res, {InvalidArgumentError("'" + key + "' is not a date YYYY-MM-DD" + (allow_today ? " or today" : ""))});
      }
      ServeExport(res, kind + "/" + key + ".json",
                  key == "today" ? "exports for today's date (the export phase after today's predictions)"
                                 : "`nbaprops export --date " + key + "`");
    };
  }

  httplib::Server::Handler Fixed(const std::string& rel, const std::string& writer) {
    return [this, rel, writer](const httplib::Request&, httplib::Response& res) { ServeExport(res, rel, writer); };
  }

  void ServeExport(httplib::Response& res, const std::string& rel, const std::string& writer) {
    auto doc = exports_.Get(rel);
    if (!doc.ok()) {
      if (doc.status().code() == StatusCode::kNotFound) {
        return ReplyFailure(res, {NotFoundError("no " + rel + " under the export directory " + options_.export_dir +
                                                "; it is written by " + writer)});
      }
      return ReplyFailure(res, {doc.status()});
    }
    // Served from the shared immutable copy, without copying it into the response.
    std::shared_ptr<const std::string> body = *doc;
    res.status = 200;
    res.set_content_provider(body->size(), kJson, [body](size_t offset, size_t length, httplib::DataSink& sink) {
      return sink.write(body->data() + offset, length);
    });
  }

  // Fills `res` and returns true when a request that may change state is refused before its body
  // is read: 401 without the right token; then 411 without a length, for which cpp-httplib would
  // read the body until the client closes or its read timeout passes and answer 400. The refused
  // body is never read, so the reply asks the client to close.
  bool RefusedBeforeBody(const httplib::Request& req, httplib::Response& res) const {
    if (!MayChangeState(req.method)) return false;
    if (auto refused = CheckToken(req)) {
      ReplyFailure(res, {*refused, true});
    } else if (!req.has_header("Content-Length") && req.get_header_value("Transfer-Encoding") != "chunked") {
      res.status = 411;
      res.set_content(ErrorBody(req.method + " " + req.path +
                                " needs a Content-Length header (with curl, pass -d '' or a JSON body)"),
                      kJson);
    } else {
      return false;
    }
    res.set_header("Connection", "close");
    return true;
  }

  using MutatingFn = std::function<StatusOr<std::string>(const httplib::Request&)>;
  // ok_status: 200, or 202 where the request only queues work.
  httplib::Server::Handler Mutating(MutatingFn fn, int ok_status = 200) {
    return [this, fn = std::move(fn), ok_status](const httplib::Request& req, httplib::Response& res) {
      if (auto refused = CheckToken(req)) return ReplyFailure(res, {*refused, true});
      Reply(res, fn(req), kJson, ok_status);
    };
  }

  // Why the request may not change state, or nothing when its bearer token is right.
  std::optional<Status> CheckToken(const httplib::Request& req) const {
    if (options_.token.empty()) {
      return FailedPreconditionError(
          "this endpoint changes state and no token is configured; set "
          "NBAPROPS_HTTP_TOKEN or [http] token_file (mode 0600) and restart serve");
    }
    const std::string header = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "bearer ";
    if (header.size() <= kBearer.size() || ToLower(header.substr(0, kBearer.size())) != kBearer) {
      return FailedPreconditionError(
          "this endpoint changes state: send the header 'Authorization: Bearer <token>' "
          "with the token of NBAPROPS_HTTP_TOKEN or [http] token_file");
    }
    if (!ConstantTimeEquals(std::string(Trim(header.substr(kBearer.size()))), options_.token)) {
      return FailedPreconditionError(
          "the bearer token is wrong; use the token of NBAPROPS_HTTP_TOKEN or "
          "[http] token_file");
    }
    return std::nullopt;
  }

  std::vector<HttpRequestCount> RequestCounts() {
    std::lock_guard<std::mutex> lock(stats_mu_);
    std::vector<HttpRequestCount> out;
    for (const auto& [key, n] : requests_) out.push_back({key.first, key.second, n});
    return out;
  }

  int64_t Now() const { return runner_.clock().NowMillis(); }

  engine::Runner& runner_;
  const ApiServerOptions options_;
  ExportCache exports_;

  mutable std::mutex lifecycle_mu_;
  std::unique_ptr<httplib::Server> server_;  // guarded by lifecycle_mu_
  std::thread thread_;                       // guarded by lifecycle_mu_

  std::mutex stats_mu_;
  std::map<std::pair<std::string, int>, int64_t> requests_;  // guarded by stats_mu_
};

ApiServer::ApiServer(engine::Runner& runner, ApiServerOptions options)
    : impl_(std::make_unique<Impl>(runner, std::move(options))) {}

ApiServer::~ApiServer() { impl_->Stop(); }

StatusOr<int> ApiServer::Start(const std::string& host, int port) { return impl_->Start(host, port); }

void ApiServer::Stop() { impl_->Stop(); }

bool ApiServer::running() const { return impl_->running(); }

StatusOr<std::pair<std::string, int>> ParseListenAddress(const std::string& address) {
  const std::string usage =
      "listen address '" + address + "' is not HOST:PORT, :PORT or PORT (e.g. 127.0.0.1:8080, [::1]:8080)";
  std::string host = "127.0.0.1", port_text = address;
  if (!address.empty() && address.front() == '[') {
    const size_t close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':') {
      return InvalidArgumentError(usage);
    }
    host = address.substr(1, close - 1);
    port_text = address.substr(close + 2);
  } else if (const size_t colon = address.rfind(':'); colon != std::string::npos) {
    if (address.find(':') != colon) return InvalidArgumentError(usage + "; put an IPv6 host in brackets");
    if (colon > 0) host = address.substr(0, colon);
    port_text = address.substr(colon + 1);
  }
  auto port = ParseInt(port_text);
  if (host.empty() || !port || *port < 0 || *port > 65535) return InvalidArgumentError(usage);
  return std::make_pair(host, static_cast<int>(*port));
}

}  // namespace nbaprops::api
