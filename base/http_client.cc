#include "base/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

#include "base/strings.h"

namespace nbaprops {
namespace {

struct BodySink {
  std::string* body;
  size_t max;
  bool* truncated;
};

// Bodies larger than the request's max_body_bytes are cut, and the response says so.
size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  const size_t len = size * n;
  const size_t room = sink->body->size() < sink->max ? sink->max - sink->body->size() : 0;
  if (len > room) *sink->truncated = true;
  sink->body->append(data, std::min(len, room));
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  const size_t len = size * n;
  std::string_view line(data, len);
  // A status line starts a new response (after a 100 Continue): keep only the final one's headers.
  if (StartsWith(line, "HTTP/")) {
    headers->clear();
    return len;
  }
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    (*headers)[ToLower(Trim(line.substr(0, colon)))] = std::string(Trim(line.substr(colon + 1)));
  }
  return len;
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  auto it = headers.find(ToLower(name));
  return it == headers.end() ? "" : it->second;
}

CurlHttpClient::CurlHttpClient() {
  // curl_global_init is not thread-safe and must run once before any handle exists.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpResponse CurlHttpClient::Send(const HttpRequest& request) {
  HttpResponse response;
  if (!StartsWith(request.url, "https://") && !StartsWith(request.url, "http://")) {
    response.transport_error = "the URL does not start with https:// or http://";
    return response;
  }
  CURL* curl = curl_easy_init();
  if (!curl) {
    response.transport_error = "libcurl could not create a handle (out of memory?)";
    return response;
  }
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  // Without this, curl waits up to a second for "100 Continue" before sending larger bodies.
  headers = curl_slist_append(headers, "Expect:");

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: safe in threads
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.total_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "nbaprops");
  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    if (request.method != "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  BodySink sink{&response.body, request.max_body_bytes, &response.body_truncated};
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);

  const CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
  } else {
    // curl_easy_strerror is generic ("Timeout was reached"); the detailed error buffer would
    // name the host and could name the URL, which may be a secret.
    response.transport_error = curl_easy_strerror(code);
    response.timed_out = code == CURLE_OPERATION_TIMEDOUT;
    response.headers.clear();
    response.body.clear();
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return response;
}


}  // namespace nbaprops
