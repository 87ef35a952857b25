// EthChainClient: the real ChainClient (anchorer.h) over EthClient (JSON-RPC) and
// the TraceAnchor ABI. EIP-1559 fees from the node (legacy gas price on a chain
// without a base fee), a fixed gas limit, the sender's nonce as the state machine
// asks for it, and the node's error messages mapped onto the seam's codes.
//
// Example:
//   auto chain = trace::anchor::EthChainClient::Create({.rpc_url = url, .contract = "0x5fbd...",
//                                                      .key_file = "/etc/trace/anchorer.key"});
//   trace::anchor::ChainAnchorer anchorer(**chain, {.confirmations = 2});
//
// Not thread-safe beyond what EthClient gives: ChainAnchorer calls it from one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "anchorer.h"
#include "trace/common/eth_client.h"
#include "trace/common/secp256k1.h"
#include "trace/common/status.h"

namespace trace::anchor {

struct EthChainClientOptions {
  std::string rpc_url;   // http://host:port
  std::string contract;  // 0x + 40 hex (any case; mixed case must be EIP-55)
  std::string key_file;  // 64 hex digits, mode 0600 (ReadSecp256k1KeyFile)
  // anchor() costs about 50,000 gas the first time a slot is written; fixed so that a
  // transaction can be signed while the node cannot estimate (mid-reorganization).
  uint64_t gas_limit = 150'000;
  std::chrono::milliseconds rpc_timeout{5'000};
};

class EthChainClient : public ChainClient {
 public:
  // Reads the key, checks the contract address, and asks the node for its chain id.
  // PermissionDenied/NotFound/InvalidArgument for a bad key file or address;
  // Unavailable while the node cannot be reached (callers retry).
  static Result<std::unique_ptr<EthChainClient>> Create(const EthChainClientOptions& options);

  uint64_t chain_id() const override { return chain_id_; }
  std::string contract() const override { return contract_hex_; }
  std::string sender() const override { return sender_hex_; }

  Result<uint64_t> NextNonce() override;
  Result<SignedAnchorTx> PrepareAnchor(uint64_t tree_size, const Hash& root, uint64_t nonce) override;
  // "nonce too low" and its variants are FailedPrecondition; connection trouble is
  // Unavailable; any other refusal by the node is Internal with its message.
  Status Broadcast(const SignedAnchorTx& tx) override;
  Result<std::optional<TxReceipt>> Receipt(const std::string& tx_hash) override;
  Result<bool> Known(const std::string& tx_hash) override;
  Result<uint64_t> BlockNumber() override;
  Result<std::string> BlockHash(uint64_t number) override;

  EthClient& eth() { return *eth_; }

 private:
  EthChainClient(std::unique_ptr<EthClient> eth, Secp256k1PrivateKey key, std::string contract20, uint64_t chain_id,
                 uint64_t gas_limit);

  std::unique_ptr<EthClient> eth_;
  Secp256k1PrivateKey key_;
  std::string contract20_;
  std::string contract_hex_;
  std::string sender_hex_;
  uint64_t chain_id_;
  uint64_t gas_limit_;
};

}  // namespace trace::anchor
