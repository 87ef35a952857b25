// The producer API and dashboard (issue 6) against the real stack: PostgreSQL,
// Mosquitto with dynamic security, trace-api as shipped. Accounts and sessions,
// products, lots, sites, devices (with a real MQTT client), tokens and scopes,
// CSRF, guessing limits, and the authorization matrix: every producer route with
// another organization's token (403 or 404, nothing changed) and with none (401).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>
#include <string>
#include <vector>

#include "harness/http_call.h"
#include "harness/stack.h"
#include "trace/common/ed25519.h"
#include "trace/common/encoding.h"
#include "trace/common/gs1.h"

namespace trace {
namespace {

namespace json = boost::json;
using testing::HttpCall;
using testing::HttpResult;
using Headers = std::vector<std::pair<std::string, std::string>>;

std::string Gtin(const std::string& first13) { return first13 + gs1::CheckDigit(first13).value(); }

class ProducerSystemTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto stack = testing::Stack::Start({.postgres = true, .mosquitto = true, .services = true});
    ASSERT_TRUE(stack.has_value()) << stack.error();
    stack_ = std::move(*stack).release();
    const std::string url = stack_->Env("TRACE_API_URL");
    ASSERT_FALSE(url.empty()) << "stack.sh --services did not start trace-api";
    port_ = std::stoi(url.substr(url.rfind(':') + 1));
    for (const char* org : {"farm-a", "farm-b"}) {
      auto r = stack_->Run({"trace-admin", "org", "create", org, "--json"});
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
      auto doc = json::parse(r.out).as_object();
      (std::string(org) == "farm-a" ? token_a_ : token_b_) = new std::string(doc.at("token").as_string());
    }
    // A dashboard user of farm-a, made the way an operator does it.
    const std::string pw_file = stack_->dir() + "/pw";
    FILE* f = fopen(pw_file.c_str(), "w");
    fputs("rice fields forever\n", f);
    fclose(f);
    auto r = stack_->Run({"trace-admin", "user", "create", "farm-a", "Grower@Farm-A.example", "--role", "admin",
                          "--password-file", pw_file, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }

  static HttpResult Call(const std::string& method, const std::string& target, const std::string* token,
                         const std::string& body = "", Headers extra = {}) {
    Headers h = std::move(extra);
    if (token) h.emplace_back("Authorization", "Bearer " + *token);
    if (!body.empty()) h.emplace_back("Content-Type", "application/json");
    return HttpCall(port_, method, target, h, body);
  }

  static int64_t Count(const std::string& sql) {
    pqxx::connection c(stack_->Env("TRACE_DB_URL"));
    pqxx::read_transaction tx(c);
    return tx.exec1(sql)[0].as<int64_t>();
  }

  // Everything a producer can change, as one fingerprint.
  static std::string Fingerprint() {
    pqxx::connection c(stack_->Env("TRACE_DB_URL"));
    pqxx::read_transaction tx(c);
    return tx.exec1(
                 "SELECT concat_ws('|', (SELECT md5(string_agg(gtin || org || name, ',' ORDER BY gtin)) FROM products), "
                 "(SELECT md5(string_agg(gtin || lot || coalesce(recalled_at::text, ''), ',' ORDER BY gtin, lot)) "
                 "FROM lots), (SELECT md5(string_agg(gln || org, ',' ORDER BY gln)) FROM sites), "
                 "(SELECT md5(string_agg(org || device || status, ',' ORDER BY org, device)) FROM devices), "
                 "(SELECT md5(string_agg(id || coalesce(revoked_at::text, ''), ',' ORDER BY id)) FROM api_tokens), "
                 "(SELECT count(*) FROM users), (SELECT count(*) FROM envelopes))")[0]
        .as<std::string>();
  }

  static testing::Stack* stack_;
  static int port_;
  static std::string* token_a_;
  static std::string* token_b_;
};
testing::Stack* ProducerSystemTest::stack_ = nullptr;
int ProducerSystemTest::port_ = 0;
std::string* ProducerSystemTest::token_a_ = nullptr;
std::string* ProducerSystemTest::token_b_ = nullptr;

::testing::AssertionResult IsProblem(const HttpResult& r, int status, const std::string& detail_part = "") {
  if (r.status != status) return ::testing::AssertionFailure() << "status " << r.status << ": " << r.body;
  if (r.Header("content-type") != "application/problem+json") {
    return ::testing::AssertionFailure() << "content-type " << r.Header("content-type") << ": " << r.body;
  }
  const auto& doc = r.Json();
  if (!doc.contains("detail") || !doc.at("detail").is_string() ||
      std::string(doc.at("detail").as_string()).find(detail_part) == std::string::npos) {
    return ::testing::AssertionFailure() << "detail lacks '" << detail_part << "': " << r.body;
  }
  return ::testing::AssertionSuccess();
}

TEST_F(ProducerSystemTest, ProductsAndLotsWithChecks) {
  const std::string gtin = Gtin("950600099001");
  auto r = Call("POST", "/api/v1/products", token_a_,
                R"({"gtin":")" + gtin + R"(","name":"Jasmine rice 5 kg","category":"rice",)"
                R"("attributes":{"variety":"Hom Mali 105"}})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Json().at("gtin").as_string(), "0" + gtin);
  EXPECT_EQ(r.Header("location"), "/api/v1/products/0" + gtin);
  EXPECT_EQ(r.Header("cache-control"), "no-store");
  // A wrong check digit, a duplicate, an unknown member, no name.
  std::string bad = gtin;
  bad.back() = bad.back() == '9' ? '0' : static_cast<char>(bad.back() + 1);
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/products", token_a_, R"({"gtin":")" + bad + R"(","name":"x"})"), 400,
                        "check digit"));
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/products", token_a_, R"({"gtin":")" + gtin + R"(","name":"x"})"), 409));
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/products", token_a_, R"({"gtin":")" + gtin + R"(","nam":"x"})"), 400,
                        "unknown member"));
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/products", token_a_, "{not json"), 400, "not JSON"));

  r = Call("POST", "/api/v1/lots", token_a_, R"({"gtin":")" + gtin + R"(","lot":"HM-2612-01"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/lots", token_a_, R"({"gtin":")" + gtin + R"(","lot":"HM 2612"})"), 400,
                        "character set 82"));
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/lots", token_a_, R"({"gtin":")" + gtin + R"(","lot":"HM-2612-01"})"),
                        409));
  // Another organization's product takes no lot from farm-b.
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/lots", token_b_, R"({"gtin":")" + gtin + R"(","lot":"B-1"})"), 404));

  r = Call("GET", "/api/v1/lots/0" + gtin + "/HM-2612-01", token_a_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("product").as_string(), "Jasmine rice 5 kg");
  EXPECT_EQ(r.Json().at("events").as_int64(), 0);

  r = Call("POST", "/api/v1/sites", token_a_,
           R"({"gln":")" + Gtin("950600000001") + R"(","name":"Field 7","kind":"farm","latitude":15.23,"longitude":104.85})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/sites", token_a_,
                             R"({"gln":"9506000000010","name":"x","kind":"farm"})"), 400, "check digit"));
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/sites", token_a_,
                             R"({"gln":")" + Gtin("950600000002") + R"(","name":"x","kind":"farm","latitude":91,"longitude":0})"),
                        400, "latitude"));
  r = Call("GET", "/api/v1/sites", token_a_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Json().at("sites").as_array().size(), 1u);
  // farm-b sees none of it.
  EXPECT_TRUE(Call("GET", "/api/v1/sites", token_b_).Json().at("sites").as_array().empty());
  EXPECT_TRUE(Call("GET", "/api/v1/products", token_b_).Json().at("products").as_array().empty());
}

TEST_F(ProducerSystemTest, DevicesRegisteredThroughTheApiGetBrokerLoginsAndRevocationEndsThem) {
  const auto key = Ed25519PrivateKey::Generate();
  const std::string public_key = Base64UrlEncode(key.public_key());
  auto r = Call("POST", "/api/v1/devices", token_a_,
                R"({"device":"dryer-3","name":"Dryer 3","publicKey":")" + public_key + R"("})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string user = std::string(r.Json().at("mqtt_username").as_string());
  const std::string pass = std::string(r.Json().at("mqtt_password").as_string());
  EXPECT_EQ(user, "farm-a/dryer-3");
  const std::string mqtt = stack_->Env("TRACE_MQTT_URL");
  const std::string port = mqtt.substr(mqtt.rfind(':') + 1);
  auto pub = [&](const std::string& password) {
    return stack_->Run({"mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-V", "mqttv5", "-u", user, "-P", password,
                        "-i", "dryer-3-test", "-t", "trace/v1/farm-a/dryer-3/up", "-q", "1", "-m", "{}"});
  };
  EXPECT_EQ(pub(pass).exit_code, 0) << pub(pass).err;
  // The reserved server signer, a bad key, a duplicate.
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/devices", token_a_,
                             R"({"device":"dashboard","publicKey":")" + public_key + R"("})"),
                        400, "reserved"));
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/devices", token_a_, R"({"device":"x1","publicKey":"abc"})"), 400));
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/devices", token_a_,
                             R"({"device":"dryer-3","publicKey":")" + public_key + R"("})"),
                        409));
  r = Call("GET", "/api/v1/devices", token_a_);
  ASSERT_EQ(r.status, 200);
  bool listed = false;
  for (const auto& d : r.Json().at("devices").as_array()) {
    if (d.at("device").as_string() == "dryer-3") {
      listed = true;
      EXPECT_EQ(d.at("name").as_string(), "Dryer 3");
      EXPECT_EQ(d.at("status").as_string(), "active");
    }
  }
  EXPECT_TRUE(listed) << r.body;
  // farm-b cannot revoke it; farm-a can, and then the broker refuses the login.
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/devices/dryer-3/revoke", token_b_), 404));
  r = Call("POST", "/api/v1/devices/dryer-3/revoke", token_a_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("status").as_string(), "revoked");
  EXPECT_NE(pub(pass).exit_code, 0);
}

TEST_F(ProducerSystemTest, TokensRolesAndScopes) {
  auto r = Call("POST", "/api/v1/tokens", token_a_, R"({"name":"scanner","role":"viewer"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string viewer = std::string(r.Json().at("token").as_string());
  const int64_t viewer_id = r.Json().at("id").as_int64();
  r = Call("POST", "/api/v1/tokens", token_a_, R"({"name":"reader","role":"admin","scopes":["read"]})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string reader = std::string(r.Json().at("token").as_string());
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/tokens", token_a_, R"({"role":"admin","scopes":["everything"]})"), 400,
                        "scopes"));

  const std::string product = R"({"gtin":")" + Gtin("950600099002") + R"(","name":"x"})";
  EXPECT_EQ(Call("GET", "/api/v1/products", &viewer).status, 200);
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/products", &viewer, product), 403, "viewer"));
  EXPECT_TRUE(IsProblem(Call("GET", "/api/v1/tokens", &viewer), 403));
  EXPECT_EQ(Call("GET", "/api/v1/products", &reader).status, 200);
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/products", &reader, product), 403, "scopes"));
  // A viewer cannot make itself an admin.
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/tokens", &viewer, R"({"role":"admin"})"), 403));

  EXPECT_EQ(Call("DELETE", "/api/v1/tokens/" + std::to_string(viewer_id), token_a_).status, 204);
  EXPECT_TRUE(IsProblem(Call("GET", "/api/v1/products", &viewer), 401, "revoked"));
  EXPECT_EQ(Call("GET", "/api/v1/products", &viewer).Header("www-authenticate"), "Bearer realm=\"trace\"");
}

TEST_F(ProducerSystemTest, SessionsCsrfAndTheDashboard) {
  // Not signed in: the dashboard sends the browser to the login form.
  auto r = HttpCall(port_, "GET", "/dashboard/products");
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(r.Header("location"), "/dashboard/login?next=%2Fdashboard%2Fproducts");
  r = HttpCall(port_, "GET", "/dashboard/login");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("name=\"password\""), std::string::npos);
  EXPECT_NE(r.Header("content-security-policy").find("default-src 'none'"), std::string::npos);

  const Headers form = {{"Content-Type", "application/x-www-form-urlencoded"}};
  r = HttpCall(port_, "POST", "/dashboard/login", form, "email=grower%40farm-a.example&password=wrong+password");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("wrong e-mail or password"), std::string::npos);
  r = HttpCall(port_, "POST", "/dashboard/login", form,
               "email=Grower%40Farm-A.example&password=rice+fields+forever&next=%2Fdashboard%2Fproducts");
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(r.Header("location"), "/dashboard/products");
  const std::string set_cookie = r.Header("set-cookie");
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos);
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  // An open redirect is not possible through `next`.
  r = HttpCall(port_, "POST", "/dashboard/login", form,
               "email=grower%40farm-a.example&password=rice+fields+forever&next=https%3A%2F%2Fevil.example%2F");
  EXPECT_EQ(r.Header("location"), "/dashboard");

  r = HttpCall(port_, "GET", "/dashboard/products", {{"Cookie", cookie}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("New product"), std::string::npos);
  const std::string csrf = std::string(
      HttpCall(port_, "GET", "/api/v1/session", {{"Cookie", cookie}}).Json().at("csrf").as_string());
  ASSERT_EQ(csrf.size(), 32u);

  const std::string gtin = Gtin("950600099003");
  const std::string before = Fingerprint();
  Headers with_cookie = form;
  with_cookie.emplace_back("Cookie", cookie);
  // Without the CSRF token, with a wrong one, or from another origin: refused, nothing stored.
  r = HttpCall(port_, "POST", "/dashboard/products", with_cookie, "gtin=" + gtin + "&name=Brown+rice");
  EXPECT_EQ(r.status, 403);
  r = HttpCall(port_, "POST", "/dashboard/products", with_cookie, "gtin=" + gtin + "&name=Brown+rice&csrf=x" + csrf);
  EXPECT_EQ(r.status, 403);
  Headers cross = with_cookie;
  cross.emplace_back("Origin", "https://evil.example");
  r = HttpCall(port_, "POST", "/dashboard/products", cross, "gtin=" + gtin + "&name=Brown+rice&csrf=" + csrf);
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/products", nullptr, R"({"gtin":")" + gtin + R"(","name":"x"})",
                             {{"Cookie", cookie}}),
                        403, "CSRF"));
  EXPECT_EQ(Fingerprint(), before);
  // With it: stored, and the list shows it.
  r = HttpCall(port_, "POST", "/dashboard/products", with_cookie,
               "gtin=" + gtin + "&name=Brown+rice&attributes=variety%3DRD6%3B+grade%3DA&csrf=" + csrf);
  ASSERT_EQ(r.status, 303) << r.body;
  r = HttpCall(port_, "GET", r.Header("location"), {{"Cookie", cookie}});
  EXPECT_NE(r.body.find("Brown rice"), std::string::npos);
  EXPECT_NE(r.body.find("variety=RD6"), std::string::npos);
  // A bad form value is shown on the form again, with the problem.
  r = HttpCall(port_, "POST", "/dashboard/lots", with_cookie, "gtin=0" + gtin + "&lot=BAD+LOT&csrf=" + csrf);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("character set 82"), std::string::npos);

  // Signing out ends the session on the server.
  r = HttpCall(port_, "POST", "/dashboard/logout", with_cookie, "csrf=" + csrf);
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(HttpCall(port_, "GET", "/dashboard/products", {{"Cookie", cookie}}).status, 303);
  EXPECT_TRUE(IsProblem(Call("GET", "/api/v1/products", nullptr, "", {{"Cookie", cookie}}), 401));
}

TEST_F(ProducerSystemTest, LabelsDecodeToTheLinkAndRecallMarksTheLot) {
  const std::string gtin = "0" + Gtin("950600099006");
  ASSERT_EQ(Call("POST", "/api/v1/products", token_a_, R"({"gtin":")" + gtin + R"(","name":"Label rice"})").status,
            201);
  ASSERT_EQ(Call("POST", "/api/v1/lots", token_a_, R"({"gtin":")" + gtin + R"(","lot":"LB/7%A"})").status, 201);
  const std::string base = stack_->Env("TRACE_API_URL");
  // The PNG read by a real decoder gives exactly the product's Digital Link.
  for (const auto& [path, want] : std::vector<std::pair<std::string, std::string>>{
           {"/api/v1/labels/" + gtin + "/LB%2F7%25A.png", base + "/01/" + gtin + "/10/LB%2F7%25A"},
           {"/api/v1/labels/" + gtin + "/LB%2F7%25A/21/BAG-0042.png",
            base + "/01/" + gtin + "/10/LB%2F7%25A/21/BAG-0042"}}) {
    auto r = Call("GET", path, token_a_);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("content-type"), "image/png");
    const std::string file = stack_->dir() + "/label.png";
    FILE* f = fopen(file.c_str(), "wb");
    fwrite(r.body.data(), 1, r.body.size(), f);
    fclose(f);
    auto z = stack_->Run({"zbarimg", "--raw", "-q", file});
    ASSERT_EQ(z.exit_code, 0) << z.err;
    std::string decoded = z.out;
    while (!decoded.empty() && (decoded.back() == '\n' || decoded.back() == '\r')) decoded.pop_back();
    EXPECT_EQ(decoded, want);
  }
  auto svg = Call("GET", "/api/v1/labels/" + gtin + "/LB%2F7%25A.svg", token_a_);
  ASSERT_EQ(svg.status, 200);
  EXPECT_NE(svg.body.find("(10) LB/7%A"), std::string::npos);
  auto sheet = Call("GET", "/api/v1/labels/" + gtin + "/LB%2F7%25A/sheet?copies=6&columns=3", token_a_);
  ASSERT_EQ(sheet.status, 200) << sheet.body;
  EXPECT_NE(sheet.Header("content-security-policy").find("style-src 'sha256-"), std::string::npos);
  size_t labels = 0;
  for (size_t pos = 0; (pos = sheet.body.find("<svg", pos)) != std::string::npos; ++pos) ++labels;
  EXPECT_EQ(labels, 6u);
  EXPECT_TRUE(IsProblem(Call("GET", "/api/v1/labels/" + gtin + "/LB%2F7%25A/sheet?copies=0", token_a_), 400,
                        "copies"));
  EXPECT_TRUE(IsProblem(Call("GET", "/api/v1/labels/" + gtin + "/NO-SUCH.png", token_a_), 404));

  // Recall: the report, the CSV, then marking; the consumer's trace shows it.
  auto report = Call("GET", "/api/v1/recall/" + gtin + "/LB%2F7%25A", token_a_);
  ASSERT_EQ(report.status, 200) << report.body;
  EXPECT_EQ(report.Json().at("lots").as_array().size(), 1u);
  auto csv = Call("GET", "/api/v1/recall/" + gtin + "/LB%2F7%25A.csv", token_a_);
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.body.rfind("gtin,lot,", 0), 0u) << csv.body;
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/recall/" + gtin + "/LB%2F7%25A", token_a_, R"({"reason":""})"), 400));
  auto marked = Call("POST", "/api/v1/recall/" + gtin + "/LB%2F7%25A", token_a_,
                     R"({"reason":"Stones found in one bag"})");
  ASSERT_EQ(marked.status, 200) << marked.body;
  EXPECT_EQ(marked.Json().at("marked").as_int64(), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM lots WHERE lot = 'LB/7%A' AND recall_reason = 'Stones found in one bag'"), 1);
}

TEST_F(ProducerSystemTest, ManualEventsAreSignedWithTheOrgKeyAndCaptureJobsImportGs1Documents) {
  const std::string gtin = "0" + Gtin("950600099007");
  const std::string farm = Gtin("950600000004");
  ASSERT_EQ(Call("POST", "/api/v1/products", token_a_, R"({"gtin":")" + gtin + R"(","name":"Paddy"})").status, 201);
  // A harvest from the form's fields, as the dashboard sends them (numbers as text).
  auto r = Call("POST", "/api/v1/events", token_a_,
                R"({"kind":"harvest","gtin":")" + gtin + R"(","lot":"PD-2612","quantity":"1200","uom":"KGM",)"
                R"("site_gln":")" + farm + R"(","variety":"Hom Mali 105","latitude":"15.23","longitude":"104.85",)"
                R"("country":"TH"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const auto& envelopes = r.Json().at("envelopes").as_array();
  ASSERT_EQ(envelopes.size(), 1u);
  const std::string id(envelopes[0].at("id").as_string());
  EXPECT_EQ(Count("SELECT count(*) FROM envelopes WHERE id = decode('" + id +
                  "', 'hex') AND org = 'farm-a' AND device = 'dashboard' AND source = 'api'"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM event_keys k JOIN envelopes e ON e.id = k.envelope_id WHERE e.id = decode('" +
                  id + "', 'hex') AND k.gtin = '" + gtin + "' AND k.lot = 'PD-2612'"),
            1);  // the quantity list's class names the lot
  // The lot view lists it, signed by the org's server-side signer.
  r = Call("GET", "/api/v1/lots", token_a_);
  ASSERT_EQ(r.status, 200);
  // A bad field is refused before anything is signed; raw EPCIS events are checked the gateway's way.
  const std::string before = Fingerprint();
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/events", token_a_,
                             R"({"kind":"harvest","gtin":")" + gtin + R"(","lot":"PD 1","quantity":"1","site_gln":")" +
                                 farm + R"("})"),
                        400, "lot"));
  r = Call("POST", "/api/v1/events", token_a_, R"({"events":[{"type":"ObjectEvent","action":"OBSERVE"}]})");
  EXPECT_TRUE(IsProblem(r, 400, "nothing was stored"));
  EXPECT_TRUE(r.Json().contains("errors")) << r.body;
  EXPECT_EQ(Fingerprint(), before);

  // EPCIS capture: a GS1 example document, 202 with a job that ends successfully.
  std::ifstream in(std::string(getenv("TRACE_TESTDATA")) + "/epcis/examples/Example_9.6.1-ObjectEvent.jsonld");
  std::stringstream doc;
  doc << in.rdbuf();
  r = HttpCall(port_, "POST", "/api/v1/epcis/capture",
               {{"Authorization", "Bearer " + *token_a_}, {"Content-Type", "application/ld+json"}}, doc.str());
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string job = r.Header("location");
  ASSERT_TRUE(job.starts_with("/api/v1/epcis/capture/cap-")) << job;
  json::object status;
  for (int i = 0; i < 100; ++i) {
    status = Call("GET", job, token_a_).Json();
    if (status.contains("running") && !status.at("running").as_bool()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(status.contains("success")) << json::serialize(status);
  EXPECT_TRUE(status.at("success").as_bool()) << json::serialize(status);
  EXPECT_TRUE(IsProblem(Call("GET", job, token_b_), 404));
  EXPECT_TRUE(IsProblem(HttpCall(port_, "POST", "/api/v1/epcis/capture",
                                 {{"Authorization", "Bearer " + *token_a_}, {"Content-Type", "application/json"}},
                                 R"({"type":"EPCISDocument"})"),
                        400));
}

// Every producer route: with no credentials 401; with farm-b's token on farm-a's objects
// 403 or 404, and nothing changed.
TEST_F(ProducerSystemTest, AuthorizationMatrix) {
  const std::string gtin = "0" + Gtin("950600099004");
  ASSERT_EQ(Call("POST", "/api/v1/products", token_a_, R"({"gtin":")" + gtin + R"(","name":"Matrix rice"})").status,
            201);
  ASSERT_EQ(Call("POST", "/api/v1/lots", token_a_, R"({"gtin":")" + gtin + R"(","lot":"MX-1"})").status, 201);
  const auto key = Ed25519PrivateKey::Generate();
  const std::string public_key = Base64UrlEncode(key.public_key());
  ASSERT_EQ(Call("POST", "/api/v1/devices", token_a_,
                 R"({"device":"mx-sensor","publicKey":")" + public_key + R"("})")
                .status,
            201);
  auto tok = Call("POST", "/api/v1/tokens", token_a_, R"({"name":"mx","role":"operator"})");
  ASSERT_EQ(tok.status, 201);
  const std::string token_id = std::to_string(tok.Json().at("id").as_int64());

  struct RouteCase {
    std::string method, target, body;
  };
  const std::vector<RouteCase> routes = {
      {"GET", "/api/v1/session", ""},
      {"DELETE", "/api/v1/session", ""},
      {"GET", "/api/v1/sites", ""},
      {"POST", "/api/v1/sites", R"({"gln":")" + Gtin("950600000003") + R"(","name":"x","kind":"farm"})"},
      {"GET", "/api/v1/products", ""},
      {"POST", "/api/v1/products", R"({"gtin":")" + Gtin("950600099005") + R"(","name":"x"})"},
      {"GET", "/api/v1/products/" + gtin, ""},
      {"GET", "/api/v1/lots", ""},
      {"POST", "/api/v1/lots", R"({"gtin":")" + gtin + R"(","lot":"MX-2"})"},
      {"GET", "/api/v1/lots/" + gtin + "/MX-1", ""},
      {"GET", "/api/v1/devices", ""},
      {"POST", "/api/v1/devices", R"({"device":"mx-2","publicKey":")" + public_key + R"("})"},
      {"POST", "/api/v1/devices/mx-sensor/revoke", ""},
      {"GET", "/api/v1/tokens", ""},
      {"POST", "/api/v1/tokens", R"({"role":"viewer"})"},
      {"DELETE", "/api/v1/tokens/" + token_id, ""},
      {"GET", "/api/v1/users", ""},
      {"POST", "/api/v1/users", R"({"email":"x@farm-a.example","password":"long enough pw","role":"viewer"})"},
      {"GET", "/api/v1/status", ""},
      {"GET", "/api/v1/labels/" + gtin + "/MX-1.png", ""},
      {"GET", "/api/v1/labels/" + gtin + "/MX-1.svg", ""},
      {"GET", "/api/v1/labels/" + gtin + "/MX-1/21/S1.png", ""},
      {"GET", "/api/v1/labels/" + gtin + "/MX-1/sheet", ""},
      {"GET", "/api/v1/recall/" + gtin + "/MX-1", ""},
      {"GET", "/api/v1/recall/" + gtin + "/MX-1.csv", ""},
      {"POST", "/api/v1/recall/" + gtin + "/MX-1", R"({"reason":"test"})"},
      {"POST", "/api/v1/events", R"({"events":[{"type":"ObjectEvent"}]})"},
      {"POST", "/api/v1/epcis/capture", R"({"type":"EPCISDocument"})"},
      {"GET", "/api/v1/epcis/capture", ""},
      {"GET", "/api/v1/epcis/capture/cap-00000000000000000000000000000000", ""},
  };
  const std::string before = Fingerprint();
  for (const auto& rc : routes) {
    SCOPED_TRACE(rc.method + " " + rc.target);
    auto none = Call(rc.method, rc.target, nullptr, rc.body);
    EXPECT_TRUE(IsProblem(none, 401));
  }
  // A forged token is refused the same way (a few only: each counts as a guess).
  for (const char* target : {"/api/v1/products", "/api/v1/status"}) {
    EXPECT_TRUE(IsProblem(Call("GET", target, nullptr, "", {{"Authorization", "Bearer trc_forged"}}), 401));
  }
  EXPECT_EQ(Fingerprint(), before);

  // farm-b on farm-a's objects: 404 (or 403 where the route is admin-only anyway), and
  // whatever farm-b may create lands in farm-b, never in farm-a.
  const std::vector<RouteCase> foreign = {
      {"GET", "/api/v1/products/" + gtin, ""},
      {"POST", "/api/v1/lots", R"({"gtin":")" + gtin + R"(","lot":"MX-3"})"},
      {"GET", "/api/v1/lots/" + gtin + "/MX-1", ""},
      {"POST", "/api/v1/devices/mx-sensor/revoke", ""},
      {"DELETE", "/api/v1/tokens/" + token_id, ""},
      {"GET", "/dashboard/lots/" + gtin + "/MX-1", ""},
      {"GET", "/api/v1/labels/" + gtin + "/MX-1.png", ""},
      {"GET", "/api/v1/labels/" + gtin + "/MX-1/sheet", ""},
      {"GET", "/api/v1/recall/" + gtin + "/MX-1", ""},
      {"GET", "/api/v1/recall/" + gtin + "/MX-1.csv", ""},
      {"POST", "/api/v1/recall/" + gtin + "/MX-1", R"({"reason":"not yours"})"},
  };
  for (const auto& rc : foreign) {
    SCOPED_TRACE(rc.method + " " + rc.target);
    auto r = Call(rc.method, rc.target, token_b_, rc.body);
    EXPECT_TRUE(r.status == 404 || r.status == 403) << r.status << " " << r.body;
  }
  EXPECT_EQ(Fingerprint(), before);
  auto lot = Call("GET", "/api/v1/lots/" + gtin + "/MX-1", token_a_);
  EXPECT_EQ(lot.status, 200);
  EXPECT_EQ(Count("SELECT count(*) FROM devices WHERE org = 'farm-a' AND device = 'mx-sensor' AND status = 'active'"),
            1);
}

TEST_F(ProducerSystemTest, PasswordAndTokenGuessingIsLimited) {
  // Last in the suite: it locks this client (127.0.0.1) out for the failure window. The
  // earlier tests made a few failures of their own (fewer than the limit of 10).
  const Headers form = {{"Content-Type", "application/x-www-form-urlencoded"}};
  int limited = 0;
  for (int i = 0; i < 12; ++i) {
    auto r = HttpCall(port_, "POST", "/api/v1/session", {{"Content-Type", "application/json"}},
                      R"({"email":"nobody@farm-b.example","password":"guess )" + std::to_string(i) + R"("})");
    if (r.status == 429) ++limited;
    else EXPECT_EQ(r.status, 401) << r.body;
  }
  EXPECT_GE(limited, 2);
  // While locked out, even a right token from this client waits: guessing is what is limited.
  auto r = Call("GET", "/api/v1/products", token_a_);
  EXPECT_TRUE(IsProblem(r, 429));
  EXPECT_FALSE(r.Header("retry-after").empty());
}

}  // namespace
}  // namespace trace
