// trace-admin's chain commands.
#pragma once

#include <chrono>
#include <string>

#include <boost/json/object.hpp>

#include "trace/common/status.h"

namespace trace::admin {

// Deploys TraceAnchor (as compiled into this binary) from the account whose secp256k1 key is
// in `key_file` (hex, mode 0600), waits for the receipt and checks the code is there. The
// deployer becomes the contract's owner and first anchorer.
// {"contract": "0x<EIP-55>", "chain_id": N, "tx": "0x...", "block": N}
// InvalidArgument for a missing --rpc or --key-file (before any connection), PermissionDenied
// for a key file readable by others, Unavailable when the node does not answer.
Result<boost::json::object> ChainDeployCommand(const std::string& rpc_url, const std::string& key_file,
                                               std::chrono::milliseconds timeout);

}  // namespace trace::admin
