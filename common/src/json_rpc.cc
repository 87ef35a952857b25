#include "trace/common/json_rpc.h"

#include <boost/json.hpp>
#include <mutex>

#include "trace/common/http_client.h"

namespace trace {

namespace json = boost::json;

// The transport is HttpClient (keep-alive, deadline, body limit, one retry of a request the
// server cannot have seen); this adds the JSON-RPC envelope and the error mapping.
struct JsonRpcClient::Impl {
  explicit Impl(JsonRpcOptions o)
      : http({.timeout = o.timeout,
              .max_body_bytes = o.max_response_bytes,
              .max_redirects = 0,
              .user_agent = "trace-json-rpc"}) {}
  std::mutex mu;
  HttpClient http;
  uint64_t next_id = 1;
};

JsonRpcClient::JsonRpcClient(std::string url, std::unique_ptr<Impl> impl)
    : url_(std::move(url)), impl_(std::move(impl)) {}
JsonRpcClient::~JsonRpcClient() = default;

Result<std::unique_ptr<JsonRpcClient>> JsonRpcClient::Create(std::string_view url, JsonRpcOptions options) {
  if (Status s = HttpClient::CheckUrl(url); !s.ok()) return Fail(s.WithContext("json-rpc"));
  return std::unique_ptr<JsonRpcClient>(new JsonRpcClient(std::string(url), std::make_unique<Impl>(options)));
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
  auto res = impl_->http.Post(url_, body, {{"Content-Type", "application/json"}, {"Accept", "application/json"}});
  if (!res) return Fail(res.error().WithContext(what));

  const unsigned status = res->status;
  json::error_code ec;
  json::value answer = json::parse(res->body, ec);
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
