// The real seams of trace-verify: documents over HTTP(S) with HttpClient, chain roots with
// eth_call through EthClient and TraceAnchorContract.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "trace/common/eth_client.h"
#include "trace/common/http_client.h"
#include "verifier.h"

namespace trace::verify {

// Maps HTTP answers onto the Fetcher contract (verifier.h). Not thread-safe.
class HttpFetcher : public Fetcher {
 public:
  explicit HttpFetcher(HttpClientOptions options = {}) : http_(std::move(options)) {}
  Result<std::string> Get(const std::string& url, std::string_view accept) override;

 private:
  HttpClient http_;
};

// rootAt, eth_chainId and anchor transaction receipts from a node. Not thread-safe (EthClient serializes anyway).
class EthChainReader : public ChainReader {
 public:
  // `contract_hex` is "0x" + 40 hex digits. InvalidArgument for a bad URL or address.
  static Result<std::unique_ptr<EthChainReader>> Create(std::string_view rpc_url, std::string_view contract_hex);
  Result<uint64_t> ChainId() override;
  Result<Hash> RootAt(uint64_t tree_size) override;
  std::string contract() const override { return contract_; }
  // eth_getTransactionReceipt: mined, status 1, an Anchored(tree_size, root) log from the contract.
  Status CheckAnchorTx(std::string_view tx_hash, uint64_t tree_size, const Hash& root) override;

 private:
  EthChainReader(std::unique_ptr<EthClient> eth, std::string contract)
      : eth_(std::move(eth)), contract_(std::move(contract)) {}
  std::unique_ptr<EthClient> eth_;
  std::string contract_;
};

}  // namespace trace::verify
