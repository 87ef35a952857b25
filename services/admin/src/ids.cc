#include "ids.h"

#include "trace/common/ed25519.h"

namespace trace::admin {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

Status ValidateOrgId(std::string_view org) {
  bool ok = org.size() >= 2 && org.size() <= 32 && IsLowerAlnum(org[0]);
  for (char c : org) ok = ok && (IsLowerAlnum(c) || c == '-');
  if (ok) return OkStatus();
  return InvalidArgument("organization id \"" + std::string(org) +
                         "\" is invalid: use 2 to 32 of a-z, 0-9 and '-', starting with a letter or digit");
}

Status ValidateDeviceId(std::string_view device) {
  bool ok = !device.empty() && device.size() <= 64 && IsLowerAlnum(device[0]);
  for (char c : device) ok = ok && (IsLowerAlnum(c) || c == '.' || c == '_' || c == '-');
  if (ok) return OkStatus();
  return InvalidArgument("device id \"" + std::string(device) +
                         "\" is invalid: use 1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit");
}

Result<Bytes> DecodeDevicePublicKey(std::string_view b64url) {
  if (b64url.empty()) return Fail(InvalidArgument("--public-key is required (base64url of the 32-byte Ed25519 key)"));
  auto raw = Base64UrlDecode(b64url);
  if (!raw) return Fail(InvalidArgument("--public-key is not base64url without padding: " + raw.error().message()));
  if (raw->size() != kEd25519KeyBytes) {
    return Fail(InvalidArgument("--public-key must be a 32-byte Ed25519 public key, got " +
                                std::to_string(raw->size()) + " bytes"));
  }
  return raw;
}

std::string DeviceMqttUsername(std::string_view org, std::string_view device) {
  return std::string(org) + "/" + std::string(device);
}

std::string DeviceMqttRole(std::string_view org, std::string_view device) {
  return "device:" + DeviceMqttUsername(org, device);
}

}  // namespace trace::admin
