// A small blocking HTTP/1.1 client (GET and POST) for programs that talk to our own servers
// and to chain nodes: trace-verify, JsonRpcClient.
//
// - http:// and https://. https verifies the server's certificate chain against the system
//   trust store (OpenSSL's default paths, /etc/ssl/certs on Debian) plus `extra_ca_file` when
//   given, and the certificate's name against the URL's host (SNI sent). There is no switch
//   to turn verification off; a private CA is trusted by naming its file.
// - One keep-alive connection is kept and reused for requests to the same scheme, host and
//   port; a request to another origin closes it and connects anew. A request that failed on
//   a reused connection before any answer byte arrived (the server had closed it) is retried
//   once on a fresh connection.
// - Every request has a deadline (`timeout`: connect, TLS handshake, write and read of the
//   whole answer); an answer body larger than `max_body_bytes` fails.
// - Get() follows 301, 302, 307 and 308 redirects (relative or absolute Location) up to
//   `max_redirects` times; Post() returns redirects as they are (a POST is never replayed
//   elsewhere behind the caller's back).
//
// Errors (the Status message names the URL's host:port and the step):
//   - InvalidArgument: not an http(s) URL, no host, a bad Location in a redirect.
//   - Unavailable: resolve, connect, TLS handshake (certificate verify failed ...), write or
//     read failed, or timed out ("... read: timed out").
//   - ResourceExhausted: body larger than the limit.
//   - FailedPrecondition: more than `max_redirects` redirects.
// HTTP error statuses (404, 500, ...) are answers, not errors: check `status`.
//
// Example:
//   trace::HttpClient http({.timeout = std::chrono::seconds(5)});
//   auto res = http.Get("https://id.example.com/01/09506000134369/10/RICE-0703",
//                       {{"Accept", "application/json"}});
//   if (res && res->status == 200) Use(res->body);
//
// Not thread-safe: one client per thread (or guard it, as JsonRpcClient does).
// No Boost.Beast or Asio type appears here; the transport lives in http_client.cc.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trace/common/status.h"

namespace trace {

// Header fields in order; names compared case-insensitively by HttpResponse::Header.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpClientOptions {
  std::chrono::milliseconds timeout{10'000};  // per request (each redirect hop gets its own)
  size_t max_body_bytes = 32 * 1024 * 1024;   // larger answers fail with ResourceExhausted
  int max_redirects = 5;                      // Get() only
  std::string user_agent = "trace";
  std::string extra_ca_file;  // PEM file of CAs trusted besides the system store
};

struct HttpResponse {
  unsigned status = 0;
  HttpHeaders headers;
  std::string body;
  std::string url;  // the URL that answered (after redirects)

  // The first header field named `name` (case-insensitive), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // GET `url` with `headers` added (Host and User-Agent are set by the client), following
  // redirects as described above.
  Result<HttpResponse> Get(std::string_view url, const HttpHeaders& headers = {});

  // POST `body` to `url`; redirects are returned as answers.
  Result<HttpResponse> Post(std::string_view url, std::string body, const HttpHeaders& headers = {});

  // Checks that `url` is an absolute http or https URL with a host; InvalidArgument otherwise.
  static Status CheckUrl(std::string_view url);

  const HttpClientOptions& options() const { return options_; }

 private:
  struct Impl;
  HttpClientOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trace
