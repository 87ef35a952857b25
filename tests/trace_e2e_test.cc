// The consumer's trace end to end, with nothing filled by hand: deploy/stack.sh --services
// (PostgreSQL, Mosquitto, anvil with the TraceAnchor contract, trace-gateway, trace-anchor,
// trace-api), the simulator's rice and medicine scenarios published through the real gateway,
// anchored on the chain by the real trace-anchor, then read the way a consumer reads them:
// the trace document of a bag of rice and of a box of medicine, trace-verify against the chain,
// the EPCIS query against GS1's schema. Last, one stored envelope altered as the database
// superuser: trace-verify must fail naming it, and pass again once it is restored.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness/stack.h"
#include "trace/common/epc.h"
#include "trace/common/epcis.h"
#include "trace/common/gs1.h"

namespace trace {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// The keys the scenarios use (firmware-sim/src/scenario.cc).
std::string Gtin(const std::string& prefix, const std::string& item) {
  std::string digits = "0" + prefix + item;
  return digits + gs1::CheckDigit(digits).value();
}
const std::string kRiceGtin = Gtin("8850456", "00021");  // the 5 kg bag
const std::string kRiceLot = "HM105-2611-A";
const std::string kBagSerial = "100001";
const std::string kPaddyGtin = Gtin("8850123", "00011");
const std::string kPaddyLot = "PDY-F7-2611";
const std::string kField7 = "urn:epc:id:sgln:8850123.00001.F7";
const std::string kBoxGtin = Gtin("4098765", "00233");
const std::string kTabletLot = "LK2-26K014";
const std::string kBoxSerial = "K7310001";

struct HttpResult {
  int status = 0;
  std::string content_type;
  std::string body;
  json::object Json() const {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    return !ec && v.is_object() ? v.get_object() : json::object{};
  }
};

// GET `target` from the API's loopback port on a fresh connection.
HttpResult Get(int port, const std::string& target, const std::string& accept = "application/json") {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string raw;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: " + accept +
                      "\r\nConnection: close\r\n\r\n";
    (void)!write(fd, req.data(), req.size());
    char buf[16384];
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) raw.append(buf, n);
  }
  close(fd);
  HttpResult r;
  auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos || raw.size() < 12) return r;
  r.status = std::stoi(raw.substr(9, 3));
  std::istringstream head(raw.substr(0, end));
  for (std::string line; std::getline(head, line);) {
    if (line.size() > 13 && strncasecmp(line.c_str(), "content-type:", 13) == 0) {
      r.content_type = line.substr(13);
      while (!r.content_type.empty() && (r.content_type.front() == ' ')) r.content_type.erase(0, 1);
      while (!r.content_type.empty() && r.content_type.back() == '\r') r.content_type.pop_back();
    }
  }
  r.body = raw.substr(end + 4);
  return r;
}

std::string Steps(const json::array& events) {
  std::string out;
  for (const auto& e : events) {
    const auto& ev = e.at("event").as_object();
    out += std::string(ev.at("type").as_string()) + ":" +
           (ev.contains("bizStep") ? std::string(ev.at("bizStep").as_string()) : "") + " ";
  }
  return out;
}

bool HasStep(const json::array& events, const std::string& type, const std::string& step) {
  for (const auto& e : events) {
    const auto& ev = e.at("event").as_object();
    if (ev.at("type").as_string() == type && ev.contains("bizStep") && ev.at("bizStep").as_string() == step) {
      return true;
    }
  }
  return false;
}

// Calls `fn` on every event entry of a trace document: its own, its item's, and its inputs'
// recursively.
void ForEachEvent(const json::object& doc, const std::function<void(const json::object&)>& fn) {
  if (auto* events = doc.if_contains("events")) {
    for (const auto& e : events->as_array()) fn(e.as_object());
  }
  if (auto* item = doc.if_contains("item"); item && item->is_object()) ForEachEvent(item->as_object(), fn);
  if (auto* inputs = doc.if_contains("inputs")) {
    for (const auto& in : inputs->as_array()) ForEachEvent(in.as_object(), fn);
  }
}

// The sensors summary entry of `type` in a trace (or input) document, or null.
const json::object* SensorType(const json::object& doc, const std::string& type) {
  auto* sensors = doc.if_contains("sensors");
  if (!sensors || !sensors->is_object() || !sensors->as_object().contains("types")) return nullptr;
  for (const auto& t : sensors->as_object().at("types").as_array()) {
    if (t.at("type").as_string() == type) return &t.as_object();
  }
  return nullptr;
}

class TraceE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto stack = testing::Stack::Start({.postgres = true, .mosquitto = true, .anvil = true, .services = true});
    ASSERT_TRUE(stack.has_value()) << stack.error();
    stack_ = std::move(*stack).release();
    const std::string url = stack_->Env("TRACE_API_URL");
    ASSERT_FALSE(url.empty()) << "stack.sh --services wrote no TRACE_API_URL (trace-api not built?)";
    port_ = std::stoi(url.substr(url.rfind(':') + 1));
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }

  static int64_t Count(const std::string& sql) {
    pqxx::connection c(stack_->Env("TRACE_DB_URL"));
    pqxx::nontransaction w(c);
    return w.exec1(sql)[0].as<int64_t>();
  }

  // Runs `sql` as the PostgreSQL superuser with the append-only triggers off.
  static void AsSuperuser(const std::string& sql, const std::string& p1, const std::string& p2) {
    std::string url = stack_->Env("TRACE_DB_URL");
    url.replace(url.find("trace@"), 6, "postgres@");
    pqxx::connection conn(url);
    pqxx::work w(conn);
    w.exec("SET LOCAL session_replication_role = replica");
    w.exec_params(sql, p1, p2);
    w.commit();
  }

  // trace-verify LINK against the stack's chain and API, with one cache folder for every run.
  static testing::Stack::RunResult Verify(const std::string& link) {
    return stack_->Run({"trace-verify", link, "--chain-rpc", stack_->Env("TRACE_CHAIN_RPC"), "--contract",
                        stack_->Env("TRACE_CONTRACT"), "--api-base", stack_->Env("TRACE_API_URL"), "--cache-dir",
                        stack_->dir() + "/verify-cache", "--json"});
  }

  static testing::Stack* stack_;
  static int port_;
};

testing::Stack* TraceE2eTest::stack_ = nullptr;
int TraceE2eTest::port_ = 0;

TEST_F(TraceE2eTest, ScenariosThroughTheRealStackTraceVerifyAndTamper) {
  // 1. Both scenarios through the real gateway; every envelope accepted with a signed receipt.
  const std::string state = stack_->dir() + "/devicesim";
  int64_t sent = 0;
  for (const char* scenario : {"rice", "medicine"}) {
    SCOPED_TRACE(scenario);
    auto r = stack_->Run(
        {"trace-devicesim", "scenario", scenario, "--register", "--json", "--timeout=60", "--state-dir=" + state});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    json::object s = json::parse(r.out.substr(r.out.find('{'))).as_object();
    const int64_t steps = static_cast<int64_t>(s.at("steps").as_array().size());
    EXPECT_GT(steps, 5);
    EXPECT_EQ(s.at("accepted").as_int64(), steps) << r.out;
    EXPECT_EQ(s.at("rejected").as_int64(), 0) << r.out;
    sent += steps;
  }
  ASSERT_EQ(Count("SELECT count(*) FROM envelopes"), sent);

  // 2. Wait until a confirmed anchor covers every stored envelope.
  const std::string uncovered =
      "SELECT count(*) FROM envelopes e WHERE NOT EXISTS (SELECT 1 FROM log_leaves l JOIN anchors a "
      "ON a.state = 'confirmed' AND a.tree_size > l.leaf_index WHERE l.envelope_id = e.id)";
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (Count(uncovered) > 0) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << Count(uncovered) << " envelopes still not covered by a confirmed anchor";
    std::this_thread::sleep_for(250ms);
  }
  auto anchors = Get(port_, "/api/v1/anchors");
  ASSERT_EQ(anchors.status, 200) << anchors.body;
  ASSERT_FALSE(anchors.Json().at("anchors").as_array().empty()) << anchors.body;
  EXPECT_GE(anchors.Json().at("anchors").at(0).at("treeSize").as_int64(), sent);

  // 3. A bag of rice: bag -> rice lot -> paddy lot -> harvest on field 7.
  const std::string bag_path = "/01/" + kRiceGtin + "/10/" + kRiceLot + "/21/" + kBagSerial;
  auto bag = Get(port_, bag_path);
  ASSERT_EQ(bag.status, 200) << bag.body;
  EXPECT_EQ(bag.content_type, "application/json");
  const json::object bag_doc = bag.Json();
  EXPECT_EQ(bag_doc.at("product").at("gtin").as_string(), kRiceGtin);
  EXPECT_EQ(bag_doc.at("lot").as_string(), kRiceLot);
  EXPECT_EQ(bag_doc.at("serial").as_string(), kBagSerial);
  EXPECT_TRUE(std::string(bag_doc.at("link").as_string()).ends_with(bag_path));
  EXPECT_FALSE(bag_doc.at("checkpoint").as_string().empty());
  // The bag's own story: packed onto a pallet, the pallet shipped and received.
  const auto& item_events = bag_doc.at("item").at("events").as_array();
  EXPECT_TRUE(HasStep(item_events, "AggregationEvent", "packing")) << Steps(item_events);
  EXPECT_TRUE(HasStep(item_events, "ObjectEvent", "shipping")) << Steps(item_events);
  // The rice lot: milled from paddy.
  const auto& lot_events = bag_doc.at("events").as_array();
  EXPECT_TRUE(HasStep(lot_events, "TransformationEvent", "commissioning")) << Steps(lot_events);
  const auto& rice_inputs = bag_doc.at("inputs").as_array();
  ASSERT_EQ(rice_inputs.size(), 1u) << bag.body;
  const json::object& paddy = rice_inputs[0].as_object();
  EXPECT_EQ(paddy.at("gtin").as_string(), kPaddyGtin);
  EXPECT_EQ(paddy.at("lot").as_string(), kPaddyLot);
  EXPECT_TRUE(paddy.at("inputs").as_array().empty()) << "the paddy lot is the origin";
  // The harvest: the paddy lot commissioned on field 7, with the field's location.
  bool harvest = false;
  for (const auto& e : paddy.at("events").as_array()) {
    const auto& ev = e.at("event").as_object();
    if (ev.at("type") != "ObjectEvent" || ev.at("bizStep") != "commissioning") continue;
    harvest = true;
    EXPECT_EQ(ev.at("readPoint").at("id").as_string(), kField7);
    EXPECT_TRUE(std::string(ev.at("ilmd").at("trace:fieldGeo").as_string()).starts_with("geo:15.2287,104.8564"));
    EXPECT_EQ(e.at("signer").at("org").as_string(), "ubon-jasmine-coop");
    EXPECT_EQ(e.at("signer").at("device").as_string(), "harvest-scale");
  }
  EXPECT_TRUE(harvest) << Steps(paddy.at("events").as_array());
  EXPECT_TRUE(HasStep(paddy.at("events").as_array(), "ObjectEvent", "shipping"));
  EXPECT_TRUE(HasStep(paddy.at("events").as_array(), "ObjectEvent", "receiving"));
  // The truck's logger on the way to the mill, summarised on the paddy lot.
  const json::object* truck = SensorType(paddy, "Temperature");
  ASSERT_NE(truck, nullptr) << json::serialize(paddy.at("sensors"));
  EXPECT_EQ(truck->at("count").to_number<int>(), 6);

  // 4. A box of medicine: tablet lot from ingredient lots of two suppliers; the cold chain's excursion.
  const std::string box_path = "/01/" + kBoxGtin + "/10/" + kTabletLot + "/21/" + kBoxSerial;
  auto box = Get(port_, box_path);
  ASSERT_EQ(box.status, 200) << box.body;
  const json::object box_doc = box.Json();
  EXPECT_EQ(box_doc.at("product").at("gtin").as_string(), kBoxGtin);
  EXPECT_EQ(box_doc.at("lot").as_string(), kTabletLot);
  EXPECT_EQ(box_doc.at("serial").as_string(), kBoxSerial);
  EXPECT_TRUE(HasStep(box_doc.at("events").as_array(), "TransformationEvent", "commissioning"))
      << Steps(box_doc.at("events").as_array());
  std::set<std::string> ingredient_lots, suppliers;
  for (const auto& in : box_doc.at("inputs").as_array()) {
    ingredient_lots.insert(std::string(in.at("lot").as_string()));
    for (const auto& e : in.at("events").as_array()) {
      const auto& ev = e.at("event").as_object();
      if (ev.at("type") == "ObjectEvent" && ev.at("bizStep") == "commissioning") {
        suppliers.insert(std::string(e.at("signer").at("org").as_string()));
      }
    }
  }
  EXPECT_EQ(ingredient_lots, (std::set<std::string>{"CHL-26-0417", "MCC102-6611", "LMH-6652"})) << box.body;
  EXPECT_EQ(suppliers, (std::set<std::string>{"deccan-api-labs", "rhein-excipients"}));
  const json::object* cold = SensorType(box_doc, "Temperature");
  ASSERT_NE(cold, nullptr) << box.body;
  EXPECT_EQ(cold->at("count").to_number<int>(), 24);
  EXPECT_EQ(cold->at("excursions").to_number<int>(), 2);  // 9.4 and 8.6 °C above 8 °C
  EXPECT_DOUBLE_EQ(cold->at("max").to_number<double>(), 9.4);

  // 5. Every event shown is anchored, with its leaf.
  for (const json::object* doc : {&bag_doc, &box_doc}) {
    int events = 0;
    ForEachEvent(*doc, [&](const json::object& e) {
      ++events;
      EXPECT_TRUE(e.at("anchored").as_bool()) << json::serialize(e);
      EXPECT_TRUE(e.at("leaf").is_int64()) << json::serialize(e);
      EXPECT_EQ(e.at("envelope").as_string().size(), 64u);
    });
    EXPECT_GT(events, 5);
  }

  // 6. trace-verify, trusting only the chain: both verified.
  for (const json::object* doc : {&bag_doc, &box_doc}) {
    const std::string link(doc->at("link").as_string());
    SCOPED_TRACE(link);
    auto r = Verify(link);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    json::object report = json::parse(r.out).as_object();
    EXPECT_TRUE(report.at("verified").as_bool()) << r.out;
    EXPECT_TRUE(report.at("failures").as_array().empty()) << r.out;
    EXPECT_FALSE(report.at("events").as_array().empty()) << r.out;
  }

  // 7. EPCIS query for the rice lot's class: a query document GS1's schema accepts.
  const std::string rice_class = gs1::LgtinUrn({kRiceGtin, kRiceLot, std::nullopt}, 7).value();
  auto epcis = Get(port_, "/api/v1/epcis/events?perPage=1000&MATCH_epcClass=" + rice_class);
  ASSERT_EQ(epcis.status, 200) << epcis.body;
  const json::object query_doc = epcis.Json();
  ASSERT_EQ(query_doc.at("type").as_string(), "EPCISQueryDocument");
  const auto& list = query_doc.at("epcisBody").at("queryResults").at("resultsBody").at("eventList").as_array();
  ASSERT_FALSE(list.empty()) << epcis.body;
  bool milling = false;
  for (const auto& e : list) milling |= e.at("type") == "TransformationEvent";
  EXPECT_TRUE(milling) << epcis.body;
  json::object as_doc{{"@context", query_doc.at("@context")},
                      {"type", "EPCISDocument"},
                      {"schemaVersion", query_doc.at("schemaVersion")},
                      {"creationDate", query_doc.at("creationDate")},
                      {"epcisBody", json::object{{"eventList", list}}}};
  Status valid = epcis::ValidateEpcisDocument(as_doc);
  EXPECT_TRUE(valid.ok()) << valid;
  const std::string validator = testing::SourceDir() + "/tests/epcis_validate.mjs";
  const char* testdata = getenv("TRACE_TESTDATA");
  if (testdata && std::filesystem::exists(validator) &&
      std::filesystem::exists(testing::SourceDir() + "/deploy/node_modules/ajv")) {
    const std::string path = stack_->dir() + "/epcis-rice-lot.json";
    std::ofstream(path) << epcis.body;
    auto r = testing::RunProgram({"node", validator, std::string(testdata) + "/epcis/EPCIS-JSON-Schema.json", path}, {});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  // 8. One byte of the milling envelope altered in the database: trace-verify fails naming it.
  std::string milled_id;
  for (const auto& e : lot_events) {
    if (e.at("event").at("type") == "TransformationEvent") milled_id = std::string(e.at("envelope").as_string());
  }
  ASSERT_EQ(milled_id.size(), 64u);
  std::string original;
  {
    pqxx::connection c(stack_->Env("TRACE_DB_URL"));
    pqxx::nontransaction w(c);
    auto row = w.exec_params1("SELECT encode(canonical, 'hex') FROM envelopes WHERE id = decode($1, 'hex')", milled_id);
    original = row[0].as<std::string>();
  }
  // The first digit of the milling yield (64.7) becomes 7: still JSON, still an envelope.
  const std::string canonical = [&] {
    std::string bytes;
    for (size_t i = 0; i + 1 < original.size(); i += 2) bytes += static_cast<char>(std::stoi(original.substr(i, 2), nullptr, 16));
    return bytes;
  }();
  const size_t at = canonical.find("\"trace:millingYieldPercent\":6");
  ASSERT_NE(at, std::string::npos) << canonical;
  const int offset = static_cast<int>(at + std::string("\"trace:millingYieldPercent\":").size()) + 1;  // 1-based
  AsSuperuser("UPDATE envelopes SET canonical = overlay(canonical PLACING '\\x37'::bytea FROM $2::int FOR 1) "
              "WHERE id = decode($1, 'hex')",
              milled_id, std::to_string(offset));
  ASSERT_EQ(Count("SELECT count(*) FROM envelopes WHERE id = decode('" + milled_id +
                  "', 'hex') AND position('\"trace:millingYieldPercent\":74.7' in convert_from(canonical, 'UTF8')) > 0"),
            1);
  const std::string rice_link(bag_doc.at("link").as_string());
  {
    auto r = Verify(rice_link);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find(milled_id), std::string::npos) << "the report must name the altered envelope:\n" << r.out;
    json::object report = json::parse(r.out).as_object();
    EXPECT_FALSE(report.at("verified").as_bool());
    // Only the altered envelope's events fail, and they say why: the bytes no longer hash to the id.
    int altered_events = 0;
    for (const auto& e : report.at("events").as_array()) {
      const bool altered = e.at("envelope").as_string() == milled_id;
      EXPECT_EQ(e.at("verified").as_bool(), !altered) << json::serialize(e);
      if (!altered) continue;
      ++altered_events;
      const std::string why = json::serialize(e.at("failures"));
      EXPECT_NE(why.find("(altered)"), std::string::npos) << why;
    }
    EXPECT_GE(altered_events, 1);
  }
  // The medicine box shares nothing with it: still verified.
  EXPECT_EQ(Verify(std::string(box_doc.at("link").as_string())).exit_code, 0);

  // 9. Restored: verified again, with the checkpoint cache of the earlier runs still consistent.
  AsSuperuser("UPDATE envelopes SET canonical = decode($2, 'hex') WHERE id = decode($1, 'hex')",
              milled_id, original);
  auto again = Verify(rice_link);
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_TRUE(json::parse(again.out).at("verified").as_bool()) << again.out;
  EXPECT_FALSE(std::filesystem::is_empty(stack_->dir() + "/verify-cache"));
}

}  // namespace
}  // namespace trace
