#include "trace/common/secp256k1.h"

#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <cctype>
#include <cstring>

#include "trace/common/encoding.h"
#include "trace/common/files.h"
#include "trace/common/keccak.h"

namespace trace {
namespace {

// Created once and randomized (libsecp256k1's side-channel blinding for signing); contexts
// are safe to share between threads for const use.
const secp256k1_context* Context() {
  static const secp256k1_context* ctx = [] {
    secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    unsigned char seed[32];
    // Blinding is a hardening; a context that could not be randomized still signs correctly.
    if (RAND_bytes(seed, sizeof seed) == 1) {
      int randomized = secp256k1_context_randomize(c, seed);
      (void)randomized;
    }
    return c;
  }();
  return ctx;
}

const auto* U8(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

std::string_view Trim(std::string_view t) {
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  return t;
}

}  // namespace

std::string AddressOfPublicKey(std::string_view public_key64) {
  return Keccak256(public_key64).substr(12);
}

Result<Secp256k1PrivateKey> Secp256k1PrivateKey::FromBytes(std::string_view secret) {
  if (secret.size() != kSecp256k1KeyBytes) return Fail(InvalidArgument("secp256k1 key: not 32 bytes"));
  if (!secp256k1_ec_seckey_verify(Context(), U8(secret))) {
    return Fail(InvalidArgument("secp256k1 key: not a valid secret (zero or not below the group order)"));
  }
  secp256k1_pubkey pub;
  if (!secp256k1_ec_pubkey_create(Context(), &pub, U8(secret))) return Fail(Internal("secp256k1_ec_pubkey_create"));
  unsigned char out[65];
  size_t len = sizeof out;
  secp256k1_ec_pubkey_serialize(Context(), out, &len, &pub, SECP256K1_EC_UNCOMPRESSED);
  std::string xy(reinterpret_cast<char*>(out) + 1, 64);
  std::string address = AddressOfPublicKey(xy);
  return Secp256k1PrivateKey(std::string(secret), std::move(xy), std::move(address));
}

Result<Secp256k1PrivateKey> Secp256k1PrivateKey::FromHex(std::string_view hex) {
  hex = Trim(hex);
  if (hex.starts_with("0x") || hex.starts_with("0X")) hex.remove_prefix(2);
  if (hex.size() != 64) return Fail(InvalidArgument("secp256k1 key: expected 64 hex digits"));
  auto bytes = HexDecode(hex);
  if (!bytes) return Fail(bytes.error().WithContext("secp256k1 key"));
  return FromBytes(*bytes);
}

RecoverableSignature Secp256k1PrivateKey::Sign(std::string_view digest32) const {
  secp256k1_ecdsa_recoverable_signature sig;
  // With the default (RFC 6979) nonce the only failure is an invalid key, which FromBytes
  // already excluded; libsecp256k1 always produces low-s signatures.
  unsigned char digest[32] = {};
  std::memcpy(digest, digest32.data(), std::min<size_t>(32, digest32.size()));
  secp256k1_ecdsa_sign_recoverable(Context(), &sig, digest, U8(secret_), nullptr, nullptr);
  unsigned char compact[64];
  int recid = 0;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(Context(), compact, &recid, &sig);
  RecoverableSignature out;
  out.r.assign(reinterpret_cast<char*>(compact), 32);
  out.s.assign(reinterpret_cast<char*>(compact) + 32, 32);
  out.recovery_id = recid;
  return out;
}

Result<std::string> RecoverAddress(std::string_view digest32, const RecoverableSignature& signature) {
  if (digest32.size() != 32 || signature.r.size() != 32 || signature.s.size() != 32 ||
      signature.recovery_id < 0 || signature.recovery_id > 1) {
    return Fail(InvalidArgument("signature: wrong sizes or recovery id"));
  }
  unsigned char compact[64];
  std::memcpy(compact, signature.r.data(), 32);
  std::memcpy(compact + 32, signature.s.data(), 32);
  secp256k1_ecdsa_signature plain;
  if (!secp256k1_ecdsa_signature_parse_compact(Context(), &plain, compact)) {
    return Fail(InvalidArgument("signature: r or s out of range"));
  }
  secp256k1_ecdsa_signature normalized;
  if (secp256k1_ecdsa_signature_normalize(Context(), &normalized, &plain)) {
    return Fail(InvalidArgument("signature: high s"));
  }
  secp256k1_ecdsa_recoverable_signature sig;
  if (!secp256k1_ecdsa_recoverable_signature_parse_compact(Context(), &sig, compact, signature.recovery_id)) {
    return Fail(InvalidArgument("signature: does not parse"));
  }
  secp256k1_pubkey pub;
  if (!secp256k1_ecdsa_recover(Context(), &pub, &sig, U8(digest32))) {
    return Fail(InvalidArgument("signature: does not recover a public key"));
  }
  unsigned char out[65];
  size_t len = sizeof out;
  secp256k1_ec_pubkey_serialize(Context(), out, &len, &pub, SECP256K1_EC_UNCOMPRESSED);
  return AddressOfPublicKey(std::string_view(reinterpret_cast<char*>(out) + 1, 64));
}

std::string ChecksumAddress(std::string_view address20) {
  std::string hex = HexEncode(address20);
  std::string hash = HexEncode(Keccak256(hex));
  for (size_t i = 0; i < hex.size(); ++i) {
    if (std::isalpha(static_cast<unsigned char>(hex[i])) && hash[i] >= '8') {
      hex[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(hex[i])));
    }
  }
  return "0x" + hex;
}

Result<std::string> ParseAddress(std::string_view text) {
  if (text.size() != 42 || !(text.starts_with("0x") || text.starts_with("0X"))) {
    return Fail(InvalidArgument("address: expected 0x and 40 hex digits: " + std::string(text)));
  }
  std::string_view hex = text.substr(2);
  auto bytes = HexDecode(hex);
  if (!bytes) return Fail(InvalidArgument("address: not hex: " + std::string(text)));
  bool has_lower = false, has_upper = false;
  for (char c : hex) {
    has_lower |= (c >= 'a' && c <= 'f');
    has_upper |= (c >= 'A' && c <= 'F');
  }
  if (has_lower && has_upper && ChecksumAddress(*bytes).substr(2) != hex) {
    return Fail(InvalidArgument("address: wrong EIP-55 checksum: " + std::string(text)));
  }
  return bytes;
}

Result<Secp256k1PrivateKey> ReadSecp256k1KeyFile(const std::string& path) {
  auto mode = FileMode(path);
  if (!mode) return Fail(mode.error());
  if ((*mode & 0077) != 0) {
    return Fail(PermissionDenied(path + ": private key file is accessible by group or others (chmod 600)"));
  }
  auto text = ReadFile(path);
  if (!text) return Fail(text.error());
  auto key = Secp256k1PrivateKey::FromHex(*text);
  if (!key) return Fail(key.error().WithContext(path));
  return key;
}

Status WriteSecp256k1KeyFile(const std::string& path, const Secp256k1PrivateKey& key) {
  return WriteFileAtomic(path, "0x" + HexEncode(key.secret()) + "\n", 0600);
}

}  // namespace trace
