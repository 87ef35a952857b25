#include "trace/common/ed25519.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>

#include "trace/common/encoding.h"
#include "trace/common/files.h"

namespace trace {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

std::string RawPublicKey(EVP_PKEY* pkey) {
  std::string pub(kEd25519KeyBytes, '\0');
  size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(pub.data()), &len) != 1 ||
      len != kEd25519KeyBytes) {
    throw std::runtime_error("EVP_PKEY_get_raw_public_key failed");
  }
  return pub;
}

PkeyPtr PrivateKeyFromSeed(std::string_view seed) {
  return PkeyPtr(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                              reinterpret_cast<const unsigned char*>(seed.data()), seed.size()));
}

}  // namespace

Ed25519PrivateKey Ed25519PrivateKey::Generate() {
  std::string seed(kEd25519KeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()), static_cast<int>(seed.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return *FromSeed(seed);
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(std::string_view seed) {
  if (seed.size() != kEd25519KeyBytes) {
    return Fail(InvalidArgument("ed25519 seed must be 32 bytes, got " + std::to_string(seed.size())));
  }
  PkeyPtr pkey = PrivateKeyFromSeed(seed);
  if (!pkey) return Fail(Internal("EVP_PKEY_new_raw_private_key failed"));
  std::string public_key = RawPublicKey(pkey.get());
  return Ed25519PrivateKey(std::string(seed), std::move(public_key),
                           std::shared_ptr<EVP_PKEY>(pkey.release(), PkeyDeleter()));
}

std::string Ed25519PrivateKey::Sign(std::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!pkey_ || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey_.get()) != 1) {
    throw std::runtime_error("EVP_DigestSignInit(ed25519) failed");
  }
  std::string sig(kEd25519SignatureBytes, '\0');
  size_t len = sig.size();
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    throw std::runtime_error("EVP_DigestSign(ed25519) failed");
  }
  return sig;
}

bool Ed25519Verify(std::string_view public_key, std::string_view message, std::string_view signature) {
  if (public_key.size() != kEd25519KeyBytes || signature.size() != kEd25519SignatureBytes) return false;
  PkeyPtr pkey(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(public_key.data()), public_key.size()));
  if (!pkey) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

Result<Ed25519PrivateKey> ReadEd25519KeyFile(const std::string& path) {
  auto mode = FileMode(path);
  if (!mode) return Fail(mode.error());
  if ((*mode & 0077) != 0) {
    return Fail(PermissionDenied(path + ": private key file is accessible by group or others (chmod 600)"));
  }
  auto text = ReadFile(path);
  if (!text) return Fail(text.error());
  std::string_view t = *text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.remove_suffix(1);
  auto seed = Base64UrlDecode(t);
  if (!seed) return Fail(seed.error().WithContext(path));
  auto key = Ed25519PrivateKey::FromSeed(*seed);
  if (!key) return Fail(key.error().WithContext(path));
  return key;
}

Status WriteEd25519KeyFile(const std::string& path, const Ed25519PrivateKey& key) {
  return WriteFileAtomic(path, Base64UrlEncode(key.seed()) + "\n", 0600);
}

}  // namespace trace
