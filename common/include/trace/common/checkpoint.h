// C2SP tlog-checkpoint bodies and C2SP signed-note signatures (Ed25519), the
// form in which the log publishes its tree heads (PROTOCOL.md §5).
//
// A checkpoint body is
//   <origin>\n<decimal tree size>\n<base64 root hash>\n[<extension line>\n]...
// and a signed note is the body, an empty line, then one line per signature:
//   — <key name> <base64(4-byte key id || 64-byte Ed25519 signature)>\n
// (U+2014 EM DASH, a space). The signature covers exactly the body, final
// newline included. An Ed25519 key's id is the first 4 bytes (big-endian) of
// SHA-256(key name || 0x0A || 0x01 || 32-byte public key); the same rule as
// golang.org/x/mod/sumdb/note, so notes here open with that package and back.
//
// Example:
//   trace::Checkpoint cp{.origin = "trace.example.org/log", .tree_size = n, .root = root};
//   auto note = trace::SignCheckpoint(cp, "trace.example.org/log", log_key);
//   auto checked = trace::VerifyCheckpointNote(*note, "trace.example.org/log", log_key.public_key());
//
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "trace/common/ed25519.h"
#include "trace/common/sha256.h"
#include "trace/common/status.h"

namespace trace {

struct Checkpoint {
  std::string origin;                   // first line, e.g. "trace.example.org/log"
  uint64_t tree_size = 0;
  Hash root{};                          // RFC 9162 root of the first tree_size leaves
  std::vector<std::string> extensions;  // optional further lines, without "\n"

  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

// The body text of `checkpoint`. Does not validate: a checkpoint whose origin
// or extensions are empty or hold a newline formats into a body that
// ParseCheckpointBody (and so SignCheckpoint) refuses.
std::string FormatCheckpointBody(const Checkpoint& checkpoint);

// Parses a checkpoint body (the note text, final newline included). Returns
// InvalidArgument naming the line for: no final newline, fewer than 3 lines, an
// empty line, text that is not UTF-8 or holds control characters, a size that
// is not plain decimal (sign, leading zero, overflow), a root that is not
// padded base64 of exactly 32 bytes.
Result<Checkpoint> ParseCheckpointBody(std::string_view text);

// True when `name` can name a note key: non-empty UTF-8 with no Unicode space
// and no '+'.
bool IsValidNoteKeyName(std::string_view name);

// The note key id of an Ed25519 public key (32 bytes) under `key_name`.
uint32_t NoteKeyId(std::string_view key_name, std::string_view public_key);

// Signs `text` (a note text: UTF-8 without control characters other than
// newline, ending in a newline) and returns the signed note: text, empty line,
// one signature line. InvalidArgument for an invalid key name or text.
Result<std::string> SignNote(std::string_view text, std::string_view key_name, const Ed25519PrivateKey& key);

// FormatCheckpointBody, checked by ParseCheckpointBody, then SignNote.
Result<std::string> SignCheckpoint(const Checkpoint& checkpoint, std::string_view key_name,
                                   const Ed25519PrivateKey& key);

// Opens a signed note and returns its text (final newline included) when it
// carries a valid signature by the Ed25519 key `public_key` named `key_name`.
// Signature lines of other keys (other names, or the same name with another key
// id) are skipped unverified, in any order. Returns InvalidArgument for a
// malformed note (bad UTF-8 or control characters, no empty line before the
// signatures, a signature line without "— ", with an invalid name, bad base64 or
// fewer than 5 bytes, more than 100 signature lines) or an invalid name or key,
// and Unauthenticated when no line is by this key or its signature does not
// verify.
Result<std::string> VerifyNote(std::string_view note, std::string_view key_name, std::string_view public_key);

// VerifyNote, then ParseCheckpointBody on the verified text.
Result<Checkpoint> VerifyCheckpointNote(std::string_view note, std::string_view key_name,
                                        std::string_view public_key);

// A verifier key in the text form of C2SP signed-note and sumdb/note:
// "<name>+<8 lowercase hex key id>+<base64(0x01 || 32-byte public key)>".
struct NoteVerifierKey {
  std::string name;
  uint32_t key_id = 0;
  std::string public_key;  // 32 raw bytes

  friend bool operator==(const NoteVerifierKey&, const NoteVerifierKey&) = default;
};

// InvalidArgument for an invalid name or a public key that is not 32 bytes.
Result<std::string> FormatVerifierKey(std::string_view name, std::string_view public_key);

// Parses and checks a verifier key: valid name, 8 hex digits, base64 of 33
// bytes starting with the Ed25519 algorithm byte 0x01, and a key id that
// matches the name and key. InvalidArgument otherwise.
Result<NoteVerifierKey> ParseVerifierKey(std::string_view text);

}  // namespace trace
