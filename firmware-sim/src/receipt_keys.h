// Where the simulator learns the platform's receipt public key(s) from, so that
// it deletes an outbox entry only on a receipt the platform really signed.
#pragma once

#include <string>
#include <vector>

#include "trace/common/status.h"

namespace trace::devicesim {

struct ReceiptKeySources {
  std::string key_b64url;  // --receipt-key: one base64url public key
  std::string keys_file;   // --keys-file: the keys document of PROTOCOL.md §7 (GET /api/v1/keys)
  std::string keys_dir;    // TRACE_KEYS_DIR: the public half of DIR/receipt.key
};

// The raw 32-byte public keys from every source that is set, in that order.
// InvalidArgument when a set source is malformed, NotFound when none is set or
// none yields a key.
Result<std::vector<std::string>> LoadReceiptKeys(const ReceiptKeySources& sources);

// The receipt public keys listed in a keys document ({"receipt":[{"id","public_key"}]}).
Result<std::vector<std::string>> ReceiptKeysFromDocument(std::string_view json);

}  // namespace trace::devicesim
