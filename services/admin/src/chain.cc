#include "chain.h"

#include <boost/json.hpp>

#include "trace/anchor/trace_anchor_code.h"
#include "trace/common/anchor_contract.h"
#include "trace/common/eth_client.h"
#include "trace/common/secp256k1.h"

namespace trace::admin {

Result<boost::json::object> ChainDeployCommand(const std::string& rpc_url, const std::string& key_file,
                                               std::chrono::milliseconds timeout) {
  if (rpc_url.empty()) return Fail(InvalidArgument("no chain: set TRACE_CHAIN_RPC or pass --rpc"));
  if (key_file.empty()) return Fail(InvalidArgument("no key: set TRACE_ANCHOR_KEY_FILE or pass --key-file"));
  auto key = ReadSecp256k1KeyFile(key_file);
  if (!key) return Fail(key.error());
  auto eth = EthClient::Create(rpc_url);
  if (!eth) return Fail(eth.error());
  auto deployed = TraceAnchorContract::Deploy(**eth, *key, anchor::TraceAnchorCreationCode(), timeout);
  if (!deployed) return Fail(deployed.error());
  return boost::json::object{{"contract", ChecksumAddress(deployed->address)},
                             {"chain_id", deployed->chain_id},
                             {"tx", ToHexData(deployed->tx_hash)},
                             {"block", deployed->block_number}};
}

}  // namespace trace::admin
