#include "trace/common/platform_keys.h"

#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <optional>

#include <boost/json/array.hpp>

#include "trace/common/encoding.h"
#include "trace/common/sha256.h"

namespace trace {
namespace {

std::string KeyId(std::string_view prefix, std::string_view public_key) {
  return std::string(prefix) + HashHex(Sha256(public_key)).substr(0, 8);
}

std::string PathIn(const std::string& dir, std::string_view file) {
  return (std::filesystem::path(dir) / std::string(file)).string();
}

Result<Ed25519PrivateKey> LoadKey(const std::string& path, bool create, bool* created) {
  std::error_code ec;
  bool exists = std::filesystem::exists(path, ec);
  if (ec) return Fail(Unavailable(path + ": " + ec.message()));
  if (!exists) {
    if (!create) return Fail(NotFound(path + ": no such key file"));
    Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
    if (Status s = WriteEd25519KeyFile(path, key); !s.ok()) return Fail(s);
    *created = true;
    return key;
  }
  auto key = ReadEd25519KeyFile(path);
  if (!key) return Fail(key.error().WithContext(path));
  return key;
}

// The settings every loader needs: a keys directory and, for the log key, a log name.
Status CheckSettings(const std::string& dir, std::optional<std::string_view> log_name) {
  if (dir.empty()) return InvalidArgument("keys directory not set (TRACE_KEYS_DIR or --keys-dir)");
  if (log_name && log_name->empty()) return InvalidArgument("log name is empty (TRACE_LOG_NAME or --log-name)");
  return OkStatus();
}

Result<PlatformKeys> Load(const std::string& dir, std::string_view log_name, bool create) {
  if (Status s = CheckSettings(dir, log_name); !s.ok()) return Fail(s);
  if (create) {
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) {
      std::filesystem::create_directories(dir, ec);
      if (ec) return Fail(Unavailable(dir + ": cannot create: " + ec.message()));
      if (::chmod(dir.c_str(), 0700) != 0) return Fail(ErrnoError(dir, errno));
    }
  }
  bool created_log = false, created_receipt = false;
  auto log = LoadKey(PathIn(dir, kLogKeyFile), create, &created_log);
  if (!log) return Fail(log.error());
  auto receipt = LoadKey(PathIn(dir, kReceiptKeyFile), create, &created_receipt);
  if (!receipt) return Fail(receipt.error());
  if (log->public_key() == receipt->public_key()) {
    return Fail(InvalidArgument(dir + ": log.key and receipt.key hold the same key; they must differ"));
  }
  PlatformKeys keys{std::string(log_name), *log, LogKeyId(log->public_key()), *receipt,
                    ReceiptKeyId(receipt->public_key()), created_log, created_receipt};
  return keys;
}

}  // namespace

std::string ReceiptKeyId(std::string_view public_key) { return KeyId("receipt-", public_key); }
std::string LogKeyId(std::string_view public_key) { return KeyId("log-", public_key); }

Result<PlatformKeys> LoadPlatformKeys(const std::string& dir, std::string_view log_name) {
  return Load(dir, log_name, false);
}

Result<ReceiptKey> LoadReceiptKey(const std::string& dir) {
  if (Status s = CheckSettings(dir, std::nullopt); !s.ok()) return Fail(s);
  bool created = false;
  auto key = LoadKey(PathIn(dir, kReceiptKeyFile), false, &created);
  if (!key) return Fail(key.error());
  return ReceiptKey{*key, ReceiptKeyId(key->public_key())};
}

Result<LogKey> LoadLogKey(const std::string& dir, std::string_view log_name) {
  if (Status s = CheckSettings(dir, log_name); !s.ok()) return Fail(s);
  bool created = false;
  auto key = LoadKey(PathIn(dir, kLogKeyFile), false, &created);
  if (!key) return Fail(key.error());
  return LogKey{std::string(log_name), *key, LogKeyId(key->public_key())};
}

Result<PlatformKeys> LoadOrCreatePlatformKeys(const std::string& dir, std::string_view log_name) {
  return Load(dir, log_name, true);
}

boost::json::object KeysDocument(const PlatformKeys& keys) {
  boost::json::object log;
  log["name"] = keys.log_name;
  log["public_key"] = Base64UrlEncode(keys.log.public_key());
  boost::json::object receipt;
  receipt["id"] = keys.receipt_key_id;
  receipt["public_key"] = Base64UrlEncode(keys.receipt.public_key());
  boost::json::object doc;
  doc["log"] = std::move(log);
  doc["receipt"] = boost::json::array{std::move(receipt)};
  return doc;
}

}  // namespace trace
