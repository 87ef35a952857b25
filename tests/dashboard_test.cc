// The producer dashboard end to end, in a real browser (issue 6, item 6): deploy/stack.sh
// --services with anvil (PostgreSQL, Mosquitto, anvil with the TraceAnchor contract,
// trace-gateway, trace-anchor, trace-api as shipped); an organization and its dashboard user
// made with trace-admin, the way an operator does. Then Debian's Chromium, driven by
// playwright-core (tests/browser/dashboard_test.mjs), works as a producer on a 1024×768 tablet:
// signs in, creates a site, a product and a lot, registers a device, records a harvest, prints
// its label (decoded by zbarimg), watches the harvest become anchored on anvil, and opens the
// consumer page from the label's link on a phone, where the browser verifies it. Afterwards the
// store is checked here: everything belongs to the organization, the harvest is signed by its
// server-side signer, and its leaf is covered by an anchor confirmed on the chain.
// Screenshots go to build/test-artifacts/dashboard-*.png.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <pqxx/pqxx>
#include <string>

#include "harness/stack.h"
#include "trace/common/gs1.h"

namespace trace {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr char kOrg[] = "green-valley";
constexpr char kEmail[] = "Packer@Green-Valley.example";
constexpr char kPassword[] = "packing house tablet 7";
constexpr char kLot[] = "GV-2612/A";  // a "/" the links must percent-encode
constexpr char kDevice[] = "yard-scale-1";

std::string WithCheckDigit(const std::string& digits) { return digits + gs1::CheckDigit(digits).value(); }

class DashboardSystemTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto stack = testing::Stack::Start({.postgres = true, .mosquitto = true, .anvil = true, .services = true});
    ASSERT_TRUE(stack.has_value()) << stack.error();
    stack_ = std::move(*stack).release();
    ASSERT_FALSE(stack_->Env("TRACE_API_URL").empty()) << "stack.sh --services did not start trace-api";
    ASSERT_FALSE(stack_->Env("TRACE_CONTRACT").empty()) << "stack.sh deployed no TraceAnchor on anvil";
    auto r = stack_->Run({"trace-admin", "org", "create", kOrg, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::string pw_file = stack_->dir() + "/dashboard-password";
    FILE* f = fopen(pw_file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs((std::string(kPassword) + "\n").c_str(), f);
    fclose(f);
    r = stack_->Run({"trace-admin", "user", "create", kOrg, kEmail, "--role", "admin", "--password-file", pw_file,
                     "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }

  static int64_t Count(pqxx::transaction_base& tx, const std::string& sql) { return tx.exec1(sql)[0].as<int64_t>(); }

  static testing::Stack* stack_;
};
testing::Stack* DashboardSystemTest::stack_ = nullptr;

TEST_F(DashboardSystemTest, ProducerOnATabletFromSignInToAVerifiedConsumerPage) {
  const std::string gtin = WithCheckDigit("0950600077001");  // 14 digits, as the dashboard shows it
  const std::string gln = WithCheckDigit("950600070007");
  const fs::path artifacts =
      fs::path(getenv("TRACE_BIN_DIR") ? getenv("TRACE_BIN_DIR") : "build/bin") / ".." / "test-artifacts";
  fs::create_directories(artifacts);
  const std::string base = stack_->Env("TRACE_API_URL");
  json::object config{{"base", base},
                      {"email", kEmail},
                      {"password", kPassword},
                      {"org", kOrg},
                      {"gtin", gtin},
                      {"gln", gln},
                      {"lot", kLot},
                      {"device", kDevice},
                      {"artifacts", fs::weakly_canonical(artifacts).string()},
                      {"anchorSeconds", 60}};
  auto r = stack_->Run({"node", testing::SourceDir() + "/tests/browser/dashboard_test.mjs", json::serialize(config)});
  std::cout << r.out;
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto at = r.out.find("DASHBOARD OK ");
  ASSERT_NE(at, std::string::npos) << r.out << r.err;
  const std::string line = r.out.substr(at + 13, r.out.find('\n', at) - at - 13);
  const json::object result = json::parse(line).as_object();

  // What the label said, read by zbarimg in the browser test: exactly the lot's Digital Link.
  EXPECT_EQ(result.at("decoded").as_string(), base + "/01/" + gtin + "/10/GV-2612%2FA");
  EXPECT_EQ(result.at("consumer").as_object().at("summary").as_string(), "verified");
  for (const char* shot : {"01-login", "06-lot-created", "07-device-registered", "10-harvest-recorded",
                           "12-label-sheet", "13-lot-anchored", "15-consumer-phone"}) {
    EXPECT_TRUE(fs::exists(artifacts / ("dashboard-" + std::string(shot) + ".png"))) << shot;
  }

  // The store agrees with what the pages said.
  pqxx::connection c(stack_->Env("TRACE_DB_URL"));
  pqxx::read_transaction tx(c);
  EXPECT_EQ(Count(tx, "SELECT count(*) FROM sites WHERE org = 'green-valley' AND gln = '" + gln + "'"), 1);
  EXPECT_EQ(Count(tx, "SELECT count(*) FROM products WHERE org = 'green-valley' AND gtin = '" + gtin +
                          "' AND name = 'Hom Mali paddy'"),
            1);
  EXPECT_EQ(Count(tx, "SELECT count(*) FROM lots WHERE org = 'green-valley' AND gtin = '" + gtin +
                          "' AND lot = 'GV-2612/A'"),
            1);
  EXPECT_EQ(Count(tx, "SELECT count(*) FROM devices WHERE org = 'green-valley' AND device = 'yard-scale-1' "
                      "AND status = 'active'"),
            1);
  // One envelope: the harvest, signed on the server by the organization's dashboard signer,
  // whose id starts as the notice said.
  const std::string prefix(result.at("envelopePrefix").as_string());
  ASSERT_EQ(prefix.size(), 12u);
  pqxx::result envelopes = tx.exec(
      "SELECT encode(id, 'hex'), org, device, source FROM envelopes ORDER BY received_at");
  ASSERT_EQ(envelopes.size(), 1u);
  const std::string id = envelopes[0][0].as<std::string>();
  EXPECT_EQ(id.substr(0, 12), prefix);
  EXPECT_EQ(envelopes[0][1].as<std::string>(), kOrg);
  EXPECT_EQ(envelopes[0][2].as<std::string>(), "dashboard");
  EXPECT_EQ(envelopes[0][3].as<std::string>(), "api");
  EXPECT_EQ(Count(tx, "SELECT count(*) FROM event_keys WHERE envelope_id = decode('" + id + "', 'hex') AND gtin = '" +
                          gtin + "' AND lot = 'GV-2612/A'"),
            1);
  // Its leaf is under a checkpoint whose anchor is confirmed, in the transaction the phone showed.
  const std::string shown_tx(result.at("consumer").as_object().at("anchorTx").as_string());
  EXPECT_EQ(Count(tx, "SELECT count(*) FROM log_leaves l JOIN anchors a ON a.tree_size > l.leaf_index "
                      "WHERE l.envelope_id = decode('" + id + "', 'hex') AND a.state = 'confirmed' AND a.tx_hash = '" +
                          shown_tx + "'"),
            1)
      << "no confirmed anchor in " << shown_tx << " covers the harvest";
  tx.commit();
  // And the chain agrees: trace-verify, trusting only anvil, verifies the label's link.
  auto verify = stack_->Run({"trace-verify", std::string(result.at("decoded").as_string()), "--chain-rpc",
                             stack_->Env("TRACE_CHAIN_RPC"), "--contract", stack_->Env("TRACE_CONTRACT"), "--api-base",
                             base, "--cache-dir", stack_->dir() + "/verify-cache", "--json"});
  ASSERT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_TRUE(json::parse(verify.out).as_object().at("verified").as_bool()) << verify.out;
}

}  // namespace
}  // namespace trace
