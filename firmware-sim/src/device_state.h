// A simulated device's durable state: its key, its `seq` counter, its MQTT
// login and its outbox of signed envelopes that have no receipt yet
// (PROTOCOL.md §2-3). Everything lives in one folder per device:
//
//   STATE/{org}/{device}/device.key     Ed25519 seed, base64url (mode 0600)
//   STATE/{org}/{device}/seq            highest seq reserved so far, decimal
//   STATE/{org}/{device}/mqtt.json      {"username","password"} from trace-admin (0600)
//   STATE/{org}/{device}/outbox/NNNN.json   canonical bytes of an envelope awaiting
//                                           its receipt, named by 20-digit seq
//   STATE/{org}/{device}/rejected/NNNN.json        an envelope the platform refused,
//                                 NNNN.receipt.json  beside the receipt that refused it
//
// Durability: the seq file is written (WriteFileAtomic: fsync + rename + fsync of
// the folder) before any envelope using a seq it covers is signed, and each
// envelope is written the same way before its first publish. A kill -9 at any
// moment therefore never reuses a seq and never loses a signed envelope; at
// worst it leaves a gap in the seq numbers, which PROTOCOL.md §3 allows.
//
// Example:
//   auto dev = trace::devicesim::DeviceState::Open(state_dir, "green-valley-farm", "field-7-soil");
//   auto env = (*dev)->Seal(events, std::chrono::system_clock::now());   // durable now
//   mqtt.Publish(trace::UpTopic(env->org, env->device), env->canonical_bytes);
//   // later, on the receipt topic:
//   auto outcome = (*dev)->outbox().ApplyReceipt(payload, receipt_keys);
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>

#include "trace/common/ed25519.h"
#include "trace/common/envelope.h"
#include "trace/common/receipt.h"
#include "trace/common/status.h"

namespace trace::devicesim {

// Hands out strictly increasing seq numbers, persisting a reservation before
// any number it covers is handed out. With block = 1 every Next() writes the
// file; with a larger block one write covers `block` numbers and a crash skips
// the unused rest. Thread-safe.
class SeqAllocator {
 public:
  // Reads `path` (absent: nothing reserved yet). The first number handed out is
  // max(stored, at_least) + 1. InvalidArgument when the file is not a decimal
  // number in [0, kMaxSeq]; block must be >= 1.
  static Result<std::unique_ptr<SeqAllocator>> Open(std::string path, uint64_t block, uint64_t at_least = 0);

  // The next seq, durable before it is returned. ResourceExhausted past kMaxSeq;
  // the write's error (Unavailable, ...) if the reservation could not be stored,
  // in which case nothing is handed out.
  Result<uint64_t> Next();

  // The highest seq reserved on disk.
  uint64_t reserved() const;

 private:
  SeqAllocator(std::string path, uint64_t block, uint64_t next, uint64_t reserved)
      : path_(std::move(path)), block_(block), next_(next), reserved_(reserved) {}
  std::string path_;
  uint64_t block_;
  mutable std::mutex mu_;
  uint64_t next_;      // guarded by mu_
  uint64_t reserved_;  // guarded by mu_
};

// One envelope in the outbox.
struct OutboxEntry {
  uint64_t seq = 0;
  std::string id;     // envelope id (hex SHA-256 of the canonical bytes)
  std::string bytes;  // the canonical bytes, exactly what is published
};

// What a receipt did to the outbox.
enum class ReceiptAction {
  kDeleted,        // accepted or duplicate, signature and ids check: entry removed
  kRejected,       // rejected, signature and ids check: entry moved to rejected/
  kBadReceipt,     // not a receipt, or its signature fails under every known key: ignored
  kNotForUs,       // org/device are not this outbox's: ignored
  kUnknown,        // no entry with that seq or envelope id (already removed, or never ours): ignored
  kMismatch,       // an entry has that seq but a different envelope id: ignored
};
std::string_view ReceiptActionName(ReceiptAction action);

struct ReceiptOutcome {
  ReceiptAction action = ReceiptAction::kBadReceipt;
  std::optional<Receipt> receipt;  // set once the receipt parsed and verified
  std::string detail;              // why, for logs
};

// The durable outbox of one device (see the file comment). Thread-safe: the
// MQTT callback thread may apply receipts while the sender lists and puts.
// Flushes everything written on the file system holding `path` (syncfs(2)):
// one call makes a whole burst of unsynced outbox entries durable.
Status SyncFileSystem(const std::string& path);

class Outbox {
 public:
  // Creates `dir`/outbox and `dir`/rejected when missing and loads every entry.
  // An entry file that does not parse as an envelope is moved to rejected/ with
  // a warning (it could never be accepted). Unavailable on I/O errors.
  static Result<std::unique_ptr<Outbox>> Open(const std::string& dir, std::string org, std::string device);

  // Writes the envelope durably (before its first publish). AlreadyExists if an
  // entry with that seq exists. With `sync` false the file is written and
  // renamed but not fsync'd: the caller must call SyncFileSystem() before the
  // first publish (group commit, as `load` does for each burst of envelopes).
  Status Put(const Envelope& envelope, bool sync = true);

  // The entries in increasing seq order (copies).
  std::vector<OutboxEntry> List() const;
  std::optional<OutboxEntry> Get(uint64_t seq) const;
  size_t size() const;
  uint64_t max_seq() const;  // 0 when empty

  // Verifies `payload` as a receipt under any of `receipt_keys` (32-byte raw
  // public keys), checks that it is for this org/device and names an entry whose
  // seq and envelope id both match (a receipt without seq is matched by id), and
  // then deletes the entry (accepted, duplicate) or moves it and the receipt to
  // rejected/ (rejected). Anything else leaves the outbox untouched.
  ReceiptOutcome ApplyReceipt(std::string_view payload, std::span<const std::string> receipt_keys);

  const std::string& dir() const { return dir_; }

 private:
  Outbox(std::string dir, std::string org, std::string device)
      : dir_(std::move(dir)), org_(std::move(org)), device_(std::move(device)) {}
  std::string EntryPath(uint64_t seq) const;
  std::string RejectedPath(uint64_t seq, std::string_view suffix) const;

  std::string dir_, org_, device_;
  mutable std::mutex mu_;
  std::map<uint64_t, OutboxEntry> entries_;  // guarded by mu_
};

// The MQTT login trace-admin gave the device.
struct Credentials {
  std::string username;  // "{org}/{device}"
  std::string password;
};

// Everything one device keeps on disk.
class DeviceState {
 public:
  // The device's folder: state_dir/org/device.
  static std::string DeviceDir(const std::string& state_dir, std::string_view org, std::string_view device);

  // Creates the folder (0700) and a new key unless one exists; returns the key.
  // With `replace` false an existing key is kept (idempotent keygen).
  static Result<Ed25519PrivateKey> Keygen(const std::string& state_dir, const std::string& org,
                                          const std::string& device, bool replace = false);

  // Opens an existing device (its key must exist: NotFound otherwise). `seq_block`
  // is the SeqAllocator block. InvalidArgument for malformed ids.
  static Result<std::unique_ptr<DeviceState>> Open(const std::string& state_dir, const std::string& org,
                                                   const std::string& device, uint64_t seq_block = 1);

  const std::string& org() const { return org_; }
  const std::string& device() const { return device_; }
  const std::string& dir() const { return dir_; }
  const Ed25519PrivateKey& key() const { return key_; }
  Outbox& outbox() { return *outbox_; }
  SeqAllocator& seq() { return *seq_; }

  // Reserves a seq, signs {"v":1,"org","device","seq","sent","events"} and puts
  // it in the outbox: when this returns, the envelope survives a crash.
  // With `sync` false, durable only after SyncFileSystem() (see Outbox::Put).
  Result<Envelope> Seal(boost::json::array events, std::chrono::system_clock::time_point sent, bool sync = true);

  Status WriteCredentials(const Credentials& credentials);  // mqtt.json, mode 0600
  Result<Credentials> ReadCredentials() const;               // NotFound before `register`

 private:
  DeviceState(std::string org, std::string device, std::string dir, Ed25519PrivateKey key)
      : org_(std::move(org)), device_(std::move(device)), dir_(std::move(dir)), key_(std::move(key)) {}
  std::string org_, device_, dir_;
  Ed25519PrivateKey key_;
  std::unique_ptr<SeqAllocator> seq_;
  std::unique_ptr<Outbox> outbox_;
};

// The unsigned envelope object for `events`.
boost::json::object UnsignedEnvelope(std::string_view org, std::string_view device, uint64_t seq,
                                     std::chrono::system_clock::time_point sent, boost::json::array events);

}  // namespace trace::devicesim
