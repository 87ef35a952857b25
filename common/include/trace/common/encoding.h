// Byte encodings used on the wire: lowercase hex (ids), base64 (RFC 9162 hashes,
// checkpoints) and base64url without padding (signatures, public keys).
//
// Decoders are strict: they reject characters outside the alphabet, wrong
// padding and (for base64url) any padding at all, with InvalidArgument.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "trace/common/status.h"

namespace trace {

// Bytes are carried in std::string: it owns, compares and hashes, and Boost.JSON,
// libpqxx and Paho all take it.
using Bytes = std::string;

std::string HexEncode(std::string_view bytes);
// Accepts upper and lower case; the length must be even.
Result<Bytes> HexDecode(std::string_view hex);

std::string Base64Encode(std::string_view bytes);    // RFC 4648 §4, padded
Result<Bytes> Base64Decode(std::string_view text);   // padding required

std::string Base64UrlEncode(std::string_view bytes);   // RFC 4648 §5, no padding
Result<Bytes> Base64UrlDecode(std::string_view text);  // padding refused

}  // namespace trace
