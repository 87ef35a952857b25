#include "trace/common/sha256.h"

#include <openssl/evp.h>

#include <stdexcept>

#include "trace/common/encoding.h"

namespace trace {

struct Sha256Hasher::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256Hasher::Sha256Hasher() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  if (impl_->ctx == nullptr || EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("EVP_DigestInit_ex(sha256) failed");
  }
}

Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(impl_->ctx); }

void Sha256Hasher::Update(std::string_view data) { EVP_DigestUpdate(impl_->ctx, data.data(), data.size()); }

Hash Sha256Hasher::Finish() {
  Hash h{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, h.data(), &len);
  EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
  return h;
}

Hash Sha256(std::string_view data) {
  Hash h{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), h.data(), &len, EVP_sha256(), nullptr);
  return h;
}

Hash Sha256(std::initializer_list<std::string_view> parts) {
  thread_local Sha256Hasher hasher;
  for (std::string_view p : parts) hasher.Update(p);
  return hasher.Finish();
}

std::string HashBytes(const Hash& h) { return std::string(reinterpret_cast<const char*>(h.data()), h.size()); }

std::string HashHex(const Hash& h) { return HexEncode(HashBytes(h)); }

}  // namespace trace
