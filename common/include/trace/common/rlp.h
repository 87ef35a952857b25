// Ethereum's Recursive Length Prefix encoding (Yellow Paper, appendix B).
//
// Encoding builds bottom-up: RlpBytes()/RlpUint() give encoded items, RlpList() wraps
// already-encoded items. Decoding is strict: it refuses every non-canonical form (a single
// byte below 0x80 wrapped as a string, long forms for short payloads, lengths with leading
// zeros), lengths past the input, and trailing bytes, with InvalidArgument naming the offset.
//
// Example:
//   std::string tx = trace::RlpList({trace::RlpUint(9), trace::RlpBytes(to), ...});
//   auto item = trace::RlpDecode(tx);  // item->list[1].bytes == to
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "trace/common/status.h"
#include "trace/common/uint256.h"

namespace trace {

// The encoding of a byte string.
std::string RlpBytes(std::string_view bytes);
// The encoding of an unsigned integer: its big-endian bytes without leading zeros (0 is "").
std::string RlpUint(uint64_t value);
std::string RlpUint(const Uint256& value);
// The encoding of a list whose items are already encoded.
std::string RlpList(const std::vector<std::string>& encoded_items);

struct RlpItem {
  bool is_list = false;
  std::string bytes;           // when !is_list
  std::vector<RlpItem> list;   // when is_list
};

// Decodes exactly one item spanning the whole of `encoded`. Nesting deeper than 64 levels
// is refused.
Result<RlpItem> RlpDecode(std::string_view encoded);

// Reads an item decoded as a byte string as a canonical unsigned integer (no leading zero
// byte, at most 32 bytes).
Result<Uint256> RlpToUint(const RlpItem& item);

}  // namespace trace
