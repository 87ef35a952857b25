#include "receipt_keys.h"

#include <boost/json.hpp>

#include "trace/common/ed25519.h"
#include "trace/common/encoding.h"
#include "trace/common/files.h"
#include "trace/common/jcs.h"
#include "trace/common/platform_keys.h"

namespace trace::devicesim {
namespace {

Result<std::string> DecodeKey(std::string_view b64url, std::string_view what) {
  auto raw = Base64UrlDecode(b64url);
  if (!raw || raw->size() != kEd25519KeyBytes) {
    return Fail(InvalidArgument(std::string(what) + ": not a base64url 32-byte Ed25519 public key"));
  }
  return *raw;
}

}  // namespace

Result<std::vector<std::string>> ReceiptKeysFromDocument(std::string_view json) {
  auto v = ParseJsonStrict(json);
  if (!v) return Fail(v.error().WithContext("keys document"));
  const auto* list = v->is_object() ? v->as_object().if_contains("receipt") : nullptr;
  if (list == nullptr || !list->is_array()) return Fail(InvalidArgument("keys document: $.receipt: not an array"));
  std::vector<std::string> keys;
  for (size_t i = 0; i < list->as_array().size(); ++i) {
    const auto& item = list->as_array()[i];
    const auto* pk = item.is_object() ? item.as_object().if_contains("public_key") : nullptr;
    std::string path = "keys document: $.receipt[" + std::to_string(i) + "].public_key";
    if (pk == nullptr || !pk->is_string()) return Fail(InvalidArgument(path + ": not a string"));
    auto key = DecodeKey(pk->as_string(), path);
    if (!key) return Fail(key.error());
    keys.push_back(std::move(*key));
  }
  return keys;
}

Result<std::vector<std::string>> LoadReceiptKeys(const ReceiptKeySources& sources) {
  std::vector<std::string> keys;
  if (!sources.key_b64url.empty()) {
    auto key = DecodeKey(sources.key_b64url, "--receipt-key");
    if (!key) return Fail(key.error());
    keys.push_back(std::move(*key));
  }
  if (!sources.keys_file.empty()) {
    auto text = ReadFile(sources.keys_file);
    if (!text) return Fail(text.error());
    auto more = ReceiptKeysFromDocument(*text);
    if (!more) return Fail(more.error().WithContext(sources.keys_file));
    keys.insert(keys.end(), more->begin(), more->end());
  }
  if (!sources.keys_dir.empty()) {
    auto key = ReadEd25519KeyFile(sources.keys_dir + "/" + std::string(kReceiptKeyFile));
    if (!key) return Fail(key.error());
    keys.push_back(key->public_key());
  }
  if (keys.empty()) {
    return Fail(NotFound("no receipt key: give --receipt-key, --keys-file or TRACE_KEYS_DIR"));
  }
  return keys;
}

}  // namespace trace::devicesim
