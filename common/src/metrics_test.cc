#include "trace/common/metrics.h"

#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "trace/common/metrics_server.h"

namespace trace::metrics {
namespace {

TEST(Metrics, RendersCountersGaugesAndHistogramsInTextFormat) {
  Registry r;
  auto& c = r.AddCounter("t_total", "a counter");
  auto& g1 = r.AddGauge("t_state", "by state", {{"state", "pending"}});
  auto& g2 = r.AddGauge("t_state", "by state", {{"state", "confirmed"}});
  auto& h = r.AddHistogram("t_seconds", "latency", {0.1, 1});
  c.Increment(3);
  g1.Set(2);
  g2.Set(0.5);
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(5);
  EXPECT_EQ(&c, &r.AddCounter("t_total", "a counter"));
  EXPECT_EQ(r.Render(),
            "# HELP t_total a counter\n# TYPE t_total counter\nt_total 3\n"
            "# HELP t_state by state\n# TYPE t_state gauge\nt_state{state=\"pending\"} 2\n"
            "t_state{state=\"confirmed\"} 0.5\n"
            "# HELP t_seconds latency\n# TYPE t_seconds histogram\n"
            "t_seconds_bucket{le=\"0.1\"} 1\nt_seconds_bucket{le=\"1\"} 2\n"
            "t_seconds_bucket{le=\"+Inf\"} 3\nt_seconds_sum 5.55\nt_seconds_count 3\n");
  EXPECT_THROW(r.AddGauge("t_total", "x"), std::logic_error);
  EXPECT_THROW(r.AddCounter("bad name", "x"), std::invalid_argument);
}

std::string Get(uint16_t port, const std::string& request) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket s(io);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  boost::asio::write(s, boost::asio::buffer(request));
  std::string out;
  boost::system::error_code ec;
  boost::asio::read(s, boost::asio::dynamic_buffer(out), ec);
  return out;
}

TEST(MetricsServer, ServesMetricsHealthAndRefusesTheRest) {
  Registry r;
  r.AddCounter("served_total", "x").Increment(7);
  std::atomic<bool> healthy{true};
  MetricsServer server(r, [&] { return healthy ? OkStatus() : Unavailable("database down"); });
  auto port = server.Start("127.0.0.1", 0);
  ASSERT_TRUE(port.has_value()) << port.error();
  ASSERT_NE(*port, 0);

  std::string m = Get(*port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(m.find("HTTP/1.1 200"), std::string::npos) << m;
  EXPECT_NE(m.find("text/plain; version=0.0.4"), std::string::npos) << m;
  EXPECT_NE(m.find("served_total 7\n"), std::string::npos) << m;

  std::string h = Get(*port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(h.find("HTTP/1.1 200"), std::string::npos) << h;
  healthy = false;
  h = Get(*port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(h.find("HTTP/1.1 503"), std::string::npos) << h;
  EXPECT_NE(h.find("database down"), std::string::npos) << h;

  EXPECT_NE(Get(*port, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").find("HTTP/1.1 404"),
            std::string::npos);
  EXPECT_NE(Get(*port, "POST /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").find("HTTP/1.1 405"),
            std::string::npos);
  server.Stop();
  server.Stop();  // idempotent
}

}  // namespace
}  // namespace trace::metrics
