// A small real HTTP/1.1 server on 127.0.0.1 for tests: every request goes to a handler that
// returns the answer. Plain sockets, one thread per connection, keep-alive, Content-Length
// bodies only (what our clients send). Not for production: no limits beyond a 1 MiB request.
//
// Example:
//   trace::testing::HttpTestServer server([](const auto& req) {
//     return trace::testing::HttpTestServer::Answer{.status = 200, .body = "hello"};
//   });
//   http.Get(server.url() + "/x");
//
// The handler runs on connection threads, possibly concurrently: make it thread-safe.
// Destroying the server closes the listening socket and every connection, then joins.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace trace::testing {

class HttpTestServer {
 public:
  struct Request {
    std::string method;
    std::string target;  // path and query, as sent
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    // The first header named `name` (case-insensitive), or "".
    std::string Header(std::string_view name) const;
  };
  struct Answer {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;  // Content-Length is added
    std::string body;
    bool close = false;                  // close the connection after this answer
    std::chrono::milliseconds delay{0};  // wait before answering
  };
  using Handler = std::function<Answer(const Request&)>;

  explicit HttpTestServer(Handler handler);
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_; }
  int requests() const { return requests_; }

 private:
  void AcceptLoop();
  void Serve(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
  std::thread accept_thread_;
};

}  // namespace trace::testing
