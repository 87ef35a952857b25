// trace-verify end to end against real servers: anvil (started by the harness, TraceAnchor
// deployed by stack.sh) holding a root anchored here with the anchorer key, and a real HTTP
// server on loopback serving the documents of PROTOCOL.md §7 for a small log built here.
// build/bin/trace-verify runs as a separate process, as users run it.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>

#include "harness/http_server.h"
#include "harness/stack.h"
#include "trace/common/anchor_contract.h"
#include "trace/common/checkpoint.h"
#include "trace/common/ed25519.h"
#include "trace/common/encoding.h"
#include "trace/common/envelope.h"
#include "trace/common/eth_client.h"
#include "trace/common/merkle.h"
#include "trace/common/secp256k1.h"

namespace trace {
namespace {

namespace json = boost::json;
using testing::HttpTestServer;

constexpr const char* kLink = "https://id.example.com/01/09506000134369/10/RICE-0703";
constexpr const char* kLogName = "verify.test/log";
constexpr uint64_t kAnchored = 3;    // leaves 0..2 anchored on the chain
constexpr uint64_t kCheckpoint = 4;  // the newest checkpoint covers one more

std::string B64(const Hash& h) { return Base64Encode(HashBytes(h)); }

json::object Event(std::string type, std::string biz_step, std::string lot) {
  return {{"type", type},
          {"action", "ADD"},
          {"bizStep", biz_step},
          {"eventTime", "2026-11-20T08:00:00.000Z"},
          {"eventTimeZoneOffset", "+07:00"},
          {"quantityList",
           json::array{json::object{
               {"epcClass", "urn:epc:class:lgtin:950600.013436." + lot}, {"quantity", 25}, {"uom", "KGM"}}}}};
}

class VerifySystemTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto stack = testing::Stack::Start({.postgres = false, .anvil = true});
    ASSERT_TRUE(stack) << stack.error();
    stack_ = std::move(*stack).release();
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(stack_, nullptr);
    cache_ = stack_->dir() + "/verify-cache-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    // The log: paddy commissioning, rice milling, rice shipping (anchored), one later envelope.
    Add(farm_, "paddy-farm", "field-1", Event("ObjectEvent", "commissioning", "PADDY-0701"));
    Add(mill_, "rice-mill", "line-1", Event("TransformationEvent", "commissioning", "RICE-0703"));
    Add(mill_, "rice-mill", "line-1", Event("ObjectEvent", "shipping", "RICE-0703"));
    Add(mill_, "rice-mill", "line-1", Event("ObjectEvent", "receiving", "RICE-0799"));
    anchored_root_ = *tree_.Root(kAnchored);
  }

  void Add(const Ed25519PrivateKey& key, std::string org, std::string device, json::object event) {
    json::object e{{"v", 1},
                   {"org", org},
                   {"device", device},
                   {"seq", static_cast<int64_t>(envs_.size() + 1)},
                   {"sent", "2026-11-20T08:00:01.000Z"},
                   {"events", json::array{event}}};
    auto env = SignEnvelope(e, key);
    ASSERT_TRUE(env) << env.error();
    envs_.push_back(*env);
    keys_.push_back(key.public_key());
    tree_.Append(merkle::LeafHash(env->canonical_bytes));
  }

  // Anchors (kAnchored, root) on the real chain and waits for the receipt.
  void Anchor() {
    ASSERT_FALSE(stack_->Env("TRACE_CONTRACT").empty()) << "stack.sh deployed no TraceAnchor: is trace-admin built?";
    auto eth = EthClient::Create(stack_->Env("TRACE_CHAIN_RPC"));
    ASSERT_TRUE(eth) << eth.error();
    auto key = ReadSecp256k1KeyFile(stack_->Env("TRACE_ANCHOR_KEY_FILE"));
    ASSERT_TRUE(key) << key.error();
    auto address = FromHexData(stack_->Env("TRACE_CONTRACT"), 20);
    ASSERT_TRUE(address) << address.error();
    TraceAnchorContract contract(**eth, *address);
    auto latest = contract.Latest();
    ASSERT_TRUE(latest) << latest.error();
    if (latest->tree_size >= kAnchored) {  // anchored by an earlier test of this suite
      ASSERT_EQ(*contract.RootAt(kAnchored), HashBytes(anchored_root_));
      return;
    }
    auto sent = contract.Anchor(*key, kAnchored, HashBytes(anchored_root_));
    ASSERT_TRUE(sent) << sent.error();
    auto receipt = (*eth)->WaitForReceipt(sent->hash, std::chrono::seconds(30));
    ASSERT_TRUE(receipt) << receipt.error();
    ASSERT_TRUE(receipt->success);
    tx_ = ToHexData(sent->hash);
    block_ = receipt->block_number;
    chain_id_ = *(*eth)->ChainId();
  }

  json::object EnvelopeDoc(size_t i, uint64_t anchor_size) {
    json::object doc{
        {"envelope", envs_[i].json},
        {"signer", {{"org", envs_[i].org}, {"device", envs_[i].device}, {"key", Base64UrlEncode(keys_[i])}}}};
    if (i >= anchor_size) {
      doc["proof"] = nullptr;
      doc["anchor"] = nullptr;
      return doc;
    }
    auto proof = merkle::InclusionProof(tree_, i, anchor_size);
    json::array hashes;
    for (const auto& h : *proof) hashes.emplace_back(B64(h));
    doc["proof"] = {{"leafIndex", i}, {"treeSize", anchor_size}, {"hashes", hashes}};
    doc["anchor"] = {{"treeSize", anchor_size},
                     {"root", B64(*tree_.Root(anchor_size))},
                     {"chainId", chain_id_},
                     {"contract", stack_->Env("TRACE_CONTRACT")},
                     {"tx", tx_},
                     {"block", block_}};
    return doc;
  }

  json::object Entry(size_t i) {
    return {{"event", envs_[i].events[0]},
            {"envelope", envs_[i].id},
            {"index", 0},
            {"signer", {{"org", envs_[i].org}, {"device", envs_[i].device}, {"key", Base64UrlEncode(keys_[i])}}},
            {"leaf", i},
            {"anchored", true}};
  }

  // Fills the server's documents, every envelope anchored at `anchor_size`.
  void Publish(uint64_t anchor_size) {
    std::string note =
        *SignCheckpoint({.origin = kLogName, .tree_size = kCheckpoint, .root = tree_.Root()}, kLogName, log_key_);
    std::lock_guard lock(mu_);
    docs_.clear();
    docs_["/api/v1/keys"] = json::serialize(
        json::object{{"log", {{"name", kLogName}, {"public_key", Base64UrlEncode(log_key_.public_key())}}},
                     {"receipt", json::array{}}});
    docs_["/api/v1/checkpoint"] = note;
    for (size_t i = 0; i < envs_.size(); ++i) {
      docs_["/api/v1/envelopes/" + envs_[i].id] = json::serialize(EnvelopeDoc(i, anchor_size));
    }
    for (uint64_t from = 1; from <= kCheckpoint; ++from) {
      auto proof = merkle::ConsistencyProof(tree_, from, kCheckpoint);
      json::array hashes;
      for (const auto& h : *proof) hashes.emplace_back(B64(h));
      docs_["/api/v1/proofs/consistency?from=" + std::to_string(from) + "&to=" + std::to_string(kCheckpoint)] =
          json::serialize(json::object{{"from", from}, {"to", kCheckpoint}, {"hashes", hashes}});
    }
    json::object paddy{{"gtin", "09506000134376"},
                       {"lot", "PADDY-0701"},
                       {"link", "https://id.example.com/01/09506000134376/10/PADDY-0701"},
                       {"events", json::array{Entry(0)}},
                       {"inputs", json::array{}}};
    docs_["/01/09506000134369/10/RICE-0703"] = json::serialize(
        json::object{{"product", {{"gtin", "09506000134369"}, {"name", "Jasmine rice 25 kg"}, {"org", "rice-mill"}}},
                     {"lot", "RICE-0703"},
                     {"link", kLink},
                     {"events", json::array{Entry(1), Entry(2)}},
                     {"inputs", json::array{paddy}},
                     {"checkpoint", note}});
  }

  HttpTestServer::Answer Serve(const HttpTestServer::Request& req) {
    std::lock_guard lock(mu_);
    auto it = docs_.find(req.target);
    if (it == docs_.end()) {
      return {.status = 404,
              .headers = {{"Content-Type", "application/problem+json"}},
              .body = R"({"type":"about:blank","title":"Not Found","status":404})"};
    }
    bool text = req.target == "/api/v1/checkpoint";
    return {.status = 200,
            .headers = {{"Content-Type", text ? "text/plain; charset=utf-8" : "application/json"}},
            .body = it->second};
  }

  testing::Stack::RunResult RunVerify(const std::string& api_base, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{"trace-verify", kLink,
                                  "--api-base",   api_base,
                                  "--cache-dir",  cache_,
                                  "--chain-rpc",  stack_->Env("TRACE_CHAIN_RPC"),
                                  "--contract",   stack_->Env("TRACE_CONTRACT")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return testing::RunProgram(argv, {}, 120);
  }

  static testing::Stack* stack_;
  std::string cache_;
  Ed25519PrivateKey farm_ = Ed25519PrivateKey::Generate();
  Ed25519PrivateKey mill_ = Ed25519PrivateKey::Generate();
  // Fixed keys: the suite's tests share one chain, and the anchored root must not change.
  Ed25519PrivateKey log_key_ = *Ed25519PrivateKey::FromSeed(std::string(32, 'L'));
  std::vector<Envelope> envs_;
  std::vector<std::string> keys_;
  merkle::MemoryTree tree_;
  Hash anchored_root_{};
  std::string tx_ = "0x" + std::string(64, '0');
  uint64_t block_ = 0;
  uint64_t chain_id_ = 31337;
  std::mutex mu_;
  std::map<std::string, std::string> docs_;
};

testing::Stack* VerifySystemTest::stack_ = nullptr;

TEST_F(VerifySystemTest, GoodThenTamperedEnvelopeThenRootTheChainLacks) {
  // Device keys are fresh per run, so the envelopes (and the root) are this test's own: one
  // test drives all three cases on one anchored root.
  Anchor();
  if (HasFatalFailure()) return;
  HttpTestServer server([this](const HttpTestServer::Request& req) { return Serve(req); });
  Publish(kAnchored);

  auto good = RunVerify(server.url());
  std::cout << "--- trace-verify, good trace:\n" << good.out;  // for the test log
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_NE(good.out.find("\nverified (3 events)\n"), std::string::npos) << good.out;
  EXPECT_NE(good.out.find("✓ TransformationEvent"), std::string::npos) << good.out;
  EXPECT_NE(good.out.find("input lot 09506000134376/PADDY-0701"), std::string::npos) << good.out;
  EXPECT_NE(good.out.find("tx " + tx_), std::string::npos) << good.out;

  auto as_json = RunVerify(server.url(), {"--json", "--log-key", *FormatVerifierKey(kLogName, log_key_.public_key())});
  EXPECT_EQ(as_json.exit_code, 0) << as_json.out << as_json.err;
  json::error_code ec;
  json::value report = json::parse(as_json.out, ec);
  ASSERT_FALSE(ec) << as_json.out;
  EXPECT_TRUE(report.at("verified").as_bool());
  EXPECT_EQ(report.at("events").as_array().size(), 3u);
  EXPECT_EQ(report.at("checkpoint").at("treeSize").to_number<uint64_t>(), kCheckpoint);

  // The server hands out a tampered shipping envelope: one event fails, named.
  {
    json::object doc = EnvelopeDoc(2, kAnchored);
    doc["envelope"].as_object()["events"].as_array()[0].as_object()["bizStep"] = "receiving";
    std::lock_guard lock(mu_);
    docs_["/api/v1/envelopes/" + envs_[2].id] = json::serialize(doc);
  }
  auto tampered = RunVerify(server.url());
  std::cout << "--- trace-verify, tampered envelope:\n" << tampered.out;
  EXPECT_EQ(tampered.exit_code, 1) << tampered.out << tampered.err;
  EXPECT_NE(tampered.out.find("✗ ObjectEvent shipping"), std::string::npos) << tampered.out;
  EXPECT_NE(tampered.out.find("envelope " + envs_[2].id.substr(0, 16)), std::string::npos) << tampered.out;
  EXPECT_NE(tampered.out.find("(altered)"), std::string::npos) << tampered.out;
  EXPECT_NE(tampered.out.find("✓ TransformationEvent"), std::string::npos) << tampered.out;
  EXPECT_NE(tampered.out.find("NOT VERIFIED: 1 of 3 events failed"), std::string::npos) << tampered.out;

  // Every proof now leads to the root of size 4, which is consistent with the checkpoint but
  // was never anchored: the chain has no rootAt(4).
  Publish(kCheckpoint);
  auto unanchored = RunVerify(server.url());
  std::cout << "--- trace-verify, root not on the chain:\n" << unanchored.out;
  EXPECT_EQ(unanchored.exit_code, 1) << unanchored.out << unanchored.err;
  EXPECT_NE(unanchored.out.find("anchor: the chain has no root at tree size 4"), std::string::npos) << unanchored.out;
  EXPECT_EQ(unanchored.out.find("inclusion proof"), std::string::npos) << unanchored.out;

  // The server goes away: exit 3.
  std::string url = server.url();
  {
    HttpTestServer gone([](const HttpTestServer::Request&) { return HttpTestServer::Answer{}; });
    url = gone.url();
  }
  auto down = RunVerify(url);
  EXPECT_EQ(down.exit_code, 3) << down.out << down.err;
  EXPECT_NE(down.out.find("could not fetch"), std::string::npos) << down.out;
}

TEST_F(VerifySystemTest, UsageErrorsExitTwo) {
  auto r = testing::RunProgram({"trace-verify", "not-a-link", "--chain-rpc", stack_->Env("TRACE_CHAIN_RPC"),
                                "--contract", stack_->Env("TRACE_CONTRACT")},
                               {}, 60);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  auto help = testing::RunProgram({"trace-verify", "--help"}, {}, 60);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("exit codes"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace trace
