// secp256k1 keys and recoverable ECDSA signatures as Ethereum uses them, through
// libsecp256k1: deterministic nonces (RFC 6979), low-s signatures, a recovery id, and
// addresses (the last 20 bytes of keccak256 of the uncompressed public key without 0x04).
//
// Example:
//   auto key = trace::ReadSecp256k1KeyFile("/etc/trace/anchorer.key");
//   auto sig = key->Sign(trace::Keccak256(payload));    // r, s, recovery_id
//   std::string addr = trace::ChecksumAddress(key->address());  // "0xf39F..."
//
// Signing and recovery are thread-safe: one immutable library context is shared.
#pragma once

#include <string>
#include <string_view>

#include "trace/common/status.h"

namespace trace {

inline constexpr size_t kSecp256k1KeyBytes = 32;
inline constexpr size_t kEthAddressBytes = 20;

struct RecoverableSignature {
  std::string r;        // 32 bytes, big-endian
  std::string s;        // 32 bytes, big-endian, at most n/2 (low-s)
  int recovery_id = 0;  // 0 or 1: the parity of R's y coordinate (yParity)
};

class Secp256k1PrivateKey {
 public:
  // `secret` must be 32 bytes and a valid scalar (non-zero, below the group order).
  static Result<Secp256k1PrivateKey> FromBytes(std::string_view secret);
  // Accepts 64 hex digits with or without "0x" and surrounding whitespace.
  static Result<Secp256k1PrivateKey> FromHex(std::string_view hex);

  const std::string& secret() const { return secret_; }
  // 64 bytes: X || Y of the public key.
  const std::string& public_key() const { return public_key_; }
  // 20 raw bytes.
  const std::string& address() const { return address_; }

  // Signs a 32-byte digest (callers hash first). The signature is low-s.
  RecoverableSignature Sign(std::string_view digest32) const;

 private:
  Secp256k1PrivateKey(std::string secret, std::string public_key, std::string address)
      : secret_(std::move(secret)), public_key_(std::move(public_key)), address_(std::move(address)) {}
  std::string secret_;
  std::string public_key_;
  std::string address_;
};

// The 20-byte address of a 64-byte (X || Y) public key.
std::string AddressOfPublicKey(std::string_view public_key64);

// The address that signed `digest32`, or InvalidArgument when the signature does not recover.
// High-s signatures are refused (Ethereum refuses them since Homestead).
Result<std::string> RecoverAddress(std::string_view digest32, const RecoverableSignature& signature);

// EIP-55 mixed-case checksum form of a 20-byte address: "0x" + 40 hex digits.
std::string ChecksumAddress(std::string_view address20);
// Parses "0x" + 40 hex digits. All-lower or all-upper hex is accepted as is; mixed case must
// be the correct EIP-55 checksum (InvalidArgument otherwise). Returns 20 raw bytes.
Result<std::string> ParseAddress(std::string_view text);

// Reads the anchorer's key: a file of mode 0600 (group/other access refused with
// PermissionDenied) holding 64 hex digits, optionally 0x-prefixed, optionally newline-ended.
Result<Secp256k1PrivateKey> ReadSecp256k1KeyFile(const std::string& path);
// Writes the key as "0x" + hex + "\n" with mode 0600, atomically.
Status WriteSecp256k1KeyFile(const std::string& path, const Secp256k1PrivateKey& key);

}  // namespace trace
