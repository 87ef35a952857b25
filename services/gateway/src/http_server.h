// A small HTTP/1.1 server for /metrics and /healthz (the only file that
// includes Beast). One thread; every connection has a 5 s deadline and an
// 8 KiB request limit; a request is answered and the connection closed.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "trace/common/status.h"

namespace trace::gateway {

struct HttpAnswer {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class HttpServer {
 public:
  using Handler = std::function<HttpAnswer(std::string_view method, std::string_view target)>;
  HttpServer();
  ~HttpServer();  // Stop()

  // Listens on 127.0.0.1:`port` (0: a free port) — or `address` — and serves
  // on a thread of its own. Returns the bound port, or Unavailable.
  Result<int> Start(const std::string& address, int port, Handler handler);
  // Stops serving and joins the thread. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trace::gateway
