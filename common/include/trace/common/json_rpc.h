// A JSON-RPC 2.0 client over HTTP/1.1 (Ethereum nodes: anvil, Besu, Quorum, geth).
//
// One client keeps one keep-alive connection and reconnects when the server closed it.
// Every call has a deadline (connect + write + read); a call that the server may not have
// seen (the reused connection was found closed before anything was read) is retried once on
// a fresh connection. Calls are serialized by an internal mutex, so a client may be shared by
// threads, but they wait for one another: give each busy thread its own client.
//
// Errors:
//   - connection refused, reset, timed out, an HTTP 5xx or 429 without a JSON-RPC answer:
//     Unavailable (or ResourceExhausted for 429): retry later.
//   - a JSON-RPC error object: its message, code and data in the Status message,
//     "eth_call: execution reverted: ... (JSON-RPC error 3, data 0x08c3...)", with the code
//     mapped: -32700/-32600/-32602 InvalidArgument, -32601 NotFound ("method not found"),
//     -32005 ResourceExhausted, -32603 Unavailable, anything else FailedPrecondition.
//   - an answer that is not JSON-RPC: DataLoss.
//
// Example:
//   auto rpc = trace::JsonRpcClient::Create("http://127.0.0.1:8545");
//   auto chain = (*rpc)->Call("eth_chainId", {});   // boost::json::value "0x7a69"
//
// No Boost.Beast type appears here; the transport is HttpClient (http_client.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "trace/common/status.h"

namespace trace {

struct JsonRpcOptions {
  std::chrono::milliseconds timeout{10'000};      // per call, connect to last byte
  size_t max_response_bytes = 32 * 1024 * 1024;   // larger answers fail with ResourceExhausted
};

// The parts of a JSON-RPC error object, for callers that need more than the Status text.
struct JsonRpcErrorInfo {
  int64_t code = 0;
  std::string message;
  std::optional<boost::json::value> data;
};

class JsonRpcClient {
 public:
  // `url` is http[s]://host[:port][/path]; https verifies the node's certificate against the
  // system trust store (see http_client.h). InvalidArgument for any other URL. Does not connect yet.
  static Result<std::unique_ptr<JsonRpcClient>> Create(std::string_view url, JsonRpcOptions options = {});
  ~JsonRpcClient();
  JsonRpcClient(const JsonRpcClient&) = delete;
  JsonRpcClient& operator=(const JsonRpcClient&) = delete;

  // Calls `method` with positional `params` and returns the "result" member (which may be
  // null). On a JSON-RPC error, fills `*error_info` when given.
  Result<boost::json::value> Call(std::string_view method, boost::json::array params,
                                  JsonRpcErrorInfo* error_info = nullptr);

  const std::string& url() const { return url_; }

 private:
  struct Impl;
  JsonRpcClient(std::string url, std::unique_ptr<Impl> impl);
  std::string url_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trace
