// RFC 8785 JSON Canonicalization Scheme ("JCS") and a strict JSON parser for
// untrusted input (devices, the producer API).
//
// Signatures in this project cover canonical bytes, so two implementations must
// turn the same JSON value into the same bytes. The strict parser refuses
// everything on which implementations could disagree: invalid UTF-8, lone
// surrogates, duplicate object keys, numbers that IEEE-754 doubles cannot hold
// exactly as written integers (beyond ±2^53) or at all (1e400), trailing bytes.
//
// Errors are InvalidArgument and name the JSON path of the offending value, in
// the form `$`, `$.events[2].quantity`, `$["odd key"][0]`, plus the byte offset
// for parse errors:
//   "$.events[2].quantity: integer beyond 2^53 (at byte 118)"
//
// Example:
//   auto bytes = trace::CanonicalizeText(R"({"b": 1.50, "a": [true]})");
//   // *bytes == R"({"a":[true],"b":1.5})"
//
// All functions are thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "trace/common/status.h"

namespace trace {

// Deepest nesting of arrays and objects ParseJsonStrict accepts.
inline constexpr int kMaxJsonDepth = 64;

// The largest integer magnitude an IEEE-754 double holds with all its
// neighbours, 2^53 (PROTOCOL.md §3).
inline constexpr int64_t kMaxSafeJsonInteger = int64_t{1} << 53;

// Parses one RFC 8259 JSON text, strictly:
//   - the whole input must be well-formed UTF-8 (no overlong forms, no
//     UTF-8-encoded surrogates, nothing beyond U+10FFFF, nothing truncated);
//     no byte order mark;
//   - \u escapes must not leave a lone surrogate (a high one must be followed by
//     a \u low one, a low one must follow a high one);
//   - object keys are unique within their object (compared after unescaping);
//   - numbers follow the RFC 8259 grammar (no NaN, Infinity, leading '+' or
//     zeros, hex); an integer literal (no fraction, no exponent) must lie within
//     ±2^53; any number must be finite as a double and not underflow to zero
//     from a non-zero literal (1e400 and 1e-400 are both refused);
//   - a number written with a fraction or exponent whose magnitude lies in
//     (2^53, 1e21) is refused as well: all such doubles are integers and
//     RFC 8785 prints them as integer literals beyond 2^53 ("1e20" becomes
//     "100000000000000000000"), so accepting them would produce canonical bytes
//     this parser refuses. From 1e21 up canonical output uses exponent form
//     ("1e+30"), which parses back, so those are accepted;
//   - nesting is at most kMaxJsonDepth deep;
//   - only whitespace may follow the value.
// Integer literals become int64 values, other numbers doubles, so callers can
// tell `"seq": 7` from `"seq": 7.5`. Returns InvalidArgument naming the JSON path
// and byte offset of the first problem.
[[nodiscard]] Result<boost::json::value> ParseJsonStrict(std::string_view text);

// Returns the RFC 8785 canonical UTF-8 bytes of `value`: no whitespace, object
// members sorted by the UTF-16 code units of their keys, strings escaped as
// RFC 8785 §3.2.2.2 says, numbers printed as ECMAScript's Number.prototype.toString
// (shortest round-trip digits, exponent form from 1e21 up and below 1e-6, -0 as 0).
// Returns InvalidArgument naming the JSON path of the first value RFC 8785 cannot
// represent: NaN or infinite doubles, int64/uint64 values beyond ±2^53, strings or
// keys that are not valid UTF-8, duplicate keys.
[[nodiscard]] Result<std::string> Canonicalize(const boost::json::value& value);

// ParseJsonStrict followed by Canonicalize.
[[nodiscard]] Result<std::string> CanonicalizeText(std::string_view json);

// Formats `d` as ECMAScript Number.prototype.toString does ("1e+21", "1e-7",
// "0.000001", "123.45"); -0 gives "0". `d` must be finite (NaN and infinities
// give InvalidArgument).
[[nodiscard]] Result<std::string> FormatJsonNumber(double d);

// Appends `key` to the JSON path `path` the way errors spell it:
// `.name` for identifier-like keys, `["odd key"]` otherwise.
std::string JsonPathMember(std::string_view path, std::string_view key);
// Appends `[index]` to `path`.
std::string JsonPathIndex(std::string_view path, size_t index);

}  // namespace trace
