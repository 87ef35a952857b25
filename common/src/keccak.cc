#include "trace/common/keccak.h"

#include <cstring>

namespace trace {
namespace {

constexpr uint64_t kRoundConstants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};
// Rotation offsets and the pi lane permutation, in the order of the combined rho-pi walk.
constexpr int kRho[24] = {1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14,
                          27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44};
constexpr int kPi[24] = {10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4,
                         15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1};

inline uint64_t Rotl(uint64_t x, int n) { return (x << n) | (x >> (64 - n)); }

void KeccakF1600(std::array<uint64_t, 25>& a) {
  for (int round = 0; round < 24; ++round) {
    uint64_t c[5];
    for (int x = 0; x < 5; ++x) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
    for (int x = 0; x < 5; ++x) {
      uint64_t d = c[(x + 4) % 5] ^ Rotl(c[(x + 1) % 5], 1);
      for (int y = 0; y < 25; y += 5) a[y + x] ^= d;
    }
    uint64_t current = a[1];
    for (int i = 0; i < 24; ++i) {
      int j = kPi[i];
      uint64_t next = a[j];
      a[j] = Rotl(current, kRho[i]);
      current = next;
    }
    for (int y = 0; y < 25; y += 5) {
      uint64_t row[5];
      for (int x = 0; x < 5; ++x) row[x] = a[y + x];
      for (int x = 0; x < 5; ++x) a[y + x] = row[x] ^ (~row[(x + 1) % 5] & row[(x + 2) % 5]);
    }
    a[0] ^= kRoundConstants[round];
  }
}

// Lanes are little-endian 64-bit words.
void AbsorbBlock(std::array<uint64_t, 25>& state, const uint8_t* block, size_t rate) {
  for (size_t i = 0; i < rate / 8; ++i) {
    uint64_t lane = 0;
    for (int b = 7; b >= 0; --b) lane = (lane << 8) | block[i * 8 + b];
    state[i] ^= lane;
  }
  KeccakF1600(state);
}

}  // namespace

void Keccak256Hasher::Reset() {
  state_.fill(0);
  buffered_ = 0;
}

void Keccak256Hasher::Update(std::string_view data) {
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t n = data.size();
  if (buffered_ > 0) {
    size_t take = std::min(n, kRate - buffered_);
    std::memcpy(buffer_.data() + buffered_, p, take);
    buffered_ += take;
    p += take;
    n -= take;
    if (buffered_ < kRate) return;
    AbsorbBlock(state_, buffer_.data(), kRate);
    buffered_ = 0;
  }
  while (n >= kRate) {
    AbsorbBlock(state_, p, kRate);
    p += kRate;
    n -= kRate;
  }
  std::memcpy(buffer_.data(), p, n);
  buffered_ = n;
}

std::string Keccak256Hasher::Final() {
  // Original Keccak multi-rate padding: 0x01, zeros, 0x80 (one byte 0x81 when only one fits).
  std::memset(buffer_.data() + buffered_, 0, kRate - buffered_);
  buffer_[buffered_] ^= 0x01;
  buffer_[kRate - 1] ^= 0x80;
  AbsorbBlock(state_, buffer_.data(), kRate);
  std::string out(kKeccak256Bytes, '\0');
  for (size_t i = 0; i < kKeccak256Bytes; ++i) out[i] = static_cast<char>(state_[i / 8] >> (8 * (i % 8)));
  return out;
}

std::string Keccak256(std::string_view data) {
  Keccak256Hasher h;
  h.Update(data);
  return h.Final();
}

}  // namespace trace
