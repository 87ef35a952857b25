// The platform's own Ed25519 keys: the log key that signs checkpoints and the
// receipt key that signs receipts (PROTOCOL.md §4, §5, §7).
//
// Private halves live in files under one directory (TRACE_KEYS_DIR), never in
// the database:
//   DIR/log.key       the log key      (mode 0600, format of WriteEd25519KeyFile)
//   DIR/receipt.key   the receipt key  (mode 0600)
// The directory is created with mode 0700 when missing.
//
// Key ids (a contract: receipts carry ReceiptKeyId in their "key" field, the
// keys document and the platform_keys table use both):
//   receipt key id = "receipt-" + first 8 lowercase hex digits of SHA-256(public key)
//   log key id     = "log-"     + first 8 lowercase hex digits of SHA-256(public key)
// The log key's *name* (the checkpoint signature line's key name and origin) is
// configured separately (TRACE_LOG_NAME, default kDefaultLogName).
//
// Example (the gateway):
//   auto keys = trace::LoadPlatformKeys(flags.Get("keys-dir"), flags.Get("log-name"));
//   if (!keys) return Fail(keys.error());
//   receipt["key"] = keys->receipt_key_id;
//   std::string sig = keys->receipt.Sign(canonical_receipt);
#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "trace/common/ed25519.h"
#include "trace/common/status.h"

namespace trace {

inline constexpr std::string_view kDefaultLogName = "trace.local/log";
inline constexpr std::string_view kLogKeyFile = "log.key";
inline constexpr std::string_view kReceiptKeyFile = "receipt.key";

struct PlatformKeys {
  std::string log_name;        // the log's name (checkpoint origin and signer name)
  Ed25519PrivateKey log;       // signs checkpoints
  std::string log_key_id;      // LogKeyId(log.public_key())
  Ed25519PrivateKey receipt;   // signs receipts
  std::string receipt_key_id;  // ReceiptKeyId(receipt.public_key())
  bool created_log = false;      // true when this call generated log.key
  bool created_receipt = false;  // true when this call generated receipt.key
};

// "receipt-" + first 8 hex digits of SHA-256(public_key).
std::string ReceiptKeyId(std::string_view public_key);
// "log-" + first 8 hex digits of SHA-256(public_key).
std::string LogKeyId(std::string_view public_key);

// Reads DIR/log.key and DIR/receipt.key. NotFound when a file is missing,
// InvalidArgument when one is malformed or readable by group or others.
// `log_name` must be non-empty. Thread-safe (touches only the files).
Result<PlatformKeys> LoadPlatformKeys(const std::string& dir, std::string_view log_name);

// The receipt key alone, what trace-gateway signs with: a gateway host needs
// DIR/receipt.key and never log.key. Same errors as LoadPlatformKeys.
struct ReceiptKey {
  Ed25519PrivateKey key;
  std::string id;  // ReceiptKeyId(key.public_key())
};
Result<ReceiptKey> LoadReceiptKey(const std::string& dir);

// The log key alone, what trace-anchor signs checkpoints with (DIR/log.key).
// Same errors as LoadPlatformKeys.
struct LogKey {
  std::string log_name;
  Ed25519PrivateKey key;
  std::string id;  // LogKeyId(key.public_key())
};
Result<LogKey> LoadLogKey(const std::string& dir, std::string_view log_name);
inline LogKey LogKeyOf(const PlatformKeys& keys) { return {keys.log_name, keys.log, keys.log_key_id}; }

// Like LoadPlatformKeys, but first creates what is missing: the directory
// (0700) and each missing key file (a fresh key, mode 0600, written
// atomically). Existing keys are never replaced. Two processes creating the
// same missing key at once may each write one; the last rename wins, so call
// it from one operator command (`trace-admin keys`), not from every service.
Result<PlatformKeys> LoadOrCreatePlatformKeys(const std::string& dir, std::string_view log_name);

// The keys document of PROTOCOL.md §7 for these keys:
//   {"log": {"name": log_name, "public_key": b64url}, "receipt": [{"id", "public_key"}]}
boost::json::object KeysDocument(const PlatformKeys& keys);

}  // namespace trace
