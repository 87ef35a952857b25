#include "http_server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

namespace trace::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

class Session;

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  HttpServerOptions options;
  Handler handler;
  asio::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::atomic<int> in_flight{0};
  std::atomic<bool> draining{false};
  std::atomic<bool> stopped{false};
  std::mutex mu;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;

  void Accept();
  void CloseIdleSessions();
};

// One connection. All its handlers run on its strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServer::Impl> server)
      : stream_(std::move(socket)), read_timer_(stream_.get_executor()), server_(std::move(server)) {}

  ~Session() {
    std::lock_guard lock(server_->mu);
    server_->sessions.erase(this);
  }

  void Start() {
    {
      std::lock_guard lock(server_->mu);
      server_->sessions.emplace(this, weak_from_this());
    }
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) client_ = ep.address().to_string();
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

  // Closes the connection if it is waiting for a request (drain).
  void CloseIfIdle() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->reading_) {
        beast::error_code ec;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        self->stream_.close();
      }
    });
  }

 private:
  void Read() {
    if (server_->draining) return Close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->options.header_limit));
    parser_->body_limit(server_->options.body_limit);
    // Our own timer rather than the stream's expiry: that one closes the socket,
    // and a request that started deserves a 408 on it.
    stream_.expires_never();
    timed_out_ = false;
    read_timer_.expires_after(server_->options.read_timeout);
    read_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || !self->reading_) return;
      self->timed_out_ = true;
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
    reading_ = true;
    // The header first: a route named in large_body_paths may take a larger body.
    http::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || self->timed_out_) return self->OnRead(ec);
      const auto target = self->parser_->get().target();
      const auto path = target.substr(0, target.find('?'));
      for (const auto& p : self->server_->options.large_body_paths) {
        if (path == p) self->parser_->body_limit(self->server_->options.large_body_limit);
      }
      if (self->parser_->is_done()) return self->OnRead(ec);
      http::async_read(self->stream_, self->buffer_, *self->parser_,
                       [self](beast::error_code ec, std::size_t) { self->OnRead(ec); });
    });
  }

  void OnRead(beast::error_code ec) {
    reading_ = false;
    read_timer_.cancel();
    if (timed_out_) {
      // Only a request that had started gets an answer; an idle keep-alive just closes.
      if (parser_->got_some() || buffer_.size() > 0) return Refuse(408, "request not received in time");
      return Close();
    }
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted) return Close();
    if (ec == http::error::body_limit) return Refuse(413, "request body larger than the limit");
    if (ec == http::error::header_limit) return Refuse(431, "request header fields larger than the limit");
    if (ec) {
      if (ec == asio::error::connection_reset || ec == asio::error::eof) return Close();
      return Refuse(400, "malformed HTTP request: " + ec.message());
    }
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    HttpRequest r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    auto q = r.target.find('?');
    r.path = r.target.substr(0, q);
    r.query = q == std::string::npos ? "" : r.target.substr(q + 1);
    for (const auto& field : req) {
      std::string name = Lower(field.name_string());
      auto it = std::find_if(r.headers.begin(), r.headers.end(), [&](const auto& h) { return h.first == name; });
      if (it == r.headers.end()) {
        r.headers.emplace_back(std::move(name), std::string(field.value()));
      } else {
        it->second += ", " + std::string(field.value());
      }
    }
    r.body = std::move(req.body());
    r.client = client_;
    ++server_->in_flight;
    ++served_;
    server_->handler(std::move(r), [self = shared_from_this()](HttpResponse res) {
      asio::post(self->stream_.get_executor(),
                 [self, res = std::move(res)]() mutable { self->Write(std::move(res), /*counted=*/true); });
    });
  }

  // Answers an unreadable request with a problem document and closes.
  void Refuse(int status, const std::string& detail) {
    HttpResponse res;
    res.status = status;
    res.Set("Content-Type", "application/problem+json");
    std::string reason(http::obsolete_reason(static_cast<http::status>(status)));
    res.body = R"({"detail":")" + detail + R"(","status":)" + std::to_string(status) + R"(,"title":")" + reason +
               R"(","type":"about:blank"})";
    keep_alive_ = false;
    Write(std::move(res), /*counted=*/false);
  }

  void Write(HttpResponse res, bool counted) {
    auto out = std::make_shared<http::response<http::string_body>>();
    out->result(static_cast<http::status>(res.status));
    out->version(11);
    for (auto& [k, v] : res.headers) out->insert(k, v);
    if (out->find(http::field::server) == out->end()) out->set(http::field::server, "trace-api");
    const bool keep = keep_alive_ && !server_->draining && served_ < server_->options.max_requests_per_connection &&
                      res.status != 408;
    out->keep_alive(keep);
    out->body() = std::move(res.body);
    out->prepare_payload();
    stream_.expires_after(server_->options.write_timeout);
    http::async_write(stream_, *out,
                      [self = shared_from_this(), out, keep, counted](beast::error_code ec, std::size_t) {
                        if (counted) --self->server_->in_flight;
                        if (ec || !keep) return self->Close();
                        self->Read();
                      });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  asio::steady_timer read_timer_;
  bool timed_out_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpServer::Impl> server_;
  std::string client_;
  bool keep_alive_ = false;
  bool reading_ = false;
  int served_ = 0;
};

void HttpServer::Impl::Accept() {
  acceptor->async_accept(asio::make_strand(ioc), [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !self->acceptor->is_open()) return;
    if (!ec) {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Session>(std::move(socket), self)->Start();
    }
    self->Accept();
  });
}

void HttpServer::Impl::CloseIdleSessions() {
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(mu);
    for (auto& [p, w] : sessions) {
      if (auto s = w.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->CloseIfIdle();
}

HttpServer::HttpServer() : impl_(std::make_shared<Impl>()) {}
HttpServer::~HttpServer() { Stop(); }

Result<int> HttpServer::Start(const HttpServerOptions& options, Handler handler) {
  impl_->options = options;
  impl_->handler = std::move(handler);
  beast::error_code ec;
  auto address = asio::ip::make_address(options.address, ec);
  if (ec) return Fail(InvalidArgument("listen address " + options.address + ": " + ec.message()));
  tcp::endpoint ep(address, static_cast<unsigned short>(options.port));
  auto& acc = impl_->acceptor.emplace(impl_->ioc);
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Fail(Unavailable("listen on " + options.address + ":" + std::to_string(options.port) + ": " + ec.message()));
  }
  const int port = acc.local_endpoint().port();
  impl_->Accept();
  for (int i = 0; i < std::max(1, options.io_threads); ++i) {
    impl_->threads.emplace_back([impl = impl_] { impl->ioc.run(); });
  }
  return port;
}

int HttpServer::Drain(std::chrono::milliseconds timeout) {
  if (impl_->stopped) return 0;
  impl_->draining = true;
  asio::post(impl_->ioc, [impl = impl_] {
    beast::error_code ec;
    if (impl->acceptor) impl->acceptor->close(ec);
  });
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    impl_->CloseIdleSessions();
    if (impl_->in_flight == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const int left = impl_->in_flight;
  // Give the last writes a moment to reach the sockets.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Stop();
  return left;
}

void HttpServer::Stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->ioc.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
  {
    std::lock_guard lock(impl_->mu);
    impl_->sessions.clear();
  }
}

int HttpServer::in_flight() const { return impl_->in_flight; }

}  // namespace trace::api
