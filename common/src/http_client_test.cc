// HttpClient against a real loopback HTTP server (tests/harness/http_server.h) and, for TLS,
// against `openssl s_server` with a throwaway self-signed certificate.
#include "trace/common/http_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "harness/http_server.h"

namespace trace {
namespace {

using std::chrono::milliseconds;
using testing::HttpTestServer;

TEST(HttpClient, GetsStatusHeadersAndBodyOverOneConnection) {
  HttpTestServer server([](const HttpTestServer::Request& req) {
    if (req.target == "/missing") return HttpTestServer::Answer{.status = 404, .body = "no"};
    return HttpTestServer::Answer{
        .status = 200,
        .headers = {{"Content-Type", "application/json"}, {"X-Seen-Accept", req.Header("Accept")}},
        .body = "{\"target\":\"" + req.target + "\"}"};
  });
  HttpClient http;
  auto res = http.Get(server.url() + "/01/x?linkType=all", {{"Accept", "application/json"}});
  ASSERT_TRUE(res) << res.error();
  EXPECT_EQ(res->status, 200u);
  EXPECT_EQ(res->body, "{\"target\":\"/01/x?linkType=all\"}");
  EXPECT_EQ(res->Header("content-type").value_or(""), "application/json");
  EXPECT_EQ(res->Header("X-SEEN-ACCEPT").value_or(""), "application/json");
  EXPECT_FALSE(res->Header("X-Absent"));
  auto missing = http.Get(server.url() + "/missing");
  ASSERT_TRUE(missing) << missing.error();  // an HTTP error status is an answer
  EXPECT_EQ(missing->status, 404u);
  EXPECT_EQ(server.connections(), 1);  // keep-alive
}

TEST(HttpClient, FollowsRedirectsUpToTheLimit) {
  HttpTestServer other([](const HttpTestServer::Request& req) {
    return HttpTestServer::Answer{.status = 200, .body = "other " + req.target};
  });
  const std::string other_url = other.url();
  HttpTestServer server([&other_url](const HttpTestServer::Request& req) {
    if (req.target == "/a") return HttpTestServer::Answer{.status = 307, .headers = {{"Location", "/b?x=1"}}};
    if (req.target == "/b?x=1") return HttpTestServer::Answer{.status = 308, .headers = {{"Location", "c"}}};
    if (req.target == "/c") return HttpTestServer::Answer{.status = 301, .headers = {{"Location", other_url + "/d"}}};
    if (req.target == "/loop") return HttpTestServer::Answer{.status = 302, .headers = {{"Location", "/loop"}}};
    return HttpTestServer::Answer{.status = 404};
  });
  HttpClient http({.max_redirects = 3});
  auto res = http.Get(server.url() + "/a");
  ASSERT_TRUE(res) << res.error();
  EXPECT_EQ(res->status, 200u);
  EXPECT_EQ(res->body, "other /d");
  EXPECT_EQ(res->url, other_url + "/d");

  auto loop = http.Get(server.url() + "/loop");
  ASSERT_FALSE(loop);
  EXPECT_EQ(loop.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(loop.error().message().find("more than 3 redirects"), std::string::npos) << loop.error();

  // POST never follows.
  auto post = http.Post(server.url() + "/a", "{}");
  ASSERT_TRUE(post) << post.error();
  EXPECT_EQ(post->status, 307u);
}

TEST(HttpClient, EnforcesBodyLimitAndTimeout) {
  HttpTestServer server([](const HttpTestServer::Request& req) {
    if (req.target == "/big") return HttpTestServer::Answer{.body = std::string(2000, 'x')};
    return HttpTestServer::Answer{.body = "late", .delay = milliseconds(1500)};
  });
  HttpClient http({.timeout = milliseconds(300), .max_body_bytes = 1000});
  auto big = http.Get(server.url() + "/big");
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code(), StatusCode::kResourceExhausted) << big.error();

  auto start = std::chrono::steady_clock::now();
  auto slow = http.Get(server.url() + "/slow");
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(slow.error().message().find("timed out"), std::string::npos) << slow.error();
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1200));
}

TEST(HttpClient, RefusesOtherSchemesAndUnreachableHosts) {
  HttpClient http;
  EXPECT_EQ(http.Get("ftp://example.com/x").error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(http.Get("/relative").error().code(), StatusCode::kInvalidArgument);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);  // nobody listens there now
  auto r = http.Get("http://127.0.0.1:" + std::to_string(port) + "/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), StatusCode::kUnavailable) << r.error();
}

// `openssl s_server -www` on a free port with a self-signed certificate for 127.0.0.1.
class TlsServer {
 public:
  explicit TlsServer(const std::string& dir) : dir_(dir) {
    std::string gen =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1"
        " -addext subjectAltName=IP:127.0.0.1 -keyout " +
        dir + "/key.pem -out " + dir + "/cert.pem >/dev/null 2>&1";
    ok_ = std::system(gen.c_str()) == 0;
    if (!ok_) return;
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::close(fd);
    pid_ = ::fork();
    if (pid_ == 0) {
      std::string cert = dir + "/cert.pem", key = dir + "/key.pem", port = std::to_string(port_);
      ::freopen("/dev/null", "w", stdout);
      ::freopen("/dev/null", "w", stderr);
      ::execlp("openssl", "openssl", "s_server", "-quiet", "-www", "-accept", port.c_str(), "-cert", cert.c_str(),
               "-key", key.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Wait until it listens.
    for (int i = 0; i < 100; ++i) {
      int c = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in to = addr;
      to.sin_port = htons(port_);
      bool up = ::connect(c, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
      ::close(c);
      if (up) return;
      std::this_thread::sleep_for(milliseconds(50));
    }
    ok_ = false;
  }
  ~TlsServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool ok() const { return ok_; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/"; }
  std::string cert() const { return dir_ + "/cert.pem"; }

 private:
  std::string dir_;
  bool ok_ = false;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST(HttpClient, HttpsVerifiesTheCertificate) {
  std::string dir = std::filesystem::temp_directory_path() / ("trace-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    TlsServer server(dir);
    ASSERT_TRUE(server.ok()) << "openssl req / s_server did not start";

    // Not in the system store: refused, with the reason.
    HttpClient strict;
    auto refused = strict.Get(server.url());
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), StatusCode::kUnavailable);
    EXPECT_NE(refused.error().message().find("certificate verify failed"), std::string::npos) << refused.error();

    // Trusted by naming the CA file: the answer arrives over TLS.
    HttpClient trusting({.extra_ca_file = server.cert()});
    auto res = trusting.Get(server.url());
    ASSERT_TRUE(res) << res.error();
    EXPECT_EQ(res->status, 200u);
    EXPECT_NE(res->body.find("Ciphers"), std::string::npos);

    // The right CA but the wrong name: "localhost" is not in the certificate.
    auto url = server.url();
    url.replace(url.find("127.0.0.1"), 9, "localhost");
    auto wrong_name = trusting.Get(url);
    ASSERT_FALSE(wrong_name);
    EXPECT_NE(wrong_name.error().message().find("tls handshake"), std::string::npos) << wrong_name.error();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace trace
