#include "trace/common/uint256.h"

#include <algorithm>

#include "trace/common/encoding.h"

namespace trace {

std::strong_ordering operator<=>(const Uint256& a, const Uint256& b) {
  for (int i = 3; i >= 0; --i) {
    if (a.limbs_[i] != b.limbs_[i]) return a.limbs_[i] <=> b.limbs_[i];
  }
  return std::strong_ordering::equal;
}

Result<Uint256> Uint256::Add(const Uint256& other) const {
  Uint256 r;
  unsigned __int128 carry = 0;
  for (int i = 0; i < 4; ++i) {
    unsigned __int128 s = static_cast<unsigned __int128>(limbs_[i]) + other.limbs_[i] + carry;
    r.limbs_[i] = static_cast<uint64_t>(s);
    carry = s >> 64;
  }
  if (carry) return Fail(InvalidArgument("uint256 overflow"));
  return r;
}

Result<Uint256> Uint256::MulSmall(uint64_t factor) const {
  Uint256 r;
  unsigned __int128 carry = 0;
  for (int i = 0; i < 4; ++i) {
    unsigned __int128 p = static_cast<unsigned __int128>(limbs_[i]) * factor + carry;
    r.limbs_[i] = static_cast<uint64_t>(p);
    carry = p >> 64;
  }
  if (carry) return Fail(InvalidArgument("uint256 overflow"));
  return r;
}

Result<Uint256> Uint256::FromDecimal(std::string_view text) {
  if (text.empty()) return Fail(InvalidArgument("uint256: empty decimal"));
  Uint256 v;
  for (char c : text) {
    if (c < '0' || c > '9') return Fail(InvalidArgument("uint256: not a decimal number: " + std::string(text)));
    auto m = v.MulSmall(10);
    if (!m) return Fail(InvalidArgument("uint256: too large: " + std::string(text)));
    auto a = m->Add(Uint256(static_cast<uint64_t>(c - '0')));
    if (!a) return Fail(InvalidArgument("uint256: too large: " + std::string(text)));
    v = *a;
  }
  return v;
}

Result<Uint256> Uint256::FromHex(std::string_view text) {
  if (text.size() < 3 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) {
    return Fail(InvalidArgument("uint256: not a 0x quantity: " + std::string(text)));
  }
  std::string hex(text.substr(2));
  if (hex.size() % 2) hex.insert(hex.begin(), '0');
  auto bytes = HexDecode(hex);
  if (!bytes) return Fail(InvalidArgument("uint256: not a 0x quantity: " + std::string(text)));
  size_t nz = bytes->find_first_not_of('\0');
  if (nz == std::string::npos) return Uint256();
  return FromBigEndian(std::string_view(*bytes).substr(nz));
}

Result<Uint256> Uint256::FromBigEndian(std::string_view bytes) {
  if (bytes.size() > 32) return Fail(InvalidArgument("uint256: more than 32 bytes"));
  Uint256 v;
  for (size_t i = 0; i < bytes.size(); ++i) {
    size_t bit = 8 * (bytes.size() - 1 - i);
    v.limbs_[bit / 64] |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (bit % 64);
  }
  return v;
}

std::string Uint256::ToBigEndian32() const {
  std::string out(32, '\0');
  for (int i = 0; i < 32; ++i) {
    int bit = 8 * (31 - i);
    out[i] = static_cast<char>(limbs_[bit / 64] >> (bit % 64));
  }
  return out;
}

std::string Uint256::ToMinimalBigEndian() const {
  std::string full = ToBigEndian32();
  size_t nz = full.find_first_not_of('\0');
  return nz == std::string::npos ? std::string() : full.substr(nz);
}

std::string Uint256::ToHexQuantity() const {
  std::string hex = HexEncode(ToMinimalBigEndian());
  size_t nz = hex.find_first_not_of('0');
  return nz == std::string::npos ? "0x0" : "0x" + hex.substr(nz);
}

std::string Uint256::ToDecimal() const {
  if (IsZero()) return "0";
  std::string digits;
  std::array<uint64_t, 4> n = limbs_;
  auto is_zero = [&] { return n[0] == 0 && n[1] == 0 && n[2] == 0 && n[3] == 0; };
  while (!is_zero()) {
    unsigned __int128 rem = 0;
    for (int i = 3; i >= 0; --i) {
      unsigned __int128 cur = (rem << 64) | n[i];
      n[i] = static_cast<uint64_t>(cur / 10);
      rem = cur % 10;
    }
    digits.push_back(static_cast<char>('0' + static_cast<int>(rem)));
  }
  std::reverse(digits.begin(), digits.end());
  return digits;
}

}  // namespace trace
