// A minimal unsigned 256-bit integer for Ethereum quantities (wei values, fees): parse
// from decimal or 0x-hex, add, multiply by a small factor, compare, and convert to the
// big-endian minimal bytes RLP wants and the 0x-quantity JSON-RPC wants. Nothing more.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "trace/common/status.h"

namespace trace {

class Uint256 {
 public:
  constexpr Uint256() = default;
  constexpr Uint256(uint64_t v) : limbs_{v, 0, 0, 0} {}  // NOLINT: implicit on purpose

  // Decimal digits ("1000000000000000000"); InvalidArgument on anything else or overflow.
  static Result<Uint256> FromDecimal(std::string_view text);
  // "0x..." hex quantity (JSON-RPC); "0x0" is zero. Leading zeros are accepted.
  static Result<Uint256> FromHex(std::string_view text);
  // Big-endian bytes, at most 32 (leading zeros allowed).
  static Result<Uint256> FromBigEndian(std::string_view bytes);

  // Big-endian without leading zeros ("" for zero): RLP's integer form.
  std::string ToMinimalBigEndian() const;
  // 32 bytes big-endian: ABI's form.
  std::string ToBigEndian32() const;
  std::string ToDecimal() const;
  // "0x" + lowercase hex without leading zeros ("0x0" for zero): JSON-RPC's quantity form.
  std::string ToHexQuantity() const;

  bool IsZero() const { return limbs_[0] == 0 && limbs_[1] == 0 && limbs_[2] == 0 && limbs_[3] == 0; }
  // True when the value fits in 64 bits; then Low64() is the value.
  bool FitsUint64() const { return limbs_[1] == 0 && limbs_[2] == 0 && limbs_[3] == 0; }
  uint64_t Low64() const { return limbs_[0]; }

  // Overflow (past 2^256 - 1) is reported as InvalidArgument.
  Result<Uint256> Add(const Uint256& other) const;
  Result<Uint256> MulSmall(uint64_t factor) const;

  friend bool operator==(const Uint256&, const Uint256&) = default;
  friend std::strong_ordering operator<=>(const Uint256& a, const Uint256& b);

 private:
  std::array<uint64_t, 4> limbs_{};  // little-endian limbs
};

}  // namespace trace
