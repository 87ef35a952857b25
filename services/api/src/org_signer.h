// Each organization's own Ed25519 key for the envelopes trace-api signs on the
// server (manual events from the producer dashboard, EPCIS capture), and the
// device row those envelopes are signed as (PROTOCOL.md §3, §5: they are
// ordinary envelopes, verified and stored like a device's).
//
// Where things live:
//   {keys_dir}/orgs/{org}.key   the private seed, the format of
//                               WriteEd25519KeyFile, mode 0600; the orgs/
//                               folder is created with mode 0700
//   devices (org, 'dashboard')  the public half; name "server-side signer",
//                               mqtt_username "{org}/dashboard" (unique; no
//                               broker login is ever made for it, so nothing
//                               can publish as this device over MQTT)
// Both are created on first use. The file is created with link(2) from a
// temporary file, so when several trace-api processes sharing keys_dir create
// the same missing key at once, exactly one key wins and the others read it.
// The row is inserted with ON CONFLICT DO NOTHING and read back, so the same
// holds for the row.
//
// Key mismatch (the file's key is not the row's): FailedPrecondition, and
// nothing is signed. The row's public key is what every verifier (gateway
// checks, the trace document's "signer", trace-verify) uses for all envelopes
// the organization signed so far, so it must never be replaced in place. This
// happens when the key file was lost or replaced, or when trace-api processes
// do not share keys_dir; the fix is to restore the original file (or share
// keys_dir). Rotation in place is deliberately not offered; a rotation would
// mean a new signer device row (e.g. "dashboard-2") and is not implemented.
// A revoked dashboard row is FailedPrecondition as well.
//
// Example:
//   OrgSigner signer(flags.Get("keys-dir"));
//   auto s = signer.Get(conn, "green-valley-farm");   // Result<OrgSigner::Signer>
//   if (!s) return Problem(s.error());
//   std::string sig = s->key.Sign(bytes);
//
// Thread-safe: one OrgSigner serves all of trace-api's database threads. The
// first successful Get for an organization caches its key and public key in
// memory; later calls touch neither the disk nor the database.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include <pqxx/connection>

#include "trace/common/ed25519.h"
#include "trace/common/status.h"

namespace trace::api {

// The device id of every organization's server-side signer. Reserved: a real
// device must not be registered under it.
inline constexpr std::string_view kDashboardDeviceId = "dashboard";

class OrgSigner {
 public:
  struct Signer {
    std::string org;
    std::string device;      // kDashboardDeviceId
    Ed25519PrivateKey key;   // signs the organization's server-side envelopes
    std::string public_key;  // 32 raw bytes, equal to key.public_key() and to the devices row
  };

  // `keys_dir` is trace-api's TRACE_KEYS_DIR (the platform keys' folder).
  explicit OrgSigner(std::string keys_dir);

  // The organization's signer, loading or creating the key file and the device
  // row on first use (see the top of this file). Errors: InvalidArgument for a
  // malformed org id or an empty keys_dir; NotFound when the organization does
  // not exist; FailedPrecondition for a key mismatch or a revoked signer row;
  // PermissionDenied for a key file readable by group or others; Unavailable
  // when the disk or the database fails. No transaction may be open on `conn`.
  [[nodiscard]] Result<Signer> Get(pqxx::connection& conn, std::string_view org);

  // The key file's path for `org` (not checked).
  std::string KeyPath(std::string_view org) const;

 private:
  Result<Ed25519PrivateKey> LoadOrCreateKey(std::string_view org);

  const std::string keys_dir_;
  std::mutex load_mu_;  // held across a first load, so one thread of this process creates a key
  std::mutex mu_;       // guards cache_ (never held across I/O)
  std::map<std::string, Signer, std::less<>> cache_;
};

}  // namespace trace::api
