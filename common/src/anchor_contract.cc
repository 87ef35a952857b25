#include "trace/common/anchor_contract.h"

namespace trace {

Result<DeployedContract> TraceAnchorContract::Deploy(EthClient& eth, const Secp256k1PrivateKey& key,
                                                     std::string_view creation_code,
                                                     std::chrono::milliseconds timeout) {
  auto chain_id = eth.ChainId();
  if (!chain_id) return Fail(chain_id.error());
  CallRequest create{.data = std::string(creation_code)};
  auto sent = SignAndSend(eth, key, create, {.chain_id = *chain_id});
  if (!sent) return Fail(sent.error().WithContext("deploy TraceAnchor"));
  auto receipt = eth.WaitForReceipt(sent->hash, timeout);
  if (!receipt) return Fail(receipt.error().WithContext("deploy TraceAnchor"));
  if (!receipt->success) {
    return Fail(FailedPrecondition("deploy TraceAnchor: creation transaction " + ToHexData(sent->hash) + " reverted"));
  }
  std::string address = receipt->contract_address.value_or(CreateAddress(key.address(), sent->nonce));
  auto code = eth.GetCode(address);
  if (!code) return Fail(code.error().WithContext("deploy TraceAnchor"));
  if (code->empty()) return Fail(DataLoss("deploy TraceAnchor: no code at " + ToHexData(address)));
  return DeployedContract{.address = address,
                          .chain_id = *chain_id,
                          .tx_hash = sent->hash,
                          .block_number = receipt->block_number,
                          .block_hash = receipt->block_hash};
}

Result<SentTx> TraceAnchorContract::Anchor(const Secp256k1PrivateKey& key, uint64_t tree_size, std::string_view root,
                                           const TxOptions& options) {
  if (root.size() != 32) return Fail(InvalidArgument("anchor: root must be 32 bytes"));
  CallRequest call{.to = address_, .data = EncodeAnchorCall(tree_size, root)};
  auto sent = SignAndSend(eth_, key, call, options);
  if (!sent) return Fail(sent.error().WithContext("anchor(" + std::to_string(tree_size) + ")"));
  return sent;
}

Result<std::string> TraceAnchorContract::RootAt(uint64_t tree_size, std::string_view block) {
  auto data = eth_.Call({.to = address_, .data = EncodeRootAtCall(tree_size)}, block);
  if (!data) return Fail(data.error().WithContext("rootAt"));
  return DecodeRootAtResult(*data);
}

Result<AnchoredRoot> TraceAnchorContract::Latest(std::string_view block) {
  auto data = eth_.Call({.to = address_, .data = EncodeLatestCall()}, block);
  if (!data) return Fail(data.error().WithContext("latest"));
  return DecodeLatestResult(*data);
}

}  // namespace trace
