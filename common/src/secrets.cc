#include "trace/common/secrets.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <charconv>
#include <vector>

#include "trace/common/encoding.h"

namespace trace {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
constexpr std::size_t kMaxPasswordBytes = 1024;

// scrypt through EVP_PBE_scrypt; maxmem is set just above what N, r, p need.
bool Scrypt(std::string_view password, std::string_view salt, const ScryptParams& p, unsigned char* out,
            std::size_t out_len) {
  const uint64_t maxmem = 128 * p.r * (p.n + p.p + 2) + (1 << 20);
  return EVP_PBE_scrypt(password.data(), password.size(), reinterpret_cast<const unsigned char*>(salt.data()),
                        salt.size(), p.n, p.r, p.p, maxmem, out, out_len) == 1;
}

bool ParseU64(std::string_view s, uint64_t& v) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && ptr == s.data() + s.size() && !s.empty();
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

}  // namespace

Result<std::string> RandomBytes(std::size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return Fail(Internal("RAND_bytes failed"));
  }
  return out;
}

Result<std::string> NewBearerSecret(std::string_view prefix) {
  auto secret = RandomBytes(32);
  if (!secret) return Fail(secret.error());
  return std::string(prefix) + Base64UrlEncode(*secret);
}

Result<std::string> HashPassword(std::string_view password, const ScryptParams& params) {
  if (password.empty()) return Fail(InvalidArgument("password: empty"));
  if (password.size() > kMaxPasswordBytes) return Fail(InvalidArgument("password: longer than 1024 bytes"));
  auto salt = RandomBytes(kSaltBytes);
  if (!salt) return Fail(salt.error());
  unsigned char hash[kHashBytes];
  if (!Scrypt(password, *salt, params, hash, sizeof hash)) return Fail(Internal("scrypt: parameters refused"));
  return "scrypt$" + std::to_string(params.n) + "$" + std::to_string(params.r) + "$" + std::to_string(params.p) +
         "$" + Base64UrlEncode(*salt) + "$" +
         Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(hash), sizeof hash));
}

bool VerifyPassword(std::string_view password, std::string_view stored) {
  if (password.empty() || password.size() > kMaxPasswordBytes) return false;
  auto parts = Split(stored, '$');
  if (parts.size() != 6 || parts[0] != "scrypt") return false;
  ScryptParams p;
  if (!ParseU64(parts[1], p.n) || !ParseU64(parts[2], p.r) || !ParseU64(parts[3], p.p)) return false;
  if (p.n < 2 || p.n > (1u << 20) || (p.n & (p.n - 1)) != 0 || p.r < 1 || p.r > 32 || p.p < 1 || p.p > 16) {
    return false;
  }
  auto salt = Base64UrlDecode(parts[4]);
  auto want = Base64UrlDecode(parts[5]);
  if (!salt || !want || want->size() != kHashBytes) return false;
  unsigned char got[kHashBytes];
  if (!Scrypt(password, *salt, p, got, sizeof got)) return false;
  return CRYPTO_memcmp(got, want->data(), kHashBytes) == 0;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace trace
