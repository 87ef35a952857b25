#include "trace/common/http_client.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cctype>

namespace trace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return std::nullopt;
}

namespace {

// Where one request goes.
struct Target {
  bool tls = false;
  std::string host, port, target, host_header;
  std::string origin() const { return (tls ? "https://" : "http://") + host + ":" + port; }
  std::string where() const { return host + ":" + port; }
};

Result<Target> ParseTarget(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return Fail(InvalidArgument("url: not an absolute URL: " + std::string(url)));
  Target t;
  if (parsed->scheme() == "https") {
    t.tls = true;
  } else if (parsed->scheme() != "http") {
    return Fail(InvalidArgument("url: only http:// and https:// are supported: " + std::string(url)));
  }
  t.host = std::string(parsed->host_address());
  if (t.host.empty()) return Fail(InvalidArgument("url: no host: " + std::string(url)));
  t.port = parsed->has_port() ? std::string(parsed->port()) : (t.tls ? "443" : "80");
  t.target = parsed->encoded_path().empty() ? "/" : std::string(parsed->encoded_path());
  if (parsed->has_query()) t.target += "?" + std::string(parsed->encoded_query());
  t.host_header = std::string(parsed->encoded_host_and_port());
  return t;
}

bool IsRedirect(unsigned status) { return status == 301 || status == 302 || status == 307 || status == 308; }

}  // namespace

struct HttpClient::Impl {
  explicit Impl(const HttpClientOptions& o) : options(o) {}

  const HttpClientOptions& options;
  asio::io_context ioc;
  std::optional<ssl::context> tls_context;  // made on the first https request
  std::string origin;                       // of the open connection
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;

  // Runs one asynchronous operation to completion on the private io_context and returns its
  // error code; the tcp_stream's expiry turns a stall into beast::error::timeout.
  template <typename Start>
  beast::error_code Run(Start start) {
    beast::error_code result;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  bool connected() const { return plain.has_value() || tls.has_value(); }
  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*tls); }

  void Close() {
    if (connected()) {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
      lowest().close();
    }
    plain.reset();
    tls.reset();
    origin.clear();
    buffer.clear();
  }

  Result<ssl::context*> TlsContext() {
    if (tls_context) return &*tls_context;
    ssl::context ctx(ssl::context::tls_client);
    beast::error_code ec;
    ctx.set_default_verify_paths(ec);
    if (ec) return Fail(Unavailable("tls: cannot load the system trust store: " + ec.message()));
    if (!options.extra_ca_file.empty()) {
      ctx.load_verify_file(options.extra_ca_file, ec);
      if (ec) return Fail(InvalidArgument("tls: cannot load CA file " + options.extra_ca_file + ": " + ec.message()));
    }
    ctx.set_verify_mode(ssl::verify_peer);
    tls_context.emplace(std::move(ctx));
    return &*tls_context;
  }

  Status Connect(const Target& t, std::chrono::steady_clock::time_point deadline) {
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    // Resolution has no deadline of its own in Asio; our URLs are addresses or local names.
    auto endpoints = resolver.resolve(t.host, t.port, ec);
    if (ec) return Unavailable(t.where() + ": resolve: " + ec.message());
    if (t.tls) {
      auto ctx = TlsContext();
      if (!ctx) return ctx.error();
      tls.emplace(ioc, **ctx);
      // SNI, and the certificate must name this host (or address).
      if (!SSL_set_tlsext_host_name(tls->native_handle(), t.host.c_str())) {
        tls.reset();
        return Unavailable(t.where() + ": tls: cannot set SNI");
      }
      tls->set_verify_callback(ssl::host_name_verification(t.host));
    } else {
      plain.emplace(ioc);
    }
    lowest().expires_at(deadline);
    ec = Run([&](auto handler) { lowest().async_connect(endpoints, handler); });
    if (ec) {
      std::string what = ec == beast::error::timeout ? "timed out" : ec.message();
      Close();
      return Unavailable(t.where() + ": connect: " + what);
    }
    if (tls) {
      ec = Run([&](auto handler) { tls->async_handshake(ssl::stream_base::client, handler); });
      if (ec) {
        std::string what = ec == beast::error::timeout ? "timed out" : ec.message();
        Close();
        return Unavailable(t.where() + ": tls handshake: " + what);
      }
    }
    origin = t.origin();
    return OkStatus();
  }

  // One HTTP exchange. `*maybe_unseen` tells whether the failure came before any answer
  // byte on a reused connection (the request may be retried).
  Result<HttpResponse> Exchange(const Target& t, http::verb verb, const HttpHeaders& headers, const std::string& body,
                                std::chrono::steady_clock::time_point deadline, bool* maybe_unseen) {
    *maybe_unseen = false;
    if (connected() && origin != t.origin()) Close();
    const bool reused = connected();
    if (!connected()) {
      Status s = Connect(t, deadline);
      if (!s.ok()) return Fail(s);
    }
    http::request<http::string_body> req{verb, t.target, 11};
    req.set(http::field::host, t.host_header);
    req.set(http::field::user_agent, options.user_agent);
    for (const auto& [name, value] : headers) req.set(name, value);
    req.keep_alive(true);
    if (verb != http::verb::get || !body.empty()) {
      req.body() = body;
      req.prepare_payload();
    }

    lowest().expires_at(deadline);
    beast::error_code ec = plain ? Run([&](auto h) { http::async_write(*plain, req, h); })
                                 : Run([&](auto h) { http::async_write(*tls, req, h); });
    if (ec) {
      Close();
      *maybe_unseen = reused;
      return Fail(Unavailable(t.where() + ": write: " + ec.message()));
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(options.max_body_bytes);
    parser.header_limit(64 * 1024);
    ec = plain ? Run([&](auto h) { http::async_read(*plain, buffer, parser, h); })
               : Run([&](auto h) { http::async_read(*tls, buffer, parser, h); });
    if (ec) {
      const bool nothing_read = !parser.got_some();
      Close();
      if (ec == http::error::body_limit) {
        return Fail(
            ResourceExhausted(t.where() + ": answer larger than " + std::to_string(options.max_body_bytes) + " bytes"));
      }
      *maybe_unseen = reused && nothing_read && ec != beast::error::timeout;
      std::string what = ec == beast::error::timeout ? "timed out" : ec.message();
      return Fail(Unavailable(t.where() + ": read: " + what));
    }
    auto res = parser.release();
    if (!res.keep_alive()) Close();
    HttpResponse out;
    out.status = res.result_int();
    for (const auto& field : res)
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    out.body = std::move(res.body());
    return out;
  }

  Result<HttpResponse> Request(const Target& t, http::verb verb, const HttpHeaders& headers, const std::string& body) {
    auto deadline = std::chrono::steady_clock::now() + options.timeout;
    bool maybe_unseen = false;
    auto res = Exchange(t, verb, headers, body, deadline, &maybe_unseen);
    if (!res && maybe_unseen) res = Exchange(t, verb, headers, body, deadline, &maybe_unseen);
    return res;
  }
};

HttpClient::HttpClient(HttpClientOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>(options_)) {}
HttpClient::~HttpClient() = default;

Status HttpClient::CheckUrl(std::string_view url) {
  auto t = ParseTarget(url);
  return t ? OkStatus() : t.error();
}

Result<HttpResponse> HttpClient::Get(std::string_view url, const HttpHeaders& headers) {
  std::string current(url);
  for (int hop = 0;; ++hop) {
    auto target = ParseTarget(current);
    if (!target) return Fail(target.error());
    auto res = impl_->Request(*target, http::verb::get, headers, "");
    if (!res) return Fail(res.error().WithContext("GET " + current));
    res->url = current;
    if (!IsRedirect(res->status)) return res;
    auto location = res->Header("Location");
    if (!location) return res;  // a redirect without a place to go: the caller sees it
    if (hop >= options_.max_redirects) {
      return Fail(FailedPrecondition("GET " + std::string(url) + ": more than " +
                                     std::to_string(options_.max_redirects) + " redirects"));
    }
    auto ref = boost::urls::parse_uri_reference(*location);
    if (!ref) return Fail(InvalidArgument("GET " + current + ": bad Location: " + *location));
    boost::urls::url base(current);
    boost::urls::url next;
    if (!boost::urls::resolve(base, *ref, next)) {
      return Fail(InvalidArgument("GET " + current + ": cannot resolve Location: " + *location));
    }
    next.remove_fragment();
    current = std::string(next.buffer());
  }
}

Result<HttpResponse> HttpClient::Post(std::string_view url, std::string body, const HttpHeaders& headers) {
  auto target = ParseTarget(url);
  if (!target) return Fail(target.error());
  auto res = impl_->Request(*target, http::verb::post, headers, body);
  if (!res) return Fail(res.error().WithContext("POST " + std::string(url)));
  res->url = std::string(url);
  return res;
}

}  // namespace trace
