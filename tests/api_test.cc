// trace-api end to end: real PostgreSQL and Mosquitto (deploy/stack.sh through the
// harness), the real trace-gateway storing envelopes that a real MQTT client
// publishes, the log tables filled as the anchor service would (CompactRange,
// signed checkpoints, confirmed anchors), and the shipped build/bin/trace-api
// answering real HTTP requests.
//
// The chain, a rice-like one: paddy commissioned on a farm (with temperature
// readings), milled into rice (TransformationEvent), rice bags commissioned into the
// rice lot, packed onto a pallet (AggregationEvent), the pallet shipped; one more
// receiving event stays outside the anchored log.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <mqtt/async_client.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "harness/http_call.h"
#include "harness/stack.h"
#include "trace/common/checkpoint.h"
#include "trace/common/ed25519.h"
#include "trace/common/encoding.h"
#include "trace/common/envelope.h"
#include "trace/common/epcis.h"
#include "trace/common/gs1.h"
#include "trace/common/jcs.h"
#include "trace/common/merkle.h"
#include "trace/common/platform_keys.h"
#include "trace/common/receipt.h"
#include "trace/common/time.h"

namespace trace::api {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr char kOrg[] = "green-valley";
constexpr char kRiceGtin[] = "09506000134369";
constexpr char kRiceLot[] = "RICE-0703";
constexpr char kPaddyLot[] = "PADDY-0701";
constexpr char kSscc[] = "urn:epc:id:sscc:9506000.1000000001";
constexpr char kContract[] = "0x5fbdb2315678afecb367f032d93f642f64180aa3";

std::string PaddyGtin() { return "0950600012345" + std::string(1, gs1::CheckDigit("0950600012345").value()); }
std::string RiceClass() { return std::string("urn:epc:class:lgtin:9506000.013436.") + kRiceLot; }
std::string PaddyClass() { return std::string("urn:epc:class:lgtin:9506000.012345.") + kPaddyLot; }
std::string CaseGtin() { return "1950600013436" + std::string(1, gs1::CheckDigit("1950600013436").value()); }
constexpr char kCase[] = "urn:epc:id:sgtin:9506000.113436.CASE01";
std::string Bag(int n) { return "urn:epc:id:sgtin:9506000.013436.BAG00" + std::to_string(n); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

using testing::HttpResult;

HttpResult Http(int port, const std::string& method, const std::string& target,
                const std::vector<std::pair<std::string, std::string>>& headers = {}, const std::string& body = "") {
  return testing::HttpCall(port, method, target, headers, body);
}

HttpResult Get(int port, const std::string& target, const std::string& accept = "application/json") {
  return Http(port, "GET", target, {{"Accept", accept}});
}

// Success when `r` is an RFC 9457 problem document with `status` whose detail contains
// `detail_part`; checked with EXPECT_TRUE at each call, so a failure names the calling line.
::testing::AssertionResult IsProblem(const HttpResult& r, int status, const std::string& detail_part = "") {
  if (r.status != status) return ::testing::AssertionFailure() << "status " << r.status << ": " << r.body;
  if (r.Header("content-type") != "application/problem+json") {
    return ::testing::AssertionFailure() << "content-type " << r.Header("content-type");
  }
  auto doc = r.Json();
  if (!(doc.contains("type") && doc.contains("title") && doc.contains("detail") && doc.contains("status"))) {
    return ::testing::AssertionFailure() << "not a problem document: " << r.body;
  }
  if (!doc.at("status").is_int64() || doc.at("status").as_int64() != status) {
    return ::testing::AssertionFailure() << "status member: " << r.body;
  }
  if (!doc.at("detail").is_string() ||
      std::string(doc.at("detail").as_string()).find(detail_part) == std::string::npos) {
    return ::testing::AssertionFailure() << "detail lacks '" << detail_part << "': " << r.body;
  }
  return ::testing::AssertionSuccess();
}

// A child process with the stack's environment; its stderr goes to `log_path`.
pid_t Spawn(const testing::Stack& s, const std::string& exe_name, const std::vector<std::string>& args,
            const std::string& log_path) {
  pid_t pid = fork();
  if (pid == 0) {
    for (const char* name : {"TRACE_DB_URL", "TRACE_MQTT_URL", "TRACE_MQTT_GATEWAY_USERNAME",
                             "TRACE_MQTT_GATEWAY_PASSWORD", "TRACE_MQTT_ADMIN_USERNAME",
                             "TRACE_MQTT_ADMIN_PASSWORD", "TRACE_KEYS_DIR"}) {
      setenv(name, s.Env(name).c_str(), 1);
    }
    if (!freopen(log_path.c_str(), "w", stderr)) _exit(126);
    std::string exe = std::string(getenv("TRACE_BIN_DIR") ? getenv("TRACE_BIN_DIR") : "build/bin") + "/" + exe_name;
    std::vector<char*> argv{const_cast<char*>(exe.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// Waits for the "listening" line of trace-api and returns its port.
int WaitForPort(const std::string& log_path) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  std::regex re("\"msg\":\"listening\".*\"port\":([0-9]+)");
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    std::string text = ReadFile(log_path);
    if (std::regex_search(text, m, re)) return std::stoi(m[1]);
    std::this_thread::sleep_for(50ms);
  }
  ADD_FAILURE() << "trace-api did not start:\n" << ReadFile(log_path);
  return -1;
}

class ApiSystemTest : public ::testing::Test {
 protected:
  struct Device {
    std::string name;
    Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
    std::unique_ptr<mqtt::async_client> client;
    uint64_t seq = 0;
  };

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
    keys_ = new PlatformKeys(std::move(*keys));
    {
      pqxx::connection c(s.Env("TRACE_DB_URL"));
      pqxx::work w(c);
      w.exec_params("INSERT INTO products (gtin, org, name) VALUES ($1, $2, 'Jasmine rice 5 kg'), ($3, $2, 'Paddy')",
                    kRiceGtin, kOrg, PaddyGtin());
      w.commit();
    }

    gateway_log_ = new std::string(s.dir() + "/gateway.log");
    gateway_pid_ =
        Spawn(s, "trace-gateway", {"--client-id=api-system-test", "--device-cache-ms=500", "--max-clock-skew-ms=60000"},
              *gateway_log_);
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (ReadFile(*gateway_log_).find("\"subscribed\"") == std::string::npos) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << ReadFile(*gateway_log_);
      std::this_thread::sleep_for(100ms);
    }

    auto farm = Register("field-1"), mill = Register("mill-1"), truck = Register("truck-1");
    ASSERT_TRUE(farm && mill && truck);
    const std::string gln = "urn:epc:id:sgln:9506000.00001.0";
    Publish(*farm, R"({"type":"ObjectEvent","action":"ADD","bizStep":"commissioning",
        "eventTime":"2026-07-01T06:00:00.000Z","eventTimeZoneOffset":"+07:00",
        "bizLocation":{"id":")" +
                       gln + R"("},
        "quantityList":[{"epcClass":")" +
                       PaddyClass() + R"(","quantity":1000,"uom":"KGM"}],
        "ilmd":{"cbvmda:lotNumber":")" +
                       kPaddyLot + R"("}})");
    Publish(*farm, R"({"type":"ObjectEvent","action":"OBSERVE","bizStep":"sensor_reporting",
        "eventTime":"2026-07-02T06:00:00.000Z","eventTimeZoneOffset":"+07:00",
        "quantityList":[{"epcClass":")" +
                       PaddyClass() + R"(","quantity":1000,"uom":"KGM"}],
        "sensorElementList":[{"sensorReport":[
          {"type":"Temperature","value":30,"uom":"CEL","time":"2026-07-02T00:00:00.000Z"},
          {"type":"Temperature","value":31.5,"uom":"CEL","time":"2026-07-02T03:00:00.000Z"},
          {"type":"Temperature","value":38,"uom":"CEL","time":"2026-07-02T06:00:00.000Z"}]}]})");
    Publish(*mill, R"({"type":"TransformationEvent","bizStep":"commissioning",
        "eventTime":"2026-07-03T08:00:00.000Z","eventTimeZoneOffset":"+07:00",
        "inputQuantityList":[{"epcClass":")" +
                       PaddyClass() + R"(","quantity":1000,"uom":"KGM"}],
        "outputQuantityList":[{"epcClass":")" +
                       RiceClass() + R"(","quantity":650,"uom":"KGM"}]})");
    Publish(*mill, R"({"type":"ObjectEvent","action":"ADD","bizStep":"commissioning",
        "eventTime":"2026-07-03T09:00:00.000Z","eventTimeZoneOffset":"+07:00",
        "epcList":[")" +
                       Bag(1) + R"(",")" + Bag(2) + R"(",")" + Bag(3) + R"("],
        "ilmd":{"cbvmda:lotNumber":")" +
                       kRiceLot + R"("}})");
    Publish(*mill, R"({"type":"AggregationEvent","action":"ADD","bizStep":"packing",
        "eventTime":"2026-07-03T10:00:00.000Z","eventTimeZoneOffset":"+07:00",
        "parentID":")" +
                       std::string(kSscc) + R"(",
        "childEPCs":[")" +
                       Bag(1) + R"(",")" + Bag(2) + R"(",")" + Bag(3) + R"("]})");
    Publish(*truck, R"({"type":"ObjectEvent","action":"OBSERVE","bizStep":"shipping",
        "eventTime":"2026-07-04T07:00:00.000Z","eventTimeZoneOffset":"+07:00",
        "epcList":[")" + std::string(kSscc) +
                        R"("],
        "sourceList":[{"type":"owning_party","source":"urn:epc:id:pgln:9506000.00001"}],
        "destinationList":[{"type":"owning_party","destination":"urn:epc:id:pgln:9506000.00002"}]})");
    // A case of another product (indicator 1) holding 25 kg of the rice lot.
    Publish(*mill, R"({"type":"AggregationEvent","action":"ADD","bizStep":"packing",
        "eventTime":"2026-07-03T11:00:00.000Z","eventTimeZoneOffset":"+07:00",
        "parentID":")" +
                       std::string(kCase) + R"(",
        "childQuantityList":[{"epcClass":")" +
                       RiceClass() + R"(","quantity":25,"uom":"KGM"}]})");

    FillLog();

    // Two lots made from each other (bad data, but it must not loop), outside the log.
    const std::string cyc_a = "urn:epc:class:lgtin:9506000.012345.CYC-A";
    const std::string cyc_b = "urn:epc:class:lgtin:9506000.012345.CYC-B";
    Publish(*mill, R"({"type":"TransformationEvent","eventTime":"2025-01-01T00:00:00.000Z",
        "eventTimeZoneOffset":"+00:00","inputQuantityList":[{"epcClass":")" +
                       cyc_a + R"("}],
        "outputQuantityList":[{"epcClass":")" +
                       cyc_b + R"("}]})");
    Publish(*mill, R"({"type":"TransformationEvent","eventTime":"2025-01-02T00:00:00.000Z",
        "eventTimeZoneOffset":"+00:00","inputQuantityList":[{"epcClass":")" +
                       cyc_b + R"("}],
        "outputQuantityList":[{"epcClass":")" +
                       cyc_a + R"("}]})");

    // Stored after the anchored checkpoint: no leaf, no proof.
    unanchored_ = new std::string(Publish(*truck, R"({"type":"ObjectEvent","action":"OBSERVE","bizStep":"receiving",
        "eventTime":"2026-07-05T07:00:00.000Z","eventTimeZoneOffset":"+07:00",
        "epcList":[")" + std::string(kSscc) + R"("]})"));
    for (auto* d : {farm.get(), mill.get(), truck.get()}) d->client->disconnect()->wait();
    device_keys_ = new std::map<std::string, std::string>{
        {"field-1", farm->key.public_key()}, {"mill-1", mill->key.public_key()}, {"truck-1", truck->key.public_key()}};

    api_log_ = new std::string(s.dir() + "/api.log");
    api_pid_ = Spawn(s, "trace-api",
                     {"--listen=127.0.0.1:0", "--public-base-url=https://id.example.com",
                      R"(--thresholds={"Temperature":{"max":35}})", "--rate-limit=1000", "--rate-burst=1000",
                      "--body-limit=1024", "--chain-id=31337", std::string("--contract=") + kContract},
                     *api_log_);
    port_ = WaitForPort(*api_log_);
    ASSERT_GT(port_, 0);
  }

  static void TearDownTestSuite() {
    for (pid_t* pid : {&gateway_pid_, &api_pid_}) {
      if (*pid > 0) {
        kill(*pid, SIGKILL);
        waitpid(*pid, nullptr, 0);
        *pid = -1;
      }
    }
    delete stack_;
    stack_ = nullptr;
  }

  static std::unique_ptr<Device> Register(const std::string& name) {
    auto d = std::make_unique<Device>();
    d->name = name;
    auto reg = stack_->Run({"trace-admin", "device", "register", kOrg, name, "--public-key",
                            Base64UrlEncode(d->key.public_key()), "--json"});
    EXPECT_EQ(reg.exit_code, 0) << reg.out << reg.err;
    if (reg.exit_code != 0) return nullptr;
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

  // Signs one event into an envelope, publishes it and waits for "accepted". Returns the id.
  static std::string Publish(Device& d, const std::string& event) {
    json::object o;
    o["v"] = 1;
    o["org"] = kOrg;
    o["device"] = d.name;
    o["seq"] = ++d.seq;
    o["sent"] = FormatRfc3339Millis(std::chrono::system_clock::now());
    o["events"] = json::array{json::parse(event)};
    auto env = SignEnvelope(std::move(o), d.key);
    EXPECT_TRUE(env.has_value()) << env.error();
    if (!env) return "";
    d.client->publish(UpTopic(kOrg, d.name), env->canonical_bytes.data(), env->canonical_bytes.size(), 1, false)
        ->wait();
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      mqtt::const_message_ptr msg;
      if (!d.client->try_consume_message_for(&msg, 200ms) || !msg) continue;
      auto r = ParseAndVerifyReceipt(msg->to_string(), keys_->receipt.public_key());
      EXPECT_TRUE(r.has_value());
      if (r && r->envelope == env->id) {
        EXPECT_EQ(ReceiptStatusName(r->status), "accepted") << msg->to_string();
        return env->id;
      }
    }
    ADD_FAILURE() << "no receipt for " << env->id << "\n" << ReadFile(*gateway_log_);
    return env->id;
  }

  // What the anchor service does: leaves in storage order, complete subtrees,
  // checkpoints at sizes 4 and N signed with the log key, each anchored.
  static void FillLog() {
    pqxx::connection c(stack_->Env("TRACE_DB_URL"));
    pqxx::work w(c);
    pqxx::result r = w.exec("SELECT encode(id, 'hex'), encode(canonical, 'hex') FROM envelopes ORDER BY stored_no");
    merkle::CompactRange range;
    tree_ = new merkle::MemoryTree();
    int block = 100;
    for (const auto& row : r) {
      const std::string id = row[0].as<std::string>();
      const std::string canonical = HexDecode(row[1].as<std::string>()).value();
      const uint64_t index = range.size();
      w.exec_params("INSERT INTO log_leaves (leaf_index, envelope_id) VALUES ($1, decode($2, 'hex'))",
                    static_cast<int64_t>(index), id);
      const Hash leaf = merkle::LeafHash(canonical);
      tree_->Append(leaf);
      for (const auto& sub : range.Append(leaf)) {
        w.exec_params("INSERT INTO log_nodes (level, idx, hash) VALUES ($1, $2, decode($3, 'hex'))",
                      static_cast<int>(sub.id.level), static_cast<int64_t>(sub.id.index), HashHex(sub.hash));
      }
      if (range.size() == 4 || range.size() == r.size()) {
        Checkpoint cp{.origin = std::string(kDefaultLogName), .tree_size = range.size(), .root = range.Root(), .extensions = {}};
        auto note = SignCheckpoint(cp, kDefaultLogName, keys_->log);
        ASSERT_TRUE(note.has_value()) << note.error();
        w.exec_params(
            "INSERT INTO platform_keys (id, kind, name, public_key) VALUES ($1, 'log', $2, decode($3, 'hex')) "
            "ON CONFLICT DO NOTHING",
            keys_->log_key_id, std::string(kDefaultLogName), HexEncode(keys_->log.public_key()));
        w.exec_params("INSERT INTO checkpoints (tree_size, root, note) VALUES ($1, decode($2, 'hex'), $3)",
                      static_cast<int64_t>(range.size()), HashHex(range.Root()), *note);
        char tx[65];
        snprintf(tx, sizeof tx, "%064x", block);
        w.exec_params(
            "INSERT INTO anchors (tree_size, root, chain_id, contract, tx_hash, state, block_number, block_hash) "
            "VALUES ($1, decode($2, 'hex'), 31337, $3, $4, 'confirmed', $5, $6)",
            static_cast<int64_t>(range.size()), HashHex(range.Root()), kContract, std::string("0x") + tx, block,
            std::string("0x") + tx);
        newest_note_ = new std::string(*note);
        ++block;
      }
    }
    w.commit();
    tree_size_ = range.size();
  }

  static testing::Stack* stack_;
  static PlatformKeys* keys_;
  static std::string *gateway_log_, *api_log_, *unanchored_, *newest_note_;
  static std::map<std::string, std::string>* device_keys_;
  static merkle::MemoryTree* tree_;
  static uint64_t tree_size_;
  static pid_t gateway_pid_, api_pid_;
  static int port_;
};

testing::Stack* ApiSystemTest::stack_ = nullptr;
PlatformKeys* ApiSystemTest::keys_ = nullptr;
std::string* ApiSystemTest::gateway_log_ = nullptr;
std::string* ApiSystemTest::api_log_ = nullptr;
std::string* ApiSystemTest::unanchored_ = nullptr;
std::string* ApiSystemTest::newest_note_ = nullptr;
std::map<std::string, std::string>* ApiSystemTest::device_keys_ = nullptr;
merkle::MemoryTree* ApiSystemTest::tree_ = nullptr;
uint64_t ApiSystemTest::tree_size_ = 0;
pid_t ApiSystemTest::gateway_pid_ = -1;
pid_t ApiSystemTest::api_pid_ = -1;
int ApiSystemTest::port_ = -1;

const std::string kRicePath = std::string("/01/") + kRiceGtin + "/10/" + kRiceLot;

std::set<std::string> StepsOf(const json::array& events) {
  std::set<std::string> steps;
  for (const auto& e : events) {
    const auto& ev = e.at("event").as_object();
    steps.insert(std::string(ev.at("type").as_string()) + ":" +
                 (ev.contains("bizStep") ? std::string(ev.at("bizStep").as_string()) : ""));
  }
  return steps;
}

TEST_F(ApiSystemTest, TraceDocumentOfTheRiceLotWithUpstreamPaddy) {
  auto r = Get(port_, kRicePath);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/json");
  auto doc = r.Json();
  EXPECT_EQ(doc.at("product").at("gtin").as_string(), kRiceGtin);
  EXPECT_EQ(doc.at("product").at("name").as_string(), "Jasmine rice 5 kg");
  EXPECT_EQ(doc.at("product").at("org").as_string(), kOrg);
  EXPECT_EQ(doc.at("lot").as_string(), kRiceLot);
  EXPECT_EQ(doc.at("link").as_string(), "https://id.example.com" + kRicePath);
  EXPECT_EQ(doc.at("checkpoint").as_string(), *newest_note_);

  const auto& events = doc.at("events").as_array();
  auto steps = StepsOf(events);
  for (const char* want : {"TransformationEvent:commissioning", "ObjectEvent:commissioning", "AggregationEvent:packing",
                           "ObjectEvent:shipping", "ObjectEvent:receiving"}) {
    EXPECT_TRUE(steps.contains(want)) << want << " missing in " << r.body;
  }
  EXPECT_EQ(events.size(), 6u) << r.body;
  for (const auto& e : events) {
    const auto& o = e.as_object();
    ASSERT_EQ(o.at("envelope").as_string().size(), 64u);
    EXPECT_EQ(o.at("index").as_int64(), 0);
    const auto& signer = o.at("signer").as_object();
    EXPECT_EQ(signer.at("org").as_string(), kOrg);
    EXPECT_EQ(signer.at("key").as_string(),
              Base64UrlEncode(device_keys_->at(std::string(signer.at("device").as_string()))));
    const bool unanchored = o.at("envelope").as_string() == *unanchored_;
    EXPECT_EQ(o.at("anchored").as_bool(), !unanchored);
    EXPECT_EQ(o.at("leaf").is_null(), unanchored);
  }
  // Aggregation: the pallet with the lot's three bags.
  // Aggregations: the pallet with the lot's three bags, and a case with 25 kg of the lot.
  const auto& aggs = doc.at("aggregations").as_array();
  ASSERT_EQ(aggs.size(), 2u);
  EXPECT_EQ(aggs[0].at("parent").as_string(), kSscc);
  EXPECT_EQ(aggs[0].at("children").as_array().size(), 3u);
  EXPECT_EQ(aggs[1].at("parent").as_string(), kCase);
  EXPECT_EQ(aggs[1].at("childQuantityList").at(0).at("epcClass").as_string(), RiceClass());

  // Upstream: the paddy lot it was milled from, with its sensor summary.
  const auto& inputs = doc.at("inputs").as_array();
  ASSERT_EQ(inputs.size(), 1u) << r.body;
  const auto& paddy = inputs[0].as_object();
  EXPECT_EQ(paddy.at("gtin").as_string(), PaddyGtin());
  EXPECT_EQ(paddy.at("lot").as_string(), kPaddyLot);
  EXPECT_EQ(paddy.at("link").as_string(), "https://id.example.com/01/" + PaddyGtin() + "/10/" + kPaddyLot);
  EXPECT_EQ(paddy.at("product").at("name").as_string(), "Paddy");
  auto paddy_steps = StepsOf(paddy.at("events").as_array());
  EXPECT_TRUE(paddy_steps.contains("ObjectEvent:commissioning"));
  EXPECT_TRUE(paddy_steps.contains("ObjectEvent:sensor_reporting"));
  EXPECT_TRUE(paddy.at("inputs").as_array().empty());
  const auto& types = paddy.at("sensors").at("types").as_array();
  ASSERT_EQ(types.size(), 1u);
  EXPECT_EQ(types[0].at("type").as_string(), "Temperature");
  EXPECT_EQ(types[0].at("count").to_number<int>(), 3);
  EXPECT_DOUBLE_EQ(types[0].at("min").to_number<double>(), 30);
  EXPECT_DOUBLE_EQ(types[0].at("max").to_number<double>(), 38);
  EXPECT_DOUBLE_EQ(types[0].at("mean").to_number<double>(), 33.166666666666664);
  EXPECT_EQ(types[0].at("excursions").to_number<int>(), 1);

  // The raw readings, one link away.
  std::string readings = std::string(paddy.at("sensors").at("readings").as_string());
  ASSERT_TRUE(readings.starts_with("https://id.example.com/"));
  auto rr = Get(port_, readings.substr(std::string("https://id.example.com").size()));
  ASSERT_EQ(rr.status, 200) << rr.body;
  const auto& list = rr.Json().at("readings").as_array();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_FALSE(list[0].at("excursion").as_bool());
  EXPECT_TRUE(list[2].at("excursion").as_bool());
  EXPECT_EQ(list[2].at("device").as_string(), std::string(kOrg) + "/field-1");
}

TEST_F(ApiSystemTest, SerialAnswersForTheItemWithItsLotsTrace) {
  auto r = Get(port_, kRicePath + "/21/BAG002");
  ASSERT_EQ(r.status, 200) << r.body;
  auto doc = r.Json();
  EXPECT_EQ(doc.at("serial").as_string(), "BAG002");
  EXPECT_EQ(doc.at("lot").as_string(), kRiceLot);
  EXPECT_EQ(doc.at("link").as_string(), "https://id.example.com" + kRicePath + "/21/BAG002");
  EXPECT_EQ(doc.at("inputs").as_array().size(), 1u);
  auto item_steps = StepsOf(doc.at("item").at("events").as_array());
  EXPECT_TRUE(item_steps.contains("ObjectEvent:commissioning"));
  EXPECT_TRUE(item_steps.contains("AggregationEvent:packing"));
  EXPECT_TRUE(item_steps.contains("ObjectEvent:shipping"));  // the pallet it was packed on
  EXPECT_FALSE(item_steps.contains("TransformationEvent:commissioning"));
  // Without /10/, the serial names its lot.
  auto bare = Get(port_, std::string("/01/") + kRiceGtin + "/21/BAG002");
  ASSERT_EQ(bare.status, 200) << bare.body;
  EXPECT_EQ(bare.Json().at("lot").as_string(), kRiceLot);
  EXPECT_TRUE(IsProblem(Get(port_, kRicePath + "/21/BAG999"), 404));
}

TEST_F(ApiSystemTest, CaseOfAnotherProductResolvesToTheLotItHolds) {
  auto r = Get(port_, "/01/" + CaseGtin() + "/21/CASE01");
  ASSERT_EQ(r.status, 200) << r.body;
  auto doc = r.Json();
  EXPECT_EQ(doc.at("product").at("gtin").as_string(), CaseGtin());
  EXPECT_EQ(doc.at("lot").as_string(), kRiceLot);
  EXPECT_EQ(doc.at("lotGtin").as_string(), kRiceGtin);
  EXPECT_EQ(doc.at("link").as_string(), "https://id.example.com/01/" + CaseGtin() + "/21/CASE01");
  ASSERT_EQ(doc.at("inputs").as_array().size(), 1u);
  EXPECT_EQ(doc.at("inputs").at(0).at("lot").as_string(), kPaddyLot);
  EXPECT_EQ(doc.at("item").at("events").as_array().size(), 1u);
}

TEST_F(ApiSystemTest, UpstreamCyclesEnd) {
  auto r = Get(port_, "/01/" + PaddyGtin() + "/10/CYC-A");
  ASSERT_EQ(r.status, 200) << r.body;
  auto doc = r.Json();
  ASSERT_EQ(doc.at("inputs").as_array().size(), 1u);
  EXPECT_EQ(doc.at("inputs").at(0).at("lot").as_string(), "CYC-B");
  EXPECT_TRUE(doc.at("inputs").at(0).at("inputs").as_array().empty());
  for (const auto& e : doc.at("events").as_array()) EXPECT_FALSE(e.at("anchored").as_bool());
}

TEST_F(ApiSystemTest, BadInputIs400AndUnknownIs404AsProblemDocuments) {
  EXPECT_TRUE(IsProblem(Get(port_, "/01/09506000134368/10/RICE-0703"), 400, "check digit"));
  EXPECT_TRUE(IsProblem(Get(port_, std::string("/01/") + kRiceGtin + "/10/ABCDEFGHIJKLMNOPQRSTUVWXYZ"), 400, "lot"));
  EXPECT_TRUE(IsProblem(Get(port_, std::string("/01/") + kRiceGtin + "/10/RICE%200703"), 400));
  EXPECT_TRUE(IsProblem(Get(port_, std::string("/01/") + kRiceGtin + "/10/NO-SUCH-LOT"), 404));
  EXPECT_TRUE(IsProblem(Get(port_, "/api/v1/envelopes/xyz"), 400));
  EXPECT_TRUE(IsProblem(Get(port_, "/api/v1/envelopes/" + std::string(64, '0')), 404));
  EXPECT_TRUE(IsProblem(Get(port_, "/api/v1/nothing-here"), 404));
  EXPECT_TRUE(IsProblem(Get(port_, std::string("/api/v1/lots/") + kRiceGtin + "/NO-SUCH/readings"), 404));
}

TEST_F(ApiSystemTest, NonCanonicalLinksRedirectToTheCanonicalOne) {
  auto r = Get(port_, std::string("/01/9506000134369/10/") + kRiceLot + "?linkType=linkset");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.Header("location"), kRicePath + "?linkType=linkset");
  auto escaped = Get(port_, std::string("/01/") + kRiceGtin + "/10/RICE%2d0703");
  EXPECT_EQ(escaped.status, 301);
  EXPECT_EQ(escaped.Header("location"), kRicePath);
}

TEST_F(ApiSystemTest, LinksetAndLinkTypeRedirects) {
  const std::string self = "https://id.example.com" + kRicePath;
  for (const auto& r :
       {Get(port_, kRicePath, "application/linkset+json"), Get(port_, kRicePath + "?linkType=linkset")}) {
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("content-type"), "application/linkset+json");
    EXPECT_NE(r.Header("link").find("rel=\"https://gs1.org/voc/pip\""), std::string::npos) << r.Header("link");
    auto set = r.Json().at("linkset").as_array().at(0).as_object();
    EXPECT_EQ(set.at("anchor").as_string(), self);
    EXPECT_EQ(set.at("https://gs1.org/voc/traceability").at(0).at("href").as_string(), self);
    EXPECT_EQ(set.at("https://gs1.org/voc/traceability").at(0).at("type").as_string(), "application/json");
    std::string epcis(set.at("https://gs1.org/voc/epcis").at(0).at("href").as_string());
    EXPECT_TRUE(epcis.starts_with("https://id.example.com/api/v1/epcis/events?MATCH_epcClass=")) << epcis;
    EXPECT_EQ(set.at("https://gs1.org/voc/pip").at(0).at("type").as_string(), "text/html");
  }
  auto redirect = Get(port_, kRicePath + "?linkType=gs1:epcis");
  EXPECT_EQ(redirect.status, 307);
  EXPECT_TRUE(redirect.Header("location").starts_with("https://id.example.com/api/v1/epcis/events?MATCH_epcClass="));
  auto full = Get(port_, kRicePath + "?linkType=https%3A%2F%2Fgs1.org%2Fvoc%2Fepcis");
  EXPECT_EQ(full.status, 307);
  EXPECT_EQ(full.Header("location"), redirect.Header("location"));
  // The EPCIS link works against this server.
  std::string local = redirect.Header("location").substr(std::string("https://id.example.com").size());
  auto events = Get(port_, local);
  ASSERT_EQ(events.status, 200) << events.body;
  // The lot's class appears in the transformation that made it and the case packed from it.
  EXPECT_EQ(events.Json().at("epcisBody").at("queryResults").at("resultsBody").at("eventList").as_array().size(), 2u);
  EXPECT_TRUE(IsProblem(Get(port_, kRicePath + "?linkType=gs1:nonsense"), 404, "gs1:nonsense"));
  EXPECT_TRUE(IsProblem(Get(port_, std::string("/01/") + kRiceGtin + "/10/UNKNOWN?linkType=gs1:epcis"), 404));
}

TEST_F(ApiSystemTest, HtmlPageAndNegotiation) {
  auto r = Get(port_, kRicePath, "text/html,application/xhtml+xml,*/*;q=0.8");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("Jasmine rice 5 kg"), std::string::npos);
  EXPECT_NE(r.body.find(kRiceLot), std::string::npos);
  EXPECT_NE(r.body.find("packing"), std::string::npos);
  EXPECT_EQ(r.Header("vary"), "Accept");
  EXPECT_EQ(Get(port_, kRicePath, "image/png").status, 406);
}

TEST_F(ApiSystemTest, EtagAndIfNoneMatchGive304) {
  auto r = Get(port_, kRicePath);
  ASSERT_EQ(r.status, 200);
  const std::string etag = r.Header("etag");
  ASSERT_FALSE(etag.empty());
  EXPECT_FALSE(etag.starts_with("W/"));
  EXPECT_NE(r.Header("cache-control").find("max-age"), std::string::npos);
  auto again = Http(port_, "GET", kRicePath, {{"Accept", "application/json"}, {"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(again.Header("etag"), etag);
  auto other = Http(port_, "GET", kRicePath, {{"Accept", "application/json"}, {"If-None-Match", "\"nope\""}});
  EXPECT_EQ(other.status, 200);
}

TEST_F(ApiSystemTest, EnvelopeProofVerifiesAgainstTheAnchorRoot) {
  auto trace = Get(port_, kRicePath).Json();
  int checked = 0;
  for (const auto& e : trace.at("events").as_array()) {
    const std::string id(e.at("envelope").as_string());
    if (id == *unanchored_) continue;
    auto r = Get(port_, "/api/v1/envelopes/" + id);
    ASSERT_EQ(r.status, 200) << r.body;
    auto doc = r.Json();
    auto canonical = Canonicalize(doc.at("envelope"));
    ASSERT_TRUE(canonical.has_value());
    EXPECT_EQ(HashHex(Sha256(*canonical)), id);
    auto env = EnvelopeFromJson(doc.at("envelope").as_object());
    ASSERT_TRUE(env.has_value());
    auto key = Base64UrlDecode(doc.at("signer").at("key").as_string());
    ASSERT_TRUE(key.has_value());
    EXPECT_TRUE(VerifyEnvelopeSignature(*env, *key));
    const auto& proof = doc.at("proof").as_object();
    const auto& anchor = doc.at("anchor").as_object();
    EXPECT_EQ(proof.at("treeSize").as_int64(), static_cast<int64_t>(tree_size_));
    EXPECT_EQ(anchor.at("treeSize").as_int64(), static_cast<int64_t>(tree_size_));
    EXPECT_EQ(anchor.at("chainId").as_int64(), 31337);
    EXPECT_EQ(anchor.at("contract").as_string(), kContract);
    EXPECT_TRUE(anchor.at("tx").as_string().starts_with("0x"));
    EXPECT_GT(anchor.at("block").as_int64(), 0);
    std::vector<Hash> hashes;
    for (const auto& h : proof.at("hashes").as_array()) {
      hashes.push_back(merkle::HashFromBytes(Base64Decode(h.as_string()).value()).value());
    }
    auto root = merkle::HashFromBytes(Base64Decode(anchor.at("root").as_string()).value()).value();
    EXPECT_EQ(root, tree_->Root());
    EXPECT_TRUE(merkle::VerifyInclusion(merkle::LeafHash(*canonical), proof.at("leafIndex").as_int64(), tree_size_,
                                        hashes, root)
                    .ok());
    // A tampered envelope does not verify with the same proof.
    EXPECT_FALSE(merkle::VerifyInclusion(merkle::LeafHash(*canonical + " "), proof.at("leafIndex").as_int64(),
                                         tree_size_, hashes, root)
                     .ok());
    ++checked;
  }
  EXPECT_EQ(checked, 5);
  // A proof to a fixed anchored size never changes: cached for good.
  const std::string first(trace.at("events").at(0).at("envelope").as_string());
  auto fixed = Get(port_, "/api/v1/envelopes/" + first + "?treeSize=" + std::to_string(tree_size_));
  ASSERT_EQ(fixed.status, 200) << fixed.body;
  EXPECT_NE(fixed.Header("cache-control").find("immutable"), std::string::npos);
  EXPECT_TRUE(IsProblem(Get(port_, "/api/v1/envelopes/" + first + "?treeSize=5"), 404));
  // Not yet in an anchored checkpoint: proof and anchor are null.
  auto pending = Get(port_, "/api/v1/envelopes/" + *unanchored_);
  ASSERT_EQ(pending.status, 200) << pending.body;
  EXPECT_TRUE(pending.Json().at("proof").is_null());
  EXPECT_TRUE(pending.Json().at("anchor").is_null());
}

TEST_F(ApiSystemTest, ConsistencyProofVerifies) {
  auto r = Get(port_, "/api/v1/proofs/consistency?from=4&to=" + std::to_string(tree_size_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.Header("cache-control").find("immutable"), std::string::npos);
  auto doc = r.Json();
  EXPECT_EQ(doc.at("from").as_int64(), 4);
  std::vector<Hash> hashes;
  for (const auto& h : doc.at("hashes").as_array()) {
    hashes.push_back(merkle::HashFromBytes(Base64Decode(h.as_string()).value()).value());
  }
  EXPECT_FALSE(hashes.empty());
  EXPECT_TRUE(merkle::VerifyConsistency(4, tree_size_, tree_->Root(4).value(), tree_->Root(), hashes).ok());
  EXPECT_TRUE(IsProblem(Get(port_, "/api/v1/proofs/consistency?from=0&to=4"), 400));
  EXPECT_TRUE(IsProblem(Get(port_, "/api/v1/proofs/consistency?from=5&to=4"), 400));
  EXPECT_TRUE(IsProblem(Get(port_, "/api/v1/proofs/consistency?from=1&to=99"), 400, "beyond"));
  EXPECT_TRUE(IsProblem(Get(port_, "/api/v1/proofs/consistency?from=x&to=4"), 400));
  EXPECT_TRUE(IsProblem(Get(port_, "/api/v1/proofs/consistency?from=1"), 400));
}

TEST_F(ApiSystemTest, KeysCheckpointAndAnchors) {
  auto keys = Get(port_, "/api/v1/keys");
  ASSERT_EQ(keys.status, 200) << keys.body;
  auto kd = keys.Json();
  EXPECT_EQ(kd.at("log").at("name").as_string(), kDefaultLogName);
  EXPECT_EQ(kd.at("log").at("public_key").as_string(), Base64UrlEncode(keys_->log.public_key()));
  bool receipt_found = false;
  for (const auto& k : kd.at("receipt").as_array()) {
    if (k.at("id").as_string() == keys_->receipt_key_id) {
      receipt_found = true;
      EXPECT_EQ(k.at("public_key").as_string(), Base64UrlEncode(keys_->receipt.public_key()));
    }
  }
  EXPECT_TRUE(receipt_found) << keys.body;

  auto cp = Get(port_, "/api/v1/checkpoint", "text/plain");
  ASSERT_EQ(cp.status, 200);
  EXPECT_EQ(cp.Header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(cp.body, *newest_note_);
  auto checked = VerifyCheckpointNote(cp.body, kDefaultLogName, keys_->log.public_key());
  ASSERT_TRUE(checked.has_value()) << checked.error();
  EXPECT_EQ(checked->tree_size, tree_size_);

  auto anchors = Get(port_, "/api/v1/anchors");
  ASSERT_EQ(anchors.status, 200) << anchors.body;
  const auto& list = anchors.Json().at("anchors").as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].at("treeSize").as_int64(), static_cast<int64_t>(tree_size_));
  EXPECT_EQ(list[0].at("root").as_string(), Base64Encode(HashBytes(tree_->Root())));
  EXPECT_EQ(list[1].at("treeSize").as_int64(), 4);
  auto page = Get(port_, "/api/v1/anchors?limit=1");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.Json().at("anchors").as_array().size(), 1u);
  std::string next(page.Json().at("next").as_string());
  EXPECT_NE(page.Header("link").find("rel=\"next\""), std::string::npos);
  auto second = Get(port_, next.substr(std::string("https://id.example.com").size()));
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(second.Json().at("anchors").at(0).at("treeSize").as_int64(), 4);
  EXPECT_TRUE(second.Json().at("next").is_null());
}

// The document as an EPCISDocument with the same events, for the project's own validator.
Status ValidateQueryDocument(const json::object& doc) {
  if (doc.at("type").as_string() != "EPCISQueryDocument") return InvalidArgument("type");
  json::object as_doc{
      {"@context", doc.at("@context")},
      {"type", "EPCISDocument"},
      {"schemaVersion", doc.at("schemaVersion")},
      {"creationDate", doc.at("creationDate")},
      {"epcisBody",
       json::object{{"eventList", doc.at("epcisBody").at("queryResults").at("resultsBody").at("eventList")}}}};
  return epcis::ValidateEpcisDocument(as_doc);
}

TEST_F(ApiSystemTest, EpcisQueryFiltersAndPages) {
  const std::string base = "/api/v1/epcis/events";
  auto all = Get(port_, base + "?perPage=1000");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.Header("gs1-epcis-version"), "2.0.0");
  const auto doc = all.Json();
  EXPECT_TRUE(ValidateQueryDocument(doc).ok()) << ValidateQueryDocument(doc);
  EXPECT_EQ(doc.at("epcisBody").at("queryResults").at("queryName").as_string(), "SimpleEventQuery");
  EXPECT_EQ(doc.at("epcisBody").at("queryResults").at("resultsBody").at("eventList").as_array().size(), 10u);
  {
    std::ofstream out(stack_->dir() + "/epcis-query.json");
    out << all.body;
  }

  auto count = [&](const std::string& q) {
    auto r = Get(port_, base + "?" + q);
    EXPECT_EQ(r.status, 200) << q << " " << r.body;
    if (r.status != 200) return size_t{999};
    EXPECT_TRUE(ValidateQueryDocument(r.Json()).ok()) << q;
    return r.Json().at("epcisBody").at("queryResults").at("resultsBody").at("eventList").as_array().size();
  };
  EXPECT_EQ(count("EQ_bizStep=shipping"), 1u);
  EXPECT_EQ(count("EQ_bizStep=urn:epcglobal:cbv:bizstep:shipping,receiving"), 2u);
  EXPECT_EQ(count("MATCH_epcClass=" + RiceClass()), 2u);  // the transformation's output, the case
  EXPECT_EQ(count("MATCH_epcClass=" + PaddyClass()), 3u);
  // A Digital Link names the same class.
  EXPECT_EQ(count("MATCH_epcClass=https%3A%2F%2Fid.example.com%2F01%2F" + PaddyGtin() + "%2F10%2F" + kPaddyLot), 3u);
  EXPECT_EQ(count("MATCH_epc=" + Bag(2)), 2u);  // commissioning, packing (child)
  EXPECT_EQ(count("MATCH_epc=urn:epc:idpat:sgtin:9506000.013436.*"), 2u);
  EXPECT_EQ(count("MATCH_epc=" + std::string(kSscc)), 2u);  // shipping, receiving
  EXPECT_EQ(count("GE_eventTime=2026-07-03T00:00:00Z&LT_eventTime=2026-07-04T00:00:00Z"), 4u);
  EXPECT_EQ(count("GE_eventTime=2026-07-03T00:00:00Z&EQ_bizStep=commissioning"), 2u);

  // Paging: follow rel="next" to the end; every event exactly once, in time order.
  std::vector<std::string> times;
  std::string target = base + "?perPage=2&GE_eventTime=2026-01-01T00:00:00Z";
  int pages = 0;
  std::string token;
  while (!target.empty() && pages < 10) {
    auto r = Get(port_, target);
    ASSERT_EQ(r.status, 200) << r.body;
    ++pages;
    for (const auto& e : r.Json().at("epcisBody").at("queryResults").at("resultsBody").at("eventList").as_array()) {
      times.emplace_back(e.at("eventTime").as_string());
    }
    std::smatch m;
    std::string link = r.Header("link");
    target.clear();
    if (std::regex_search(link, m, std::regex("<https://id\\.example\\.com([^>]*)>; rel=\"next\""))) {
      target = m[1];
      token = target.substr(target.find("nextPageToken=") + 14);
    }
  }
  EXPECT_EQ(pages, 4);
  ASSERT_EQ(times.size(), 8u);
  EXPECT_TRUE(std::is_sorted(times.begin(), times.end()));
  // Tampered tokens and tokens of another query are refused.
  ASSERT_FALSE(token.empty());
  std::string tampered = token;
  tampered[3] = tampered[3] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(IsProblem(Get(port_, base + "?perPage=2&GE_eventTime=2026-01-01T00:00:00Z&nextPageToken=" + tampered), 400));
  EXPECT_TRUE(IsProblem(Get(port_, base + "?perPage=2&EQ_bizStep=shipping&nextPageToken=" + token), 400));
  EXPECT_TRUE(IsProblem(Get(port_, base + "?perPage=0"), 400));
  EXPECT_TRUE(IsProblem(Get(port_, base + "?GE_eventTime=yesterday"), 400));
  EXPECT_TRUE(IsProblem(Get(port_, base + "?EQ_whatever=1"), 400));
}

TEST_F(ApiSystemTest, EpcisDocumentIsValidAgainstGs1SchemaWithAjv) {
  const std::string validator = testing::SourceDir() + "/tests/epcis_validate.mjs";
  const std::string modules = testing::SourceDir() + "/deploy/node_modules/ajv";
  if (access(modules.c_str(), F_OK) != 0) GTEST_SKIP() << "ajv not installed (deploy/setup.sh runs npm ci)";
  auto all = Get(port_, "/api/v1/epcis/events?perPage=1000");
  ASSERT_EQ(all.status, 200);
  const std::string path = stack_->dir() + "/epcis-query-ajv.json";
  {
    std::ofstream out(path);
    out << all.body;
  }
  const char* data = getenv("TRACE_TESTDATA");
  ASSERT_NE(data, nullptr);
  auto r = testing::RunProgram({"node", validator, std::string(data) + "/epcis/EPCIS-JSON-Schema.json", path}, {});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("valid"), std::string::npos) << r.out;
  // The validator is not vacuous: the same document with an event lacking eventTime fails.
  json::object broken = all.Json();
  broken["epcisBody"]
      .as_object()["queryResults"]
      .as_object()["resultsBody"]
      .as_object()["eventList"]
      .as_array()[0]
      .as_object()
      .erase("eventTime");
  const std::string broken_path = stack_->dir() + "/epcis-query-broken.json";
  {
    std::ofstream out(broken_path);
    out << json::serialize(broken);
  }
  auto refused =
      testing::RunProgram({"node", validator, std::string(data) + "/epcis/EPCIS-JSON-Schema.json", broken_path}, {});
  EXPECT_NE(refused.exit_code, 0) << refused.out;
  EXPECT_NE(refused.out.find("eventTime"), std::string::npos) << refused.out;
}

TEST_F(ApiSystemTest, OversizeBodyIs413AndWrongMethodIs405) {
  auto big = Http(port_, "POST", "/api/v1/keys", {{"Content-Type", "application/json"}}, std::string(4096, 'x'));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.Header("content-type"), "application/problem+json");
  auto post = Http(port_, "POST", "/api/v1/keys", {{"Content-Type", "application/json"}}, "{}");
  EXPECT_EQ(post.status, 405);
  auto huge_header = Http(port_, "GET", "/api/v1/keys", {{"X-Filler", std::string(16000, 'y')}});
  EXPECT_EQ(huge_header.status, 431);
}

TEST_F(ApiSystemTest, HealthzAndMetrics) {
  auto h = Get(port_, "/healthz");
  EXPECT_EQ(h.status, 200) << h.body;
  EXPECT_EQ(h.Json().at("status").as_string(), "ok");
  Get(port_, kRicePath);
  auto m = Get(port_, "/metrics", "text/plain");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("trace_api_requests_total{route=\"/01/{gtin}/10/{lot}\",status=\"200\"}"), std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("trace_api_request_duration_seconds_bucket{route=\"/api/v1/envelopes/{id}\""),
            std::string::npos);
}

TEST_F(ApiSystemTest, RateLimitAnswers429WithRetryAfter) {
  const std::string log_path = stack_->dir() + "/api-limited.log";
  pid_t pid = Spawn(*stack_, "trace-api", {"--listen=127.0.0.1:0", "--rate-limit=1", "--rate-burst=3"}, log_path);
  int port = WaitForPort(log_path);
  ASSERT_GT(port, 0);
  int ok = 0, limited = 0;
  std::string retry_after;
  for (int i = 0; i < 8; ++i) {
    auto r = Get(port, "/api/v1/keys");
    if (r.status == 200) ++ok;
    if (r.status == 429) {
      ++limited;
      retry_after = r.Header("retry-after");
      EXPECT_EQ(r.Header("content-type"), "application/problem+json");
    }
  }
  EXPECT_GE(ok, 3);
  EXPECT_LE(ok, 4);
  EXPECT_GE(limited, 4);
  EXPECT_GE(std::atoi(retry_after.c_str()), 1);
  // Operations routes are not limited.
  EXPECT_EQ(Get(port, "/healthz").status, 200);
  // SIGTERM drains and exits 0.
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadFile(log_path);
  EXPECT_NE(ReadFile(log_path).find("\"stopped\""), std::string::npos);
}

TEST_F(ApiSystemTest, HealthzIs503WithoutTheDatabase) {
  const std::string log_path = stack_->dir() + "/api-nodb.log";
  // A port nothing listens on: the one just released by a closed socket.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int dead_port = ntohs(addr.sin_port);
  close(fd);
  pid_t pid = Spawn(*stack_, "trace-api",
                    {"--listen=127.0.0.1:0", "--db-url=postgresql://trace@127.0.0.1:" + std::to_string(dead_port) +
                                                 "/trace?connect_timeout=2"},
                    log_path);
  int port = WaitForPort(log_path);
  ASSERT_GT(port, 0);
  EXPECT_TRUE(IsProblem(Get(port, "/healthz"), 503, "database"));
  EXPECT_FALSE(Get(port, "/healthz").Header("retry-after").empty());
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(ApiSystemTest, SlowRequestIs408) {
  const std::string log_path = stack_->dir() + "/api-slow.log";
  pid_t pid = Spawn(*stack_, "trace-api", {"--listen=127.0.0.1:0", "--read-timeout-ms=300"}, log_path);
  int port = WaitForPort(log_path);
  ASSERT_GT(port, 0);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string partial = "GET /api/v1/keys HTTP/1.1\r\nHost: x\r\n";  // never finished
  (void)!write(fd, partial.data(), partial.size());
  std::string raw;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) raw.append(buf, n);
  close(fd);
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 408")) << raw;
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
}

}  // namespace
}  // namespace trace::api
