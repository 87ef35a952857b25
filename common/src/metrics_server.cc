#include "trace/common/metrics_server.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace trace::metrics {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kSessionTimeout = std::chrono::seconds(10);
constexpr std::size_t kMaxHeaderBytes = 8 * 1024;
constexpr int kMaxConnections = 64;

}  // namespace

struct MetricsServer::Impl {
  Impl(const Registry& r, HealthFn h) : registry(r), health(std::move(h)), acceptor(io) {}

  const Registry& registry;
  HealthFn health;
  std::atomic<int> connections{0};  // before io: sessions destroyed with io decrement it
  asio::io_context io;
  tcp::acceptor acceptor;
  std::thread thread;
  bool started = false;
  bool stopped = false;

  http::response<http::string_body> Answer(const http::request<http::empty_body>& req) {
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    res.set(http::field::server, "trace");
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, "GET, HEAD");
      res.body() = "method not allowed\n";
    } else {
      std::string_view target(req.target().data(), req.target().size());
      std::string_view path = target.substr(0, target.find('?'));
      if (path == "/metrics") {
        res.result(http::status::ok);
        res.set(http::field::content_type, kContentType);
        res.body() = registry.Render();
      } else if (path == "/healthz") {
        Status s = health ? health() : OkStatus();
        res.result(s.ok() ? http::status::ok : http::status::service_unavailable);
        res.body() = s.ok() ? "ok\n" : s.ToString() + "\n";
      } else {
        res.result(http::status::not_found);
        res.body() = "not found\n";
      }
    }
    res.prepare_payload();
    if (req.method() == http::verb::head) res.body().clear();
    return res;
  }

  class Session : public std::enable_shared_from_this<Session> {
   public:
    Session(Impl& impl, tcp::socket socket) : impl_(impl), stream_(std::move(socket)) {}
    ~Session() { impl_.connections.fetch_sub(1); }

    void Read() {
      parser_.emplace();
      parser_->header_limit(kMaxHeaderBytes);
      parser_->body_limit(0);
      stream_.expires_after(kSessionTimeout);
      http::async_read(stream_, buffer_, *parser_,
                       [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
    }

   private:
    void OnRead(beast::error_code ec) {
      if (ec) {
        // end_of_stream is a normal close; anything else (timeout, bad request) just ends it.
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        return;
      }
      response_ = impl_.Answer(parser_->get());
      stream_.expires_after(kSessionTimeout);
      http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) return;
        if (self->response_.keep_alive()) {
          self->Read();
        } else {
          beast::error_code ignored;
          self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        }
      });
    }

    Impl& impl_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::empty_body>> parser_;
    http::response<http::string_body> response_;
  };

  void Accept() {
    acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;  // Stop()
      if (!ec) {
        if (connections.fetch_add(1) >= kMaxConnections) {
          connections.fetch_sub(1);
          beast::error_code ignored;
          socket.close(ignored);
        } else {
          std::make_shared<Session>(*this, std::move(socket))->Read();
        }
      }
      Accept();
    });
  }
};

MetricsServer::MetricsServer(const Registry& registry, HealthFn health)
    : impl_(std::make_unique<Impl>(registry, std::move(health))) {}

MetricsServer::~MetricsServer() { Stop(); }

Result<uint16_t> MetricsServer::Start(const std::string& host, uint16_t port) {
  if (impl_->started) return Fail(FailedPrecondition("metrics server: already started"));
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return Fail(InvalidArgument("metrics server: bad address '" + host + "': " + ec.message()));
  tcp::endpoint endpoint(address, port);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Fail(Unavailable("metrics server: cannot listen on " + host + ":" + std::to_string(port) + ": " +
                            ec.message()));
  }
  uint16_t bound = impl_->acceptor.local_endpoint().port();
  impl_->started = true;
  impl_->Accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
  return bound;
}

void MetricsServer::Stop() {
  if (!impl_ || !impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  // Open sessions hold at most kSessionTimeout; stopping the context abandons them.
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace trace::metrics
