#include "device_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <boost/json.hpp>

#include "trace/common/files.h"
#include "trace/common/jcs.h"
#include "trace/common/log.h"
#include "trace/common/time.h"

namespace trace::devicesim {
namespace fs = std::filesystem;
namespace {

Status MakeDirs(const std::string& path, fs::perms perms) {
  std::error_code ec;
  bool created = fs::create_directories(path, ec);
  if (ec) return Unavailable("create " + path + ": " + ec.message());
  if (created) {
    fs::permissions(path, perms, ec);
    if (ec) return Unavailable("chmod " + path + ": " + ec.message());
  }
  return OkStatus();
}

Result<uint64_t> ParseDecimal(std::string_view text, std::string_view what) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v > kMaxSeq) {
    return Fail(InvalidArgument(std::string(what) + ": not a seq number: \"" + std::string(text) + "\""));
  }
  return v;
}

std::string SeqName(uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(seq));
  return buf;
}

// Renames `from` to `to` and fsyncs nothing more: both live on one file system,
// and a crash between the two only leaves the entry in the outbox, to be
// re-sent and answered again.
Status Rename(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) return ErrnoError("rename " + from, errno);
  return OkStatus();
}

}  // namespace

// ---- SeqAllocator ----

Result<std::unique_ptr<SeqAllocator>> SeqAllocator::Open(std::string path, uint64_t block, uint64_t at_least) {
  if (block == 0) return Fail(InvalidArgument("seq block must be at least 1"));
  uint64_t stored = 0;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    auto text = ReadFile(path);
    if (!text) return Fail(text.error());
    auto v = ParseDecimal(*text, path);
    if (!v) return Fail(v.error());
    stored = *v;
  }
  uint64_t last = std::max(stored, at_least);
  return std::unique_ptr<SeqAllocator>(new SeqAllocator(std::move(path), block, last + 1, last));
}

Result<uint64_t> SeqAllocator::Next() {
  std::lock_guard lock(mu_);
  if (next_ > kMaxSeq) return Fail(ResourceExhausted("seq exhausted (2^53 - 1 reached)"));
  if (next_ > reserved_) {
    uint64_t want = std::min(kMaxSeq, next_ - 1 + block_);
    if (Status s = WriteFileAtomic(path_, std::to_string(want) + "\n", 0600); !s.ok()) return Fail(s);
    reserved_ = want;
  }
  return next_++;
}

uint64_t SeqAllocator::reserved() const {
  std::lock_guard lock(mu_);
  return reserved_;
}

// ---- Outbox ----

std::string_view ReceiptActionName(ReceiptAction action) {
  switch (action) {
    case ReceiptAction::kDeleted: return "deleted";
    case ReceiptAction::kRejected: return "rejected";
    case ReceiptAction::kBadReceipt: return "bad_receipt";
    case ReceiptAction::kNotForUs: return "not_for_us";
    case ReceiptAction::kUnknown: return "unknown";
    case ReceiptAction::kMismatch: return "mismatch";
  }
  return "?";
}

std::string Outbox::EntryPath(uint64_t seq) const { return dir_ + "/outbox/" + SeqName(seq) + ".json"; }
std::string Outbox::RejectedPath(uint64_t seq, std::string_view suffix) const {
  return dir_ + "/rejected/" + SeqName(seq) + std::string(suffix);
}

Result<std::unique_ptr<Outbox>> Outbox::Open(const std::string& dir, std::string org, std::string device) {
  for (const char* sub : {"/outbox", "/rejected"}) {
    if (Status s = MakeDirs(dir + sub, fs::perms::owner_all); !s.ok()) return Fail(s);
  }
  std::unique_ptr<Outbox> box(new Outbox(dir, std::move(org), std::move(device)));
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(dir + "/outbox", ec)) {
    std::string name = item.path().filename().string();
    // Temporary files of an interrupted WriteFileAtomic are not entries.
    if (name.size() != 25 || !name.ends_with(".json")) continue;
    std::string path = item.path().string();
    auto bytes = ReadFile(path);
    if (!bytes) return Fail(bytes.error());
    auto env = ParseEnvelope(*bytes);
    if (!env || env->org != box->org_ || env->device != box->device_ || SeqName(env->seq) + ".json" != name) {
      std::string why = env ? "org, device or seq differ from the file" : env.error().detail;
      log::Warn("outbox entry unusable, moved to rejected/", {{"file", path}, {"detail", why}});
      if (Status s = Rename(path, dir + "/rejected/" + name); !s.ok()) return Fail(s);
      continue;
    }
    box->entries_[env->seq] = OutboxEntry{env->seq, env->id, std::move(*bytes)};
  }
  if (ec) return Fail(Unavailable("list " + dir + "/outbox: " + ec.message()));
  return box;
}

Status SyncFileSystem(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Unavailable(path + ": " + std::strerror(errno));
  const int rc = ::syncfs(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Unavailable(path + ": syncfs: " + std::strerror(err));
  return OkStatus();
}

namespace {
// Write to a temporary file and rename, without fsync (see Outbox::Put).
Status WriteFileUnsynced(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Unavailable(tmp + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Unavailable(tmp + ": " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Unavailable(path + ": " + std::strerror(err));
  }
  return OkStatus();
}
}  // namespace

Status Outbox::Put(const Envelope& envelope, bool sync) {
  std::lock_guard lock(mu_);
  if (entries_.contains(envelope.seq)) {
    return AlreadyExists("outbox already holds seq " + std::to_string(envelope.seq));
  }
  Status written = sync ? WriteFileAtomic(EntryPath(envelope.seq), envelope.canonical_bytes, 0600)
                        : WriteFileUnsynced(EntryPath(envelope.seq), envelope.canonical_bytes);
  if (!written.ok()) return written;
  entries_[envelope.seq] = OutboxEntry{envelope.seq, envelope.id, envelope.canonical_bytes};
  return OkStatus();
}

std::vector<OutboxEntry> Outbox::List() const {
  std::lock_guard lock(mu_);
  std::vector<OutboxEntry> out;
  out.reserve(entries_.size());
  for (const auto& [seq, e] : entries_) out.push_back(e);
  return out;
}

std::optional<OutboxEntry> Outbox::Get(uint64_t seq) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(seq);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

size_t Outbox::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

uint64_t Outbox::max_seq() const {
  std::lock_guard lock(mu_);
  return entries_.empty() ? 0 : entries_.rbegin()->first;
}

ReceiptOutcome Outbox::ApplyReceipt(std::string_view payload, std::span<const std::string> receipt_keys) {
  ReceiptOutcome out;
  auto parsed = ParseReceipt(payload);
  if (!parsed) {
    out.detail = parsed.error().message();
    return out;
  }
  bool verified = std::any_of(receipt_keys.begin(), receipt_keys.end(),
                              [&](const std::string& key) { return VerifyReceipt(*parsed, key); });
  if (!verified) {
    out.detail = "receipt signature does not verify under any known receipt key (key id \"" + parsed->key + "\")";
    return out;
  }
  out.receipt = *parsed;
  const Receipt& r = *parsed;
  if (r.org != org_ || r.device != device_) {
    out.action = ReceiptAction::kNotForUs;
    out.detail = "receipt for " + r.org + "/" + r.device;
    return out;
  }
  std::lock_guard lock(mu_);
  auto it = entries_.end();
  if (r.seq) {
    it = entries_.find(*r.seq);
  } else {
    it = std::find_if(entries_.begin(), entries_.end(), [&](const auto& kv) { return kv.second.id == r.envelope; });
  }
  if (it == entries_.end()) {
    out.action = ReceiptAction::kUnknown;
    out.detail = "no outbox entry for this receipt";
    return out;
  }
  if (it->second.id != r.envelope) {
    out.action = ReceiptAction::kMismatch;
    out.detail = "outbox seq " + std::to_string(it->first) + " holds envelope " + it->second.id +
                 ", receipt names " + r.envelope;
    return out;
  }
  uint64_t seq = it->first;
  if (r.status == ReceiptStatus::kRejected) {
    // Keep the receipt beside the envelope, then move the envelope: if we crash
    // in between, the entry is simply re-sent and refused again.
    Status s = WriteFileAtomic(RejectedPath(seq, ".receipt.json"), payload, 0600);
    if (s.ok()) s = Rename(EntryPath(seq), RejectedPath(seq, ".json"));
    if (!s.ok()) {
      out.action = ReceiptAction::kBadReceipt;
      out.detail = "could not move the entry to rejected/: " + s.message();
      return out;
    }
    entries_.erase(it);
    out.action = ReceiptAction::kRejected;
    out.detail = r.reason ? std::string(ReasonName(*r.reason)) : "rejected";
    return out;
  }
  std::error_code ec;
  fs::remove(EntryPath(seq), ec);
  if (ec) {
    out.action = ReceiptAction::kBadReceipt;
    out.detail = "could not delete the entry: " + ec.message();
    return out;
  }
  entries_.erase(it);
  out.action = ReceiptAction::kDeleted;
  out.detail = std::string(ReceiptStatusName(r.status));
  return out;
}

// ---- DeviceState ----

std::string DeviceState::DeviceDir(const std::string& state_dir, std::string_view org, std::string_view device) {
  return state_dir + "/" + std::string(org) + "/" + std::string(device);
}

Result<Ed25519PrivateKey> DeviceState::Keygen(const std::string& state_dir, const std::string& org,
                                              const std::string& device, bool replace) {
  if (!IsOrgId(org)) return Fail(InvalidArgument("not an organization id: \"" + org + "\""));
  if (!IsDeviceId(device)) return Fail(InvalidArgument("not a device id: \"" + device + "\""));
  std::string dir = DeviceDir(state_dir, org, device);
  if (Status s = MakeDirs(dir, fs::perms::owner_all); !s.ok()) return Fail(s);
  std::string path = dir + "/device.key";
  std::error_code ec;
  if (!replace && fs::exists(path, ec)) return ReadEd25519KeyFile(path);
  auto key = Ed25519PrivateKey::Generate();
  if (Status s = WriteEd25519KeyFile(path, key); !s.ok()) return Fail(s);
  return key;
}

Result<std::unique_ptr<DeviceState>> DeviceState::Open(const std::string& state_dir, const std::string& org,
                                                       const std::string& device, uint64_t seq_block) {
  if (!IsOrgId(org)) return Fail(InvalidArgument("not an organization id: \"" + org + "\""));
  if (!IsDeviceId(device)) return Fail(InvalidArgument("not a device id: \"" + device + "\""));
  std::string dir = DeviceDir(state_dir, org, device);
  std::error_code ec;
  if (!fs::exists(dir + "/device.key", ec)) {
    return Fail(NotFound("no key for " + org + "/" + device + " in " + state_dir + " (run keygen first)"));
  }
  auto key = ReadEd25519KeyFile(dir + "/device.key");
  if (!key) return Fail(key.error());
  std::unique_ptr<DeviceState> state(new DeviceState(org, device, dir, std::move(*key)));
  auto box = Outbox::Open(dir, org, device);
  if (!box) return Fail(box.error());
  state->outbox_ = std::move(*box);
  // The outbox bound guards against a seq file restored from an older backup.
  auto seq = SeqAllocator::Open(dir + "/seq", seq_block, state->outbox_->max_seq());
  if (!seq) return Fail(seq.error());
  state->seq_ = std::move(*seq);
  return state;
}

boost::json::object UnsignedEnvelope(std::string_view org, std::string_view device, uint64_t seq,
                                     std::chrono::system_clock::time_point sent, boost::json::array events) {
  return boost::json::object{{"v", kEnvelopeVersion},
                             {"org", org},
                             {"device", device},
                             {"seq", static_cast<int64_t>(seq)},
                             {"sent", FormatRfc3339Millis(sent)},
                             {"events", std::move(events)}};
}

Result<Envelope> DeviceState::Seal(boost::json::array events, std::chrono::system_clock::time_point sent,
                                   bool sync) {
  auto seq = seq_->Next();
  if (!seq) return Fail(seq.error());
  auto env = SignEnvelope(UnsignedEnvelope(org_, device_, *seq, sent, std::move(events)), key_);
  if (!env) return Fail(env.error());
  if (Status s = outbox_->Put(*env, sync); !s.ok()) return Fail(s);
  return env;
}

Status DeviceState::WriteCredentials(const Credentials& c) {
  boost::json::object o{{"username", c.username}, {"password", c.password}};
  return WriteFileAtomic(dir_ + "/mqtt.json", boost::json::serialize(o) + "\n", 0600);
}

Result<Credentials> DeviceState::ReadCredentials() const {
  std::string path = dir_ + "/mqtt.json";
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return Fail(NotFound("no MQTT credentials for " + org_ + "/" + device_ + " (run register first)"));
  }
  auto mode = FileMode(path);
  if (!mode) return Fail(mode.error());
  if (*mode & 077) return Fail(InvalidArgument(path + ": readable by group or others; chmod 600 it"));
  auto text = ReadFile(path);
  if (!text) return Fail(text.error());
  auto v = ParseJsonStrict(*text);
  if (!v || !v->is_object()) return Fail(InvalidArgument(path + ": not a JSON object"));
  const auto& o = v->as_object();
  const auto* u = o.if_contains("username");
  const auto* p = o.if_contains("password");
  if (!u || !u->is_string() || !p || !p->is_string()) {
    return Fail(InvalidArgument(path + ": needs string members username and password"));
  }
  return Credentials{std::string(u->as_string()), std::string(p->as_string())};
}

}  // namespace trace::devicesim
