#include "http_server.h"

#include <thread>

#include <boost/asio.hpp>
#include <boost/beast.hpp>

namespace trace::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HttpServer::Handler& handler) : stream_(std::move(socket)), handler_(handler) {}

  void Run() {
    parser_.body_limit(8 * 1024);
    stream_.expires_after(std::chrono::seconds(5));
    http::async_read(stream_, buffer_, parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;  // end_of_stream, timeout, or a bad request: just close
      self->Answer();
    });
  }

 private:
  void Answer() {
    const auto& req = parser_.get();
    HttpAnswer a = handler_(std::string_view(req.method_string()), std::string_view(req.target()));
    res_.result(static_cast<http::status>(a.status));
    res_.version(req.version());
    res_.set(http::field::content_type, a.content_type);
    res_.keep_alive(false);
    res_.body() = std::move(a.body);
    res_.prepare_payload();
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
  http::response<http::string_body> res_;
  const HttpServer::Handler& handler_;
};

}  // namespace

struct HttpServer::Impl {
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  Handler handler;
  std::thread thread;

  void Accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted) return;  // shutting down
      } else {
        std::make_shared<Session>(std::move(socket), handler)->Run();
      }
      Accept();
    });
  }
};

HttpServer::HttpServer() : impl_(std::make_unique<Impl>()) {}
HttpServer::~HttpServer() { Stop(); }

Result<int> HttpServer::Start(const std::string& address, int port, Handler handler) {
  impl_->handler = std::move(handler);
  beast::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) return Fail(InvalidArgument("http address " + address + ": " + ec.message()));
  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Fail(Unavailable("http listen on " + address + ":" + std::to_string(port) + ": " + ec.message()));
  int bound = impl_->acceptor.local_endpoint().port();
  impl_->Accept();
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
  return bound;
}

void HttpServer::Stop() {
  if (!impl_->thread.joinable()) return;
  impl_->ioc.stop();
  impl_->thread.join();
}

}  // namespace trace::gateway
