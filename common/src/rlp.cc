#include "trace/common/rlp.h"

namespace trace {
namespace {

std::string BigEndian(uint64_t v) {
  char buf[8];
  int n = 0;
  for (; v; v >>= 8) buf[7 - n++] = static_cast<char>(v & 0xff);
  return std::string(buf + 8 - n, n);
}

std::string Header(size_t length, uint8_t short_base) {
  if (length < 56) return std::string(1, static_cast<char>(short_base + length));
  std::string len = BigEndian(length);
  return std::string(1, static_cast<char>(short_base + 55 + len.size())) + len;
}

constexpr int kMaxDepth = 64;

Status Error(size_t offset, std::string_view what) {
  return InvalidArgument("rlp: " + std::string(what) + " at offset " + std::to_string(offset));
}

// Decodes the item starting at `pos` in `in`, advancing `pos` past it.
Result<RlpItem> DecodeAt(std::string_view in, size_t& pos, int depth) {
  if (depth > kMaxDepth) return Fail(Error(pos, "nesting too deep"));
  if (pos >= in.size()) return Fail(Error(pos, "unexpected end"));
  const size_t start = pos;
  const uint8_t prefix = static_cast<uint8_t>(in[pos++]);
  RlpItem item;
  if (prefix < 0x80) {
    item.bytes = std::string(1, static_cast<char>(prefix));
    return item;
  }
  const bool is_list = prefix >= 0xc0;
  const uint8_t base = is_list ? 0xc0 : 0x80;
  size_t length = 0;
  if (prefix - base <= 55) {
    length = prefix - base;
  } else {
    size_t len_of_len = prefix - base - 55;
    if (len_of_len > 8 || in.size() - pos < len_of_len) return Fail(Error(start, "length past the end"));
    if (in[pos] == 0) return Fail(Error(start, "length with a leading zero"));
    for (size_t i = 0; i < len_of_len; ++i) {
      length = (length << 8) | static_cast<uint8_t>(in[pos++]);
    }
    if (len_of_len == 8 && (static_cast<uint8_t>(in[pos - 8]) & 0x80)) return Fail(Error(start, "length too large"));
    if (length < 56) return Fail(Error(start, "long form for a short payload"));
  }
  if (length > in.size() - pos) return Fail(Error(start, "payload past the end"));
  std::string_view payload = in.substr(pos, length);
  pos += length;
  if (!is_list) {
    if (length == 1 && static_cast<uint8_t>(payload[0]) < 0x80) {
      return Fail(Error(start, "single byte below 0x80 must encode itself"));
    }
    item.bytes = std::string(payload);
    return item;
  }
  item.is_list = true;
  size_t inner = 0;
  while (inner < payload.size()) {
    auto child = DecodeAt(payload, inner, depth + 1);
    if (!child) return Fail(Error(start, "in list item: " + child.error().message()));
    item.list.push_back(std::move(*child));
  }
  return item;
}

}  // namespace

std::string RlpBytes(std::string_view bytes) {
  if (bytes.size() == 1 && static_cast<uint8_t>(bytes[0]) < 0x80) return std::string(bytes);
  return Header(bytes.size(), 0x80) + std::string(bytes);
}

std::string RlpUint(uint64_t value) { return RlpBytes(BigEndian(value)); }
std::string RlpUint(const Uint256& value) { return RlpBytes(value.ToMinimalBigEndian()); }

std::string RlpList(const std::vector<std::string>& encoded_items) {
  size_t total = 0;
  for (const auto& i : encoded_items) total += i.size();
  std::string out = Header(total, 0xc0);
  out.reserve(out.size() + total);
  for (const auto& i : encoded_items) out += i;
  return out;
}

Result<RlpItem> RlpDecode(std::string_view encoded) {
  size_t pos = 0;
  auto item = DecodeAt(encoded, pos, 0);
  if (!item) return item;
  if (pos != encoded.size()) return Fail(Error(pos, "trailing bytes"));
  return item;
}

Result<Uint256> RlpToUint(const RlpItem& item) {
  if (item.is_list) return Fail(InvalidArgument("rlp: integer expected, got a list"));
  if (!item.bytes.empty() && item.bytes[0] == 0) return Fail(InvalidArgument("rlp: integer with a leading zero"));
  return Uint256::FromBigEndian(item.bytes);
}

}  // namespace trace
