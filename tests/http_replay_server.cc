#include "tests/http_replay_server.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>

namespace nbaprops::testing {
namespace {

using json = nlohmann::ordered_json;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string ETagOf(const std::string& body) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "\"%016zx\"", std::hash<std::string>{}(body));
  return buf;
}

}  // namespace

struct ReplayServer::Impl {
  std::string dir;
  httplib::Server server;
  std::thread thread;
  std::mutex mu;
  ReplaySwitches sw;               // guarded by mu
  std::vector<ReplayRequest> log;  // guarded by mu
  int64_t odds_used = 0;           // guarded by mu

  // Consumes one use of a fault counter (-1: always). Caller holds mu.
  static bool Take(int* n) {
    if (*n == 0) return false;
    if (*n > 0) --*n;
    return true;
  }

  // A cursor page of `items`: the cursor is the index of the next item plus 1000 (opaque to clients).
  static std::string Page(const json& items, const httplib::Request& req) {
    int per_page = 25;
    if (req.has_param("per_page"))
      per_page = std::max(1, std::min(100, std::atoi(req.get_param_value("per_page").c_str())));
    size_t start = 0;
    if (req.has_param("cursor"))
      start = static_cast<size_t>(std::max(0, std::atoi(req.get_param_value("cursor").c_str()) - 1000));
    json data = json::array();
    for (size_t i = start; i < items.size() && data.size() < static_cast<size_t>(per_page); ++i)
      data.push_back(items[i]);
    json meta = {{"per_page", per_page}};
    const size_t next = start + data.size();
    if (next < items.size()) meta["next_cursor"] = static_cast<int64_t>(next + 1000);
    return json{{"data", data}, {"meta", meta}}.dump();
  }

  // Applies the faults of the switches to a response that would otherwise be `status` + `body`.
  void Respond(const httplib::Request& req, httplib::Response& res, int status, std::string body,
               const std::map<std::string, std::string>& extra_headers = {}) {
    int slow_ms = 0;
    {
      std::lock_guard<std::mutex> l(mu);
      const bool faulty = sw.fault_path.empty() || req.path.rfind(sw.fault_path, 0) == 0;
      for (const auto& [k, v] : extra_headers) res.set_header(k, v);
      if (faulty && Take(&sw.slow)) slow_ms = sw.slow_ms;
      if (faulty && Take(&sw.fail_429)) {
        status = 429;
        body = R"({"message":"Too many requests"})";
        if (sw.retry_after_s > 0) res.set_header("Retry-After", std::to_string(sw.retry_after_s));
      } else if (faulty && Take(&sw.fail_500)) {
        status = 500;
        body = R"({"message":"Internal Server Error"})";
      } else if (status == 200) {
        if (faulty && !sw.rename_from.empty()) {
          const std::string from = "\"" + sw.rename_from + "\":", to = "\"" + sw.rename_to + "\":";
          for (size_t p = body.find(from); p != std::string::npos; p = body.find(from, p + to.size())) {
            body.replace(p, from.size(), to);
          }
        }
        if (faulty && Take(&sw.truncate)) body.resize(body.size() / 2);
        const std::string etag = ETagOf(body);
        if (sw.etags) {
          res.set_header("ETag", etag);
          if (req.get_header_value("If-None-Match") == etag) {
            status = 304;
            body.clear();
          }
        }
      }
      ReplayRequest r{req.method, req.path, "", {}, status};
      for (const auto& [k, v] : req.params) r.query += (r.query.empty() ? "" : "&") + k + "=" + v;
      for (const auto& [k, v] : req.headers) r.headers[k] = v;
      log.push_back(std::move(r));
    }
    if (slow_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(slow_ms));
    res.status = status;
    if (status != 304) res.set_content(body, "application/json; charset=utf-8");
  }

  bool BdlAuthorized(const httplib::Request& req, httplib::Response& res) {
    std::string want;
    {
      std::lock_guard<std::mutex> l(mu);
      want = sw.bdl_key;
    }
    if (want.empty() || req.get_header_value("Authorization") == want) return true;
    Respond(req, res, 401, R"({"error":"Unauthorized"})");
    return false;
  }

  std::map<std::string, std::string> QuotaHeaders(int64_t cost) {
    std::lock_guard<std::mutex> l(mu);
    odds_used += cost;
    return {{"x-requests-remaining", std::to_string(std::max<int64_t>(0, sw.odds_quota - odds_used))},
            {"x-requests-used", std::to_string(odds_used)},
            {"x-requests-last", std::to_string(cost)}};
  }

  bool OddsAuthorized(const httplib::Request& req, httplib::Response& res) {
    std::string want;
    int64_t left = 0;
    {
      std::lock_guard<std::mutex> l(mu);
      want = sw.odds_key;
      left = sw.odds_quota - odds_used;
    }
    if (!want.empty() && req.get_param_value("apiKey") != want) {
      Respond(req, res, 401, R"({"message":"API key is not valid","error_code":"INVALID_KEY"})");
      return false;
    }
    if (left <= 0) {
      Respond(req, res, 401, R"({"message":"Usage quota has been reached","error_code":"OUT_OF_USAGE_CREDITS"})",
              QuotaHeaders(0));
      return false;
    }
    return true;
  }

  void Routes() {
    server.Get("/v1/games", [this](const httplib::Request& req, httplib::Response& res) {
      if (!BdlAuthorized(req, res)) return;
      json all = json::parse(ReadAll(dir + "/bdl_games_" + req.get_param_value("dates[]") + ".json"), nullptr, false);
      json items = all.is_object() && all.contains("data") ? all["data"] : json::array();
      Respond(req, res, 200, Page(items, req));
    });
    server.Get("/v1/stats", [this](const httplib::Request& req, httplib::Response& res) {
      if (!BdlAuthorized(req, res)) return;
      json all = json::parse(ReadAll(dir + "/bdl_stats_" + req.get_param_value("dates[]") + ".json"), nullptr, false);
      json items = all.is_object() && all.contains("data") ? all["data"] : json::array();
      bool empty = false, first_only = false;
      {
        std::lock_guard<std::mutex> l(mu);
        empty = sw.empty_pages;
        first_only = sw.only_first_game;
      }
      if (empty) items = json::array();
      if (first_only && !items.empty()) {
        // The regression of the system we replace: a parameter bug fetched 1 of 9 expected files.
        const auto first = items[0]["game"]["id"];
        json kept = json::array();
        for (const auto& r : items) {
          if (r["game"]["id"] == first) kept.push_back(r);
        }
        items = kept;
      }
      Respond(req, res, 200, Page(items, req));
    });
    server.Get("/v4/sports/basketball_nba/events", [this](const httplib::Request& req, httplib::Response& res) {
      if (!OddsAuthorized(req, res)) return;
      json out = json::array();
      // Every recorded events file; filtered by the commence time range like the real API.
      for (const char* date : {"2024-03-01"}) {
        json events = json::parse(ReadAll(dir + "/odds_events_" + date + ".json"), nullptr, false);
        if (!events.is_array()) continue;
        for (const auto& e : events) {
          const std::string t = e.value("commence_time", "");
          if (req.has_param("commenceTimeFrom") && t < req.get_param_value("commenceTimeFrom")) continue;
          if (req.has_param("commenceTimeTo") && t > req.get_param_value("commenceTimeTo")) continue;
          out.push_back(e);
        }
      }
      Respond(req, res, 200, out.dump(1), QuotaHeaders(0));
    });
    server.Get(R"(/v4/sports/basketball_nba/events/([0-9a-f]+)/odds)", [this](const httplib::Request& req,
                                                                              httplib::Response& res) {
      if (!OddsAuthorized(req, res)) return;
      const std::string id = req.matches[1];
      bool first_only = false;
      {
        std::lock_guard<std::mutex> l(mu);
        first_only = sw.only_first_event;
      }
      std::string body = ReadAll(dir + "/odds_event_" + id + ".json");
      if (first_only) {
        json events = json::parse(ReadAll(dir + "/odds_events_2024-03-01.json"), nullptr, false);
        if (!events.is_array() || events.empty() || events[0].value("id", "") != id) body.clear();
      }
      if (body.empty()) {
        Respond(
            req, res, 404,
            R"({"message":"Event not found. The event may have expired or the event id is invalid.","error_code":"EVENT_NOT_FOUND"})",
            QuotaHeaders(0));
        return;
      }
      Respond(req, res, 200, body, QuotaHeaders(1));
    });
    server.Get("/apis/site/v2/sports/basketball/nba/scoreboard",
               [this](const httplib::Request& req, httplib::Response& res) {
                 std::string body = ReadAll(dir + "/espn_scoreboard_" + req.get_param_value("dates") + ".json");
                 if (body.empty()) body = R"({"leagues":[{"id":"46","abbreviation":"NBA"}],"events":[]})";
                 Respond(req, res, 200, body);
               });
    server.Post(R"(/hook/.*)",
                [this](const httplib::Request& req, httplib::Response& res) { Respond(req, res, 200, "ok"); });
  }
};

ReplayServer::ReplayServer(std::string fixture_dir) : impl_(std::make_unique<Impl>()) {
  impl_->dir = std::move(fixture_dir);
}

ReplayServer::~ReplayServer() { Stop(); }

bool ReplayServer::Start() {
  impl_->server.set_tcp_nodelay(true);
  impl_->Routes();
  port_ = impl_->server.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) return false;
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  // cpp-httplib 0.11 has no wait_until_ready(): poll.
  for (int i = 0; i < 5000 && !impl_->server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return impl_->server.is_running();
}

void ReplayServer::Stop() {
  if (impl_->thread.joinable()) {
    impl_->server.stop();
    impl_->thread.join();
  }
}

void ReplayServer::Set(const ReplaySwitches& s) {
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->sw = s;
}

ReplaySwitches ReplayServer::switches() {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->sw;
}

std::vector<ReplayRequest> ReplayServer::requests() {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->log;
}

int ReplayServer::CountRequests(const std::string& path_prefix) {
  std::lock_guard<std::mutex> l(impl_->mu);
  return static_cast<int>(std::count_if(impl_->log.begin(), impl_->log.end(),
                                        [&](const ReplayRequest& r) { return r.path.rfind(path_prefix, 0) == 0; }));
}

void ReplayServer::ClearRequests() {
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->log.clear();
}

int64_t ReplayServer::odds_remaining() {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->sw.odds_quota - impl_->odds_used;
}

}  // namespace nbaprops::testing
