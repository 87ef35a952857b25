// Typed Ethereum JSON-RPC calls on top of JsonRpcClient, and SignAndSend(), which turns a
// call into a signed transaction (EIP-1559 where the chain has a base fee, EIP-155 legacy
// otherwise) and submits it.
//
// Byte strings are raw (addresses 20 bytes, hashes 32 bytes); hex lives only on the wire.
// Errors are JsonRpcClient's (Unavailable when the node is down, the node's message
// otherwise), plus DataLoss when an answer has the wrong shape. Thread-safety as
// JsonRpcClient: safe to share, calls serialized.
//
// Example:
//   auto eth = trace::EthClient::Create(getenv("TRACE_CHAIN_RPC"));
//   auto sent = trace::SignAndSend(**eth, key, {.to = contract, .data = call_data});
//   auto receipt = (*eth)->WaitForReceipt(sent->hash, std::chrono::seconds(30));
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trace/common/eth_tx.h"
#include "trace/common/json_rpc.h"
#include "trace/common/secp256k1.h"
#include "trace/common/status.h"
#include "trace/common/uint256.h"

namespace trace {

struct BlockInfo {
  uint64_t number = 0;
  std::string hash{};                       // 32 bytes
  std::string parent_hash{};                // 32 bytes
  uint64_t timestamp = 0;
  std::optional<Uint256> base_fee_per_gas{};  // absent before London
};

struct LogEntry {
  std::string address{};              // 20 bytes
  std::vector<std::string> topics{};  // 32 bytes each
  std::string data{};
  uint64_t log_index = 0;
  bool removed = false;
};

struct TxReceipt {
  std::string tx_hash{};  // 32 bytes
  bool success = false;  // status 1
  uint64_t block_number = 0;
  std::string block_hash{};  // 32 bytes
  uint64_t gas_used = 0;
  Uint256 effective_gas_price{};
  std::optional<std::string> contract_address{};  // 20 bytes, for a creation
  std::vector<LogEntry> logs{};
};

// eth_call / eth_estimateGas arguments.
struct CallRequest {
  std::optional<std::string> from{};  // 20 bytes
  std::optional<std::string> to{};    // 20 bytes; none for a creation
  std::string data{};
  Uint256 value{};
  std::optional<uint64_t> gas{};
};

struct FeeSuggestion {
  std::optional<Uint256> base_fee{};  // of the latest block; none on a chain without EIP-1559
  Uint256 max_priority_fee_per_gas{};
  Uint256 max_fee_per_gas{};  // 2 * base fee + tip; the gas price on a legacy chain
};

class EthClient {
 public:
  explicit EthClient(std::unique_ptr<JsonRpcClient> rpc) : rpc_(std::move(rpc)) {}
  static Result<std::unique_ptr<EthClient>> Create(std::string_view url, JsonRpcOptions options = {});

  Result<uint64_t> ChainId();
  Result<uint64_t> BlockNumber();
  // `block` is a tag ("latest", "pending") or a 0x quantity.
  Result<uint64_t> GetTransactionCount(std::string_view address20, std::string_view block = "pending");
  Result<Uint256> GasPrice();
  Result<Uint256> MaxPriorityFeePerGas();
  // The block, or NotFound when the node has none at that number/tag.
  Result<BlockInfo> GetBlockByNumber(std::string_view block = "latest");
  Result<BlockInfo> GetBlockByNumber(uint64_t number);
  // Tip from eth_maxPriorityFeePerGas, falling back to eth_gasPrice when the node lacks it;
  // max fee = 2 * the latest base fee + tip (survives six full blocks of base-fee growth).
  Result<FeeSuggestion> SuggestFees();
  // Returns the transaction hash the node reports (32 bytes). A node that already has these
  // exact bytes ("already known") counts as success: resending is safe.
  Result<std::string> SendRawTransaction(std::string_view raw);
  // nullopt while the transaction is pending or unknown.
  Result<std::optional<TxReceipt>> GetTransactionReceipt(std::string_view tx_hash32);
  // Polls the receipt every `poll` until it exists; DeadlineExceeded after `timeout`.
  Result<TxReceipt> WaitForReceipt(std::string_view tx_hash32, std::chrono::milliseconds timeout,
                                   std::chrono::milliseconds poll = std::chrono::milliseconds(200));
  // The call's return data. A revert is FailedPrecondition whose message carries the reason.
  Result<std::string> Call(const CallRequest& call, std::string_view block = "latest");
  Result<std::string> GetCode(std::string_view address20, std::string_view block = "latest");
  // A revert is FailedPrecondition with the reason, like Call().
  Result<uint64_t> EstimateGas(const CallRequest& call);

  JsonRpcClient& rpc() { return *rpc_; }

 private:
  std::unique_ptr<JsonRpcClient> rpc_;
};

// What SignAndSend needs beyond the call; unset fields are asked from the node.
struct TxOptions {
  std::optional<uint64_t> nonce{};      // default: the sender's pending transaction count
  std::optional<uint64_t> gas_limit{};  // default: eth_estimateGas * 1.25 + 10,000
  std::optional<FeeSuggestion> fees{};  // default: SuggestFees()
  std::optional<uint64_t> chain_id{};   // default: eth_chainId
};

struct SentTx {
  std::string hash{};  // 32 bytes
  std::string raw{};
  uint64_t nonce = 0;
  uint64_t gas_limit = 0;
  FeeSuggestion fees;
};

// Builds, signs and submits a transaction from `key` for `call` (its `from` is ignored; a
// `to` of nullopt creates a contract). A revert found by eth_estimateGas is
// FailedPrecondition before anything is sent.
Result<SentTx> SignAndSend(EthClient& eth, const Secp256k1PrivateKey& key, const CallRequest& call,
                           const TxOptions& options = {});

// "0x" + lowercase hex, the JSON-RPC DATA form.
std::string ToHexData(std::string_view bytes);
// Parses JSON-RPC DATA ("0x..."), optionally requiring an exact length.
Result<std::string> FromHexData(std::string_view text, std::optional<size_t> length = std::nullopt);

}  // namespace trace
