#include "trace/common/json_rpc.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <mutex>

namespace trace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

struct JsonRpcClient::Impl {
  std::string host, port, target, host_header;
  JsonRpcOptions options;
  std::mutex mu;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;  // set while connected
  beast::flat_buffer buffer;
  uint64_t next_id = 1;

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

  void Close() {
    if (stream) {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->close();
      stream.reset();
    }
    buffer.clear();
  }

  Status Connect(std::chrono::steady_clock::time_point deadline) {
    tcp::resolver resolver(ioc);
    tcp::resolver::results_type endpoints;
    beast::error_code ec;
    // Resolution has no deadline of its own in Asio; node URLs are addresses or local names.
    endpoints = resolver.resolve(host, port, ec);
    if (ec) return Unavailable("json-rpc " + host + ":" + port + ": resolve: " + ec.message());
    stream.emplace(ioc);
    stream->expires_at(deadline);
    ec = Run([&](auto handler) { stream->async_connect(endpoints, handler); });
    if (ec) {
      stream.reset();
      return Unavailable("json-rpc " + host + ":" + port + ": connect: " + ec.message());
    }
    return OkStatus();
  }

  // One HTTP exchange. `*maybe_unseen` tells whether the failure came before any answer
  // byte on a reused connection (the request may be retried).
  Result<http::response<http::string_body>> Exchange(const std::string& body,
                                                     std::chrono::steady_clock::time_point deadline,
                                                     bool* maybe_unseen) {
    *maybe_unseen = false;
    bool reused = stream.has_value();
    if (!stream) {
      Status s = Connect(deadline);
      if (!s.ok()) return Fail(s);
    }
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, host_header);
    req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, "application/json");
    req.set(http::field::user_agent, "trace-json-rpc");
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();

    stream->expires_at(deadline);
    beast::error_code ec = Run([&](auto handler) { http::async_write(*stream, req, handler); });
    if (ec) {
      Close();
      *maybe_unseen = reused;
      return Fail(Unavailable("json-rpc " + host + ":" + port + ": write: " + ec.message()));
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(options.max_response_bytes);
    parser.header_limit(64 * 1024);
    ec = Run([&](auto handler) { http::async_read(*stream, buffer, parser, handler); });
    if (ec) {
      bool nothing_read = !parser.got_some();
      Close();
      if (ec == http::error::body_limit) {
        return Fail(ResourceExhausted("json-rpc: answer larger than " + std::to_string(options.max_response_bytes)));
      }
      *maybe_unseen = reused && nothing_read && ec != beast::error::timeout;
      std::string what = ec == beast::error::timeout ? "timed out" : ec.message();
      return Fail(Unavailable("json-rpc " + host + ":" + port + ": read: " + what));
    }
    auto res = parser.release();
    if (!res.keep_alive()) Close();
    return res;
  }
};

JsonRpcClient::JsonRpcClient(std::string url, std::unique_ptr<Impl> impl)
    : url_(std::move(url)), impl_(std::move(impl)) {}
JsonRpcClient::~JsonRpcClient() = default;

Result<std::unique_ptr<JsonRpcClient>> JsonRpcClient::Create(std::string_view url, JsonRpcOptions options) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return Fail(InvalidArgument("json-rpc url: not a URL: " + std::string(url)));
  if (parsed->scheme() != "http") {
    return Fail(InvalidArgument("json-rpc url: only http:// is supported: " + std::string(url)));
  }
  auto impl = std::make_unique<Impl>();
  impl->host = std::string(parsed->host_address());
  if (impl->host.empty()) return Fail(InvalidArgument("json-rpc url: no host: " + std::string(url)));
  impl->port = parsed->has_port() ? std::string(parsed->port()) : "80";
  impl->target = parsed->encoded_path().empty() ? "/" : std::string(parsed->encoded_path());
  if (parsed->has_query()) impl->target += "?" + std::string(parsed->encoded_query());
  impl->host_header = std::string(parsed->encoded_host_and_port());
  impl->options = options;
  return std::unique_ptr<JsonRpcClient>(new JsonRpcClient(std::string(url), std::move(impl)));
}

namespace {

StatusCode CodeForJsonRpcError(int64_t code) {
  switch (code) {
    case -32700:
    case -32600:
    case -32602:
      return StatusCode::kInvalidArgument;
    case -32601:
      return StatusCode::kNotFound;
    case -32005:
      return StatusCode::kResourceExhausted;
    case -32603:
      return StatusCode::kUnavailable;
    default:
      return StatusCode::kFailedPrecondition;
  }
}

}  // namespace

Result<json::value> JsonRpcClient::Call(std::string_view method, json::array params, JsonRpcErrorInfo* error_info) {
  std::lock_guard lock(impl_->mu);
  const uint64_t id = impl_->next_id++;
  json::object request{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
  const std::string body = json::serialize(request);
  const std::string what(method);
  auto deadline = std::chrono::steady_clock::now() + impl_->options.timeout;

  bool maybe_unseen = false;
  auto res = impl_->Exchange(body, deadline, &maybe_unseen);
  if (!res && maybe_unseen) res = impl_->Exchange(body, deadline, &maybe_unseen);
  if (!res) return Fail(res.error().WithContext(what));

  const unsigned status = res->result_int();
  json::error_code ec;
  json::value answer = json::parse(res->body(), ec);
  if (ec || !answer.is_object()) {
    if (status == 429) return Fail(ResourceExhausted(what + ": HTTP 429 from the node"));
    if (status >= 500) return Fail(Unavailable(what + ": HTTP " + std::to_string(status) + " from the node"));
    return Fail(DataLoss(what + ": HTTP " + std::to_string(status) + ", answer is not a JSON-RPC object"));
  }
  const json::object& obj = answer.as_object();
  if (const json::value* err = obj.if_contains("error"); err && !err->is_null()) {
    JsonRpcErrorInfo info;
    if (const auto* e = err->if_object()) {
      if (const auto* c = e->if_contains("code"); c && c->is_int64()) info.code = c->as_int64();
      if (const auto* m = e->if_contains("message"); m && m->is_string()) info.message = m->as_string();
      if (const auto* d = e->if_contains("data")) info.data = *d;
    }
    std::string message = what + ": " + info.message + " (JSON-RPC error " + std::to_string(info.code);
    if (info.data && info.data->is_string()) message += ", data " + std::string(info.data->as_string());
    message += ")";
    StatusCode code = CodeForJsonRpcError(info.code);
    if (error_info) *error_info = std::move(info);
    return Fail(Status(code, message));
  }
  const json::value* idv = obj.if_contains("id");
  json::error_code id_ec;
  if (!idv || !idv->is_number() || idv->to_number<uint64_t>(id_ec) != id || id_ec) {
    return Fail(DataLoss(what + ": answer id does not match the request"));
  }
  const json::value* result = obj.if_contains("result");
  if (!result) return Fail(DataLoss(what + ": answer has neither result nor error"));
  return *result;
}

}  // namespace trace
