// Ed25519 (RFC 8032, pure) keys, signatures and verification through OpenSSL's EVP API.
//
// Keys are raw: a 32-byte private seed and a 32-byte public key. Signing and
// verifying are thread-safe (each call uses its own EVP context).
//
// Example:
//   auto key = trace::Ed25519PrivateKey::Generate();
//   std::string sig = key.Sign(message);
//   bool ok = trace::Ed25519Verify(key.public_key(), message, sig);
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "trace/common/status.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header

namespace trace {

inline constexpr size_t kEd25519KeyBytes = 32;
inline constexpr size_t kEd25519SignatureBytes = 64;

class Ed25519PrivateKey {
 public:
  static Ed25519PrivateKey Generate();
  // `seed` must be exactly 32 bytes.
  static Result<Ed25519PrivateKey> FromSeed(std::string_view seed);

  const std::string& seed() const { return seed_; }
  const std::string& public_key() const { return public_key_; }

  // The 64-byte signature of `message`.
  std::string Sign(std::string_view message) const;

 private:
  Ed25519PrivateKey(std::string seed, std::string public_key, std::shared_ptr<evp_pkey_st> pkey)
      : seed_(std::move(seed)), public_key_(std::move(public_key)), pkey_(std::move(pkey)) {}
  std::string seed_;
  std::string public_key_;
  // The OpenSSL key, built once: building it derives the public key, a scalar
  // multiplication as costly as the signature's own (measured: Sign took 84 us
  // with a per-call key, bench/crypto_bench.cc). Shared by copies; OpenSSL
  // allows concurrent signing with one key, each call with its own context.
  std::shared_ptr<evp_pkey_st> pkey_;
};

// True when `signature` (64 bytes) is a valid signature of `message` under
// `public_key` (32 bytes). Wrong sizes verify false.
bool Ed25519Verify(std::string_view public_key, std::string_view message, std::string_view signature);

// Reads a private key file: the seed as base64url text (one line) — the format
// WriteEd25519KeyFile writes, mode 0600. Refuses a file readable by group or others.
Result<Ed25519PrivateKey> ReadEd25519KeyFile(const std::string& path);
// Writes the seed to `path` with mode 0600 (atomically: temp file + rename).
Status WriteEd25519KeyFile(const std::string& path, const Ed25519PrivateKey& key);

}  // namespace trace
