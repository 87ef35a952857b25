// Secrets the platform hands out or checks: random bytes, API tokens, session
// ids, passwords (scrypt, memory-hard, through OpenSSL's KDF), HMAC-SHA-256 and
// a constant-time comparison. All functions are thread-safe.
//
// Example:
//   auto stored = HashPassword("correct horse");        // "scrypt$32768$8$1$salt$hash"
//   bool ok = VerifyPassword("correct horse", *stored);  // true
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "trace/common/status.h"

namespace trace {

// `n` bytes from OpenSSL's CSPRNG, or Internal when it cannot deliver.
Result<std::string> RandomBytes(std::size_t n);

// A bearer secret: `prefix` + base64url(32 random bytes), e.g. "trc_..." for API
// tokens. 256 bits of entropy, so stored as SHA-256 only (see 0001_core.sql).
Result<std::string> NewBearerSecret(std::string_view prefix);

// Parameters of scrypt (RFC 7914). The defaults take 32 MiB and ~0.1 s per hash
// on one core: slow enough that a stolen hash table is costly to attack, fast
// enough for a login form.
struct ScryptParams {
  uint64_t n = 1 << 15;
  uint64_t r = 8;
  uint64_t p = 1;
};

// A self-describing hash of `password`: "scrypt$N$r$p$salt$hash" (salt 16 bytes,
// hash 32 bytes, both base64url). InvalidArgument for an empty password or one
// longer than 1024 bytes; Internal when OpenSSL refuses the parameters.
Result<std::string> HashPassword(std::string_view password, const ScryptParams& params = {});

// True when `password` matches `stored` (as made by HashPassword, with whatever
// parameters it records). False, never an error, for a malformed `stored` or
// parameters beyond sane bounds (N <= 2^20, r <= 32, p <= 16), so a tampered row
// cannot make a login eat the machine's memory.
bool VerifyPassword(std::string_view password, std::string_view stored);

// HMAC-SHA-256 of `data` under `key`, 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view data);

// Compares in time that depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace trace
