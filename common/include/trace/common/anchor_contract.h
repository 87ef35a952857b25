// The TraceAnchor contract (PROTOCOL.md §6) through EthClient: deploy it, anchor a
// (treeSize, root), read rootAt and latest. Thin wrappers over EthClient and abi.h; the
// anchor service builds its own retry and confirmation logic on top.
//
// Example:
//   auto deployed = trace::TraceAnchorContract::Deploy(eth, key, trace::anchor::TraceAnchorCreationCode());
//   trace::TraceAnchorContract contract(eth, deployed->address);
//   auto sent = contract.Anchor(key, 5, root);        // submitted, not yet mined
//   auto receipt = eth.WaitForReceipt(sent->hash, std::chrono::seconds(30));
//   auto latest = contract.Latest();                   // {5, root}
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "trace/common/abi.h"
#include "trace/common/eth_client.h"

namespace trace {

struct DeployedContract {
  std::string address{};  // 20 bytes
  uint64_t chain_id = 0;
  std::string tx_hash{};  // 32 bytes
  uint64_t block_number = 0;
  std::string block_hash{};  // 32 bytes
};

class TraceAnchorContract {
 public:
  // `eth` must outlive this object.
  TraceAnchorContract(EthClient& eth, std::string address20) : eth_(eth), address_(std::move(address20)) {}

  // Sends a creation transaction with `creation_code` from `key`, waits up to `timeout` for
  // its receipt, and checks that code now lives at the address. FailedPrecondition when the
  // creation reverted; DeadlineExceeded when no receipt came.
  static Result<DeployedContract> Deploy(EthClient& eth, const Secp256k1PrivateKey& key, std::string_view creation_code,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

  // Submits anchor(tree_size, root) from `key` (root: 32 bytes) and returns without waiting
  // for it to be mined. A call that would revert (not an anchorer, tree size not growing,
  // zero root) fails with FailedPrecondition and the contract's reason, unless
  // `options.gas_limit` is set, which skips the estimate and sends anyway.
  Result<SentTx> Anchor(const Secp256k1PrivateKey& key, uint64_t tree_size, std::string_view root,
                        const TxOptions& options = {});

  // The root anchored at exactly `tree_size` (32 zero bytes when none).
  Result<std::string> RootAt(uint64_t tree_size, std::string_view block = "latest");
  Result<AnchoredRoot> Latest(std::string_view block = "latest");

  const std::string& address() const { return address_; }

 private:
  EthClient& eth_;
  std::string address_{};
};

}  // namespace trace
