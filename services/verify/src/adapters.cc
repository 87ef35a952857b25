#include "adapters.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "trace/common/anchor_contract.h"

namespace trace::verify {

Result<std::string> HttpFetcher::Get(const std::string& url, std::string_view accept) {
  auto res = http_.Get(url, {{"Accept", std::string(accept)}});
  // A rate-limited server (trace-api answers 429 + Retry-After past 20 requests/s per client)
  // is asked again after the wait it names, at most 3 s each time and 5 times in all.
  for (int retry = 0; res && res->status == 429 && retry < 5; ++retry) {
    int wait_s = 1;
    if (auto after = res->Header("Retry-After")) {
      try {
        wait_s = std::clamp(std::stoi(*after), 1, 3);
      } catch (const std::exception&) {  // an HTTP date or garbage: the default wait
      }
    }
    std::this_thread::sleep_for(std::chrono::seconds(wait_s));
    res = http_.Get(url, {{"Accept", std::string(accept)}});
  }
  if (!res) return Fail(res.error());
  const unsigned s = res->status;
  if (s == 200) return std::move(res->body);
  const std::string what = "GET " + url + ": HTTP " + std::to_string(s);
  if (s == 404 || s == 410) return Fail(NotFound(what));
  if (s >= 500 || s == 429) return Fail(Unavailable(what));
  return Fail(InvalidArgument(what));
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

}  // namespace trace::verify
