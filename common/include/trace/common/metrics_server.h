// A small HTTP/1.1 server for a service's operational routes:
//   GET /metrics   the registry's Prometheus text
//   GET /healthz   200 "ok\n" while `health` returns OK, else 503 and the status
// Anything else answers 404; methods other than GET/HEAD 405. Requests are
// limited (8 KiB header, no body), sessions time out after 10 s, at most 64
// connections are served at once. Boost.Beast stays inside metrics_server.cc.
//
// Example:
//   trace::metrics::Registry registry;
//   trace::metrics::MetricsServer server(registry, [&] { return service.Health(); });
//   auto port = server.Start("127.0.0.1", flags_port);   // 0 = ephemeral
//   if (!port) return Fail(port.error());
//   trace::log::Info("http listening", {{"port", *port}});
//   ...
//   server.Stop();   // also done by the destructor
//
// The server runs one I/O thread of its own. `health` is called on that thread
// and must be thread-safe and quick. The registry must outlive the server.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "trace/common/metrics.h"
#include "trace/common/status.h"

namespace trace::metrics {

class MetricsServer {
 public:
  using HealthFn = std::function<Status()>;

  MetricsServer(const Registry& registry, HealthFn health);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds host:port (port 0 picks a free one) and starts serving. Returns the
  // bound port, or Unavailable when the address cannot be bound. Call once.
  Result<uint16_t> Start(const std::string& host, uint16_t port);
  // Stops accepting, closes open connections and joins the I/O thread. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trace::metrics
