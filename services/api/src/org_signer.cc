#include "org_signer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include <openssl/rand.h>
#include <pqxx/pqxx>

#include "trace/common/encoding.h"
#include "trace/common/envelope.h"
#include "trace/common/files.h"

namespace trace::api {
namespace {

Status DbError(std::string_view what, const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return Unavailable(std::string(what) + ": database connection: " + e.what());
  }
  return Unavailable(std::string(what) + ": database: " + e.what());
}

}  // namespace

OrgSigner::OrgSigner(std::string keys_dir) : keys_dir_(std::move(keys_dir)) {}

std::string OrgSigner::KeyPath(std::string_view org) const {
  return (std::filesystem::path(keys_dir_) / "orgs" / (std::string(org) + ".key")).string();
}

Result<Ed25519PrivateKey> OrgSigner::LoadOrCreateKey(std::string_view org) {
  const std::string path = KeyPath(org);
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return ReadEd25519KeyFile(path);
  if (ec) return Fail(Unavailable(path + ": " + ec.message()));

  const std::string dir = (std::filesystem::path(keys_dir_) / "orgs").string();
  if (!std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return Fail(Unavailable(dir + ": cannot create: " + ec.message()));
    if (::chmod(dir.c_str(), 0700) != 0) return Fail(ErrnoError(dir, errno));
  }
  // A fresh key in a temporary file, then link(2): unlike rename, link fails
  // when the name exists, so a key another process created meanwhile is
  // never replaced.
  auto key = Ed25519PrivateKey::Generate();
  unsigned char nonce[8];
  if (RAND_bytes(nonce, sizeof nonce) != 1) return Fail(Internal("RAND_bytes failed"));
  const std::string tmp = path + ".new-" + HexEncode(std::string_view(reinterpret_cast<char*>(nonce), sizeof nonce));
  if (Status s = WriteEd25519KeyFile(tmp, key); !s.ok()) return Fail(s);
  int linked = ::link(tmp.c_str(), path.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (linked == 0) return key;
  if (err != EEXIST) return Fail(ErrnoError(path, err));
  return ReadEd25519KeyFile(path);
}

Result<OrgSigner::Signer> OrgSigner::Get(pqxx::connection& conn, std::string_view org) {
  if (!IsOrgId(org)) return Fail(InvalidArgument("org: \"" + std::string(org) + "\" is not an organization id"));
  if (keys_dir_.empty()) return Fail(InvalidArgument("keys directory not set (TRACE_KEYS_DIR or --keys-dir)"));
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(org); it != cache_.end()) return it->second;
  }
  std::lock_guard load_lock(load_mu_);
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(org); it != cache_.end()) return it->second;
  }
  const std::string org_s(org);
  const std::string device(kDashboardDeviceId);
  // The organization must exist before a key is made for it.
  try {
    pqxx::read_transaction r(conn);
    if (r.exec_params("SELECT 1 FROM organizations WHERE id = $1", org_s).empty()) {
      return Fail(NotFound("organization \"" + org_s + "\" does not exist"));
    }
  } catch (const std::exception& e) {
    return Fail(DbError("signer of " + org_s, e));
  }
  auto key = LoadOrCreateKey(org);
  if (!key) return Fail(key.error().WithContext("signing key of " + org_s));

  std::string row_key, status;
  try {
    pqxx::work w(conn);
    w.exec_params(
        "INSERT INTO devices (org, device, name, public_key, mqtt_username) VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT DO NOTHING",
        org_s, device, "server-side signer (producer dashboard and API)", pqxx::binarystring(key->public_key()),
        org_s + "/" + device);
    auto rows = w.exec_params("SELECT public_key, status FROM devices WHERE org = $1 AND device = $2", org_s, device);
    if (rows.empty()) {
      // Only a unique mqtt_username taken by another device row can get here.
      return Fail(FailedPrecondition("device " + org_s + "/" + device + " cannot be created: mqtt_username \"" + org_s +
                                     "/" + device + "\" is taken by another device"));
    }
    row_key = pqxx::binarystring(rows[0][0]).str();
    status = rows[0][1].as<std::string>();
    w.commit();
  } catch (const std::exception& e) {
    return Fail(DbError("signer of " + org_s, e));
  }
  if (row_key != key->public_key()) {
    return Fail(FailedPrecondition(
        "the signing key in " + KeyPath(org) + " (public " + Base64UrlEncode(key->public_key()) +
        ") is not the key of device " + org_s + "/" + device + " (public " + Base64UrlEncode(row_key) +
        "), which verifies every envelope the organization signed so far; restore the original key file "
        "(or share TRACE_KEYS_DIR between trace-api processes); nothing is signed until they match"));
  }
  if (status != "active") {
    return Fail(FailedPrecondition("device " + org_s + "/" + device + " is " + status +
                                   "; the organization's server-side signer cannot sign"));
  }
  Signer signer{org_s, device, *key, row_key};
  std::lock_guard lock(mu_);
  cache_.emplace(org_s, signer);
  return signer;
}

}  // namespace trace::api
