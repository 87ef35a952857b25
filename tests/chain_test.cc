// The chain client and TraceAnchor against a real anvil (1 s blocks) started by the harness:
// deploy, anchor, read back, the Anchored event, the contract's refusals, several quick
// transactions from one account.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>

#include "harness/stack.h"
#include "trace/anchor/trace_anchor_code.h"
#include "trace/common/abi.h"
#include "trace/common/anchor_contract.h"
#include "trace/common/encoding.h"
#include "trace/common/eth_client.h"
#include "trace/common/keccak.h"
#include "trace/common/files.h"
#include "trace/common/secp256k1.h"

namespace trace {
namespace {

using std::chrono::seconds;

// anvil's well-known dev accounts 0 and 1.
constexpr const char* kKey0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
constexpr const char* kKey1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

class ChainTest : public ::testing::Test {
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
    auto eth = EthClient::Create(stack_->Env("TRACE_CHAIN_RPC"));
    ASSERT_TRUE(eth) << eth.error();
    eth_ = std::move(*eth);
    key0_ = *Secp256k1PrivateKey::FromHex(kKey0);
    key1_ = *Secp256k1PrivateKey::FromHex(kKey1);
  }

  // Deploys a fresh contract from account 0.
  DeployedContract Deploy() {
    auto deployed = TraceAnchorContract::Deploy(*eth_, *key0_, anchor::TraceAnchorCreationCode(), seconds(30));
    EXPECT_TRUE(deployed) << deployed.error();
    return deployed.value_or(DeployedContract{});
  }

  TxReceipt Mined(const std::string& hash) {
    auto r = eth_->WaitForReceipt(hash, seconds(30));
    EXPECT_TRUE(r) << r.error();
    return r.value_or(TxReceipt{});
  }

  static testing::Stack* stack_;
  std::unique_ptr<EthClient> eth_;
  std::optional<Secp256k1PrivateKey> key0_, key1_;
};

testing::Stack* ChainTest::stack_ = nullptr;

std::string Root(char fill) { return std::string(32, fill); }

TEST_F(ChainTest, NodeBasics) {
  EXPECT_EQ(eth_->ChainId().value_or(0), 31337u);
  auto n = eth_->BlockNumber();
  ASSERT_TRUE(n) << n.error();
  auto block = eth_->GetBlockByNumber("latest");
  ASSERT_TRUE(block) << block.error();
  EXPECT_TRUE(block->base_fee_per_gas.has_value());
  EXPECT_EQ(block->hash.size(), 32u);
  auto fees = eth_->SuggestFees();
  ASSERT_TRUE(fees) << fees.error();
  EXPECT_GT(fees->max_fee_per_gas, *fees->base_fee);
  EXPECT_EQ(eth_->GetBlockByNumber(*n + 1000000).error().code(), StatusCode::kNotFound);
  // A JSON-RPC error object comes back with the node's message and code.
  auto unknown = eth_->rpc().Call("trace_noSuchMethod", {});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("-32601"), std::string::npos) << unknown.error();
  EXPECT_EQ(unknown.error().code(), StatusCode::kNotFound);
}

TEST_F(ChainTest, DeployAnchorAndReadBack) {
  auto nonce = eth_->GetTransactionCount(key0_->address());
  ASSERT_TRUE(nonce) << nonce.error();
  DeployedContract deployed = Deploy();
  ASSERT_EQ(deployed.address.size(), 20u);
  EXPECT_EQ(deployed.address, CreateAddress(key0_->address(), *nonce));
  EXPECT_EQ(deployed.chain_id, 31337u);
  auto code = eth_->GetCode(deployed.address);
  ASSERT_TRUE(code) << code.error();
  EXPECT_FALSE(code->empty());
  auto block = eth_->GetBlockByNumber(deployed.block_number);
  ASSERT_TRUE(block) << block.error();
  EXPECT_EQ(block->hash, deployed.block_hash);

  TraceAnchorContract contract(*eth_, deployed.address);
  auto before = contract.Latest();
  ASSERT_TRUE(before) << before.error();
  EXPECT_EQ(*before, (AnchoredRoot{0, std::string(32, '\0')}));

  std::string root = Keccak256("checkpoint 5");
  auto sent = contract.Anchor(*key0_, 5, root);
  ASSERT_TRUE(sent) << sent.error();
  TxReceipt receipt = Mined(sent->hash);
  ASSERT_TRUE(receipt.success);
  EXPECT_EQ(receipt.tx_hash, sent->hash);
  EXPECT_GT(receipt.gas_used, 21000u);
  EXPECT_LE(receipt.gas_used, sent->gas_limit);

  // The Anchored event, emitted by the contract.
  ASSERT_EQ(receipt.logs.size(), 1u);
  EXPECT_EQ(receipt.logs[0].address, deployed.address);
  auto event = DecodeAnchoredEvent(receipt.logs[0].topics, receipt.logs[0].data);
  ASSERT_TRUE(event) << event.error();
  EXPECT_EQ(event->tree_size, 5u);
  EXPECT_EQ(event->root, root);
  EXPECT_EQ(event->anchorer, key0_->address());

  EXPECT_EQ(contract.RootAt(5).value_or(""), root);
  EXPECT_EQ(contract.RootAt(4).value_or(""), std::string(32, '\0'));
  auto latest = contract.Latest();
  ASSERT_TRUE(latest) << latest.error();
  EXPECT_EQ(*latest, (AnchoredRoot{5, root}));
  // Reading at the anchoring block gives the same; at the block before, nothing.
  EXPECT_EQ(contract.Latest(Uint256(receipt.block_number).ToHexQuantity())->tree_size, 5u);
  EXPECT_EQ(contract.Latest(Uint256(receipt.block_number - 1).ToHexQuantity())->tree_size, 0u);
}

TEST_F(ChainTest, TreeSizeMustGrowAndRootMustBeNonZero) {
  TraceAnchorContract contract(*eth_, Deploy().address);
  auto sent = contract.Anchor(*key0_, 5, Root('\x05'));
  ASSERT_TRUE(sent) << sent.error();
  ASSERT_TRUE(Mined(sent->hash).success);

  // eth_estimateGas finds the revert before anything is sent.
  for (uint64_t size : {3u, 5u}) {
    auto refused = contract.Anchor(*key0_, size, Root('\x03'));
    ASSERT_FALSE(refused) << size;
    EXPECT_EQ(refused.error().code(), StatusCode::kFailedPrecondition) << refused.error();
    EXPECT_NE(refused.error().message().find("treeSize must grow"), std::string::npos) << refused.error();
  }
  auto zero = contract.Anchor(*key0_, 6, std::string(32, '\0'));
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().message().find("zero root"), std::string::npos) << zero.error();

  // Sent anyway (fixed gas limit, no estimate): mined with status 0, state unchanged.
  auto forced = contract.Anchor(*key0_, 3, Root('\x03'), {.gas_limit = 100'000});
  ASSERT_TRUE(forced) << forced.error();
  TxReceipt receipt = Mined(forced->hash);
  EXPECT_FALSE(receipt.success);
  EXPECT_TRUE(receipt.logs.empty());
  EXPECT_EQ(contract.Latest().value_or(AnchoredRoot{}), (AnchoredRoot{5, Root('\x05')}));
  EXPECT_EQ(contract.RootAt(3).value_or(""), std::string(32, '\0'));
}

TEST_F(ChainTest, OnlyAuthorizedAnchorers) {
  DeployedContract deployed = Deploy();
  TraceAnchorContract contract(*eth_, deployed.address);
  auto refused = contract.Anchor(*key1_, 10, Root('\x0a'));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.error().message().find("not an anchorer"), std::string::npos) << refused.error();
  auto forced = contract.Anchor(*key1_, 10, Root('\x0a'), {.gas_limit = 100'000});
  ASSERT_TRUE(forced) << forced.error();
  EXPECT_FALSE(Mined(forced->hash).success);

  // Account 1 may not add itself; the owner (account 0) can add it.
  std::string set_anchorer = FunctionSelector("setAnchorer(address,bool)") + std::string(12, '\0') +
                             key1_->address() + AbiWord(1);
  auto self_add = SignAndSend(*eth_, *key1_, {.to = deployed.address, .data = set_anchorer});
  ASSERT_FALSE(self_add);
  EXPECT_NE(self_add.error().message().find("not owner"), std::string::npos) << self_add.error();
  auto added = SignAndSend(*eth_, *key0_, {.to = deployed.address, .data = set_anchorer});
  ASSERT_TRUE(added) << added.error();
  ASSERT_TRUE(Mined(added->hash).success);

  auto now_allowed = contract.Anchor(*key1_, 10, Root('\x0a'));
  ASSERT_TRUE(now_allowed) << now_allowed.error();
  TxReceipt receipt = Mined(now_allowed->hash);
  ASSERT_TRUE(receipt.success);
  auto event = DecodeAnchoredEvent(receipt.logs.at(0).topics, receipt.logs.at(0).data);
  ASSERT_TRUE(event) << event.error();
  EXPECT_EQ(event->anchorer, key1_->address());
  EXPECT_EQ(contract.Latest()->tree_size, 10u);
}

TEST_F(ChainTest, SeveralQuickTransactionsGetConsecutiveNonces) {
  TraceAnchorContract contract(*eth_, Deploy().address);
  auto first_nonce = eth_->GetTransactionCount(key0_->address(), "pending");
  ASSERT_TRUE(first_nonce) << first_nonce.error();
  // Submitted back to back, well within one 1 s block: each takes the pending count as nonce.
  std::vector<SentTx> sent;
  for (uint64_t size = 11; size <= 15; ++size) {
    auto s = contract.Anchor(*key0_, size, Keccak256("root " + std::to_string(size)));
    ASSERT_TRUE(s) << size << ": " << s.error();
    sent.push_back(*s);
  }
  for (size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(sent[i].nonce, *first_nonce + i);
  // Resending the same bytes (as after a lost answer) is accepted and changes nothing.
  auto again = eth_->SendRawTransaction(sent.back().raw);
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(*again, sent.back().hash);
  uint64_t last_block = 0;
  for (const auto& s : sent) {
    TxReceipt r = Mined(s.hash);
    EXPECT_TRUE(r.success) << HexEncode(s.hash);
    EXPECT_GE(r.block_number, last_block);
    last_block = r.block_number;
  }
  EXPECT_EQ(contract.Latest().value_or(AnchoredRoot{}), (AnchoredRoot{15, Keccak256("root 15")}));
  for (uint64_t size = 11; size <= 15; ++size) {
    EXPECT_EQ(contract.RootAt(size).value_or(""), Keccak256("root " + std::to_string(size))) << size;
  }
  EXPECT_EQ(eth_->GetTransactionCount(key0_->address(), "latest").value_or(0), *first_nonce + sent.size());
}

// deploy/stack.sh up deploys TraceAnchor with trace-admin and hands out its address and key.
TEST_F(ChainTest, StackDeployedTheContract) {
  std::string key_file = stack_->Env("TRACE_ANCHOR_KEY_FILE");
  ASSERT_FALSE(key_file.empty());
  EXPECT_EQ(FileMode(key_file).value_or(0), 0600u);
  auto key = ReadSecp256k1KeyFile(key_file);
  ASSERT_TRUE(key) << key.error();
  EXPECT_EQ(key->address(), key0_->address());
  auto address = ParseAddress(stack_->Env("TRACE_CONTRACT"));
  ASSERT_TRUE(address) << address.error();
  EXPECT_FALSE(eth_->GetCode(*address).value_or("").empty());
  auto owner = eth_->Call({.to = *address, .data = FunctionSelector("owner()")});
  ASSERT_TRUE(owner) << owner.error();
  EXPECT_EQ(AbiWordToAddress(*owner).value_or(""), key0_->address());
}

TEST_F(ChainTest, AdminChainDeploy) {
  auto r = stack_->Run({"trace-admin", "chain", "deploy", "--json"});  // rpc and key from the stack's env
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  boost::json::object out = boost::json::parse(r.out).as_object();
  EXPECT_EQ(out.at("chain_id").to_number<uint64_t>(), 31337u);
  std::string contract(out.at("contract").as_string());
  auto address = ParseAddress(contract);
  ASSERT_TRUE(address) << contract;
  EXPECT_EQ(ChecksumAddress(*address), contract);
  auto tx = FromHexData(out.at("tx").as_string(), 32);
  ASSERT_TRUE(tx) << tx.error();
  auto receipt = eth_->GetTransactionReceipt(*tx);
  ASSERT_TRUE(receipt && *receipt);
  EXPECT_EQ((*receipt)->block_number, out.at("block").to_number<uint64_t>());
  EXPECT_EQ((*receipt)->contract_address.value_or(""), *address);
  TraceAnchorContract contract_client(*eth_, *address);
  EXPECT_EQ(contract_client.Latest()->tree_size, 0u);

  // A key file others can read is refused before anything is sent.
  std::string loose = stack_->dir() + "/loose.key";
  ASSERT_TRUE(WriteFileAtomic(loose, std::string(kKey0) + "\n", 0644).ok());
  auto refused = stack_->Run({"trace-admin", "chain", "deploy", "--json", "--key-file", loose});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.out.find("PERMISSION_DENIED"), std::string::npos) << refused.out;
  // No node: Unavailable, exit 1.
  auto down = stack_->Run({"trace-admin", "chain", "deploy", "--json", "--rpc", "http://127.0.0.1:1"});
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_NE(down.out.find("UNAVAILABLE"), std::string::npos) << down.out;
  auto usage = stack_->Run({"trace-admin", "chain", "deploy", "--rpc", ""});
  EXPECT_EQ(usage.exit_code, 2) << usage.err;
}

}  // namespace
}  // namespace trace
