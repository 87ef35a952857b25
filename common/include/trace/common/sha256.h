// SHA-256 through OpenSSL's EVP interface.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace trace {

using Hash = std::array<uint8_t, 32>;

Hash Sha256(std::string_view data);

// SHA-256 over the concatenation of `parts`, without building it.
Hash Sha256(std::initializer_list<std::string_view> parts);

// The hash as raw 32 bytes in a string, or as lowercase hex.
std::string HashBytes(const Hash& h);
std::string HashHex(const Hash& h);

// Incremental hashing for long inputs. Not thread-safe; one per thread.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(std::string_view data);
  // Returns the digest and resets the hasher for reuse.
  Hash Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trace
