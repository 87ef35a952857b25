// Security checks against the real servers (issue 9, item 3), with the shipped programs and the
// real clients an attacker would use:
//  - the broker: a device registered by `trace-admin device register` cannot publish on another
//    device's up topic (the gateway, which stores every message it receives, stores nothing of
//    it), cannot subscribe to another device's receipts and receive one, cannot log in once
//    revoked or with a wrong password (mosquitto_pub / mosquitto_sub);
//  - TLS: deploy/mosquitto/mosquitto-prod.conf's listener, started for real with a CA made by
//    openssl in a temporary folder, checked with `openssl s_client` (TLS 1.2+ only, the chain
//    verifies, plain TCP is refused on the TLS port);
//  - trace-api under request abuse on every route (kRoutes): SQL-injection strings in path
//    segments and query parameters, oversize bodies (413) and headers (431), a client that
//    trickles its request (408), malformed requests (400), with the database unchanged;
//  - repeated failing guesses at the public routes are rate limited (429);
//  - key and credential files are mode 0600;
//  - no secret (API token, MQTT password, private key in any encoding) in any log line.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <pqxx/pqxx>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness/stack.h"
#include "trace/common/ed25519.h"
#include "trace/common/encoding.h"
#include "trace/common/platform_keys.h"

namespace trace {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using testing::Stack;

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Port(const std::string& url) { return url.substr(url.rfind(':') + 1); }

// A free TCP port on 127.0.0.1 (bound, read, released).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return -1;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

int ConnectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Reads until the peer closes or `timeout` passes; returns what arrived.
std::string ReadAll(int fd, std::chrono::milliseconds timeout) {
  std::string raw;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[16384];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  return raw;
}

// Sends `raw` on a fresh connection (as much of it as the server takes) and returns the answer.
std::string Exchange(int port, const std::string& raw, std::chrono::milliseconds timeout = 10s) {
  int fd = ConnectTo(port);
  if (fd < 0) return "";
  size_t sent = 0;
  while (sent < raw.size()) {
    ssize_t n = send(fd, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server answered early and closed: read what it said
    sent += static_cast<size_t>(n);
  }
  std::string out = ReadAll(fd, timeout);
  close(fd);
  return out;
}

// The status code of a raw HTTP/1.1 answer (0 when there is none).
int StatusOf(const std::string& raw) {
  if (raw.size() < 12 || !raw.starts_with("HTTP/1.1 ")) return 0;
  return std::atoi(raw.substr(9, 3).c_str());
}

std::string BodyOf(const std::string& raw) {
  auto end = raw.find("\r\n\r\n");
  return end == std::string::npos ? "" : raw.substr(end + 4);
}

std::string PercentEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

// mosquitto_pub / mosquitto_sub / mosquitto_ctrl arguments.
std::vector<std::string> Cmd(std::string program, const std::vector<std::string>& a,
                             const std::vector<std::string>& b) {
  std::vector<std::string> argv = {std::move(program)};
  argv.insert(argv.end(), a.begin(), a.end());
  argv.insert(argv.end(), b.begin(), b.end());
  return argv;
}

// ---------------------------------------------------------------------------------------------
// The shared stack: every server and service, the rice scenario sent through the gateway by
// the simulator (so there are device keys, passwords, tokens and log lines to look at), and
// two devices of our own registered with trace-admin.

struct Device {
  std::string org, name, password;
  std::string Username() const { return org + "/" + name; }
  std::string Up() const { return "trace/v1/" + org + "/" + name + "/up"; }
  std::string Receipt() const { return "trace/v1/" + org + "/" + name + "/receipt"; }
};

class SecuritySystemTest : public ::testing::Test {
 protected:
  friend class StopSharedStack;
  // Starts the shared stack once, for every suite of this file; the environment below stops it
  // after the last test.
  static void EnsureStack() {
    static bool tried = false;
    if (tried) return;
    tried = true;
    signal(SIGPIPE, SIG_IGN);
    auto started = Stack::Start({.postgres = true, .mosquitto = true, .anvil = true, .services = true});
    ASSERT_TRUE(started) << started.error();
    stack_ = started->release();
    ASSERT_FALSE(stack_->Env("TRACE_API_URL").empty()) << "trace-api not built?";

    auto org = stack_->Run({"trace-admin", "org", "create", "sec-farm", "--json"});
    ASSERT_EQ(org.exit_code, 0) << org.err;
    // trace-admin prints a new secret once, on stdout, by design; its stderr is a log.
    std::ofstream admin_log(stack_->dir() + "/logs/trace-admin-stderr.log");
    admin_log << org.err;
    secrets_->push_back(std::string(json::parse(org.out).at("token").as_string()));
    for (const char* name : {"dev-a", "dev-b"}) {
      Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
      auto r = stack_->Run({"trace-admin", "device", "register", "sec-farm", name, "--public-key",
                            Base64UrlEncode(key.public_key()), "--json"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      admin_log << r.err;
      json::object out = json::parse(r.out).as_object();
      ASSERT_TRUE(out.at("mqtt_password").is_string()) << r.out;
      Device d{"sec-farm", name, std::string(out.at("mqtt_password").as_string())};
      secrets_->push_back(d.password);
      (name == std::string("dev-a") ? *a_ : *b_) = d;
    }
    // Real traffic: the rice chain through the real gateway, with devices the simulator
    // registers itself (their keys and logins land in the state folder).
    auto rice = stack_->Run({"trace-devicesim", "scenario", "rice", "--register", "--json", "--timeout=90",
                             "--state-dir=" + stack_->dir() + "/devicesim"});
    ASSERT_EQ(rice.exit_code, 0) << rice.out << rice.err;
    // The simulator's own log lines (stderr) are searched for secrets with the stack's logs.
    std::ofstream(stack_->dir() + "/logs/trace-devicesim-rice.log") << rice.err;
    ready_ = true;
  }
  static void StopStack() {
    delete stack_;
    stack_ = nullptr;
  }
  void SetUp() override {
    EnsureStack();
    ASSERT_TRUE(ready_) << "the shared stack did not start (see the first test's failure)";
  }

  static std::vector<std::string> Login(const std::string& user, const std::string& password) {
    return {"-h", "127.0.0.1", "-p", Port(stack_->Env("TRACE_MQTT_URL")), "-u", user, "-P", password};
  }
  static std::vector<std::string> As(const Device& d) { return Login(d.Username(), d.password); }

  static int64_t Count(const std::string& sql, const std::string& p1 = "") {
    pqxx::connection c(stack_->Env("TRACE_DB_URL"));
    pqxx::nontransaction w(c);
    return (sql.find("$1") != std::string::npos ? w.exec_params1(sql, p1) : w.exec1(sql))[0].as<int64_t>();
  }

  // Publishes a message the gateway cannot parse on `d`'s own up topic and waits until the
  // gateway has stored it as rejected: everything `d` or anyone published before it has been
  // through the gateway by then (one broker, one subscriber, in order).
  static ::testing::AssertionResult Barrier(const Device& d, const std::string& marker) {
    auto r = stack_->Run(Cmd("mosquitto_pub", As(d), {"-q", "1", "-t", d.Up(), "-m", marker}));
    if (r.exit_code != 0) return ::testing::AssertionFailure() << "marker publish failed: " << r.err;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (Count("SELECT count(*) FROM rejected_messages WHERE payload = convert_to($1, 'UTF8')", marker) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        return ::testing::AssertionFailure() << "the gateway never stored the marker " << marker;
      }
      std::this_thread::sleep_for(100ms);
    }
    return ::testing::AssertionSuccess();
  }

  static Stack* stack_;
  static bool ready_;
  static std::vector<std::string>* secrets_;  // tokens and passwords handed out by the tests
  static Device *a_, *b_;
};
Stack* SecuritySystemTest::stack_ = nullptr;
bool SecuritySystemTest::ready_ = false;
std::vector<std::string>* SecuritySystemTest::secrets_ = new std::vector<std::string>();
Device* SecuritySystemTest::a_ = new Device();
Device* SecuritySystemTest::b_ = new Device();

class StopSharedStack : public ::testing::Environment {
 public:
  void TearDown() override { SecuritySystemTest::StopStack(); }
};
[[maybe_unused]] ::testing::Environment* const kStopSharedStack =
    ::testing::AddGlobalTestEnvironment(new StopSharedStack);

// ---------------------------------------------------------------------------------------------
// Broker authentication and ACL

TEST_F(SecuritySystemTest, DeviceCannotPublishOnAnotherDevicesUpTopic) {
  const Device& a = *a_;
  const Device& b = *b_;
  // MQTT 5: the broker answers PUBACK 135 (not authorized) and drops the message.
  auto v5 = stack_->Run(Cmd("mosquitto_pub", As(a), {"-V", "mqttv5", "-q", "1", "-t", b.Up(), "-m", "forged-v5-by-a"}));
  EXPECT_NE(v5.err.find("Not authorized"), std::string::npos) << v5.err;
  // MQTT 3.1.1 has no reason code: acknowledged, dropped silently.
  auto v311 = stack_->Run(Cmd("mosquitto_pub", As(a), {"-q", "1", "-t", b.Up(), "-m", "forged-311-by-a"}));
  EXPECT_EQ(v311.exit_code, 0) << v311.err;
  // Nor on wildcards or other organizations' topics.
  auto other = stack_->Run(Cmd("mosquitto_pub", As(a), {"-V", "mqttv5", "-q", "1", "-t",
                                                       "trace/v1/ubon-jasmine-coop/harvest-scale/up", "-m", "forged"}));
  EXPECT_NE(other.err.find("Not authorized"), std::string::npos) << other.err;

  // The gateway stores every message it receives (rejected ones with their bytes); after B's
  // marker went through, nothing A sent on B's topic is there, and nothing was stored for B.
  ASSERT_TRUE(Barrier(b, "marker-b-after-forgery"));
  EXPECT_EQ(Count("SELECT count(*) FROM rejected_messages WHERE topic = $1", b.Up()), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM rejected_messages WHERE position('forged' in convert_from(payload, 'UTF8')) > 0"),
            0);
  EXPECT_EQ(Count("SELECT count(*) FROM envelopes WHERE org = 'sec-farm'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM rejected_messages WHERE topic = $1",
                  "trace/v1/ubon-jasmine-coop/harvest-scale/up"),
            0);
}

TEST_F(SecuritySystemTest, DeviceCannotReadAnotherDevicesReceipts) {
  const Device& a = *a_;
  const Device& b = *b_;
  // MQTT 5 shows the refusal (SUBACK 0x87), for B's topic and for wildcards over it.
  for (const std::string& filter : std::vector<std::string>{b.Receipt(), "trace/v1/sec-farm/+/receipt", "trace/v1/#",
                                                            "#", "$share/spy/" + b.Receipt()}) {
    auto r = stack_->Run(Cmd("mosquitto_sub", As(a), {"-V", "mqttv5", "-t", filter, "-E"}));
    EXPECT_NE(r.err.find("denied"), std::string::npos) << filter << ": " << r.err;
  }
  // Persistent sessions (MQTT 3.1.1), then real receipts: the gateway answers an unparsable
  // message with a signed `rejected` receipt on its sender's receipt topic. A's session asks
  // for its own receipts (granted) and B's and a wildcard (refused); B's session for B's.
  auto sub = [&](const Device& d, const std::string& id, const std::vector<std::string>& filters) {
    std::vector<std::string> args = {"-c", "-i", id, "-q", "1", "-E"};
    for (const auto& f : filters) args.insert(args.end(), {"-t", f});
    return stack_->Run(Cmd("mosquitto_sub", As(d), args));
  };
  auto spy = sub(a, "sec-a-spy", {a.Receipt(), b.Receipt(), "trace/v1/sec-farm/+/receipt"});
  ASSERT_EQ(spy.exit_code, 0) << spy.err;
  auto own = sub(b, "sec-b-receipts", {b.Receipt()});
  ASSERT_EQ(own.exit_code, 0) << own.err;
  // B's receipt is published before A's (one gateway, in order).
  ASSERT_TRUE(Barrier(b, "marker-b-for-a-receipt"));
  ASSERT_TRUE(Barrier(a, "marker-a-own-receipt"));

  auto drain = [&](const Device& d, const std::string& id, const std::string& filter, int count) {
    return stack_->Run(Cmd("mosquitto_sub", As(d), {"-c", "-i", id, "-q", "1", "-t", filter, "-v", "-C",
                                                    std::to_string(count), "-W", "8"}));
  };
  auto got_b = drain(b, "sec-b-receipts", b.Receipt(), 1);
  EXPECT_EQ(got_b.exit_code, 0) << got_b.err;
  EXPECT_TRUE(got_b.out.starts_with(b.Receipt() + " {")) << got_b.out;
  EXPECT_NE(got_b.out.find("\"status\":\"rejected\""), std::string::npos) << got_b.out;
  EXPECT_NE(got_b.out.find("\"reason\":\"malformed\""), std::string::npos) << got_b.out;
  // A's session holds its own receipt and nothing else (asked for two, waits 8 s).
  auto got_a = drain(a, "sec-a-spy", a.Receipt(), 2);
  EXPECT_TRUE(got_a.out.starts_with(a.Receipt() + " {")) << got_a.out;
  EXPECT_EQ(got_a.out.find(b.Receipt()), std::string::npos) << "device A read B's receipt:\n" << got_a.out;
  EXPECT_EQ(std::count(got_a.out.begin(), got_a.out.end(), '\n'), 1) << got_a.out;
}

TEST_F(SecuritySystemTest, WrongPasswordAndUnknownUserCannotConnect) {
  const Device& a = *a_;
  for (const auto& login : {Login(a.Username(), a.password + "x"), Login(a.Username(), ""), Login("sec-farm/nobody", "x"),
                            Login("gateway", a.password)}) {
    auto r = stack_->Run(Cmd("mosquitto_pub", login, {"-V", "mqttv5", "-q", "1", "-t", a.Up(), "-m", "x"}));
    EXPECT_NE(r.exit_code, 0) << login[5];
    EXPECT_NE(r.err.find("ot authori"), std::string::npos) << login[5] << ": " << r.err;
  }
  // The right password still works (the refusals did not lock the account).
  auto ok = stack_->Run(Cmd("mosquitto_sub", As(a), {"-t", a.Receipt(), "-E"}));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST_F(SecuritySystemTest, RevokedDeviceCannotConnect) {
  // A device of its own, so the other tests keep theirs.
  Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
  auto reg = stack_->Run({"trace-admin", "device", "register", "sec-farm", "dev-revoked", "--public-key",
                          Base64UrlEncode(key.public_key()), "--json"});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  Device d{"sec-farm", "dev-revoked", std::string(json::parse(reg.out).at("mqtt_password").as_string())};
  secrets_->push_back(d.password);
  auto before = stack_->Run(Cmd("mosquitto_pub", As(d), {"-V", "mqttv5", "-q", "1", "-t", d.Up(), "-m", "before"}));
  ASSERT_EQ(before.exit_code, 0) << before.err;
  EXPECT_EQ(before.err.find("failed"), std::string::npos) << before.err;

  auto revoke = stack_->Run({"trace-admin", "device", "revoke", "sec-farm", "dev-revoked", "--json"});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  EXPECT_EQ(Count("SELECT count(*) FROM devices WHERE org = 'sec-farm' AND device = 'dev-revoked' AND status = "
                  "'revoked'"),
            1);
  for (const char* version : {"mqttv5", "mqttv311"}) {
    auto after = stack_->Run(Cmd("mosquitto_pub", As(d), {"-V", version, "-q", "1", "-t", d.Up(), "-m", "after"}));
    EXPECT_NE(after.exit_code, 0) << version;
    EXPECT_NE(after.err.find("ot authori"), std::string::npos) << version << ": " << after.err;
  }
  auto sub = stack_->Run(Cmd("mosquitto_sub", As(d), {"-t", d.Receipt(), "-E"}));
  EXPECT_NE(sub.exit_code, 0);
}

// ---------------------------------------------------------------------------------------------
// Files: keys and credentials 0600; no secret in any log line.

TEST_F(SecuritySystemTest, KeyAndCredentialFilesAreOwnerOnly) {
  std::vector<std::string> files;
  const std::string keys = stack_->Env("TRACE_KEYS_DIR");
  for (const char* name : {"log.key", "receipt.key", "anchorer.key"}) files.push_back(keys + "/" + name);
  for (const char* name : {"env", "services.env", "mosquitto/credentials", "mosquitto/dynamic-security.json"}) {
    files.push_back(stack_->dir() + "/" + name);
  }
  int device_keys = 0;
  for (const auto& entry : fs::recursive_directory_iterator(stack_->dir() + "/devicesim")) {
    const std::string name = entry.path().filename();
    if (name == "device.key" || name == "mqtt.json") {
      files.push_back(entry.path());
      device_keys += name == "device.key";
    }
  }
  EXPECT_GE(device_keys, 5);
  for (const auto& f : files) {
    struct stat st{};
    ASSERT_EQ(stat(f.c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
  }
  struct stat dir{};
  ASSERT_EQ(stat(keys.c_str(), &dir), 0);
  EXPECT_EQ(dir.st_mode & 0777, 0700u) << keys;
}

// ---------------------------------------------------------------------------------------------
// trace-api under abuse

// Every route trace-api serves today (services/api/src/api.cc), with a well-formed request and
// the places an attacker controls. `{X}` in a target is replaced by an injection string
// (percent-encoded); `expect` lists the right answers for any such string: 400 when the value
// is checked and refused, 404 when it is well-formed but names nothing, 200 when it is only
// ever a bound SQL parameter or ignored. Add a route here and every check below covers it.
struct RouteUnderTest {
  std::string pattern;
  std::string target;  // a well-formed request
  int status;          // its answer on the stack (the rice chain stored)
  struct Injection {
    std::string target;
    std::set<int> expect;
  };
  std::vector<Injection> injections;
};

const std::vector<RouteUnderTest>& Routes() {
  static const auto* routes = new std::vector<RouteUnderTest>{
      {"/01/{gtin}/10/{lot}",
       "/01/08850456000213/10/HM105-2611-A",
       200,
       {{"/01/{X}/10/HM105-2611-A", {400}},
        // GS1 character set 82 allows ' ; = ( ): a lot such as 1'OR'1'='1 is well-formed
        // and names no lot (404); strings with spaces or other characters are refused (400).
        {"/01/08850456000213/10/{X}", {400, 404}},
        {"/01/08850456000213/10/NO-SUCH-LOT?linkType={X}", {404}}}},
      {"/01/{gtin}/10/{lot}/21/{serial}",
       "/01/08850456000213/10/HM105-2611-A/21/100001",
       200,
       {{"/01/08850456000213/10/HM105-2611-A/21/{X}", {400, 404}}}},
      {"/01/{gtin}/21/{serial}",
       "/01/08850456000213/21/100001",
       200,
       {{"/01/{X}/21/100001", {400}}, {"/01/08850456000213/21/{X}", {400, 404}}}},
      // A GTIN alone names no trace (404); a malformed one is refused.
      {"/01/{gtin}", "/01/08850456000213", 404, {{"/01/{X}", {400}}}},
      {"/api/v1/envelopes/{id}",
       "/api/v1/envelopes/" + std::string(64, '0'),
       404,
       {{"/api/v1/envelopes/{X}", {400}}, {"/api/v1/envelopes/" + std::string(64, '0') + "?treeSize={X}", {400}}}},
      {"/api/v1/checkpoint", "/api/v1/checkpoint", 200, {{"/api/v1/checkpoint?size={X}", {200}}}},
      {"/api/v1/proofs/consistency",
       "/api/v1/proofs/consistency?from=1&to=2",
       200,
       {{"/api/v1/proofs/consistency?from={X}&to=2", {400}}, {"/api/v1/proofs/consistency?from=1&to={X}", {400}}}},
      {"/api/v1/anchors",
       "/api/v1/anchors",
       200,
       {{"/api/v1/anchors?limit={X}", {400}}, {"/api/v1/anchors?before={X}", {400}}}},
      {"/api/v1/keys", "/api/v1/keys", 200, {{"/api/v1/keys?id={X}", {200}}}},
      {"/api/v1/epcis/events",
       "/api/v1/epcis/events",
       200,
       {// Bound as SQL parameters: an empty result, not an error.
        {"/api/v1/epcis/events?MATCH_epcClass={X}", {200}},
        {"/api/v1/epcis/events?MATCH_epc={X}", {200}},
        {"/api/v1/epcis/events?EQ_bizStep={X}", {200}},
        {"/api/v1/epcis/events?GE_eventTime={X}", {400}},
        {"/api/v1/epcis/events?perPage={X}", {400}},
        {"/api/v1/epcis/events?nextPageToken={X}", {400}},
        {"/api/v1/epcis/events?{X}=1", {400}}}},
      {"/api/v1/lots/{gtin}/{lot}/readings",
       "/api/v1/lots/08850456000213/HM105-2611-A/readings",
       200,
       {{"/api/v1/lots/{X}/HM105-2611-A/readings", {400}}, {"/api/v1/lots/08850456000213/{X}/readings", {400, 404}}}},
      {"/static/{file}", "/static/page.0123456789ab.js", 404, {{"/static/{X}", {404}}}},
      {"/healthz", "/healthz", 200, {{"/healthz?x={X}", {200}}}},
      {"/metrics", "/metrics", 200, {{"/metrics?x={X}", {200}}}},
  };
  return *routes;
}

const std::vector<std::string> kInjections = {
    "' OR '1'='1",
    "1'OR'1'='1",
    "1; DROP TABLE envelopes; --",
    "'); DELETE FROM log_nodes; --",
    "x' UNION SELECT encode(canonical, 'hex') FROM envelopes --",
    "1' AND pg_sleep(5) IS NULL --",
    "$1::text",
    "\\x00'--",
    std::string("nul\0byte", 8),
    "%27%20OR%201=1",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
};

class ApiAbuseTest : public SecuritySystemTest {
 protected:
  // A trace-api of our own on the stack's database, without the rate limit (so every abusive
  // request reaches its route) and with a short read timeout; its log joins the stack's logs.
  static void SetUpTestSuite() {
    EnsureStack();
    if (!ready_) return;
    // The gateway and the anchor write on their own; stopped, so any change is ours.
    for (const char* s : {"trace-gateway", "trace-anchor"}) {
      auto r = testing::RunProgram({testing::SourceDir() + "/deploy/stack.sh", "stop", stack_->dir(), s}, {});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    log_path_ = new std::string(stack_->dir() + "/logs/trace-api-abuse.log");
    pid_ = fork();
    if (pid_ == 0) {
      for (const char* name : {"TRACE_DB_URL", "TRACE_KEYS_DIR", "TRACE_CHAIN_RPC", "TRACE_CONTRACT"}) {
        setenv(name, stack_->Env(name).c_str(), 1);
      }
      if (!freopen(log_path_->c_str(), "w", stderr)) _exit(126);
      const char* bin = getenv("TRACE_BIN_DIR");
      std::string exe = std::string(bin ? bin : "build/bin") + "/trace-api";
      execl(exe.c_str(), exe.c_str(), "--listen=127.0.0.1:0", "--rate-limit=0", "--read-timeout-ms=700",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    std::regex re("\"msg\":\"listening\".*\"port\":([0-9]+)");
    while (std::chrono::steady_clock::now() < deadline && port_ <= 0) {
      std::smatch m;
      std::string text = ReadText(*log_path_);
      if (std::regex_search(text, m, re)) port_ = std::stoi(m[1]);
      std::this_thread::sleep_for(50ms);
    }
    ASSERT_GT(port_, 0) << ReadText(*log_path_);
  }
  static void TearDownTestSuite() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

  void SetUp() override {
    SecuritySystemTest::SetUp();
    ASSERT_GT(port_, 0) << "trace-api for the abuse tests did not start";
  }

  static std::string Get(const std::string& target, const std::string& extra_headers = "") {
    return Exchange(port_, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n" +
                               extra_headers + "Connection: close\r\n\r\n");
  }

  // Row count and an MD5 over every row of every table of the schema, one line per table.
  static std::string DatabaseFingerprint() {
    pqxx::connection c(stack_->Env("TRACE_DB_URL"));
    pqxx::read_transaction tx(c);
    std::string out;
    for (const auto& t : tx.exec("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")) {
      const std::string table = tx.quote_name(t[0].as<std::string>());
      auto r = tx.exec1("SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM " + table +
                        " t");
      out += t[0].as<std::string>() + " " + r[0].as<std::string>() + " " + r[1].as<std::string>() + "\n";
    }
    return out;
  }

  static pid_t pid_;
  static int port_;
  static std::string* log_path_;
};
pid_t ApiAbuseTest::pid_ = -1;
int ApiAbuseTest::port_ = -1;
std::string* ApiAbuseTest::log_path_ = nullptr;

TEST_F(ApiAbuseTest, ValidRequestsAnswerOnEveryRoute) {
  for (const auto& route : Routes()) {
    const std::string raw = Get(route.target);
    EXPECT_EQ(StatusOf(raw), route.status) << route.pattern << " " << route.target << ": " << raw.substr(0, 300);
  }
}

TEST_F(ApiAbuseTest, SqlInjectionInPathAndQueryIsAnsweredAndChangesNothing) {
  const std::string before = DatabaseFingerprint();
  ASSERT_NE(before.find("envelopes "), std::string::npos) << before;
  int requests = 0;
  for (const auto& route : Routes()) {
    for (const auto& injection : route.injections) {
      for (const auto& attack : kInjections) {
        const std::string target = Replace(injection.target, "{X}", PercentEncode(attack));
        const auto start = std::chrono::steady_clock::now();
        const std::string raw = Get(target);
        const int status = StatusOf(raw);
        ++requests;
        EXPECT_TRUE(injection.expect.contains(status)) << route.pattern << " " << target << ": " << raw.substr(0, 400);
        if (status >= 400) {
          EXPECT_NE(raw.find("application/problem+json"), std::string::npos) << target << ": " << raw.substr(0, 400);
        }
        // Nothing ran pg_sleep, nothing leaked stored bytes back.
        EXPECT_LT(std::chrono::steady_clock::now() - start, 4s) << target;
        EXPECT_EQ(BodyOf(raw).find("syntax error"), std::string::npos) << target << ": " << raw.substr(0, 400);
      }
    }
  }
  EXPECT_GT(requests, 200);
  EXPECT_EQ(DatabaseFingerprint(), before);
}

TEST_F(ApiAbuseTest, OversizeBodiesAre413) {
  const std::string before = DatabaseFingerprint();
  for (const auto& route : Routes()) {
    for (const char* method : {"POST", "PUT", "GET"}) {
      // Announced by Content-Length: refused before the body is read.
      std::string big(70000, 'x');
      std::string raw = Exchange(port_, std::string(method) + " " + route.target +
                                            " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                            "Content-Length: " +
                                            std::to_string(big.size()) + "\r\nConnection: close\r\n\r\n" + big);
      EXPECT_EQ(StatusOf(raw), 413) << method << " " << route.target << ": " << raw.substr(0, 300);
    }
    // Chunked, no length announced: refused once the chunks pass the limit.
    std::string chunked = "POST " + route.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 20; ++i) chunked += "1000\r\n" + std::string(4096, 'y') + "\r\n";
    chunked += "0\r\n\r\n";
    EXPECT_EQ(StatusOf(Exchange(port_, chunked)), 413) << route.target;
  }
  EXPECT_EQ(DatabaseFingerprint(), before);
}

TEST_F(ApiAbuseTest, OversizeHeadersAre431) {
  for (const auto& route : Routes()) {
    EXPECT_EQ(StatusOf(Get(route.target, "X-Filler: " + std::string(16000, 'h') + "\r\n")), 431) << route.target;
    std::string many;
    for (int i = 0; i < 400; ++i) many += "X-H" + std::to_string(i) + ": " + std::string(30, 'v') + "\r\n";
    EXPECT_EQ(StatusOf(Get(route.target, many)), 431) << route.target;
    // A target longer than the header limit.
    EXPECT_EQ(StatusOf(Get(route.target + (route.target.find('?') == std::string::npos ? "?" : "&") + "q=" +
                           std::string(12000, 'a'))),
              431)
        << route.target;
  }
}

TEST_F(ApiAbuseTest, TricklingClientGets408) {
  for (const auto& route : Routes()) {
    int fd = ConnectTo(port_);
    ASSERT_GE(fd, 0);
    const std::string request = "GET " + route.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " +
                                std::string(200, 's') + "\r\n\r\n";
    // One byte every 50 ms: the whole request would take over 10 s; the server's read timeout
    // (700 ms here) ends it with 408 long before.
    const auto start = std::chrono::steady_clock::now();
    std::string answer;
    for (size_t i = 0; i < request.size() && answer.empty(); ++i) {
      if (send(fd, request.data() + i, 1, MSG_NOSIGNAL) != 1) break;
      answer = ReadAll(fd, 50ms);
    }
    if (answer.empty()) answer = ReadAll(fd, 3s);
    close(fd);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(StatusOf(answer), 408) << route.target << ": " << answer.substr(0, 300);
    EXPECT_LT(took, 5s) << route.target;
  }
  // A connection that sends nothing at all is closed (no answer owed).
  int idle = ConnectTo(port_);
  ASSERT_GE(idle, 0);
  const auto start = std::chrono::steady_clock::now();
  std::string nothing = ReadAll(idle, 30s);
  close(idle);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 25s) << "an idle connection was kept open";
}

TEST_F(ApiAbuseTest, MalformedRequestsAre400) {
  const std::string before = DatabaseFingerprint();
  for (const auto& route : Routes()) {
    const std::string& t = route.target;
    const std::vector<std::string> requests = {
        "GET " + t + " HTTP/9.9\r\nHost: x\r\n\r\n",
        "GET " + t + " HTTX/1.1\r\nHost: x\r\n\r\n",
        "GET  " + t + "  HTTP/1.1\r\nHost: x\r\n\r\n",
        "G(T " + t + " HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET " + t + " HTTP/1.1\r\nHost x\r\n\r\n",
        "GET " + t + " HTTP/1.1\r\nHo st: x\r\n\r\n",
        "GET " + t + " HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        "GET " + t + " HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        "GET " + t + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "POST " + t + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        "GET " + t + " HTTP/1.1\r\nHost: x\r\nX-Bad: a" + std::string(1, '\0') + "b\r\n\r\n",
        "GET " + t + " HTTP/1.1\r\nHost: x\r\nX-Bad: a\rb\r\n\r\n",
        std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + std::string(64, '\x01') + "\r\n\r\n",
    };
    for (const auto& raw : requests) {
      std::string answer = Exchange(port_, raw, 5s);
      EXPECT_EQ(StatusOf(answer), 400) << json::serialize(json::string(raw)) << " -> " << answer.substr(0, 300);
    }
    // Targets that are not origin-form paths.
    for (const std::string& target : {std::string("*"), std::string("http://evil.example") + t, std::string("api/v1/keys"),
                                      std::string("/%zz"), t + "%"}) {
      const int status = StatusOf(Get(target));
      EXPECT_TRUE(status == 400 || status == 404) << target << ": " << status;
    }
  }
  EXPECT_EQ(DatabaseFingerprint(), before);
  // The server is still healthy after all of it.
  EXPECT_EQ(StatusOf(Get("/healthz")), 200);
}

// ---------------------------------------------------------------------------------------------
// Guessing

class GuessingTest : public SecuritySystemTest {};

TEST_F(GuessingTest, RepeatedFailedGuessesAreRateLimited) {
  // The stack's trace-api has its default limit (20 requests per second per client after a
  // burst of 40). Guessing
  // envelope ids (or, once the producer routes exist, tokens) soon gets 429 with Retry-After.
  const int port = std::stoi(Port(stack_->Env("TRACE_API_URL")));
  int not_found = 0, limited = 0;
  std::string retry_after;
  for (int i = 0; i < 120; ++i) {
    char id[65];
    std::snprintf(id, sizeof id, "%064x", 0xdead0000 + i);
    std::string raw = Exchange(port, "GET /api/v1/envelopes/" + std::string(id) +
                                         " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer trc_guess" +
                                         std::to_string(i) + "\r\nConnection: close\r\n\r\n");
    const int status = StatusOf(raw);
    not_found += status == 404;
    if (status == 429) {
      ++limited;
      std::smatch m;
      static const std::regex re("\r\n[Rr]etry-[Aa]fter: *([0-9]+)\r\n");
      if (std::regex_search(raw, m, re)) retry_after = m[1];
    }
  }
  EXPECT_GE(not_found, 20);
  EXPECT_GE(limited, 50) << not_found << " guesses answered";
  EXPECT_EQ(not_found + limited, 120);
  EXPECT_GE(std::atoi(retry_after.c_str()), 1);
  // A guess never reveals more than "not found": no stored byte, no SQL error.
}

// Last: every secret the stack and the tests handed out, searched in every log file.
class LogSecretsTest : public SecuritySystemTest {};

TEST_F(LogSecretsTest, NoSecretInAnyLogLine) {
  std::vector<std::pair<std::string, std::string>> secrets;  // (what, text)
  auto add = [&](const std::string& what, const std::string& s) {
    if (s.size() >= 8) secrets.emplace_back(what, s);
  };
  for (const auto& s : *secrets_) add("token or password from trace-admin", s);
  add("MQTT admin password", stack_->Env("TRACE_MQTT_ADMIN_PASSWORD"));
  add("MQTT gateway password", stack_->Env("TRACE_MQTT_GATEWAY_PASSWORD"));
  // Private keys: the file's text and the raw key in every encoding a careless log would use.
  auto add_key = [&](const std::string& path) {
    std::string text = ReadText(path);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    std::string raw;
    if (text.starts_with("0x")) {
      auto b = HexDecode(text.substr(2));
      if (b) raw = *b;
    } else if (auto b = Base64UrlDecode(text)) {
      raw = *b;
    }
    ASSERT_EQ(raw.size(), 32u) << path;
    add(path, text);
    add(path + " (base64url)", Base64UrlEncode(raw));
    std::string b64 = Base64Encode(raw);
    add(path + " (base64)", b64.substr(0, 40));  // padding and line breaks aside
    std::string hex = HexEncode(raw);
    add(path + " (hex)", hex);
    std::string upper = hex;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    add(path + " (HEX)", upper);
  };
  const std::string keys = stack_->Env("TRACE_KEYS_DIR");
  for (const char* k : {"log.key", "receipt.key", "anchorer.key"}) add_key(keys + "/" + k);
  int devices = 0;
  for (const auto& entry : fs::recursive_directory_iterator(stack_->dir() + "/devicesim")) {
    if (entry.path().filename() == "device.key") {
      add_key(entry.path());
      ++devices;
    }
    if (entry.path().filename() == "mqtt.json") {
      json::value login = json::parse(ReadText(entry.path()));
      for (const auto& [k, v] : login.as_object()) {
        if (k.find("password") != std::string::npos && v.is_string()) add(entry.path().string() + " " + std::string(k), std::string(v.as_string()));
      }
    }
  }
  EXPECT_GE(devices, 5);
  ASSERT_GE(secrets.size(), 30u);

  int files = 0;
  size_t bytes = 0;
  for (const auto& entry : fs::directory_iterator(stack_->dir() + "/logs")) {
    // anvil is the test chain: it prints its own well-known development keys at start (the
    // anchorer key of the stack is its account 0); a real chain node is not ours to log.
    const std::string name = entry.path().filename();
    const std::string text = ReadText(entry.path());
    ++files;
    bytes += text.size();
    for (const auto& [what, secret] : secrets) {
      if (name == "anvil.log" && what.find("anchorer.key") != std::string::npos) continue;
      auto at = text.find(secret);
      if (at == std::string::npos) continue;
      auto line_start = text.rfind('\n', at);
      line_start = line_start == std::string::npos ? 0 : line_start + 1;
      ADD_FAILURE() << name << " holds " << what << ": " << text.substr(line_start, text.find('\n', at) - line_start);
    }
  }
  EXPECT_GE(files, 6);
  EXPECT_GT(bytes, 1000u);
}

// ---------------------------------------------------------------------------------------------
// TLS: the production broker configuration, started for real with a CA of our own.

// A temporary folder with a CA, a server certificate for localhost / 127.0.0.1 signed by it,
// and an unrelated CA; a server the suites below start from it on `tls_port_`; and
// `openssl s_client` against that port.
class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/trace-tls-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    const std::string script =
        "set -e; cd \"$0\"\n"
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=trace-test-ca "
        "  -keyout ca.key -out ca.crt 2>/dev/null\n"
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost "
        "  -keyout server.key -out server.csr 2>/dev/null\n"
        "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > ext.cnf\n"
        "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf "
        "  -out server.crt 2>/dev/null\n"
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=other-ca "
        "  -keyout other.key -out other.crt 2>/dev/null\n"
        "chmod 600 ca.key server.key other.key\n";
    auto made = testing::RunProgram({"bash", "-c", script, dir_}, {});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    tls_port_ = FreePort();
    plain_port_ = FreePort();
    ASSERT_GT(tls_port_, 0);
    ASSERT_GT(plain_port_, 0);
    ASSERT_NE(tls_port_, plain_port_);
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    if (getenv("TRACE_KEEP_STACK") == nullptr) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  // Starts argv (in a session of its own, stderr to DIR/server.log) and waits until the TLS
  // port accepts connections.
  ::testing::AssertionResult StartServer(const std::vector<std::string>& argv) {
    pid_ = fork();
    if (pid_ == 0) {
      setsid();
      if (!freopen((dir_ + "/server.log").c_str(), "w", stderr)) _exit(126);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      int fd = ConnectTo(tls_port_);
      if (fd >= 0) {
        close(fd);
        return ::testing::AssertionSuccess();
      }
      std::this_thread::sleep_for(100ms);
    }
    return ::testing::AssertionFailure() << argv[0] << " did not listen: " << ReadText(dir_ + "/server.log");
  }

  testing::Stack::RunResult SClient(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(tls_port_),
                                     "-servername", "localhost", "-brief"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    // s_client waits on stdin; RunProgram gives it /dev/null, so it ends after the handshake.
    return testing::RunProgram(argv, {}, 20);
  }

  // What every TLS endpoint of ours must show: TLS 1.3 and 1.2 with a chain that verifies
  // (name and address), TLS 1.1 and 1.0 refused by the server, another CA or another name not
  // verifying.
  void ExpectTls12PlusWithVerifiedChain() {
    auto any = SClient({"-CAfile", dir_ + "/ca.crt", "-verify_return_error", "-verify_hostname", "localhost"});
    EXPECT_EQ(any.exit_code, 0) << any.out << any.err;
    EXPECT_NE(any.err.find("Verification: OK"), std::string::npos) << any.err;
    EXPECT_NE(any.err.find("Protocol version: TLSv1.3"), std::string::npos) << any.err;
    auto v12 = SClient({"-tls1_2", "-CAfile", dir_ + "/ca.crt", "-verify_return_error", "-verify_ip", "127.0.0.1"});
    EXPECT_EQ(v12.exit_code, 0) << v12.out << v12.err;
    EXPECT_NE(v12.err.find("Protocol version: TLSv1.2"), std::string::npos) << v12.err;
    EXPECT_NE(v12.err.find("Verification: OK"), std::string::npos) << v12.err;
    // The client allows every old protocol and cipher (SECLEVEL=0), so a failure is the
    // server's refusal: its `protocol version` alert.
    for (const char* version : {"-tls1_1", "-tls1"}) {
      auto r = SClient({version, "-cipher", "DEFAULT:@SECLEVEL=0", "-CAfile", dir_ + "/ca.crt"});
      EXPECT_NE(r.exit_code, 0) << version << ": " << r.err;
      EXPECT_EQ(r.err.find("Protocol version"), std::string::npos) << version << ": " << r.err;
      EXPECT_NE(r.err.find("alert protocol version"), std::string::npos) << version << ": " << r.err;
    }
    auto other = SClient({"-CAfile", dir_ + "/other.crt", "-verify_return_error"});
    EXPECT_NE(other.exit_code, 0);
    EXPECT_NE(other.err.find("verify error"), std::string::npos) << other.err;
    auto name = SClient({"-CAfile", dir_ + "/ca.crt", "-verify_return_error", "-verify_hostname", "broker.example"});
    EXPECT_NE(name.exit_code, 0);
    EXPECT_NE(name.err.find("verify error"), std::string::npos) << name.err;
  }

  std::string dir_;
  int tls_port_ = -1, plain_port_ = -1;
  pid_t pid_ = -1;
};

// deploy/mosquitto/mosquitto-prod.conf, started for real.
class MqttTlsTest : public TlsTest {
 protected:
  void SetUp() override {
    TlsTest::SetUp();
    if (HasFatalFailure()) return;
    auto init = testing::RunProgram({"mosquitto_ctrl", "dynsec", "init", dir_ + "/dynamic-security.json", "tls-admin",
                                     kAdminPassword},
                                    {});
    ASSERT_EQ(init.exit_code, 0) << init.out << init.err;
    const std::string conf = ProductionConfig();
    ASSERT_FALSE(conf.empty());
    std::ofstream(dir_ + "/mosquitto.conf") << conf;
    ASSERT_TRUE(StartServer({"mosquitto", "-c", dir_ + "/mosquitto.conf"}));
  }

  // deploy/mosquitto/mosquitto-prod.conf as shipped, with only what must differ in a test
  // changed: the ports (loopback only), the certificate and data paths, the account, and the
  // log destination. Every TLS and authentication setting stays as written.
  std::string ProductionConfig() {
    std::string text = ReadText(testing::SourceDir() + "/deploy/mosquitto/mosquitto-prod.conf");
    std::istringstream in(text);
    std::string out, line;
    std::set<std::string> seen;
    while (std::getline(in, line)) {
      std::istringstream words(line);
      std::string key, value;
      words >> key >> value;
      if (key == "listener" && value == "8883") {
        line = "listener " + std::to_string(tls_port_) + " 127.0.0.1";
      } else if (key == "listener" && value == "1883") {
        line = "listener " + std::to_string(plain_port_) + " 127.0.0.1";
      } else if (key == "cafile" || key == "certfile" || key == "keyfile") {
        line = key + " " + dir_ + "/" + (key == "cafile" ? "ca.crt" : key == "certfile" ? "server.crt" : "server.key");
      } else if (key == "user") {
        line = "user " + std::string(getenv("USER") ? getenv("USER") : "root");
      } else if (key == "persistence_location") {
        line = "persistence_location " + dir_ + "/";
      } else if (key == "plugin") {
        line = "plugin " + DynsecPlugin();
      } else if (key == "plugin_opt_config_file") {
        line = "plugin_opt_config_file " + dir_ + "/dynamic-security.json";
      } else if (key == "log_dest") {
        line = "log_dest stderr";
      } else if (!key.empty() && key[0] != '#') {
        settings_.push_back(line);
      }
      if (!key.empty() && key[0] != '#') seen.insert(key + (key == "listener" ? " " + value : ""));
      out += line + "\n";
    }
    for (const char* want : {"listener 8883", "listener 1883", "cafile", "certfile", "keyfile", "tls_version"}) {
      EXPECT_TRUE(seen.contains(want)) << "mosquitto-prod.conf has no " << want;
    }
    return out;
  }

  static std::string DynsecPlugin() {
    for (const char* p : {"/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so", "/usr/lib/mosquitto_dynamic_security.so"}) {
      if (fs::exists(p)) return p;
    }
    return "mosquitto_dynamic_security.so";
  }

  static constexpr const char* kAdminPassword = "tls-admin-password-0123";
  std::vector<std::string> settings_;
};

TEST_F(MqttTlsTest, ProductionConfigKeepsAuthenticationOnEveryListener) {
  ProductionConfig();
  auto has = [&](const std::string& line) {
    return std::find(settings_.begin(), settings_.end(), line) != settings_.end();
  };
  EXPECT_TRUE(has("allow_anonymous false"));
  EXPECT_TRUE(has("per_listener_settings false"));
  EXPECT_TRUE(has("require_certificate false"));  // username and password over TLS
  EXPECT_TRUE(has("tls_version tlsv1.2"));
  // The plain listener of the shipped file is bound to loopback.
  EXPECT_NE(ReadText(testing::SourceDir() + "/deploy/mosquitto/mosquitto-prod.conf").find("\nlistener 1883 127.0.0.1\n"),
            std::string::npos);
}

TEST_F(MqttTlsTest, Tls12And13OnlyWithAVerifiedChain) { ExpectTls12PlusWithVerifiedChain(); }

TEST_F(MqttTlsTest, PlainMqttIsRefusedOnTheTlsPortAndTlsClientsAuthenticate) {
  const std::string tls = std::to_string(tls_port_);
  // A real MQTT client without TLS gets no CONNACK.
  auto plain = testing::RunProgram({"mosquitto_pub", "-h", "127.0.0.1", "-p", tls, "-u", "tls-admin", "-P", kAdminPassword,
                                    "-t", "x", "-m", "x"},
                                   {}, 20);
  EXPECT_NE(plain.exit_code, 0) << plain.err;
  // Nor does a raw MQTT 3.1.1 CONNECT: the server answers no 0x20 (CONNACK) and closes.
  const std::string connect("\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00", 14);
  const std::string answer = Exchange(tls_port_, connect, 5s);
  EXPECT_TRUE(answer.empty() || answer[0] != '\x20') << HexEncode(answer);

  // Over TLS with the CA: the admin authenticates; a wrong password and anonymous do not.
  auto ctrl = [&](const std::string& password) {
    return testing::RunProgram({"mosquitto_ctrl", "--cafile", dir_ + "/ca.crt", "-h", "localhost", "-p", tls, "-u",
                                "tls-admin", "-P", password, "dynsec", "listClients"},
                               {}, 20);
  };
  auto ok = ctrl(kAdminPassword);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("tls-admin"), std::string::npos) << ok.out << ok.err;
  auto wrong = testing::RunProgram({"mosquitto_pub", "--cafile", dir_ + "/ca.crt", "-h", "localhost", "-p", tls, "-u",
                                    "tls-admin", "-P", "wrong", "-t", "x", "-m", "x"},
                                   {}, 20);
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("ot authori"), std::string::npos) << wrong.err;
  auto anonymous = testing::RunProgram(
      {"mosquitto_pub", "--cafile", dir_ + "/ca.crt", "-h", "localhost", "-p", tls, "-t", "x", "-m", "x"}, {}, 20);
  EXPECT_NE(anonymous.exit_code, 0);
  // A client that does not trust the CA refuses the server.
  auto untrusted = testing::RunProgram({"mosquitto_pub", "--cafile", dir_ + "/other.crt", "-h", "localhost", "-p", tls,
                                        "-u", "tls-admin", "-P", kAdminPassword, "-t", "x", "-m", "x"},
                                       {}, 20);
  EXPECT_NE(untrusted.exit_code, 0);
}

// trace-gateway on the production broker's TLS listener, as a gateway on another host runs
// (deploy/prod/env/gateway.env: ssl://, TRACE_MQTT_CA): both its connections (the shared
// subscription and the receipt publisher) come up over TLS with the CA; with a CA that did not
// sign the broker's certificate it never connects. No message flows, so no database is needed.
TEST_F(MqttTlsTest, GatewayConnectsOverTlsOnlyToATrustedBroker) {
  const std::string tls = std::to_string(tls_port_);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"createRole", "gateway"},
        {"addRoleACL", "gateway", "subscribePattern", "$share/+/trace/v1/+/+/up", "allow"},
        {"addRoleACL", "gateway", "subscribePattern", "trace/v1/+/+/up", "allow"},
        {"addRoleACL", "gateway", "publishClientReceive", "trace/v1/+/+/up", "allow"},
        {"addRoleACL", "gateway", "publishClientSend", "trace/v1/+/+/receipt", "allow"},
        {"createClient", "gateway", "-p", "gateway-tls-password"},
        {"addClientRole", "gateway", "gateway"}}) {
    std::vector<std::string> argv = {"mosquitto_ctrl", "--cafile", dir_ + "/ca.crt", "-h", "localhost", "-p", tls,
                                     "-u", "tls-admin", "-P", kAdminPassword, "dynsec"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = testing::RunProgram(argv, {}, 20);
    ASSERT_EQ(r.exit_code, 0) << args[0] << ": " << r.out << r.err;
  }
  ASSERT_TRUE(trace::LoadOrCreatePlatformKeys(dir_ + "/keys", "trace.local/log").has_value());

  // Runs trace-gateway trusting `ca` for up to `wait`; returns its log once it subscribed or the
  // time is up.
  auto run_gateway = [&](const std::string& ca, const std::string& name, std::chrono::seconds wait) {
    const std::string log = dir_ + "/" + name + ".log";
    const char* bin = getenv("TRACE_BIN_DIR");
    std::vector<std::string> argv = {std::string(bin ? bin : "build/bin") + "/trace-gateway"};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = -1;
    const int rc = testing::SpawnInOwnGroup(
        &pid, argv,
        testing::EnvironmentWith({{"TRACE_MQTT_URL", "ssl://localhost:" + tls},
                                  {"TRACE_MQTT_CA", ca},
                                  {"TRACE_MQTT_GATEWAY_USERNAME", "gateway"},
                                  {"TRACE_MQTT_GATEWAY_PASSWORD", "gateway-tls-password"},
                                  {"TRACE_GATEWAY_CLIENT_ID", "tls-" + name},
                                  {"TRACE_KEYS_DIR", dir_ + "/keys"},
                                  {"TRACE_DB_URL", "postgresql://trace@127.0.0.1:1/unused"}}),
        &actions);
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(rc, 0);
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline && ReadText(log).find("\"msg\":\"subscribed\"") == std::string::npos) {
      std::this_thread::sleep_for(100ms);
    }
    if (pid > 0) {
      kill(-pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    return ReadText(log);
  };

  const std::string trusted = run_gateway(dir_ + "/ca.crt", "gateway-trusted", 30s);
  EXPECT_NE(trusted.find("\"msg\":\"subscribed\""), std::string::npos) << trusted;
  EXPECT_EQ(trusted.find("connection failed"), std::string::npos) << trusted;

  const std::string untrusted = run_gateway(dir_ + "/other.crt", "gateway-untrusted", 8s);
  EXPECT_EQ(untrusted.find("\"msg\":\"subscribed\""), std::string::npos) << untrusted;
  EXPECT_NE(untrusted.find("mqtt receipt connection failed"), std::string::npos) << untrusted;
}

// deploy/prod/nginx/trace-api.conf.in (the HTTPS front of trace-api, from the prod branch):
// rendered as tests/prod_system_test.cc does, on loopback ports with the test CA's certificate,
// and checked with openssl s_client. Skipped where the template is not in the tree.
class NginxTlsTest : public TlsTest {
 protected:
  void SetUp() override {
    template_ = testing::SourceDir() + "/deploy/prod/nginx/trace-api.conf.in";
    if (!fs::exists(template_)) GTEST_SKIP() << template_ << " not in this tree (deploy/prod not merged)";
    TlsTest::SetUp();
    if (HasFatalFailure()) return;
    std::string site = ReadText(template_);
    site = Replace(site, "@HTTPS_LISTEN@", "127.0.0.1:" + std::to_string(tls_port_) + " ssl http2");
    site = Replace(site, "@HTTP_LISTEN@", "127.0.0.1:" + std::to_string(plain_port_));
    site = Replace(site, "@SERVER_NAME@", "localhost");
    site = Replace(site, "@CERT@", dir_ + "/server.crt");
    site = Replace(site, "@KEY@", dir_ + "/server.key");
    // No trace-api behind it: TLS is nginx's alone (a request that reaches the upstream gets 502).
    site = Replace(site, "@UPSTREAM@", "server 127.0.0.1:" + std::to_string(FreePort()) + ";");
    std::ofstream(dir_ + "/site.conf") << site;
    std::ofstream(dir_ + "/nginx.conf")
        << "daemon off;\nworker_processes 1;\n" << (geteuid() == 0 ? "user root;\n" : "") << "pid " << dir_
        << "/nginx.pid;\nerror_log " << dir_ << "/nginx-error.log;\nevents { worker_connections 64; }\nhttp {\n"
        << "  access_log off;\n  client_body_temp_path " << dir_ << "/body;\n  proxy_temp_path " << dir_
        << "/proxy;\n  fastcgi_temp_path " << dir_ << "/fastcgi;\n  uwsgi_temp_path " << dir_
        << "/uwsgi;\n  scgi_temp_path " << dir_ << "/scgi;\n  include " << dir_ << "/site.conf;\n}\n";
    auto check = testing::RunProgram({"nginx", "-t", "-p", dir_, "-c", dir_ + "/nginx.conf"}, {}, 20);
    ASSERT_EQ(check.exit_code, 0) << check.err;
    ASSERT_TRUE(StartServer({"nginx", "-p", dir_, "-c", dir_ + "/nginx.conf"}));
  }

  std::string template_;
};

TEST_F(NginxTlsTest, Tls12And13OnlyWithAVerifiedChain) { ExpectTls12PlusWithVerifiedChain(); }

TEST_F(NginxTlsTest, PlainHttpOnTheHttpsPortIsRefusedAndHstsIsSent) {
  const std::string plain =
      Exchange(tls_port_, "GET /api/v1/keys HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 5s);
  EXPECT_EQ(StatusOf(plain), 400) << plain;
  EXPECT_NE(plain.find("plain HTTP request was sent to HTTPS port"), std::string::npos) << plain;
  const std::string port = std::to_string(tls_port_);
  auto https = testing::RunProgram({"curl", "-sS", "-D", "-", "-o", "/dev/null", "--cacert", dir_ + "/ca.crt",
                                    "--resolve", "localhost:" + port + ":127.0.0.1", "https://localhost:" + port +
                                    "/healthz"},
                                   {}, 20);
  EXPECT_EQ(https.exit_code, 0) << https.err;
  EXPECT_NE(https.out.find("HTTP/2 404"), std::string::npos) << https.out;  // operations stay private
  EXPECT_NE(https.out.find("strict-transport-security: max-age="), std::string::npos) << https.out;
}

}  // namespace
}  // namespace trace
