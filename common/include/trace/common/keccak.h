// Keccak-256 as Ethereum uses it: the original Keccak submission's padding (0x01 ... 0x80),
// not FIPS 202 SHA3-256's (0x06 ... 0x80). OpenSSL 3.0 has only the latter, hence this
// small implementation of Keccak-f[1600] (rate 136 bytes, capacity 512 bits).
//
// Example:
//   std::string digest = trace::Keccak256("abc");  // 32 raw bytes
//   trace::Keccak256Hasher h;  h.Update(part1);  h.Update(part2);  digest = h.Final();
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace trace {

inline constexpr size_t kKeccak256Bytes = 32;

// Incremental Keccak-256. Not thread-safe; cheap to copy. Final() may be called once; after
// it the hasher must be Reset() before reuse.
class Keccak256Hasher {
 public:
  Keccak256Hasher() { Reset(); }
  void Reset();
  void Update(std::string_view data);
  // The 32-byte digest of everything passed to Update().
  std::string Final();

 private:
  static constexpr size_t kRate = 136;
  std::array<uint64_t, 25> state_;
  std::array<uint8_t, kRate> buffer_;
  size_t buffered_ = 0;
};

// The 32-byte Keccak-256 digest of `data`.
std::string Keccak256(std::string_view data);

}  // namespace trace
