// HttpClient: the one door to outgoing HTTP (alert webhooks, live sources), injected so tests
// can point code at a local server or a fake, and so no caller sees libcurl.
//
// A request URL is a secret more often than not (a Slack incoming-webhook URL is its own
// credential): a client never logs it, and a transport error never contains it, so callers may
// store `Response::transport_error` as is.
//
// Thread-safety: Send may be called from several threads at once on one client.
#ifndef NBAPROPS_BASE_HTTP_CLIENT_H_
#define NBAPROPS_BASE_HTTP_CLIENT_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nbaprops {

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // sent in this order
  std::string body;
  int64_t connect_timeout_ms = 5'000;
  int64_t total_timeout_ms = 15'000;  // connect + send + the whole answer
  // Bodies longer than this are cut (and HttpResponse::body_truncated is set): alert channels keep
  // only a snippet for diagnosis; data sources raise it to keep whole payloads.
  size_t max_body_bytes = size_t{1} << 20;
};

struct HttpResponse {
  // The HTTP status, or 0 when no answer arrived (then transport_error says why).
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased; a repeated header keeps the last value
  std::string body;
  std::string transport_error;  // empty when the server answered; never contains the URL
  bool timed_out = false;       // the connect or total timeout expired
  bool body_truncated = false;  // the body was longer than HttpRequest::max_body_bytes and was cut

  bool answered() const { return status > 0; }
  // The value of a header (name in any case), or "" when absent.
  std::string Header(std::string_view name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Performs one request; never follows redirects (a moved webhook is a configuration error to
  // surface, not to chase). Failures are in the response, never thrown.
  virtual HttpResponse Send(const HttpRequest& request) = 0;
};

// libcurl, one easy handle per request (no connection reuse: alert traffic is a few requests a
// minute). Only http:// and https:// URLs are allowed.
class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient();
  HttpResponse Send(const HttpRequest& request) override;
};


}  // namespace nbaprops

#endif  // NBAPROPS_BASE_HTTP_CLIENT_H_
