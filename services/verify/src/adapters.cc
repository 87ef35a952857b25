#include "adapters.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "trace/common/abi.h"
#include "trace/common/anchor_contract.h"
#include "trace/common/encoding.h"

namespace trace::verify {

Result<std::string> HttpFetcher::Get(const std::string& url, std::string_view accept) {
  // A public server limits each client's rate (429) or sheds load (503). Both say when to come
  // back in Retry-After; a verifier that makes two requests an event honours it, a few times,
  // for a few seconds each, before calling the server unreachable.
  constexpr int kMaxWaits = 8;
  constexpr int kMaxWaitSeconds = 5;
  for (int attempt = 0;; ++attempt) {
    auto res = http_.Get(url, {{"Accept", std::string(accept)}});
    if (!res) return Fail(res.error());
    const unsigned s = res->status;
    if (s == 200) return std::move(res->body);
    const std::string what = "GET " + url + ": HTTP " + std::to_string(s);
    if (s == 404 || s == 410) return Fail(NotFound(what));
    if (s == 429 || s == 503) {
      auto after = res->Header("Retry-After");
      int seconds = after ? std::atoi(after->c_str()) : 1;
      if (attempt < kMaxWaits && after && seconds >= 0 && seconds <= kMaxWaitSeconds) {
        std::this_thread::sleep_for(std::chrono::seconds(std::max(seconds, 1)));
        continue;
      }
    }
    if (s >= 500 || s == 429) return Fail(Unavailable(what));
    return Fail(InvalidArgument(what));
  }
}

Result<std::unique_ptr<EthChainReader>> EthChainReader::Create(std::string_view rpc_url,
                                                               std::string_view contract_hex) {
  auto address = FromHexData(contract_hex, 20);
  if (!address) return Fail(InvalidArgument("contract: not 0x + 40 hex digits: " + std::string(contract_hex)));
  auto eth = EthClient::Create(rpc_url);
  if (!eth) return Fail(eth.error().WithContext("chain rpc"));
  return std::unique_ptr<EthChainReader>(new EthChainReader(std::move(*eth), std::move(*address)));
}

Result<uint64_t> EthChainReader::ChainId() { return eth_->ChainId(); }

Result<Hash> EthChainReader::RootAt(uint64_t tree_size) {
  TraceAnchorContract contract(*eth_, contract_);
  auto root = contract.RootAt(tree_size);
  if (!root) return Fail(root.error());
  if (root->size() != 32) return Fail(DataLoss("rootAt: answer is not 32 bytes"));
  Hash h;
  std::copy(root->begin(), root->end(), h.begin());
  return h;
}

Status EthChainReader::CheckAnchorTx(std::string_view tx_hash, uint64_t tree_size, const Hash& root) {
  auto receipt = eth_->GetTransactionReceipt(tx_hash);
  if (!receipt) return receipt.error().WithContext("eth_getTransactionReceipt");
  if (!*receipt) return NotFound("no such transaction mined on the chain");
  if (!(*receipt)->success) return DataLoss("the transaction reverted");
  const std::string want_root = HashBytes(root);
  for (const auto& log : (*receipt)->logs) {
    if (log.removed || log.address != contract_) continue;
    auto anchored = DecodeAnchoredEvent(log.topics, log.data);
    if (anchored && anchored->tree_size == tree_size && anchored->root == want_root) return OkStatus();
  }
  return DataLoss("it emitted no Anchored(" + std::to_string(tree_size) + ", " + Base64Encode(want_root) +
                  ") from contract 0x" + HexEncode(contract_));
}

}  // namespace trace::verify
