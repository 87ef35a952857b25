// JsonRpcClient's transport and error mapping against scripted HTTP servers on loopback
// sockets. The real node is exercised by tests/chain_test.cc.
#include "trace/common/json_rpc.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace trace {
namespace {

// A listening socket on 127.0.0.1; serves each connection with `handler` on its own thread.
class ScriptedServer {
 public:
  // handler(request_body) returns the full HTTP answer and whether to close after sending.
  using Handler = std::function<std::pair<std::string, bool>(const std::string& body)>;

  explicit ScriptedServer(Handler handler, bool accept = true) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    if (accept) thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (thread_.joinable()) thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  int connections() const { return connections_; }

 private:
  void Serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      ++connections_;
      std::string buf;
      char tmp[4096];
      while (true) {
        size_t head_end = buf.find("\r\n\r\n");
        if (head_end != std::string::npos) {
          size_t cl = buf.find("Content-Length: ");
          if (cl == std::string::npos) cl = buf.find("content-length: ");
          size_t length = cl == std::string::npos ? 0 : std::stoul(buf.substr(cl + 16));
          if (buf.size() >= head_end + 4 + length) {
            std::string body = buf.substr(head_end + 4, length);
            buf.erase(0, head_end + 4 + length);
            auto [answer, close_after] = handler_(body);
            ::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
            if (close_after) break;
            continue;
          }
        }
        ssize_t n = ::recv(c, tmp, sizeof tmp, 0);
        if (n <= 0) break;
        buf.append(tmp, static_cast<size_t>(n));
      }
      ::close(c);
    }
  }

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

std::string Http(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// The "id" of a request body (our client sends {"jsonrpc","id",...} in that order).
std::string IdOf(const std::string& body) {
  size_t p = body.find("\"id\":") + 5;
  return body.substr(p, body.find(',', p) - p);
}

TEST(JsonRpc, RefusesBadUrls) {
  EXPECT_EQ(JsonRpcClient::Create("ftp://node.example:8545").error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(JsonRpcClient::Create("http://").error().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(JsonRpcClient::Create("https://node.example:8545"));  // TLS, verified (http_client.h)
  EXPECT_EQ(JsonRpcClient::Create("not a url").error().code(), StatusCode::kInvalidArgument);
}

TEST(JsonRpc, ConnectionRefusedIsUnavailable) {
  int port;
  {
    ScriptedServer closed([](const std::string&) { return std::pair<std::string, bool>{"", true}; }, false);
    port = std::stoi(closed.url().substr(17));
  }  // closed: nothing listens there now
  auto rpc = JsonRpcClient::Create("http://127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(rpc);
  auto r = (*rpc)->Call("eth_chainId", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), StatusCode::kUnavailable) << r.error();
  EXPECT_NE(r.error().message().find("eth_chainId"), std::string::npos);
}

TEST(JsonRpc, SilentServerTimesOutAsUnavailable) {
  // Listens (the kernel completes the handshake) but never answers.
  ScriptedServer silent([](const std::string&) { return std::pair<std::string, bool>{"", true}; }, false);
  auto rpc = JsonRpcClient::Create(silent.url(), {.timeout = std::chrono::milliseconds(300)});
  ASSERT_TRUE(rpc);
  auto start = std::chrono::steady_clock::now();
  auto r = (*rpc)->Call("eth_chainId", {});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), StatusCode::kUnavailable) << r.error();
  EXPECT_NE(r.error().message().find("timed out"), std::string::npos) << r.error();
  EXPECT_LT(took, std::chrono::seconds(3));
}

TEST(JsonRpc, KeepsTheConnectionAndReconnectsWhenTheServerClosedIt) {
  std::atomic<int> calls{0};
  ScriptedServer server([&](const std::string& body) {
    int n = ++calls;
    // Every second answer closes the connection after it, without saying so.
    return std::pair<std::string, bool>{Http(200, R"({"jsonrpc":"2.0","id":)" + IdOf(body) + R"(,"result":"0x7a69"})"),
                                        n % 2 == 0};
  });
  auto rpc = JsonRpcClient::Create(server.url());
  ASSERT_TRUE(rpc);
  for (int i = 0; i < 6; ++i) {
    auto r = (*rpc)->Call("eth_chainId", {});
    ASSERT_TRUE(r) << i << ": " << r.error();
    EXPECT_EQ(r->as_string(), "0x7a69");
  }
  EXPECT_EQ(calls, 6);
  EXPECT_EQ(server.connections(), 3);  // two calls per connection
}

TEST(JsonRpc, MapsErrors) {
  std::string next;  // the answer body; "ID" is replaced by the request id
  int status = 200;
  ScriptedServer server([&](const std::string& body) {
    std::string answer = next;
    if (size_t p = answer.find("ID"); p != std::string::npos) answer.replace(p, 2, IdOf(body));
    return std::pair<std::string, bool>{Http(status, answer), false};
  });
  auto rpc = JsonRpcClient::Create(server.url());
  ASSERT_TRUE(rpc);

  next = R"({"jsonrpc":"2.0","id":ID,"error":{"code":3,"message":"execution reverted: no","data":"0x08c379a0"}})";
  JsonRpcErrorInfo info;
  auto reverted = (*rpc)->Call("eth_call", {}, &info);
  ASSERT_FALSE(reverted);
  EXPECT_EQ(reverted.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(reverted.error().message(), "eth_call: execution reverted: no (JSON-RPC error 3, data 0x08c379a0)");
  EXPECT_EQ(info.code, 3);
  EXPECT_EQ(info.data->as_string(), "0x08c379a0");

  next = R"({"jsonrpc":"2.0","id":ID,"error":{"code":-32601,"message":"Method not found"}})";
  EXPECT_EQ((*rpc)->Call("x", {}).error().code(), StatusCode::kNotFound);
  next = R"({"jsonrpc":"2.0","id":ID,"error":{"code":-32602,"message":"bad params"}})";
  EXPECT_EQ((*rpc)->Call("x", {}).error().code(), StatusCode::kInvalidArgument);
  next = R"({"jsonrpc":"2.0","id":12345,"result":"0x1"})";
  EXPECT_EQ((*rpc)->Call("x", {}).error().code(), StatusCode::kDataLoss);
  next = R"({"jsonrpc":"2.0","id":ID,"result":null})";
  EXPECT_TRUE((*rpc)->Call("x", {})->is_null());
  status = 503;
  next = "upstream down";
  EXPECT_EQ((*rpc)->Call("x", {}).error().code(), StatusCode::kUnavailable);
  status = 429;
  EXPECT_EQ((*rpc)->Call("x", {}).error().code(), StatusCode::kResourceExhausted);
  status = 200;
  EXPECT_EQ((*rpc)->Call("x", {}).error().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace trace
