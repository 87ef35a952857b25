// The Hyperledger Besu QBFT network of deploy/prod/besu/, checked without Besu (not installable
// here): genesis.json's extraData is decoded with the project's own strict RLP decoder and must
// name exactly the validators of validators.json; the QBFT parameters, the fork blocks the
// TraceAnchor bytecode needs, and the funded anchoring account are checked; every validator's
// config names the other three as bootnodes, whose enode public keys are validators' keys.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness/stack.h"
#include "trace/common/encoding.h"
#include "trace/common/rlp.h"
#include "trace/common/secp256k1.h"

namespace trace {
namespace {

namespace json = boost::json;

std::string BesuDir() { return testing::SourceDir() + "/deploy/prod/besu"; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

json::value ReadJson(const std::string& path) {
  boost::system::error_code ec;
  json::value v = json::parse(ReadFile(path), ec);
  EXPECT_FALSE(ec) << path << ": " << ec.message();
  return v;
}

// "0x..." hex as bytes; fails the test on bad hex.
std::string Hex0x(const json::value& v) {
  std::string text(v.as_string());
  EXPECT_TRUE(text.starts_with("0x")) << text;
  auto bytes = HexDecode(text.substr(2));
  EXPECT_TRUE(bytes.has_value()) << text;
  return bytes.value_or("");
}

uint64_t Quantity(const json::value& v) {
  if (v.is_int64()) return static_cast<uint64_t>(v.as_int64());
  std::string text(v.as_string());
  return std::stoull(text, nullptr, text.starts_with("0x") ? 16 : 10);
}

std::set<std::string> ValidatorAddresses() {
  std::set<std::string> out;
  const json::value list = ReadJson(BesuDir() + "/validators.json");
  EXPECT_TRUE(list.is_array());
  if (!list.is_array()) return out;
  for (const auto& a : list.as_array()) {
    auto raw = ParseAddress(a.as_string());
    EXPECT_TRUE(raw.has_value()) << a;
    if (raw) out.insert(*raw);
  }
  return out;
}

TEST(BesuGenesis, ExtraDataNamesExactlyTheFourValidators) {
  const json::object genesis = ReadJson(BesuDir() + "/genesis.json").as_object();
  const std::string extra = Hex0x(genesis.at("extraData"));
  auto item = RlpDecode(extra);
  ASSERT_TRUE(item.has_value()) << item.error();
  // QBFT: RLP([vanity (32 bytes), [validators], votes, round, [seals]]).
  ASSERT_TRUE(item->is_list);
  ASSERT_EQ(item->list.size(), 5u);
  const auto& vanity = item->list[0];
  EXPECT_FALSE(vanity.is_list);
  EXPECT_EQ(vanity.bytes.size(), 32u);
  const auto& validators = item->list[1];
  ASSERT_TRUE(validators.is_list);
  ASSERT_EQ(validators.list.size(), 4u) << "QBFT with 4 validators tolerates one faulty";
  std::set<std::string> in_genesis;
  for (const auto& v : validators.list) {
    ASSERT_FALSE(v.is_list);
    ASSERT_EQ(v.bytes.size(), 20u);
    in_genesis.insert(v.bytes);
  }
  EXPECT_EQ(in_genesis.size(), 4u) << "a validator is listed twice";
  EXPECT_EQ(in_genesis, ValidatorAddresses()) << "run node deploy/prod/besu/make-genesis.mjs";
  EXPECT_TRUE(item->list[2].is_list && item->list[2].list.empty()) << "genesis casts no vote";
  ASSERT_FALSE(item->list[3].is_list);
  auto round = RlpToUint(item->list[3]);
  ASSERT_TRUE(round.has_value()) << round.error();
  EXPECT_TRUE(*round == Uint256(0)) << "round 0";
  EXPECT_TRUE(item->list[4].is_list && item->list[4].list.empty()) << "genesis has no seals";
  // Re-encoding gives the same bytes: the field is canonical RLP, as Besu writes it.
  std::vector<std::string> addresses;
  for (const auto& v : validators.list) addresses.push_back(RlpBytes(v.bytes));
  EXPECT_EQ(RlpList({RlpBytes(std::string(32, '\0')), RlpList(addresses), RlpList({}), RlpUint(0), RlpList({})}),
            extra);
}

TEST(BesuGenesis, QbftParametersForksAndFundedAnchorer) {
  const json::object genesis = ReadJson(BesuDir() + "/genesis.json").as_object();
  const json::object& config = genesis.at("config").as_object();
  ASSERT_TRUE(config.contains("qbft")) << "QBFT consensus";
  EXPECT_FALSE(config.contains("ibft2") || config.contains("clique") || config.contains("ethash"));
  const json::object& qbft = config.at("qbft").as_object();
  const uint64_t period = Quantity(qbft.at("blockperiodseconds"));
  EXPECT_GE(period, 1u);
  EXPECT_LE(period, 5u) << "anchoring latency is about one block period (QBFT has immediate finality)";
  EXPECT_GT(Quantity(qbft.at("requesttimeoutseconds")), period) << "a round must outlast a block period";
  EXPECT_GT(Quantity(qbft.at("epochlength")), 0u);
  EXPECT_GT(Quantity(config.at("chainId")), 0u);
  EXPECT_NE(Quantity(config.at("chainId")), 31337u) << "not anvil's chain id";
  // TraceAnchor is compiled for evmVersion paris (services/anchor/contract/compile.js), and
  // trace-anchor sends EIP-1559 transactions: London from block 0.
  EXPECT_EQ(Quantity(config.at("berlinBlock")), 0u);
  EXPECT_EQ(Quantity(config.at("londonBlock")), 0u);
  // QBFT's fixed mix hash ("ctical byzantine fault tolerance") and difficulty 1.
  EXPECT_EQ(HexEncode(Hex0x(genesis.at("mixHash"))),
            "63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365");
  EXPECT_EQ(Quantity(genesis.at("difficulty")), 1u);
  EXPECT_GE(Quantity(genesis.at("gasLimit")), 1000000u) << "room for TraceAnchor's deployment";
  // At least one funded account that is not a validator: the anchoring account.
  bool funded = false;
  const auto validators = ValidatorAddresses();
  for (const auto& [address, account] : genesis.at("alloc").as_object()) {
    std::string text(address);
    if (!text.starts_with("0x")) text = "0x" + text;
    auto raw = ParseAddress(text);
    ASSERT_TRUE(raw.has_value()) << address;
    const std::string balance(account.as_object().at("balance").as_string());
    if (!validators.contains(*raw) && balance != "0" && balance != "0x0") funded = true;
  }
  EXPECT_TRUE(funded) << "genesis funds no anchoring account";
}

TEST(BesuGenesis, EachValidatorBootsFromTheOtherThreeAndIsPermissioned) {
  const auto validators = ValidatorAddresses();
  const std::regex enode_re("enode://([0-9a-f]{128})@([0-9.]+):([0-9]+)");
  std::set<std::string> hosts;
  std::set<std::string> enode_keys_seen;
  for (int i = 1; i <= 4; ++i) {
    const std::string path = BesuDir() + "/validator" + std::to_string(i) + ".toml";
    const std::string toml = ReadFile(path);
    ASSERT_FALSE(toml.empty()) << path;
    std::smatch host;
    ASSERT_TRUE(std::regex_search(toml, host, std::regex("p2p-host=\"([0-9.]+)\""))) << path;
    hosts.insert(host[1]);
    EXPECT_NE(toml.find("genesis-file=\"/etc/besu/genesis.json\""), std::string::npos) << path;
    EXPECT_NE(toml.find("\"QBFT\""), std::string::npos) << path << ": the QBFT RPC API (qbft_getValidatorsByBlockNumber)";
    EXPECT_NE(toml.find("permissions-nodes-config-file-enabled=true"), std::string::npos) << path;
    int bootnodes = 0;
    for (auto it = std::sregex_iterator(toml.begin(), toml.end(), enode_re); it != std::sregex_iterator(); ++it) {
      ++bootnodes;
      EXPECT_NE((*it)[2].str(), host[1].str()) << path << " lists itself as a bootnode";
      auto key = HexDecode((*it)[1].str());
      ASSERT_TRUE(key.has_value());
      EXPECT_TRUE(validators.contains(AddressOfPublicKey(*key)))
          << path << ": bootnode " << (*it)[1] << " is not a validator's key";
      enode_keys_seen.insert((*it)[1]);
    }
    EXPECT_EQ(bootnodes, 3) << path;
  }
  EXPECT_EQ(hosts.size(), 4u);
  EXPECT_EQ(enode_keys_seen.size(), 4u) << "every validator is some other's bootnode";
  // The allowlist holds exactly the four validators.
  const std::string allow = ReadFile(BesuDir() + "/permissions_config.toml");
  std::set<std::string> allowed;
  for (auto it = std::sregex_iterator(allow.begin(), allow.end(), enode_re); it != std::sregex_iterator(); ++it) {
    allowed.insert((*it)[1]);
  }
  EXPECT_EQ(allowed, enode_keys_seen);
}

}  // namespace
}  // namespace trace
