#include "trace/common/encoding.h"

#include <array>

namespace trace {
namespace {

constexpr std::string_view kHexDigits = "0123456789abcdef";
constexpr std::string_view kStd = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::array<int8_t, 256> ReverseTable(std::string_view alphabet) {
  std::array<int8_t, 256> table;
  table.fill(-1);
  for (size_t i = 0; i < alphabet.size(); ++i) table[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  return table;
}

std::string Encode64(std::string_view in, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  size_t rest = in.size() - i;
  if (rest > 0) {
    uint32_t n = uint8_t(in[i]) << 16;
    if (rest == 2) n |= uint8_t(in[i + 1]) << 8;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    if (rest == 2) out += alphabet[(n >> 6) & 63];
    if (pad) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

// Decodes unpadded base64 text in `alphabet`; `what` names the encoding in errors.
Result<Bytes> Decode64(std::string_view text, const std::array<int8_t, 256>& table, std::string_view what) {
  if (text.size() % 4 == 1) return Fail(InvalidArgument(std::string(what) + ": impossible length"));
  Bytes out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    int v = table[static_cast<uint8_t>(text[i])];
    if (v < 0) return Fail(InvalidArgument(std::string(what) + ": bad character at offset " + std::to_string(i)));
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  // Canonical encodings leave the unused low bits zero; refuse the others so that
  // one byte string has exactly one text form.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    return Fail(InvalidArgument(std::string(what) + ": non-canonical trailing bits"));
  }
  return out;
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHexDigits[c >> 4];
    out += kHexDigits[c & 15];
  }
  return out;
}

Result<Bytes> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return Fail(InvalidArgument("hex: odd length"));
  Bytes out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]), lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return Fail(InvalidArgument("hex: bad character at offset " + std::to_string(i)));
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) { return Encode64(bytes, kStd, true); }

Result<Bytes> Base64Decode(std::string_view text) {
  static const auto table = ReverseTable(kStd);
  if (text.size() % 4 != 0) return Fail(InvalidArgument("base64: length not a multiple of 4"));
  size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  return Decode64(text.substr(0, text.size() - pad), table, "base64");
}

std::string Base64UrlEncode(std::string_view bytes) { return Encode64(bytes, kUrl, false); }

Result<Bytes> Base64UrlDecode(std::string_view text) {
  static const auto table = ReverseTable(kUrl);
  return Decode64(text, table, "base64url");
}

}  // namespace trace
