// The HTTP/1.1 server of trace-api (the only file of the service that includes
// Beast and Asio). Asynchronous sessions on a few I/O threads, with Beast's
// defences: a read deadline per request (408 when a request started but did not
// finish in time), a header limit and a body limit (413), keep-alive with a
// bounded number of requests per connection, and a graceful drain.
//
// The handler is called on an I/O thread and must not block: it answers through
// the `Reply` it is given, from any thread, exactly once (database work goes to
// a pool and replies from there). The session waits for the reply before it
// reads the next request, so there is at most one request in flight per
// connection.
//
// Thread-safe: Start once, then Drain/Stop from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "trace/common/status.h"

namespace trace::api {

struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // "/01/...?linkType=linkset", as received
  std::string path;    // target before '?', still percent-encoded
  std::string query;   // target after '?', "" if none
  // Header fields, names lowercased; a repeated field's values joined with ", ".
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string client;  // remote address, "127.0.0.1"

  // The value of header `name` (lowercase), "" when absent.
  std::string Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Length is added by the server
  std::string body;

  void Set(std::string name, std::string value);
  // The value of header `name` (case-insensitive), "" when absent.
  std::string Get(std::string_view name) const;
};

using Reply = std::function<void(HttpResponse)>;
using Handler = std::function<void(HttpRequest, Reply)>;

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  int port = 0;  // 0: a free port
  int io_threads = 2;
  std::size_t header_limit = 8 * 1024;
  std::size_t body_limit = 64 * 1024;
  // Paths (exact, before '?') whose requests may carry up to large_body_limit:
  // EPCIS capture documents are larger than any other request.
  std::vector<std::string> large_body_paths;
  std::size_t large_body_limit = 8 * 1024 * 1024;
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds write_timeout{30'000};
  int max_requests_per_connection = 1000;
};

class HttpServer {
 public:
  HttpServer();
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the I/O threads. Returns the bound port, or
  // InvalidArgument (bad address) / Unavailable (bind failed).
  Result<int> Start(const HttpServerOptions& options, Handler handler);

  // Stops accepting, lets requests in flight finish (at most `timeout`), closes
  // idle connections, then stops the I/O threads. Returns the number of requests
  // that were still unanswered when the time ran out.
  int Drain(std::chrono::milliseconds timeout);

  // Stops at once and joins the threads. Idempotent.
  void Stop();

  // Requests received but not yet answered.
  int in_flight() const;

  struct Impl;  // opaque; public so that the sessions in the .cc can name it

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace trace::api
