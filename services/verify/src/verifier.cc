#include "verifier.h"

#include <sys/stat.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <filesystem>
#include <set>

#include "trace/common/checkpoint.h"
#include "trace/common/digital_link.h"
#include "trace/common/encoding.h"
#include "trace/common/envelope.h"
#include "trace/common/files.h"
#include "trace/common/jcs.h"
#include "trace/common/merkle.h"

namespace trace::verify {

namespace json = boost::json;

bool IsUnavailable(const Status& status) {
  return status.code() == StatusCode::kUnavailable || status.code() == StatusCode::kDeadlineExceeded ||
         status.code() == StatusCode::kResourceExhausted;
}

bool Report::any_failure() const {
  if (!failures.empty()) return true;
  for (const auto& e : events) {
    if (!e.failures.empty()) return true;
  }
  return false;
}

bool Report::any_unavailable() const {
  if (!unavailable.empty()) return true;
  for (const auto& e : events) {
    if (!e.unavailable.empty()) return true;
  }
  return false;
}

std::string CacheFileFor(const std::string& cache_dir, std::string_view origin) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string name;
  for (unsigned char c : origin) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '-') {
      name += static_cast<char>(c);
    } else {
      name += '%';
      name += kHex[c >> 4];
      name += kHex[c & 15];
    }
  }
  return cache_dir + "/" + name + ".json";
}

namespace {

const json::object* MemberObject(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? v->if_object() : nullptr;
}

std::optional<std::string> MemberString(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

std::optional<uint64_t> MemberUnsigned(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  return trace::detail::JsonUnsignedInteger(*v);
}

Result<Hash> HashFromBase64(std::string_view text) {
  auto bytes = Base64Decode(text);
  if (!bytes) return Fail(bytes.error());
  return merkle::HashFromBytes(*bytes);
}

bool IsLowerHexId(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string Hex8(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

// The key ids of the note's signature lines by `key_name` (C2SP signed-note: "— name base64").
std::vector<uint32_t> NoteKeyIdsFor(std::string_view note, std::string_view key_name) {
  std::vector<uint32_t> ids;
  size_t blank = note.find("\n\n");
  if (blank == std::string_view::npos) return ids;
  std::string_view rest = note.substr(blank + 2);
  static constexpr std::string_view kDash = "\xE2\x80\x94 ";
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (!line.starts_with(kDash)) continue;
    line.remove_prefix(kDash.size());
    size_t sp = line.rfind(' ');
    if (sp == std::string_view::npos || line.substr(0, sp) != key_name) continue;
    auto sig = Base64Decode(line.substr(sp + 1));
    if (!sig || sig->size() < 4) continue;
    const auto* b = reinterpret_cast<const unsigned char*>(sig->data());
    ids.push_back((uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3]);
  }
  return ids;
}

// One Verify() call.
class Verification {
 public:
  Verification(Fetcher& fetcher, ChainReader& chain, const VerifyOptions& options, std::string base,
               std::optional<NoteVerifierKey> pinned, Report& report)
      : fetcher_(fetcher),
        chain_(chain),
        options_(options),
        base_(std::move(base)),
        pinned_(std::move(pinned)),
        report_(report) {}

  void Run(const std::string& trace_url, const gs1::DigitalLink& link) {
    LoadKeys();
    LoadCheckpoint();
    if (checkpoint_) CheckCache();

    auto doc = FetchJson(trace_url, "application/json");
    if (!doc) {
      Record(doc.error().WithContext("trace document " + trace_url), report_.failures, report_.unavailable);
      return;
    }
    const std::string gtin = link.gtin, lot = link.lot.value_or("");
    const json::object* product = MemberObject(*doc, "product");
    std::string doc_gtin = product ? MemberString(*product, "gtin").value_or("") : "";
    std::string doc_lot = MemberString(*doc, "lot").value_or("");
    if (doc_gtin != gtin || (link.lot && doc_lot != lot)) {
      report_.failures.push_back("trace document: it is about " + doc_gtin + "/" + doc_lot + ", the link names " +
                                 gtin + "/" + lot);
    }
    visited_.insert(doc_gtin + "/" + doc_lot);
    VerifyTrace(*doc, doc_gtin + "/" + doc_lot, 0);

    // The checkpoint inside the trace document must be signed too and agree with the newest.
    if (auto note = MemberString(*doc, "checkpoint"); note && keys_ok_) {
      auto cp = CheckNote(*note);
      if (!cp) {
        report_.failures.push_back("trace document's checkpoint: " + cp.error().message());
      } else if (checkpoint_) {
        Status s = Consistent(cp->tree_size, cp->root, checkpoint_->tree_size, checkpoint_->root);
        if (!s.ok()) {
          Record(s.WithContext("trace document's checkpoint (size " + std::to_string(cp->tree_size) +
                               ") against the newest checkpoint (size " + std::to_string(checkpoint_->tree_size) + ")"),
                 report_.failures, report_.unavailable);
        }
      }
    }
  }

 private:
  static void Record(const Status& s, std::vector<std::string>& failures, std::vector<std::string>& unavailable) {
    (IsUnavailable(s) ? unavailable : failures).push_back(s.message());
  }

  Result<json::object> FetchJson(const std::string& url, std::string_view accept) {
    auto body = fetcher_.Get(url, accept);
    if (!body) return Fail(body.error());
    auto value = ParseJsonStrict(*body);
    if (!value) return Fail(DataLoss("not JSON: " + value.error().message()));
    if (!value->is_object()) return Fail(DataLoss("not a JSON object"));
    return std::move(value->as_object());
  }

  void LoadKeys() {
    auto doc = FetchJson(base_ + "/api/v1/keys", "application/json");
    if (!doc) {
      Record(doc.error().WithContext("keys document"), report_.failures, report_.unavailable);
      return;
    }
    const json::object* log = MemberObject(*doc, "log");
    auto name = log ? MemberString(*log, "name") : std::nullopt;
    auto key_text = log ? MemberString(*log, "public_key") : std::nullopt;
    if (!name || !key_text) {
      report_.failures.push_back("keys document: no log.name and log.public_key");
      return;
    }
    auto key = Base64UrlDecode(*key_text);
    if (!key || key->size() != kEd25519KeyBytes) {
      report_.failures.push_back("keys document: log.public_key is not base64url of 32 bytes");
      return;
    }
    if (pinned_ && (pinned_->name != *name || pinned_->public_key != *key)) {
      report_.failures.push_back("keys document: its log key " + *name + " " + *key_text +
                                 " is not the one given with --log-key (" + pinned_->name + " " +
                                 Base64UrlEncode(pinned_->public_key) + ")");
      return;
    }
    log_name_ = *name;
    log_key_ = *key;
    keys_ok_ = true;
  }

  // Verifies a checkpoint note with the log key: the key id on the signature line, then the
  // signature and the body.
  Result<Checkpoint> CheckNote(std::string_view note) {
    const uint32_t want = NoteKeyId(log_name_, log_key_);
    auto ids = NoteKeyIdsFor(note, log_name_);
    if (ids.empty()) return Fail(Unauthenticated("no signature line by the log key name \"" + log_name_ + "\""));
    if (std::find(ids.begin(), ids.end(), want) == ids.end()) {
      return Fail(Unauthenticated("signed by key id " + Hex8(ids[0]) + " under \"" + log_name_ +
                                  "\", but the keys document's log key has id " + Hex8(want)));
    }
    auto cp = VerifyCheckpointNote(note, log_name_, log_key_);
    if (!cp) return Fail(Unauthenticated("signature does not verify under the log key: " + cp.error().message()));
    return cp;
  }

  void LoadCheckpoint() {
    auto note = fetcher_.Get(base_ + "/api/v1/checkpoint", "text/plain");
    if (!note) {
      Record(note.error().WithContext("checkpoint"), report_.failures, report_.unavailable);
      return;
    }
    if (!keys_ok_) {
      report_.failures.push_back("checkpoint: not verified, no log key");
      return;
    }
    auto cp = CheckNote(*note);
    if (!cp) {
      report_.failures.push_back("checkpoint: " + cp.error().message());
      return;
    }
    checkpoint_ = *cp;
    note_ = *note;
    report_.origin = cp->origin;
    report_.checkpoint_size = cp->tree_size;
    report_.checkpoint_root = Base64Encode(HashBytes(cp->root));
  }

  // The remembered checkpoint of this log against the new one; remembers the new one when
  // all is well.
  void CheckCache() {
    if (options_.cache_dir.empty()) {
      report_.notes.push_back("no cache folder: the checkpoint was not compared with an earlier one");
      return;
    }
    const std::string file = CacheFileFor(options_.cache_dir, checkpoint_->origin);
    const std::string key_text = Base64UrlEncode(log_key_);
    std::error_code exists_ec;
    if (std::filesystem::exists(file, exists_ec)) {
      auto text = ReadFile(file);
      auto parsed = text ? ParseJsonStrict(*text) : Result<json::value>(Fail(text.error()));
      const json::object* saved = parsed && parsed->is_object() ? &parsed->as_object() : nullptr;
      auto old_note = saved ? MemberString(*saved, "checkpoint") : std::nullopt;
      auto old_name = saved ? MemberString(*saved, "log_name") : std::nullopt;
      auto old_key_text = saved ? MemberString(*saved, "log_key") : std::nullopt;
      if (!old_note || !old_name || !old_key_text) {
        report_.failures.push_back("cache " + file + ": unreadable; remove it to start trusting anew");
        return;
      }
      if (*old_name != log_name_ || *old_key_text != key_text) {
        report_.failures.push_back("LOG KEY CHANGED: the keys document's log key " + log_name_ + " " + key_text +
                                   " is not the " + *old_name + " " + *old_key_text + " seen before (" + file + ")");
        return;
      }
      auto old_cp = VerifyCheckpointNote(*old_note, log_name_, log_key_);
      if (!old_cp) {
        report_.failures.push_back("cache " + file +
                                   ": the remembered checkpoint does not verify: " + old_cp.error().message());
        return;
      }
      const uint64_t old_size = old_cp->tree_size, new_size = checkpoint_->tree_size;
      if (new_size < old_size) {
        report_.failures.push_back("ROLLBACK: the log's checkpoint went back from tree size " +
                                   std::to_string(old_size) + " (seen before, " + file + ") to " +
                                   std::to_string(new_size));
        return;
      }
      Status s = Consistent(old_size, old_cp->root, new_size, checkpoint_->root);
      if (!s.ok()) {
        if (IsUnavailable(s)) {
          report_.unavailable.push_back("consistency with the remembered checkpoint: " + s.message());
        } else {
          report_.failures.push_back("FORK: the checkpoint of size " + std::to_string(new_size) +
                                     " does not extend the one of size " + std::to_string(old_size) + " seen before (" +
                                     file + "): " + s.message());
        }
        return;
      }
      report_.notes.push_back("checkpoint consistent with the one of size " + std::to_string(old_size) +
                              " seen before");
    } else {
      report_.notes.push_back("first checkpoint seen for " + checkpoint_->origin + "; remembered in " + file);
    }
    json::object saved{
        {"origin", checkpoint_->origin}, {"checkpoint", note_}, {"log_name", log_name_}, {"log_key", key_text}};
    std::error_code ec;
    std::filesystem::create_directories(options_.cache_dir, ec);
    Status w = WriteFileAtomic(file, json::serialize(saved), 0600);
    if (!w.ok()) report_.notes.push_back("cannot remember the checkpoint: " + w.message());
  }

  // OK when the tree (a_size, a_root) and (b_size, b_root) are one history: equal sizes with
  // equal roots, or a consistency proof from the server that verifies.
  Status Consistent(uint64_t a_size, const Hash& a_root, uint64_t b_size, const Hash& b_root) {
    if (a_size > b_size) return Consistent(b_size, b_root, a_size, a_root);
    if (a_size == b_size) {
      if (a_root == b_root) return OkStatus();
      return DataLoss("two different roots for tree size " + std::to_string(a_size));
    }
    auto key = std::make_tuple(a_size, HashBytes(a_root), b_size, HashBytes(b_root));
    if (auto it = consistency_.find(key); it != consistency_.end()) return it->second;
    Status result = [&]() -> Status {
      const std::string url =
          base_ + "/api/v1/proofs/consistency?from=" + std::to_string(a_size) + "&to=" + std::to_string(b_size);
      auto doc = FetchJson(url, "application/json");
      if (!doc) return doc.error().WithContext("consistency proof " + url);
      const json::value* hashes = doc->if_contains("hashes");
      if (!hashes || !hashes->is_array()) return DataLoss("consistency proof " + url + ": no hashes array");
      std::vector<Hash> proof;
      for (const auto& h : hashes->as_array()) {
        auto hash = h.is_string() ? HashFromBase64(h.as_string()) : Result<Hash>(Fail(InvalidArgument("not text")));
        if (!hash) return DataLoss("consistency proof: a hash is not base64 of 32 bytes");
        proof.push_back(*hash);
      }
      Status v = merkle::VerifyConsistency(a_size, b_size, a_root, b_root, proof);
      if (!v.ok())
        return DataLoss("consistency proof from " + std::to_string(a_size) + " to " + std::to_string(b_size) +
                        " does not verify: " + v.message());
      return OkStatus();
    }();
    if (!IsUnavailable(result)) consistency_[key] = result;
    return result;
  }

  // The chain's view of an anchor: chain id, contract, rootAt(tree_size) == root.
  // The anchor's transaction, once per (tx, size, root).
  Status CheckAnchorTx(const std::string& tx_text, uint64_t tree_size, const Hash& root) {
    std::string_view hex = tx_text;
    if (hex.starts_with("0x")) hex.remove_prefix(2);
    auto hash = HexDecode(hex);
    if (!hash || hash->size() != 32) {
      return DataLoss("anchor: tx \"" + tx_text + "\" is not a transaction hash (0x + 64 hex digits)");
    }
    const std::string key = tx_text + " " + std::to_string(tree_size) + " " + HexEncode(HashBytes(root));
    auto it = checked_txs_.find(key);
    if (it == checked_txs_.end()) {
      Status s = chain_.CheckAnchorTx(*hash, tree_size, root);
      if (!s.ok() && !IsUnavailable(s)) s = DataLoss("anchor: tx " + tx_text + ": " + s.message());
      it = checked_txs_.emplace(key, s).first;
    }
    return it->second;
  }

  Status CheckAnchorOnChain(uint64_t chain_id, std::string_view contract_hex, uint64_t tree_size, const Hash& root) {
    if (!chain_id_) {
      auto id = chain_.ChainId();
      if (!id) return id.error().WithContext("chain");
      chain_id_ = *id;
    }
    if (chain_id != *chain_id_) {
      return DataLoss("anchor is on chain id " + std::to_string(chain_id) + ", the chain read has id " +
                      std::to_string(*chain_id_));
    }
    std::string_view hex = contract_hex;
    if (hex.starts_with("0x") || hex.starts_with("0X")) hex.remove_prefix(2);
    auto contract = HexDecode(hex);
    if (!contract || *contract != chain_.contract()) {
      return DataLoss("anchor names contract " + std::string(contract_hex) + ", not the trusted contract 0x" +
                      HexEncode(chain_.contract()));
    }
    auto it = chain_roots_.find(tree_size);
    if (it == chain_roots_.end()) {
      auto on_chain = chain_.RootAt(tree_size);
      if (!on_chain) return on_chain.error().WithContext("chain rootAt(" + std::to_string(tree_size) + ")");
      it = chain_roots_.emplace(tree_size, *on_chain).first;
    }
    if (it->second == Hash{}) {
      return DataLoss("anchor: the chain has no root at tree size " + std::to_string(tree_size) + " (contract 0x" +
                      HexEncode(chain_.contract()) + ")");
    }
    if (it->second != root) {
      return DataLoss("anchor: root " + Base64Encode(HashBytes(root)) + " at tree size " + std::to_string(tree_size) +
                      " is not the chain's rootAt(" + std::to_string(tree_size) +
                      ") = " + Base64Encode(HashBytes(it->second)));
    }
    return OkStatus();
  }

  void VerifyTrace(const json::object& doc, const std::string& label, int depth) {
    const json::value* events = doc.if_contains("events");
    if (!events || !events->is_array()) {
      report_.failures.push_back(label + ": trace has no events array");
    } else {
      if (events->as_array().empty() && depth == 0) report_.failures.push_back(label + ": no events to verify");
      for (const auto& e : events->as_array()) {
        report_.events.push_back(VerifyEvent(e, label, depth));
      }
    }
    if (const json::value* t = doc.if_contains("truncated"); t && t->is_bool() && t->as_bool()) {
      report_.notes.push_back(label + ": the server cut the upstream walk here (truncated)");
    }
    const json::value* inputs = doc.if_contains("inputs");
    if (!inputs) return;
    if (!inputs->is_array()) {
      report_.failures.push_back(label + ": inputs is not an array");
      return;
    }
    for (const auto& in : inputs->as_array()) {
      const json::object* input = in.if_object();
      if (!input) {
        report_.failures.push_back(label + ": an input is not an object");
        continue;
      }
      std::string in_label =
          MemberString(*input, "gtin").value_or("?") + "/" + MemberString(*input, "lot").value_or("?");
      if (!visited_.insert(in_label).second) continue;  // a lot reached twice is verified once
      if (depth + 1 > options_.max_depth) {
        report_.notes.push_back(in_label + ": deeper than " + std::to_string(options_.max_depth) +
                                " lots, not followed");
        continue;
      }
      VerifyTrace(*input, in_label, depth + 1);
    }
  }

  EventResult VerifyEvent(const json::value& item, const std::string& label, int depth) {
    EventResult r;
    r.lot = label;
    r.depth = depth;
    auto fail = [&r](std::string m) { r.failures.push_back(std::move(m)); };
    const json::object* entry = item.if_object();
    const json::object* event = entry ? MemberObject(*entry, "event") : nullptr;
    const json::object* signer = entry ? MemberObject(*entry, "signer") : nullptr;
    auto id = entry ? MemberString(*entry, "envelope") : std::nullopt;
    auto index = entry ? MemberUnsigned(*entry, "index") : std::nullopt;
    if (!entry || !event || !signer || !id || !index) {
      fail("trace document: the event entry lacks event, envelope, index or signer");
      return r;
    }
    r.envelope = *id;
    r.index = static_cast<int64_t>(*index);
    r.type = MemberString(*event, "type").value_or("");
    r.biz_step = MemberString(*event, "bizStep").value_or("");
    r.event_time = MemberString(*event, "eventTime").value_or("");
    r.leaf = MemberUnsigned(*entry, "leaf");
    const std::string trace_org = MemberString(*signer, "org").value_or("");
    const std::string trace_device = MemberString(*signer, "device").value_or("");
    const std::string trace_key = MemberString(*signer, "key").value_or("");
    r.signer = trace_org + "/" + trace_device;
    if (!IsLowerHexId(*id)) {
      fail("trace document: envelope id \"" + *id + "\" is not 64 lowercase hex digits");
      return r;
    }

    // One fetch per envelope, however many of its events the trace shows.
    auto cached = envelope_docs_.find(*id);
    if (cached == envelope_docs_.end()) {
      cached = envelope_docs_.emplace(*id, FetchJson(base_ + "/api/v1/envelopes/" + *id, "application/json")).first;
    }
    const Result<json::object>& doc = cached->second;
    if (!doc) {
      Record(doc.error().WithContext("envelope " + *id), r.failures, r.unavailable);
      return r;
    }
    const json::object* env_json = MemberObject(*doc, "envelope");
    if (!env_json) {
      fail("envelope document: no envelope object");
      return r;
    }
    auto env = EnvelopeFromJson(*env_json);
    if (!env) {
      fail("envelope: not a valid envelope: " + env.error().detail);
      return r;
    }
    if (env->id != *id) {
      fail("envelope: its canonical bytes hash to " + env->id + ", not to the id " + *id + " (altered)");
    }

    // The signature, under the key the envelope document names.
    const json::object* env_signer = MemberObject(*doc, "signer");
    std::string doc_key_text = env_signer ? MemberString(*env_signer, "key").value_or("") : "";
    auto doc_key = Base64UrlDecode(doc_key_text);
    if (!env_signer || !doc_key || doc_key->size() != kEd25519KeyBytes) {
      fail("envelope document: signer.key is not base64url of a 32-byte Ed25519 key");
    } else {
      if (MemberString(*env_signer, "org").value_or("") != env->org ||
          MemberString(*env_signer, "device").value_or("") != env->device) {
        fail("signer: the envelope document's signer is not the envelope's " + env->org + "/" + env->device);
      }
      if (!VerifyEnvelopeSignature(*env, *doc_key)) {
        fail("signature: the envelope's Ed25519 signature does not verify under the signer key " + doc_key_text +
             " of " + env->org + "/" + env->device);
      }
      if (trace_key != doc_key_text || trace_org != env->org || trace_device != env->device) {
        fail("signer: the trace document names " + r.signer + " key " + trace_key + ", the envelope document " +
             env->org + "/" + env->device + " key " + doc_key_text);
      }
    }

    // The event shown is the event signed.
    if (*index >= env->events.size()) {
      fail("event: index " + std::to_string(*index) + " is beyond the envelope's " +
           std::to_string(env->events.size()) + " events");
    } else {
      auto shown = Canonicalize(*event);
      auto signed_event = Canonicalize(env->events[*index]);
      if (!shown || !signed_event || *shown != *signed_event) {
        fail("event: the trace document's event differs from events[" + std::to_string(*index) +
             "] of the signed envelope");
      }
    }

    // Inclusion in the anchored tree.
    const json::object* proof = MemberObject(*doc, "proof");
    const json::object* anchor = MemberObject(*doc, "anchor");
    if (!proof || !anchor) {
      fail("not anchored yet: the envelope document has no inclusion proof and anchor");
      return r;
    }
    auto leaf_index = MemberUnsigned(*proof, "leafIndex");
    auto proof_size = MemberUnsigned(*proof, "treeSize");
    auto anchor_size = MemberUnsigned(*anchor, "treeSize");
    auto anchor_root = HashFromBase64(MemberString(*anchor, "root").value_or(""));
    auto chain_id = MemberUnsigned(*anchor, "chainId");
    auto contract = MemberString(*anchor, "contract");
    r.anchor_tx = MemberString(*anchor, "tx").value_or("");
    r.anchor_size = anchor_size;
    std::vector<Hash> hashes;
    bool hashes_ok = false;
    if (const json::value* h = proof->if_contains("hashes"); h && h->is_array()) {
      hashes_ok = true;
      for (const auto& x : h->as_array()) {
        auto hash = x.is_string() ? HashFromBase64(x.as_string()) : Result<Hash>(Fail(InvalidArgument("")));
        if (!hash) {
          hashes_ok = false;
          break;
        }
        hashes.push_back(*hash);
      }
    }
    if (!leaf_index || !proof_size || !hashes_ok) {
      fail("proof: needs leafIndex, treeSize and hashes (base64 of 32 bytes each)");
      return r;
    }
    if (!anchor_size || !anchor_root || !chain_id || !contract) {
      fail("anchor: needs treeSize, root (base64 of 32 bytes), chainId and contract");
      return r;
    }
    if (r.leaf && *r.leaf != *leaf_index) {
      fail("leaf index: the trace document says " + std::to_string(*r.leaf) + ", the proof " +
           std::to_string(*leaf_index));
    }
    if (*proof_size != *anchor_size) {
      fail("proof: it is for tree size " + std::to_string(*proof_size) + ", the anchor for " +
           std::to_string(*anchor_size));
      return r;
    }
    Status inclusion =
        merkle::VerifyInclusion(merkle::LeafHash(env->canonical_bytes), *leaf_index, *proof_size, hashes, *anchor_root);
    if (!inclusion.ok()) {
      fail(inclusion.message());  // "inclusion proof of leaf L in tree size N: ..."
    }
    Status on_chain = CheckAnchorOnChain(*chain_id, *contract, *anchor_size, *anchor_root);
    if (!on_chain.ok()) Record(on_chain, r.failures, r.unavailable);
    if (on_chain.ok()) {
      Status tx = CheckAnchorTx(r.anchor_tx, *anchor_size, *anchor_root);
      if (!tx.ok()) Record(tx, r.failures, r.unavailable);
    }
    if (checkpoint_) {
      Status s = Consistent(*anchor_size, *anchor_root, checkpoint_->tree_size, checkpoint_->root);
      if (!s.ok()) {
        Record(s.WithContext("anchor (size " + std::to_string(*anchor_size) + ") against the checkpoint (size " +
                             std::to_string(checkpoint_->tree_size) + ")"),
               r.failures, r.unavailable);
      }
    }
    return r;
  }

  Fetcher& fetcher_;
  ChainReader& chain_;
  const VerifyOptions& options_;
  const std::string base_;
  const std::optional<NoteVerifierKey> pinned_;
  Report& report_;

  bool keys_ok_ = false;
  std::string log_name_, log_key_;
  std::optional<Checkpoint> checkpoint_;
  std::string note_;
  std::optional<uint64_t> chain_id_;
  std::map<uint64_t, Hash> chain_roots_;
  std::map<std::string, Status> checked_txs_;
  std::map<std::string, Result<json::object>> envelope_docs_;  // by envelope id
  std::map<std::tuple<uint64_t, std::string, uint64_t, std::string>, Status> consistency_;
  std::set<std::string> visited_;
};

}  // namespace

Result<Report> Verify(std::string_view link, Fetcher& fetcher, ChainReader& chain, const VerifyOptions& options) {
  auto parsed = gs1::ParseDigitalLinkUri(link);
  if (!parsed) return Fail(parsed.error().WithContext("link"));
  if (!parsed->lot && !parsed->serial) {
    return Fail(InvalidArgument("link: names neither a lot (/10/...) nor a serial (/21/...)"));
  }
  auto uri = boost::urls::parse_uri(link);
  if (!uri) return Fail(InvalidArgument("link: not a URI"));
  std::string base;
  if (options.api_base.empty()) {
    base = std::string(uri->scheme()) + "://" + std::string(uri->encoded_host_and_port());
  } else {
    auto api = boost::urls::parse_uri(options.api_base);
    if (!api || (api->scheme() != "http" && api->scheme() != "https") || api->encoded_host().empty()) {
      return Fail(InvalidArgument("--api-base: not an http(s) URL: " + options.api_base));
    }
    base = options.api_base;
    while (base.ends_with('/')) base.pop_back();
  }
  std::string trace_url = base + std::string(uri->encoded_path());
  if (uri->has_query()) trace_url += "?" + std::string(uri->encoded_query());

  std::optional<NoteVerifierKey> pinned;
  if (!options.log_key.empty()) {
    auto key = ParseVerifierKey(options.log_key);
    if (!key) return Fail(key.error().WithContext("--log-key"));
    pinned = *key;
  }

  Report report;
  report.link = std::string(link);
  Verification(fetcher, chain, options, base, std::move(pinned), report).Run(trace_url, *parsed);
  return report;
}

}  // namespace trace::verify
