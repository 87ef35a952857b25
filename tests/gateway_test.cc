// trace-gateway end to end against a real PostgreSQL and Mosquitto (the test
// harness runs deploy/stack.sh): the shipped build/bin/trace-gateway runs as a
// child process; a real Paho client plays the device, publishes signed
// envelopes and checks every receipt's signature with the platform's receipt
// key; the database is checked directly.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <mqtt/async_client.h>
#include <pqxx/pqxx>

#include "harness/stack.h"
#include "trace/common/ed25519.h"
#include "trace/common/encoding.h"
#include "trace/common/envelope.h"
#include "trace/common/platform_keys.h"
#include "trace/common/receipt.h"
#include "trace/common/time.h"

namespace trace::gateway {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr char kOrg[] = "gw-farm";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// GET `path` from 127.0.0.1:`port`; the whole response, headers included.
std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    (void)!write(fd, req.data(), req.size());
    char buf[4096];
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, n);
  }
  close(fd);
  return out;
}

class GatewaySystemTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto stack = testing::Stack::Start({.postgres = true, .mosquitto = true});
    ASSERT_TRUE(stack.has_value()) << stack.error();
    stack_ = std::move(*stack).release();
    auto& s = *stack_;
    ASSERT_EQ(s.Run({"trace-admin", "migrate"}).exit_code, 0);
    auto org = s.Run({"trace-admin", "org", "create", kOrg, "--json"});
    ASSERT_EQ(org.exit_code, 0) << org.out << org.err;
    ASSERT_EQ(s.Run({"trace-admin", "keys"}).exit_code, 0);
    auto keys = LoadPlatformKeys(s.Env("TRACE_KEYS_DIR"), kDefaultLogName);
    ASSERT_TRUE(keys.has_value()) << keys.error();
    receipt_public_ = new std::string(keys->receipt.public_key());

    // The gateway, as a child process with the stack's environment.
    log_path_ = new std::string(s.dir() + "/gateway-test.log");
    gateway_pid_ = fork();
    if (gateway_pid_ == 0) {
      for (const char* name : {"TRACE_DB_URL", "TRACE_MQTT_URL", "TRACE_MQTT_GATEWAY_USERNAME",
                               "TRACE_MQTT_GATEWAY_PASSWORD", "TRACE_KEYS_DIR"}) {
        setenv(name, s.Env(name).c_str(), 1);
      }
      freopen(log_path_->c_str(), "w", stderr);
      std::string exe = std::string(getenv("TRACE_BIN_DIR") ? getenv("TRACE_BIN_DIR") : "build/bin") +
                        "/trace-gateway";
      execl(exe.c_str(), exe.c_str(), "--client-id=gateway-system-test", "--device-cache-ms=1000",
            "--max-clock-skew-ms=60000", static_cast<char*>(nullptr));
      _exit(127);
    }
    ASSERT_GT(gateway_pid_, 0);
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (ReadFile(*log_path_).find("\"subscribed\"") == std::string::npos) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "gateway did not subscribe:\n" << ReadFile(*log_path_);
      std::this_thread::sleep_for(100ms);
    }
  }

  static void TearDownTestSuite() {
    if (gateway_pid_ > 0) {
      kill(gateway_pid_, SIGKILL);
      waitpid(gateway_pid_, nullptr, 0);
    }
    delete stack_;
    stack_ = nullptr;
  }

  // A device: registered with trace-admin, connected with its MQTT login,
  // subscribed to its receipt topic.
  struct Device {
    std::string name;
    Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
    std::unique_ptr<mqtt::async_client> client;
    uint64_t seq = 0;

    std::string UpTopicName() const { return UpTopic(kOrg, name); }
  };

  std::unique_ptr<Device> Register(const std::string& name) {
    auto d = std::make_unique<Device>();
    d->name = name;
    auto reg = stack_->Run({"trace-admin", "device", "register", kOrg, name, "--public-key",
                            Base64UrlEncode(d->key.public_key()), "--json"});
    EXPECT_EQ(reg.exit_code, 0) << reg.out << reg.err;
    auto obj = json::parse(reg.out).as_object();
    d->client = std::make_unique<mqtt::async_client>(stack_->Env("TRACE_MQTT_URL"), "dev-" + name,
                                                     mqtt::create_options(MQTTVERSION_5));
    d->client->start_consuming();
    auto opts = mqtt::connect_options_builder()
                    .mqtt_version(MQTTVERSION_5)
                    .clean_start(true)
                    .user_name(std::string(obj.at("mqtt_username").as_string()))
                    .password(std::string(obj.at("mqtt_password").as_string()))
                    .finalize();
    d->client->connect(opts)->wait();
    d->client->subscribe(ReceiptTopic(kOrg, name), 1)->wait();
    return d;
  }

  json::object Unsigned(Device& d, uint64_t seq) {
    json::object o = json::parse(R"({
      "v": 1,
      "events": [{"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "receiving",
                  "eventTime": "2026-01-01T00:00:00.000Z", "eventTimeZoneOffset": "+00:00",
                  "epcList": ["urn:epc:id:sgtin:0614141.107346.2018"],
                  "quantityList": [{"epcClass": "urn:epc:class:lgtin:0614141.107346.LOT7", "quantity": 5, "uom": "KGM"}],
                  "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:9506000.13436"}]}]
    })").as_object();
    o["org"] = kOrg;
    o["device"] = d.name;
    o["seq"] = seq;
    o["sent"] = FormatRfc3339Millis(std::chrono::system_clock::now());
    return o;
  }

  std::string Sign(Device& d, json::object o) { return SignEnvelope(std::move(o), d.key).value().canonical_bytes; }

  // Publishes `payload` on `d`'s up topic and returns the verified receipt
  // naming MessageId(payload).
  Receipt Send(Device& d, const std::string& payload) {
    d.client->publish(d.UpTopicName(), payload.data(), payload.size(), 1, false)->wait();
    const std::string id = MessageId(payload);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      mqtt::const_message_ptr msg;
      if (!d.client->try_consume_message_for(&msg, 200ms) || !msg) continue;
      auto r = ParseAndVerifyReceipt(msg->to_string(), *receipt_public_);
      EXPECT_TRUE(r.has_value()) << "receipt does not verify: " << msg->to_string();
      if (r && r->envelope == id) return *r;
    }
    ADD_FAILURE() << "no receipt for " << id << "\n" << ReadFile(*log_path_);
    return Receipt{};
  }

  int64_t Count(const std::string& sql) {
    pqxx::connection c(stack_->Env("TRACE_DB_URL"));
    pqxx::work w(c);
    return w.exec1(sql)[0].as<int64_t>();
  }

  void ExpectRejected(Device& d, const std::string& payload, Reason reason, std::string_view detail_part = "") {
    Receipt r = Send(d, payload);
    EXPECT_EQ(ReceiptStatusName(r.status), "rejected");
    ASSERT_TRUE(r.reason.has_value());
    EXPECT_EQ(ReasonName(*r.reason), ReasonName(reason)) << r.detail.value_or("");
    EXPECT_NE(r.detail.value_or("").find(detail_part), std::string::npos) << r.detail.value_or("");
    EXPECT_EQ(Count("SELECT count(*) FROM rejected_messages WHERE reason = '" + std::string(ReasonName(reason)) +
                    "' AND envelope_id = '\\x" + r.envelope + "'::bytea"),
              1)
        << ReasonName(reason);
  }

  static testing::Stack* stack_;
  static std::string* receipt_public_;
  static std::string* log_path_;
  static pid_t gateway_pid_;
};

testing::Stack* GatewaySystemTest::stack_ = nullptr;
std::string* GatewaySystemTest::receipt_public_ = nullptr;
std::string* GatewaySystemTest::log_path_ = nullptr;
pid_t GatewaySystemTest::gateway_pid_ = -1;

TEST_F(GatewaySystemTest, AcceptedThenDuplicateThenSeqReused) {
  auto d = Register("accept-1");
  std::string first = Sign(*d, Unsigned(*d, 1));
  Receipt r = Send(*d, first);
  EXPECT_EQ(ReceiptStatusName(r.status), "accepted") << r.detail.value_or("");
  EXPECT_EQ(r.seq, 1u);
  const std::string id = r.envelope;
  EXPECT_EQ(Count("SELECT count(*) FROM envelopes WHERE id = '\\x" + id + "'::bytea AND canonical = '\\x" +
                  HexEncode(first) + "'::bytea"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM events WHERE envelope_id = '\\x" + id + "'::bytea"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM event_keys WHERE envelope_id = '\\x" + id +
                  "'::bytea AND gtin = '10614141073464' AND lot = 'LOT7' AND kind = 'epc_class'"),
            1);
  EXPECT_EQ(Count("SELECT last_seq FROM devices WHERE org = 'gw-farm' AND device = 'accept-1'"), 1);

  Receipt again = Send(*d, first);
  EXPECT_EQ(ReceiptStatusName(again.status), "duplicate");
  EXPECT_EQ(Count("SELECT count(*) FROM envelopes WHERE org = 'gw-farm' AND device = 'accept-1'"), 1);

  json::object other = Unsigned(*d, 1);
  other["sent"] = "2026-01-01T00:00:00.001Z";
  ExpectRejected(*d, Sign(*d, other), Reason::kSeqReused);

  // A gap is allowed and reported.
  Receipt gap = Send(*d, Sign(*d, Unsigned(*d, 5)));
  EXPECT_EQ(ReceiptStatusName(gap.status), "accepted");
  EXPECT_NE(gap.detail.value_or("").find("gap"), std::string::npos);
  // Lower than the highest stored but never stored: a gap being filled,
  // accepted and reported (docs/protocol-notes.md); its re-send is a duplicate
  // and a different envelope under it is seq_reused.
  std::string three = Sign(*d, Unsigned(*d, 3));
  Receipt filled = Send(*d, three);
  EXPECT_EQ(ReceiptStatusName(filled.status), "accepted");
  EXPECT_NE(filled.detail.value_or("").find("out of order"), std::string::npos) << filled.detail.value_or("");
  EXPECT_EQ(ReceiptStatusName(Send(*d, three).status), "duplicate");
  json::object other3 = Unsigned(*d, 3);
  other3["sent"] = "2026-01-01T00:00:00.003Z";
  ExpectRejected(*d, Sign(*d, other3), Reason::kSeqReused, "different content");
  EXPECT_EQ(Count("SELECT last_seq FROM devices WHERE org = 'gw-farm' AND device = 'accept-1'"), 5);
}

TEST_F(GatewaySystemTest, EveryRejectionReasonIsAnsweredAndStored) {
  auto d = Register("reject-1");
  ExpectRejected(*d, "{not json", Reason::kMalformed);
  ExpectRejected(*d, std::string(kMaxEnvelopeBytes + 100, 'x'), Reason::kTooLarge);
  json::object no_sent = Unsigned(*d, 1);
  no_sent.erase("sent");
  no_sent["sig"] = Base64UrlEncode(std::string(64, 'x'));
  ExpectRejected(*d, json::serialize(no_sent), Reason::kSchema, "$.sent");
  json::object wrong_org = Unsigned(*d, 2);
  wrong_org["org"] = "other-farm";
  ExpectRejected(*d, Sign(*d, wrong_org), Reason::kTopicMismatch);
  auto stranger = Ed25519PrivateKey::Generate();
  ExpectRejected(*d, SignEnvelope(Unsigned(*d, 3), stranger).value().canonical_bytes, Reason::kBadSignature);
  json::object future = Unsigned(*d, 4);
  future["sent"] = FormatRfc3339Millis(std::chrono::system_clock::now() + 1h);
  ExpectRejected(*d, Sign(*d, future), Reason::kClockSkew, "$.sent");
  json::object bad_event = Unsigned(*d, 5);
  bad_event["events"].as_array()[0].as_object()["action"] = "JUMP";
  ExpectRejected(*d, Sign(*d, bad_event), Reason::kSchema, "$.events[0].action");
  // None of them stored an envelope; the device still works.
  EXPECT_EQ(Count("SELECT count(*) FROM envelopes WHERE org = 'gw-farm' AND device = 'reject-1'"), 0);
  EXPECT_EQ(ReceiptStatusName(Send(*d, Sign(*d, Unsigned(*d, 6))).status), "accepted");
}

TEST_F(GatewaySystemTest, RevokedDeviceIsRefusedWithinSeconds) {
  auto d = Register("revoke-1");
  EXPECT_EQ(ReceiptStatusName(Send(*d, Sign(*d, Unsigned(*d, 1))).status), "accepted");
  // Database only (--mqtt-url=): the broker still lets the device publish, so
  // the gateway is what must refuse it.
  auto rev = stack_->Run({"trace-admin", "device", "revoke", kOrg, "revoke-1", "--mqtt-url="});
  ASSERT_EQ(rev.exit_code, 0) << rev.out << rev.err;
  const auto revoked_at = std::chrono::steady_clock::now();
  Receipt r = Send(*d, Sign(*d, Unsigned(*d, 2)));
  ASSERT_TRUE(r.reason.has_value());
  EXPECT_EQ(ReasonName(*r.reason), "revoked_device");
  EXPECT_LT(std::chrono::steady_clock::now() - revoked_at, 5s);
  EXPECT_EQ(Count("SELECT count(*) FROM envelopes WHERE org = 'gw-farm' AND device = 'revoke-1'"), 1);
}

TEST_F(GatewaySystemTest, ZSigtermDrainsAndExitsZero) {
  auto d = Register("drain-1");
  for (uint64_t seq = 1; seq <= 20; ++seq) {
    std::string p = Sign(*d, Unsigned(*d, seq));
    d->client->publish(d->UpTopicName(), p.data(), p.size(), 1, false)->wait();
  }
  Receipt last = Send(*d, Sign(*d, Unsigned(*d, 21)));
  EXPECT_EQ(ReceiptStatusName(last.status), "accepted");
  // /metrics and /healthz on the port the startup line names.
  auto started = json::parse(ReadFile(*log_path_).substr(0, ReadFile(*log_path_).find('\n'))).as_object();
  const int port = static_cast<int>(started.at("http_port").as_int64());
  std::string metrics = HttpGet(port, "/metrics");
  EXPECT_NE(metrics.find("trace_gateway_rejected_total{reason=\"seq_reused\"}"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("trace_gateway_commit_seconds_count"), std::string::npos);
  EXPECT_EQ(metrics.find("trace_gateway_accepted_total 0\n"), std::string::npos) << metrics;
  EXPECT_NE(HttpGet(port, "/healthz").find("200 OK"), std::string::npos);
  ASSERT_EQ(kill(gateway_pid_, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(gateway_pid_, &status, 0), gateway_pid_);
  gateway_pid_ = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadFile(*log_path_);
  EXPECT_EQ(Count("SELECT count(*) FROM envelopes WHERE org = 'gw-farm' AND device = 'drain-1'"), 21);
  EXPECT_NE(ReadFile(*log_path_).find("\"stopped\""), std::string::npos);
}

}  // namespace
}  // namespace trace::gateway
