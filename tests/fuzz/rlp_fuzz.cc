// RLP decoding (trace/common/rlp.h). The decoder refuses every non-canonical
// form, so decoding is the inverse of encoding on what it accepts:
//   - re-encoding a decoded item gives back the input bytes exactly;
//   - an item RlpToUint reads encodes back (RlpUint) to the item's own bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "trace/common/rlp.h"

namespace {

std::string Encode(const trace::RlpItem& item) {
  if (!item.is_list) return trace::RlpBytes(item.bytes);
  std::vector<std::string> parts;
  parts.reserve(item.list.size());
  for (const auto& child : item.list) parts.push_back(Encode(child));
  return trace::RlpList(parts);
}

void CheckUints(const trace::RlpItem& item) {
  if (item.is_list) {
    for (const auto& child : item.list) CheckUints(child);
    return;
  }
  auto value = trace::RlpToUint(item);
  if (!value) return;
  trace::fuzz::Require(trace::RlpUint(*value) == trace::RlpBytes(item.bytes),
                       "RlpUint(RlpToUint(item)) differs from the item's encoding");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view encoded(reinterpret_cast<const char*>(data), size);
  auto item = trace::RlpDecode(encoded);
  if (!item) return 0;
  trace::fuzz::Require(Encode(*item) == encoded, "re-encoding a decoded item changed the bytes");
  CheckUints(*item);
  return 0;
}
